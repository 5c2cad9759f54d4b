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

    private final int code;

    public RocheException(int code, String message) {
        super(message);
        this.code = code;
    }

    /** libroche's return code (a negative ROCHE_E* value). */
    public int code() {
        return code;
    }

    /** The exception class a caller catches for this code. Called from native code too. */
    static RocheException of(int code, String message) {
        switch (code) {
            case ENOTFOUND: return new NotFoundException(code, message);
            case ECORRUPT: return new CorruptException(code, message);
            case ELOCKED: return new LockedException(code, message);
            case EREADONLY: return new ReadOnlyException(code, message);
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
}
