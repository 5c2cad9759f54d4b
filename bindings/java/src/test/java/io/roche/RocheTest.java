package io.roche;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class RocheTest extends StoreFixture {
    @Test
    void valuesWithEveryByteEmptyAndSixteenMiB() {
        byte[] every = new byte[512];
        for (int i = 0; i < every.length; i++) {
            every[i] = (byte) i;
        }
        byte[] big = new byte[16 << 20];
        new Random(7).nextBytes(big);
        long a = db.append("ns", null, every);
        long b = db.append("ns", "id", new byte[0]);
        long c = db.append("ns", null, big);
        long d = db.append("ns", null, new byte[] {0});
        assertArrayEquals(every, db.get("ns", a));
        assertEquals(0, db.get("ns", b).length);
        assertArrayEquals(big, db.get("ns", c));
        assertArrayEquals(new byte[] {0}, db.get("ns", d));
    }

    @Test
    void appendsASliceAndByteBuffers() {
        byte[] backing = bytes("xxhelloyy");
        long slice = db.append(null, null, backing, 2, 5);
        ByteBuffer direct = ByteBuffer.allocateDirect(16);
        direct.put(bytes("..direct")).flip().position(2);
        long fromDirect = db.append(null, null, direct);
        ByteBuffer heap = ByteBuffer.wrap(bytes("__heap")).position(2);
        long fromHeap = db.append(null, null, heap);
        long fromReadOnly = db.append(null, null, ByteBuffer.wrap(bytes("ro")).asReadOnlyBuffer());

        assertEquals("hello", new String(db.get(null, slice), StandardCharsets.UTF_8));
        assertEquals("direct", new String(db.get("default", fromDirect), StandardCharsets.UTF_8));
        assertEquals("heap", new String(db.get(null, fromHeap), StandardCharsets.UTF_8));
        assertEquals("ro", new String(db.get(null, fromReadOnly), StandardCharsets.UTF_8));
        assertEquals(0, direct.remaining(), "append consumes the buffer");
        assertEquals(0, heap.remaining());
        assertThrows(IndexOutOfBoundsException.class, () -> db.append(null, null, backing, 5, 10));
    }

    @Test
    void appendManyKeepsOrderInOneBucket() {
        byte[][] values = {bytes("one"), new byte[0], bytes("three")};
        long[] offsets = db.appendMany("batch", "k", values);
        assertEquals(3, offsets.length);
        for (int i = 0; i < values.length; i++) {
            assertArrayEquals(values[i], db.get("batch", offsets[i]));
            assertEquals(offsets[0] >>> 50, offsets[i] >>> 50, "one bucket");
        }
        assertTrue(offsets[0] < offsets[1] && offsets[1] < offsets[2]);
        assertEquals(0, db.appendMany("batch", null, List.of()).length);
    }

    @Test
    void multiGetMixesGoodAndBadOffsets() {
        long a = db.append("m", "same", bytes("alpha"));
        long b = db.append("m", "same", bytes("beta"));
        long pastEnd = b + 1000;
        long midRecord = a + 3;
        long noBucket = (7L << 50);
        Values values = db.multiGet("m", b, pastEnd, a, midRecord, noBucket, a);
        assertEquals(6, values.size());
        assertArrayEquals(bytes("beta"), values.get(0));
        assertArrayEquals(bytes("alpha"), values.get(2));
        assertArrayEquals(bytes("alpha"), values.get(5));
        assertEquals(RocheException.ENOTFOUND, values.status(1));
        assertThrows(NotFoundException.class, () -> values.get(1));
        assertThrows(CorruptException.class, () -> values.get(3));
        assertEquals(RocheException.ENOTFOUND, values.status(4));
        assertFalse(values.isOk(3));
        byte[][] array = values.toArray();
        assertNull(array[1]);
        assertArrayEquals(bytes("beta"), array[0]);

        assertThrows(NotFoundException.class, () -> db.get("m", pastEnd));
        assertThrows(CorruptException.class, () -> db.get("m", midRecord));
        Values missing = db.multiGet("nothing-here", a);
        assertEquals(RocheException.ENOTFOUND, missing.status(0));
        assertEquals(0, db.multiGet("m").size());
    }

    @Test
    void scanAndResume() {
        List<Long> offsets = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            offsets.add(db.append("s", "k" + (i % 3), bytes("v" + i)));
        }
        List<Record> all = new ArrayList<>();
        try (Scan scan = db.scan("s", 0)) {
            scan.forEachRemaining(all::add);
            assertFalse(scan.hasNext());
            assertThrows(NoSuchElementException.class, scan::next);
        }
        assertEquals(20, all.size());
        assertEquals(offsets.stream().sorted().collect(Collectors.toList()),
                all.stream().map(Record::offset).collect(Collectors.toList()));
        for (Record r : all) {
            assertArrayEquals(db.get("s", r.offset()), r.value());
            assertTrue(r.timeNs() > 1_500_000_000_000_000_000L, "a wall-clock time in ns");
        }

        long resumeAfter = all.get(9).offset();
        try (Stream<Record> rest = db.stream("s", resumeAfter + 1)) {
            assertEquals(all.subList(10, 20).stream().map(Record::offset).collect(Collectors.toList()),
                    rest.map(Record::offset).collect(Collectors.toList()));
        }
        try (Scan empty = db.scan("no-such-ns", 0)) {
            assertFalse(empty.hasNext());
        }
    }

    @Test
    void threadsAppendAndReadAtOnce() throws Exception {
        int threads = 4, perThread = 500;
        List<Thread> workers = new ArrayList<>();
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        long[][] written = new long[threads][perThread];
        for (int t = 0; t < threads; t++) {
            int me = t;
            workers.add(new Thread(() -> {
                try {
                    for (int i = 0; i < perThread; i++) {
                        byte[] value = bytes(me + ":" + i);
                        written[me][i] = db.append("t", i % 2 == 0 ? null : "id" + me, value);
                        assertArrayEquals(value, db.get("t", written[me][i]));
                        if (i % 50 == 49) {
                            Values back = db.multiGet("t", written[me][i - 1], written[me][i]);
                            assertArrayEquals(value, back.get(1));
                        }
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }));
        }
        workers.forEach(Thread::start);
        for (Thread w : workers) {
            w.join();
        }
        assertEquals(List.of(), failures);
        for (int t = 0; t < threads; t++) {
            for (int i = 0; i < perThread; i++) {
                assertArrayEquals(bytes(t + ":" + i), db.get("t", written[t][i]));
            }
        }
        try (Stream<Record> all = db.stream("t", 0)) {
            assertEquals(threads * perThread, all.count());
        }
    }

    @Test
    void reopenAfterCloseKeepsData() {
        long off = db.append("r", null, bytes("kept"));
        db.close();
        try (Roche again = Roche.open(root, Roche.Options.builder().buckets(3).build())) {
            assertArrayEquals(bytes("kept"), again.get("r", off));
            long more = again.append("r", null, bytes("more"));
            assertArrayEquals(bytes("more"), again.get("r", more));
        }
        db = Roche.open(root);
        assertArrayEquals(bytes("kept"), db.get("r", off));
    }

    @Test
    void lockedReadOnlyAndMissingStores() {
        long off = db.append("x", null, bytes("v"));
        RocheException locked = assertThrows(LockedException.class, () -> Roche.open(root));
        assertEquals(RocheException.ELOCKED, locked.code());
        try (Roche reader = Roche.open(root, Roche.Options.builder().readOnly(true).build())) {
            assertArrayEquals(bytes("v"), reader.get("x", off));
            assertThrows(ReadOnlyException.class, () -> reader.append("x", null, bytes("no")));
            assertThrows(ReadOnlyException.class, () -> reader.deleteNamespace("x"));
        }
        assertThrows(NotFoundException.class,
                () -> Roche.open(dir.resolve("missing"), Roche.Options.builder().readOnly(true).build()));
    }

    @Test
    void namespacesStatSyncCloseAndDelete() {
        long off = db.append("b", null, bytes("12345"));
        db.append("a", null, bytes("x"));
        db.sync();
        db.sync("b");
        assertEquals(List.of("a", "b"), db.namespaces());
        Stats stats = db.stat("b");
        assertEquals(1, stats.records());
        assertEquals(16 + 5, stats.bytes());
        db.closeNamespace("b");
        assertArrayEquals(bytes("12345"), db.get("b", off), "a closed namespace reopens on use");
        db.deleteNamespace("b");
        assertThrows(NotFoundException.class, () -> db.get("b", off));
        assertThrows(NotFoundException.class, () -> db.deleteNamespace("b"));
        assertThrows(NotFoundException.class, () -> db.stat("b"));
        assertEquals(List.of("a"), db.namespaces());
    }

    @Test
    void nullsAndBadNamesThrowBeforeNativeCode() {
        assertThrows(NullPointerException.class, () -> db.append("n", null, (byte[]) null));
        assertThrows(NullPointerException.class, () -> db.append("n", null, (ByteBuffer) null));
        assertThrows(NullPointerException.class, () -> db.appendMany("n", null, (byte[][]) null));
        assertThrows(NullPointerException.class, () -> db.appendMany("n", null, bytes("a"), null));
        assertThrows(NullPointerException.class, () -> db.multiGet("n", (long[]) null));
        assertThrows(NullPointerException.class, () -> Roche.open(null));
        assertThrows(NullPointerException.class, () -> Roche.open(root, null));
        assertThrows(InvalidArgumentException.class, () -> db.append("a\0b", null, bytes("v")));
        assertThrows(InvalidArgumentException.class, () -> db.append("n", "i\0d", bytes("v")));
        assertEquals(RocheException.EINVAL,
                assertThrows(RocheException.class, () -> db.get("x".repeat(300), 0)).code(),
                "libroche judges a name's length");
        assertThrows(InvalidArgumentException.class, () -> Roche.Options.builder().buckets(0));
        RocheException bad = assertThrows(RocheException.class, () -> db.append("../escape", null, bytes("v")));
        assertEquals(RocheException.EINVAL, bad.code());
        assertThrows(RocheException.class, () -> db.get("a/b", 0));
        assertThrows(RocheException.class, () -> db.get(".hidden", 0));
        assertFalse(Files.exists(dir.resolve("escape")));
    }

    @Test
    void useAfterCloseThrowsAndCloseIsIdempotent() {
        long off = db.append("c", null, bytes("v"));
        Scan scan = db.scan("c", 0);
        db.close();
        db.close();
        assertThrows(IllegalStateException.class, () -> db.get("c", off));
        assertThrows(IllegalStateException.class, () -> db.append("c", null, bytes("v")));
        assertThrows(IllegalStateException.class, () -> db.multiGet("c", off));
        assertThrows(IllegalStateException.class, () -> db.scan("c", 0));
        assertThrows(IllegalStateException.class, db::sync);
        assertThrows(IllegalStateException.class, db::namespaces);
        assertThrows(IllegalStateException.class, scan::hasNext, "the store's close freed the scan");
        scan.close();
        scan.close();

        db = Roche.open(root);
        Scan closedScan = db.scan("c", 0);
        closedScan.close();
        assertThrows(IllegalStateException.class, closedScan::hasNext);
    }

    @Test
    void closeRacingCallsNeverCrashes() throws Exception {
        for (int round = 0; round < 20; round++) {
            Roche shared = Roche.open(dir.resolve("race" + round));
            long off = shared.append(null, null, bytes("value"));
            List<Thread> callers = new ArrayList<>();
            List<Throwable> unexpected = java.util.Collections.synchronizedList(new ArrayList<>());
            for (int t = 0; t < 3; t++) {
                callers.add(new Thread(() -> {
                    try {
                        while (true) {
                            shared.append(null, null, bytes("more"));
                            assertArrayEquals(bytes("value"), shared.get(null, off));
                            try (Scan scan = shared.scan(null, 0)) {
                                scan.hasNext();
                            }
                        }
                    } catch (IllegalStateException closed) {
                        // the only way out: the store closed under us
                    } catch (Throwable e) {
                        unexpected.add(e);
                    }
                }));
            }
            callers.forEach(Thread::start);
            Thread.sleep(5);
            shared.close();
            for (Thread c : callers) {
                c.join();
            }
            assertEquals(List.of(), unexpected);
        }
    }

    @Test
    void cleanerReleasesAForgottenStore() throws Exception {
        Path forgotten = dir.resolve("forgotten");
        openAndDrop(forgotten);
        assertThrows(LockedException.class, () -> Roche.open(forgotten).close(),
                "the dropped store still holds the lock until collected");
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (true) {
            System.gc();
            try (Roche reopened = Roche.open(forgotten)) {
                assertEquals(List.of("ns"), reopened.namespaces());
                return;
            } catch (LockedException stillHeld) {
                assertTrue(System.nanoTime() < deadline, "the Cleaner never closed the store");
                Thread.sleep(20);
            }
        }
    }

    private static void openAndDrop(Path root) {
        Roche dropped = Roche.open(root);
        dropped.append("ns", null, bytes("v"));
        dropped.scan("ns", 0); // an open scan too: the Cleaner frees it first
    }

    @Test
    void aScanKeepsAnUnreferencedStoreOpen() {
        db.append("k", null, bytes("one"));
        db.append("k", null, bytes("two"));
        db.close();
        try (Scan scan = Roche.open(root).scan("k", 0)) {
            System.gc();
            assertArrayEquals(bytes("one"), scan.next().value());
            System.gc();
            assertArrayEquals(bytes("two"), scan.next().value());
        }
        db = Roche.open(Path.of(root.toString() + "-other"));
    }

    @Test
    void versionMatchesTheHeader() {
        assertTrue(Roche.version().matches("\\d+\\.\\d+\\.\\d+"));
        assertNotEquals(0, Native.versionNumber() + 1);
    }
}
