package io.roche;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The JNI entry points (bindings/java/src/main/native/roche_jni.c) and the
 * loader of libroche_jni.so, which carries libroche linked in statically.
 * Every method throws a RocheException on a libroche failure.
 */
final class Native {
    static final String LIBRARY = "roche_jni";
    static final String RESOURCE_DIR = "/io/roche/native/";

    static {
        load();
    }

    private Native() {}

    /** java.library.path first, so a packager can ship the .so apart; else the jar's copy. */
    private static void load() {
        try {
            System.loadLibrary(LIBRARY);
        } catch (UnsatisfiedLinkError notOnPath) {
            try {
                System.load(extract().toString());
            } catch (IOException | UnsatisfiedLinkError e) {
                UnsatisfiedLinkError error = new UnsatisfiedLinkError(
                        "libroche: cannot load " + System.mapLibraryName(LIBRARY) + " for " + platform()
                        + " from java.library.path nor from the jar: " + e.getMessage());
                error.addSuppressed(notOnPath);
                throw error;
            }
        }
    }

    private static Path extract() throws IOException {
        String name = System.mapLibraryName(LIBRARY);
        String resource = RESOURCE_DIR + platform() + "/" + name;
        try (InputStream in = Native.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("the jar has no " + resource);
            }
            Path file = Files.createTempFile("libroche_jni", ".so");
            file.toFile().deleteOnExit();
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            return file;
        }
    }

    private static String platform() {
        String os = System.getProperty("os.name").toLowerCase(java.util.Locale.ROOT).replace(" ", "");
        String arch = System.getProperty("os.arch");
        if (arch.equals("amd64")) {
            arch = "x86_64";
        }
        return os + "-" + arch;
    }

    /** Ensures the class, hence the library, is loaded. */
    static void init() {}

    static native String version();
    static native int versionNumber();
    static native String strerror(int code);

    /** syncPeriodMs and maxOpenFiles 0: libroche's defaults; format a ROCHE_FORMAT_* code. */
    static native long open(byte[] root, int buckets, boolean readOnly, int syncPolicy, int syncPeriodMs,
                            int maxOpenFiles, long retentionAgeMs, long retentionBytes, int format);
    static native void close(long db);

    static native long append(long db, byte[] ns, byte[] id, byte[] value, int from, int length);
    static native long appendDirect(long db, byte[] ns, byte[] id, ByteBuffer buffer, int position, int length);
    static native long[] appendMany(long db, byte[] ns, byte[] id, byte[] data, int[] lengths);
    static native void sync(long db);
    static native void syncNamespace(long db, byte[] ns);

    static native byte[] get(long db, byte[] ns, long offset);
    static native ValueView getView(long db, byte[] ns, long offset);
    static native void viewRelease(long view);
    static native byte[][] multiGet(long db, byte[] ns, long[] offsets, int[] statuses);

    static native long scanOpen(long db, byte[] ns, long from);
    /**
     * Up to max records: their values (null for one too large for an
     * array), offsets in meta[0, n) and times in meta[max, max + n); null
     * at the end.
     */
    static native byte[][] scanNextBatch(long scan, int max, long[] meta);
    static native void scanFree(long scan);

    static native byte[] namespaces(long db);
    static native void closeNamespace(long db, byte[] ns);
    static native void deleteNamespace(long db, byte[] ns);
    static native long[] stat(long db, byte[] ns);

    /** A roche_follow handle; from may be empty. */
    static native long followOpen(long db, byte[] ns, long[] from, boolean fromEnd);
    static native long followOpenCursor(long db, byte[] ns, byte[] cursor, boolean fromEnd);
    /** As scanNextBatch, waiting for records (timeoutMs -1: for ever); null on ROCHE_ETIMEDOUT. */
    static native byte[][] followNextBatch(long follow, int timeoutMs, int max, long[] meta);
    static native void followWake(long follow);
    static native long[] followPosition(long follow);
    static native void followCommit(long follow, byte[] cursor);
    static native void followFree(long follow);

    static native void cursorCommit(long db, byte[] ns, byte[] name, long[] offsets);
    static native long[] cursorGet(long db, byte[] ns, byte[] name);
    static native byte[] cursorList(long db, byte[] ns);
    static native void cursorDelete(long db, byte[] ns, byte[] name);

    static native long retain(long db, byte[] ns, long olderThanNs, long maxBytes);
    /** {first, end}. */
    static native long[] bucketRange(long db, byte[] ns, int bucket);
}
