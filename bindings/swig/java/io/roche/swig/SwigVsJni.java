package io.roche.swig;

import io.roche.Roche;
import static io.roche.bench.Bench.shuffle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The hot paths through SWIG's generated JNI code and through the
 * hand-written binding, in one JVM, repetitions interleaved so both see the
 * same machine: append of 100-byte values, then random get of them.
 *   java -Djava.library.path=DIR -cp roche.jar:classes io.roche.swig.SwigVsJni DIR [COUNT] [REPS]
 */
public final class SwigVsJni {
    private static final int VALUE_BYTES = 100;
    private static final Map<String, double[]> RATES = new LinkedHashMap<>();

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args.length > 0 ? args[0] : "swig-bench-data");
        int count = args.length > 1 ? Integer.parseInt(args[1]) : 1_000_000;
        int reps = args.length > 2 ? Integer.parseInt(args[2]) : 7;
        Files.createDirectories(dir);
        for (int rep = -1; rep < reps; rep++) { // rep -1 warms the JIT up
            boolean keep = rep >= 0;
            swig(dir, count, keep ? rep : -1, reps);
            jni(dir, count, keep ? rep : -1, reps);
        }
        System.out.printf("%-12s %14s %14s %8s%n", "workload", "SWIG ops/s", "JNI ops/s", "JNI/SWIG");
        for (String workload : new String[] {"append", "get"}) {
            double swig = median(RATES.get("swig " + workload));
            double jni = median(RATES.get("jni " + workload));
            System.out.printf("%-12s %14.0f %14.0f %8.2f%n", workload, swig, jni, jni / swig);
        }
        System.out.printf("(medians of %d interleaved repetitions of %d values)%n", reps, count);
    }

    private static void swig(Path dir, int count, int rep, int reps) throws IOException {
        Path root = Files.createTempDirectory(dir, "swig");
        SWIGTYPE_p_p_roche_db cell = RocheSwig.new_roche_db_cell();
        check(RocheSwig.roche_open(root.toString(), null, cell));
        SWIGTYPE_p_roche_db db = RocheSwig.roche_db_cell_value(cell);
        RocheSwig.delete_roche_db_cell(cell);
        try {
            byte[] value = value();
            long[] offsets = new long[count];
            long[] out = new long[1];
            record("swig append", rep, reps, count, () -> {
                for (int i = 0; i < count; i++) {
                    check(RocheSwig.roche_append(db, "bench", null, value, out));
                    offsets[i] = out[0];
                }
            });
            long[] shuffled = shuffle(offsets);
            byte[][] got = new byte[1][];
            record("swig get", rep, reps, count, () -> {
                for (long offset : shuffled) {
                    check(RocheSwig.roche_get(db, "bench", offset, got));
                }
            });
            if (got[0].length != VALUE_BYTES) {
                throw new IllegalStateException("SWIG get returned " + got[0].length + " bytes");
            }
        } finally {
            check(RocheSwig.roche_close(db));
            remove(root);
        }
    }

    private static void jni(Path dir, int count, int rep, int reps) throws IOException {
        Path root = Files.createTempDirectory(dir, "jni");
        try (Roche db = Roche.open(root)) {
            byte[] value = value();
            long[] offsets = new long[count];
            record("jni append", rep, reps, count, () -> {
                for (int i = 0; i < count; i++) {
                    offsets[i] = db.append("bench", null, value);
                }
            });
            long[] shuffled = shuffle(offsets);
            record("jni get", rep, reps, count, () -> {
                for (long offset : shuffled) {
                    db.get("bench", offset);
                }
            });
        } finally {
            remove(root);
        }
    }

    private static byte[] value() {
        byte[] value = new byte[VALUE_BYTES];
        Arrays.fill(value, (byte) 'v');
        return value;
    }

    private static void check(int code) {
        if (code != 0) {
            throw new IllegalStateException("libroche: " + RocheSwig.roche_last_error());
        }
    }

    private static void record(String label, int rep, int reps, int count, Runnable work) {
        long started = System.nanoTime();
        work.run();
        double rate = count / ((System.nanoTime() - started) / 1e9);
        if (rep >= 0) {
            RATES.computeIfAbsent(label, k -> new double[reps])[rep] = rate;
        }
    }

    private static double median(double[] rates) {
        double[] sorted = rates.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static void remove(Path root) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
