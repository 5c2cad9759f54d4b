package io.roche;

/** Another handle, in this or another process, writes to the store (ROCHE_ELOCKED). */
@SuppressWarnings({"deprecation", "removal"}) // extends the old spelling so old catches still work
public class LockedException extends RocheException.LockedException {
    private static final long serialVersionUID = 1L;

    LockedException(String message) {
        super(RocheException.ELOCKED, message);
    }
}
