package io.roche;

/**
 * Nothing new within a timeout (ROCHE_ETIMEDOUT). {@link
 * Follower#next(java.time.Duration)} returns null instead; this completes
 * the code mapping.
 */
@SuppressWarnings({"deprecation", "removal"}) // extends the old spelling so old catches still work
public class TimedOutException extends RocheException.TimedOutException {
    private static final long serialVersionUID = 1L;

    TimedOutException(String message) {
        super(RocheException.ETIMEDOUT, message);
    }
}
