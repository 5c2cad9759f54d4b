package io.roche;

/**
 * A follower was woken by {@link Follower#wake()} (ROCHE_ECANCELED): thrown
 * by the {@link Follower#next()} waiting then, or by the next one when none
 * was (as Kafka's consumer throws WakeupException). The follower is still
 * usable: the call after goes on.
 */
@SuppressWarnings({"deprecation", "removal"}) // extends the old spelling so old catches still work
public class CanceledException extends RocheException.CanceledException {
    private static final long serialVersionUID = 1L;

    CanceledException(String message) {
        super(RocheException.ECANCELED, message);
    }
}
