package io.roche;

/**
 * Retention dropped the record (ROCHE_EDROPPED): a get of a dropped offset,
 * or a follower whose unread records were dropped (it goes on with the
 * bucket's first record kept at its next call). {@link #offset()} is the
 * offset asked for, or for a follower where it was in that bucket.
 */
@SuppressWarnings({"deprecation", "removal"}) // extends the old spelling so old catches still work
public class DroppedException extends RocheException.DroppedException {
    private static final long serialVersionUID = 1L;

    DroppedException(String message, long offset) {
        super(RocheException.EDROPPED, message, offset);
    }
}
