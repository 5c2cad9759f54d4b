package io.roche;

/** A record fails its checks, or none starts at the offset (ROCHE_ECORRUPT). */
@SuppressWarnings({"deprecation", "removal"}) // extends the old spelling so old catches still work
public class CorruptException extends RocheException.CorruptException {
    private static final long serialVersionUID = 1L;

    CorruptException(String message) {
        super(RocheException.ECORRUPT, message);
    }
}
