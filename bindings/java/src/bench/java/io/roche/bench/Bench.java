package io.roche.bench;

import io.roche.Roche;
import io.roche.Scan;
import io.roche.ValueView;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.Stream;

/**
 * Java-side throughput of the binding: values per second, 100-byte values,
 * one thread. The same workloads as c_baseline.c, so the two compare.
 *   java -cp roche.jar:bench-classes io.roche.bench.Bench DIR [COUNT] [BATCH] [REPS]
 */
public final class Bench {
    private static final int VALUE_BYTES = 100;

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args.length > 0 ? args[0] : "java-bench-data");
        int count = args.length > 1 ? Integer.parseInt(args[1]) : 1_000_000;
        int batch = args.length > 2 ? Integer.parseInt(args[2]) : 1000;
        int reps = args.length > 3 ? Integer.parseInt(args[3]) : 5;
        Files.createDirectories(dir);
        run(dir, count / 5, batch); // warm the JIT up on a smaller store first
        BEST.clear();
        for (int rep = 0; rep < reps; rep++) {
            run(dir, count, batch);
        }
        // The machine is shared: the best of the repetitions is the binding's rate.
        BEST.forEach((label, rate) -> System.out.printf("java %-28s %12.0f ops/s (best of %d, %d values)%n",
                label, rate, reps, count));
    }

    private static final java.util.Map<String, Double> BEST = new java.util.LinkedHashMap<>();

    /** One repetition on a fresh store under dir (the C baseline's file system too). */
    private static void run(Path dir, int count, int batch) throws IOException {
        Path root = Files.createTempDirectory(dir, "rep");
        byte[] value = new byte[VALUE_BYTES];
        Arrays.fill(value, (byte) 'v');
        try (Roche db = Roche.open(root)) {
            long[] offsets = new long[count];
            measure("append (100 B)", count, () -> {
                for (int i = 0; i < count; i++) {
                    offsets[i] = db.append("bench", null, value);
                }
            });
            ByteBuffer direct = ByteBuffer.allocateDirect(VALUE_BYTES);
            measure("append direct ByteBuffer", count, () -> {
                for (int i = 0; i < count; i++) {
                    direct.clear();
                    db.append("direct", null, direct);
                }
            });
            byte[][] values = new byte[batch][];
            Arrays.fill(values, value);
            measure("appendMany (batch x 100 B)", count, () -> {
                for (int i = 0; i < count / batch; i++) {
                    db.appendMany("batched", null, values);
                }
            });
            long[] shuffled = shuffle(offsets);
            measure("get", count, () -> {
                for (long offset : shuffled) {
                    db.get("bench", offset);
                }
            });
            long[] sink = new long[1];
            measure("getView (in place, closed)", count, () -> {
                for (long offset : shuffled) {
                    try (ValueView view = db.getView("bench", offset)) {
                        sink[0] += view.length();
                    }
                }
            });
            if (sink[0] != (long) count * VALUE_BYTES) {
                throw new AssertionError("getView read " + sink[0] + " bytes");
            }
            measure("multiGet (batch per call)", count, () -> {
                for (int from = 0; from + batch <= count; from += batch) {
                    db.multiGet("bench", Arrays.copyOfRange(shuffled, from, from + batch));
                }
            });
            long[] seen = new long[1];
            measure("scan", count, () -> {
                try (Scan scan = db.scan("bench", 0)) {
                    while (scan.hasNext()) {
                        seen[0] += scan.next().value().length;
                    }
                }
            });
            if (seen[0] != (long) count * VALUE_BYTES) {
                throw new AssertionError("scan read " + seen[0] + " bytes");
            }
        } finally {
            try (Stream<Path> files = Files.walk(root)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** The offsets in a fixed random order (seed 1), so every run reads the same sequence. */
    public static long[] shuffle(long[] offsets) {
        long[] copy = offsets.clone();
        Random random = new Random(1);
        for (int i = copy.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            long t = copy[i];
            copy[i] = copy[j];
            copy[j] = t;
        }
        return copy;
    }

    private static void measure(String label, int operations, Runnable work) {
        long started = System.nanoTime();
        work.run();
        double rate = operations / ((System.nanoTime() - started) / 1e9);
        BEST.merge(label, rate, Math::max);
    }
}
