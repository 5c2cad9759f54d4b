package io.roche;

/** A libroche call failed. {@link #code()} is libroche's ROCHE_E* code. */
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
            case ENOTFOUND: return new NotFoundException(code, message);
            case ECORRUPT: return new CorruptException(code, message);
            case ELOCKED: return new LockedException(code, message);
            case EREADONLY: return new ReadOnlyException(code, message);
            case ETIMEDOUT: return new TimedOutException(code, message);
            case ECANCELED: return new CanceledException(code, message);
            case EDROPPED: return new DroppedException(code, message, offset);
            case ENOTSUP: return new NotSupportedException(code, message);
            default: return new RocheException(code, message);
        }
    }

    /** No record, namespace or store there. */
    public static class NotFoundException extends RocheException {
        private static final long serialVersionUID = 1L;
        NotFoundException(int code, String message) { super(code, message); }
    }

    /** A record header fails its CRC or its length runs past the file. */
    public static class CorruptException extends RocheException {
        private static final long serialVersionUID = 1L;
        CorruptException(int code, String message) { super(code, message); }
    }

    /** Another handle, in this or another process, writes to the store. */
    public static class LockedException extends RocheException {
        private static final long serialVersionUID = 1L;
        LockedException(int code, String message) { super(code, message); }
    }

    /** A write call on a read-only store. */
    public static class ReadOnlyException extends RocheException {
        private static final long serialVersionUID = 1L;
        ReadOnlyException(int code, String message) { super(code, message); }
    }

    /**
     * Nothing new within a timeout. {@link Follower#next(java.time.Duration)}
     * returns null instead; this is for completeness of the code mapping.
     */
    public static class TimedOutException extends RocheException {
        private static final long serialVersionUID = 1L;
        TimedOutException(int code, String message) { super(code, message); }
    }

    /**
     * A follower was woken by {@link Follower#wake()}: thrown by the
     * {@link Follower#next()} waiting then, or by the next one when none was
     * (as Kafka's consumer throws WakeupException). The follower is still
     * usable: the call after goes on.
     */
    public static class CanceledException extends RocheException {
        private static final long serialVersionUID = 1L;
        CanceledException(int code, String message) { super(code, message); }
    }

    /**
     * Retention dropped the record: a get of a dropped offset, or a
     * follower whose unread records were dropped (it goes on with the
     * bucket's first record kept at its next call). {@link #offset()} is the
     * offset asked for, or for a follower where it was in that bucket.
     */
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

    /** The file system cannot do it: retention needs hole punching (ext4, XFS, tmpfs, btrfs can). */
    public static class NotSupportedException extends RocheException {
        private static final long serialVersionUID = 1L;
        NotSupportedException(int code, String message) { super(code, message); }
    }
}
