package io.roche;

/** The file system cannot do it (ROCHE_ENOTSUP): retention needs hole punching (ext4, XFS, tmpfs, btrfs can). */
@SuppressWarnings({"deprecation", "removal"}) // extends the old spelling so old catches still work
public class NotSupportedException extends RocheException.NotSupportedException {
    private static final long serialVersionUID = 1L;

    NotSupportedException(String message) {
        super(RocheException.ENOTSUP, message);
    }
}
