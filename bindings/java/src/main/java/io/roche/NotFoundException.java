package io.roche;

/** No record, namespace, cursor or store there (ROCHE_ENOTFOUND). */
@SuppressWarnings({"deprecation", "removal"}) // extends the old spelling so old catches still work
public class NotFoundException extends RocheException.NotFoundException {
    private static final long serialVersionUID = 1L;

    NotFoundException(String message) {
        super(RocheException.ENOTFOUND, message);
    }
}
