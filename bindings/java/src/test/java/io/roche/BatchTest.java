package io.roche;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Scans and followers fetch records in batches (one JNI call each) and hand them out one by one. */
class BatchTest extends StoreFixture {
    /** Value i: its number, a NUL, and i % 7 more bytes (the first is empty). */
    static byte[] value(int i) {
        if (i == 0) {
            return new byte[0];
        }
        byte[] v = new byte[8 + i % 7];
        for (int b = 0; b < v.length; b++) {
            v[b] = (byte) (i >>> (8 * (b % 4)));
        }
        v[4] = 0;
        return v;
    }

    /** n records appended to ns (one bucket per id, 4 ids), their offsets in increasing order. */
    List<Long> fill(String ns, int n) {
        return fill(ns, n, 4);
    }

    List<Long> fill(String ns, int n, int ids) {
        List<Long> offsets = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            offsets.add(db.append(ns, "id-" + (i % ids), value(i)));
        }
        offsets.sort(Long::compare);
        return offsets;
    }

    @Test
    void theIteratorAtBatchBoundaries() {
        for (int n : new int[] {0, 1, 64, 65, Scan.BATCH, Scan.BATCH + 1, 2 * Scan.BATCH + 3}) {
            String ns = "it" + n;
            Map<Long, byte[]> expected = new HashMap<>();
            List<Long> sorted = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                long off = db.append(ns, "id-" + (i % 4), value(i));
                expected.put(off, value(i));
                sorted.add(off);
            }
            sorted.sort(Long::compare);
            List<Long> seen = new ArrayList<>();
            try (Scan scan = db.scan(ns, 0)) {
                while (scan.hasNext()) {
                    Record r = scan.next();
                    assertArrayEquals(expected.get(r.offset()), r.value(), "value at " + r.offset());
                    assertTrue(r.timeNs() > 0);
                    seen.add(r.offset());
                }
                assertFalse(scan.hasNext(), "the end is sticky");
                assertTrue(scan.nextBatch(5).isEmpty());
            }
            assertEquals(sorted, seen, n + " records, each once, in offset order");
        }
    }

    @Test
    void nextBatchAtItsBoundaries() {
        int max = 8;
        for (int n : new int[] {0, 1, max, max + 1, 3 * max}) {
            String ns = "nb" + n;
            Map<Long, byte[]> expected = new HashMap<>();
            for (int i = 0; i < n; i++) {
                expected.put(db.append(ns, null, value(i)), value(i));
            }
            List<Integer> sizes = new ArrayList<>();
            int total = 0;
            try (Scan scan = db.scan(ns, 0)) {
                for (List<Record> batch = scan.nextBatch(max); !batch.isEmpty(); batch = scan.nextBatch(max)) {
                    sizes.add(batch.size());
                    for (Record r : batch) {
                        assertArrayEquals(expected.get(r.offset()), r.value());
                        total++;
                    }
                }
                assertFalse(scan.hasNext());
            }
            assertEquals(n, total);
            List<Integer> want = new ArrayList<>();
            for (int left = n; left > 0; left -= max) {
                want.add(Math.min(max, left));
            }
            assertEquals(want, sizes, n + " records in batches of up to " + max);
        }
    }

    @Test
    void nextBatchAndNextMixAndResumeAtLastPlusOne() {
        List<Long> offsets = fill("mix", 100);
        List<Long> seen = new ArrayList<>();
        try (Scan scan = db.scan("mix", 0)) {
            seen.add(scan.next().offset()); // the iterator fetched a batch
            assertTrue(scan.hasNext());     // a record promised
            List<Record> batch = scan.nextBatch(10);
            assertEquals(10, batch.size(), "taken from what the iterator fetched");
            batch.forEach(r -> seen.add(r.offset()));
            seen.add(scan.next().offset());
        }
        assertEquals(offsets.subList(0, 12), seen);
        long last = seen.get(seen.size() - 1);
        List<Long> rest = new ArrayList<>();
        try (Scan scan = db.scan("mix", last + 1)) {
            scan.forEachRemaining(r -> rest.add(r.offset()));
        }
        assertEquals(offsets.subList(12, 100), rest, "resumed at last + 1: no gap, no repeat");
        try (Scan scan = db.scan("mix", 0)) {
            assertThrows(InvalidArgumentException.class, () -> scan.nextBatch(0));
            assertThrows(InvalidArgumentException.class, () -> scan.nextBatch(-1));
            assertEquals(100, scan.nextBatch(Integer.MAX_VALUE).size());
        }
    }

    @Test
    void largeValuesComeInSmallerBatches() {
        Map<Long, byte[]> expected = new HashMap<>();
        for (int i = 0; i < 12; i++) {
            byte[] v = new byte[300 * 1024 + i];
            java.util.Arrays.fill(v, (byte) i);
            expected.put(db.append("big", null, v), v);
        }
        int n = 0;
        try (Scan scan = db.scan("big", 0)) {
            for (Record r : (Iterable<Record>) () -> scan) {
                assertArrayEquals(expected.get(r.offset()), r.value());
                n++;
            }
        }
        assertEquals(12, n);
    }

    @Test
    void aScanWhileAnotherThreadAppendsEnds() throws Exception {
        List<Long> before = fill("busy", 3000);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread writer = new Thread(() -> {
            try {
                while (!stop.get()) {
                    db.append("busy", null, value(7));
                }
            } catch (Throwable t) {
                failed.set(t);
            }
        });
        writer.start();
        try {
            List<Long> seen = new ArrayList<>();
            try (Scan scan = db.scan("busy", 0)) {
                scan.forEachRemaining(r -> seen.add(r.offset()));
            }
            assertTrue(seen.containsAll(before), "every record there before the scan");
            for (int i = 1; i < seen.size(); i++) {
                assertTrue(seen.get(i - 1) < seen.get(i), "increasing, no repeat");
            }
        } finally {
            stop.set(true);
            writer.join();
        }
        assertNull(failed.get());
    }

    @Test
    void closingOrDeletingTheNamespaceDropsWhatWasFetched() {
        for (String call : new String[] {"close", "delete"}) {
            fill("short", 50);
            Scan scan = db.scan("short", 0);
            scan.next(); // 49 more fetched
            if (call.equals("close")) {
                db.closeNamespace("short");
            } else {
                db.deleteNamespace("short");
            }
            assertThrows(NotFoundException.class, scan::hasNext, call + ": the next step is libroche's answer");
            scan.close();
        }
        // A namespace other than the scan's: nothing is dropped.
        List<Long> offsets = fill("kept", 20);
        fill("other", 1);
        List<Long> seen = new ArrayList<>();
        try (Scan scan = db.scan("kept", 0)) {
            seen.add(scan.next().offset());
            db.closeNamespace("other");
            scan.forEachRemaining(r -> seen.add(r.offset()));
        }
        assertEquals(offsets, seen);
    }

    @Test
    void closingTheScanOrTheStoreEndsAWalkMidBatch() {
        fill("c", 10);
        Scan scan = db.scan("c", 0);
        scan.next();
        scan.close();
        assertThrows(IllegalStateException.class, scan::hasNext);
        Scan promised = db.scan("c", 0);
        assertTrue(promised.hasNext());
        db.closeNamespace("c");
        assertEquals(1, promised.nextBatch(5).size(), "the record hasNext() promised, alone");
        assertThrows(NotFoundException.class, promised::hasNext);
        promised.close();
        Scan other = db.scan("c", 0);
        other.next();
        db.close();
        assertThrows(IllegalStateException.class, other::hasNext);
        assertThrows(IllegalStateException.class, () -> other.nextBatch(3));
        other.close();
        db = Roche.open(root);
    }

    // ---- followers ---------------------------------------------------------

    @Test
    void aFollowerDeliversEveryRecordOnceAcrossBatches() throws Exception {
        Map<Long, byte[]> expected = new HashMap<>();
        for (int i = 0; i < 2 * Scan.BATCH + 5; i++) {
            expected.put(db.append("f", "id-" + (i % 3), value(i)), value(i));
        }
        Map<Long, byte[]> seen = new HashMap<>();
        try (Follower f = db.follow("f")) {
            for (Record r = f.poll(); r != null; r = f.poll()) {
                assertNull(seen.put(r.offset(), r.value()), "no repeat");
            }
            assertNull(f.next(Duration.ofMillis(50)), "nothing more: the timeout returns null");
        }
        assertEquals(expected.keySet(), seen.keySet());
        expected.forEach((off, v) -> assertArrayEquals(v, seen.get(off)));
    }

    @Test
    void positionAndCommitCountOnlyTheRecordsHandedOut() throws Exception {
        List<Long> all = fill("p", 300);
        List<Long> first = new ArrayList<>();
        long[] position;
        try (Follower f = db.follow("p")) {
            for (int i = 0; i < 100; i++) {
                first.add(f.poll().offset()); // the rest of a batch is fetched, not handed out
            }
            position = f.position();
            f.commit("c");
        }
        assertArrayEquals(position, db.getCursor("p", "c"));
        List<Long> rest = new ArrayList<>();
        try (Follower f = db.follow("p", position)) {
            for (Record r = f.poll(); r != null; r = f.poll()) {
                rest.add(r.offset());
            }
        }
        List<Long> both = new ArrayList<>(first);
        both.addAll(rest);
        both.sort(Long::compare);
        assertEquals(all, both, "restarted from the position: no gap, no repeat");
        try (Follower f = db.followCursor("p", "c")) {
            assertEquals(rest.size(), f.stream().limit(rest.size()).count());
            assertNull(f.poll());
        }
    }

    @Test
    void aWakeComesBeforeRecordsAlreadyFetchedWhichAreNotLost() throws Exception {
        List<Long> all = fill("w", 10, 1); // one bucket: the follower's order is offset order
        try (Follower f = db.follow("w")) {
            assertEquals(all.get(0), f.poll().offset()); // nine more fetched
            f.wake();
            assertThrows(CanceledException.class, () -> f.next(Duration.ofSeconds(5)));
            List<Long> rest = new ArrayList<>();
            for (Record r = f.poll(); r != null; r = f.poll()) {
                rest.add(r.offset());
            }
            assertEquals(all.subList(1, 10), rest);
            // A wake from another thread ends a wait, with nothing fetched.
            CountDownLatch waiting = new CountDownLatch(1);
            Thread waker = new Thread(() -> {
                try {
                    waiting.await();
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
                f.wake();
            });
            waker.start();
            waiting.countDown();
            long started = System.nanoTime();
            assertThrows(CanceledException.class, () -> f.next(Duration.ofSeconds(30)));
            assertTrue(System.nanoTime() - started < 10_000_000_000L);
            waker.join();
            // An append wakes a waiting follower; the timeout still returns null.
            Thread appender = new Thread(() -> {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
                db.append("w", null, value(3));
            });
            appender.start();
            Record r = f.next(Duration.ofSeconds(30));
            appender.join();
            assertArrayEquals(value(3), r.value());
            assertNull(f.next(Duration.ofMillis(30)));
        }
    }

    @Test
    void closingTheFollowerOrTheStoreEndsItMidBatch() throws Exception {
        fill("x", 10);
        Follower f = db.follow("x");
        f.poll();
        f.close();
        assertThrows(IllegalStateException.class, f::poll);
        Follower g = db.follow("x");
        g.poll();
        db.close();
        assertThrows(IllegalStateException.class, g::poll);
        g.close();
        db = Roche.open(root);
    }

    @Test
    void anInterruptStillEndsAWait() throws Exception {
        try (Follower f = db.follow("i")) {
            Thread self = Thread.currentThread();
            Thread interrupter = new Thread(() -> {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
                self.interrupt();
            });
            interrupter.start();
            assertThrows(InterruptedException.class, () -> f.next(Duration.ofSeconds(30)));
            interrupter.join();
            assertFalse(Thread.interrupted());
            db.append("i", null, value(5));
            assertArrayEquals(value(5), f.next(Duration.ofSeconds(5)).value());
        }
    }
}
