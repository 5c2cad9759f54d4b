package io.roche;

/** A write call on a read-only store (ROCHE_EREADONLY). */
@SuppressWarnings({"deprecation", "removal"}) // extends the old spelling so old catches still work
public class ReadOnlyException extends RocheException.ReadOnlyException {
    private static final long serialVersionUID = 1L;

    ReadOnlyException(String message) {
        super(RocheException.EREADONLY, message);
    }
}
