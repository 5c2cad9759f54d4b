package io.roche;

/**
 * A libroche call failed. {@link #code()} is libroche's ROCHE_E* code.
 *
 * <p>Catch the top-level subclasses of this package, one per code that a
 * caller handles on its own: {@link InvalidArgumentException} (EINVAL),
 * {@link NotFoundException}, {@link CorruptException}, {@link
 * LockedException}, {@link ReadOnlyException}, {@link TimedOutException},
 * {@link CanceledException}, {@link DroppedException} and {@link
 * NotSupportedException}. The other codes (EIO, ENOMEM, ETOOBIG, EINTERNAL)
 * are a RocheException itself.
 *
 * <p>The nested classes below ({@code RocheException.NotFoundException} and
 * so on) are the spellings of version 0.1.0, kept for one minor version:
 * each top-level class extends its nested namesake, so an old {@code catch
 * (RocheException.NotFoundException e)} still catches what is thrown.
 */
public class RocheException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public static final int EINVAL = -30901;
    public static final int ENOTFOUND = -30902;
    public static final int ECORRUPT = -30903;
    public static final int EIO = -30904;
    public static final int ENOMEM = -30905;
    public static final int ETOOBIG = -30906;
    public static final int ELOCKED = -30907;
    public static final int EREADONLY = -30908;
    public static final int EINTERNAL = -30909;
    public static final int ETIMEDOUT = -30910;
    public static final int ECANCELED = -30911;
    public static final int EDROPPED = -30912;
    public static final int ENOTSUP = -30913;

    private final int code;

    public RocheException(int code, String message) {
        super(message);
        this.code = code;
    }

    /** libroche's return code (a negative ROCHE_E* value). */
    public int code() {
        return code;
    }

    /** The exception class a caller catches for this code. */
    static RocheException of(int code, String message) {
        return of(code, message, -1);
    }

    /**
     * As {@link #of(int, String)}, with the offset the failure is about (-1:
     * none known), which a {@link DroppedException} carries. Called from
     * native code.
     */
    static RocheException of(int code, String message, long offset) {
        switch (code) {
            case EINVAL: return new InvalidArgumentException(message);
            case ENOTFOUND: return new io.roche.NotFoundException(message);
            case ECORRUPT: return new io.roche.CorruptException(message);
            case ELOCKED: return new io.roche.LockedException(message);
            case EREADONLY: return new io.roche.ReadOnlyException(message);
            case ETIMEDOUT: return new io.roche.TimedOutException(message);
            case ECANCELED: return new io.roche.CanceledException(message);
            case EDROPPED: return new io.roche.DroppedException(message, offset);
            case ENOTSUP: return new io.roche.NotSupportedException(message);
            default: return new RocheException(code, message);
        }
    }

    /** @deprecated Catch {@link io.roche.NotFoundException}; this spelling goes in 0.2.0. */
    @Deprecated(since = "0.1.0", forRemoval = true)
    public static class NotFoundException extends RocheException {
        private static final long serialVersionUID = 1L;
        NotFoundException(int code, String message) { super(code, message); }
    }

    /** @deprecated Catch {@link io.roche.CorruptException}; this spelling goes in 0.2.0. */
    @Deprecated(since = "0.1.0", forRemoval = true)
    public static class CorruptException extends RocheException {
        private static final long serialVersionUID = 1L;
        CorruptException(int code, String message) { super(code, message); }
    }

    /** @deprecated Catch {@link io.roche.LockedException}; this spelling goes in 0.2.0. */
    @Deprecated(since = "0.1.0", forRemoval = true)
    public static class LockedException extends RocheException {
        private static final long serialVersionUID = 1L;
        LockedException(int code, String message) { super(code, message); }
    }

    /** @deprecated Catch {@link io.roche.ReadOnlyException}; this spelling goes in 0.2.0. */
    @Deprecated(since = "0.1.0", forRemoval = true)
    public static class ReadOnlyException extends RocheException {
        private static final long serialVersionUID = 1L;
        ReadOnlyException(int code, String message) { super(code, message); }
    }

    /** @deprecated Catch {@link io.roche.TimedOutException}; this spelling goes in 0.2.0. */
    @Deprecated(since = "0.1.0", forRemoval = true)
    public static class TimedOutException extends RocheException {
        private static final long serialVersionUID = 1L;
        TimedOutException(int code, String message) { super(code, message); }
    }

    /** @deprecated Catch {@link io.roche.CanceledException}; this spelling goes in 0.2.0. */
    @Deprecated(since = "0.1.0", forRemoval = true)
    public static class CanceledException extends RocheException {
        private static final long serialVersionUID = 1L;
        CanceledException(int code, String message) { super(code, message); }
    }

    /** @deprecated Catch {@link io.roche.DroppedException}; this spelling goes in 0.2.0. */
    @Deprecated(since = "0.1.0", forRemoval = true)
    public static class DroppedException extends RocheException {
        private static final long serialVersionUID = 1L;
        private final long offset;

        DroppedException(int code, String message, long offset) {
            super(code, message);
            this.offset = offset;
        }

        /** The offset dropped (for a follower: its position in the bucket), or -1 when not known. */
        public long offset() {
            return offset;
        }
    }

    /** @deprecated Catch {@link io.roche.NotSupportedException}; this spelling goes in 0.2.0. */
    @Deprecated(since = "0.1.0", forRemoval = true)
    public static class NotSupportedException extends RocheException {
        private static final long serialVersionUID = 1L;
        NotSupportedException(int code, String message) { super(code, message); }
    }
}
