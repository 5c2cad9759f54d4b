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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
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
    // ---- Follower.nextBatch ------------------------------------------------

    static List<Long> offsetsOf(List<Record> records) {
        List<Long> offsets = new ArrayList<>();
        records.forEach(r -> offsets.add(r.offset()));
        return offsets;
    }

    @Test
    void followerNextBatchReturnsRecordsInOrderUpToMaxThenWaitsForMore() throws Exception {
        List<Long> all = fill("fb", 20, 1); // one bucket: the follower's order is offset order
        try (Follower f = db.follow("fb")) {
            List<Record> first = f.nextBatch(8, Duration.ZERO);
            assertEquals(all.subList(0, 8), offsetsOf(first));
            for (Record r : first) {
                assertArrayEquals(db.get("fb", r.offset()), r.value());
                assertTrue(r.timeNs() > 0);
            }
            assertEquals(all.subList(8, 16), offsetsOf(f.nextBatch(8)));
            assertEquals(all.subList(16, 20), offsetsOf(f.nextBatch(8, Duration.ofSeconds(5))),
                    "what is there, without waiting for max");
            assertEquals(List.of(), f.nextBatch(8, Duration.ZERO), "nothing new: empty, no wait");
            long t0 = System.nanoTime();
            assertEquals(List.of(), f.nextBatch(8, Duration.ofMillis(60)));
            assertTrue(System.nanoTime() - t0 >= 55_000_000L, "it waited its timeout");
            int bucket = (int) (all.get(0) >>> 50);
            assertEquals(db.bucketRange("fb", bucket).end(), f.position()[bucket], "past every record handed out");

            // More appends: the next batch has them, and only them.
            List<Long> more = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                more.add(db.append("fb", "id-0", value(100 + i)));
            }
            List<Record> late = f.nextBatch(100, Duration.ofSeconds(5));
            assertEquals(more, offsetsOf(late));
            assertArrayEquals(value(102), late.get(2).value());

            // nextBatch(max) waits for ever: an append from another thread ends it.
            CompletableFuture<List<Record>> waiting = FollowTest.onThread(() -> f.nextBatch(10), null);
            FollowTest.letItWait();
            assertFalse(waiting.isDone(), "it waits for a record");
            long ring = db.append("fb", "id-0", value(7));
            assertEquals(List.of(ring), offsetsOf(waiting.get(20, TimeUnit.SECONDS)));
        }
    }

    @Test
    void followerNextBatchMixesWithPollAndPositionCountsWhatWasHandedOut() throws Exception {
        List<Long> all = fill("fm", 100, 1);
        List<Long> seen = new ArrayList<>();
        try (Follower f = db.follow("fm")) {
            seen.add(f.poll().offset()); // the rest of a batch is fetched, not handed out
            List<Record> fetched = f.nextBatch(10);
            assertEquals(10, fetched.size(), "taken from what poll fetched");
            seen.addAll(offsetsOf(fetched));
            assertEquals(all.get(11), f.position()[(int) (all.get(0) >>> 50)],
                    "position: the first record not handed out");
            seen.add(f.next(Duration.ofSeconds(1)).offset());
            for (List<Record> b = f.nextBatch(7, Duration.ZERO); !b.isEmpty(); b = f.nextBatch(7, Duration.ZERO)) {
                assertTrue(b.size() <= 7, "at most max: " + b.size());
                seen.addAll(offsetsOf(b));
            }
            f.commit("c");
        }
        assertEquals(all, seen, "each record once, in order");
        try (Follower f = db.followCursor("fm", "c")) {
            assertEquals(List.of(), f.nextBatch(5, Duration.ZERO), "the cursor is past every record");
        }
        // Across buckets: every record once, each bucket in offset order; a max
        // above the native bound is that bound.
        List<Long> spread = fill("fs", 500, 4);
        List<Long> got = new ArrayList<>();
        try (Follower f = db.follow("fs")) {
            for (List<Record> b = f.nextBatch(Integer.MAX_VALUE, Duration.ZERO); !b.isEmpty();
                    b = f.nextBatch(Integer.MAX_VALUE, Duration.ZERO)) {
                got.addAll(offsetsOf(b));
            }
        }
        Map<Long, List<Long>> byBucket = new HashMap<>();
        for (long off : got) {
            byBucket.computeIfAbsent(off >>> 50, k -> new ArrayList<>()).add(off);
        }
        byBucket.values().forEach(list -> {
            List<Long> sorted = new ArrayList<>(list);
            sorted.sort(Long::compare);
            assertEquals(sorted, list, "a bucket's records in offset order");
        });
        got.sort(Long::compare);
        assertEquals(spread, got);
    }

    @Test
    void followerNextBatchWakesInterruptsAndClosesAsNext() throws Exception {
        List<Long> all = fill("fw", 10, 1);
        Follower f = db.follow("fw");
        assertEquals(all.get(0), f.poll().offset()); // nine more fetched
        // A wake comes before the records fetched, which follow it.
        f.wake();
        assertThrows(CanceledException.class, () -> f.nextBatch(5));
        f.wake();
        assertThrows(CanceledException.class, () -> f.nextBatch(5, Duration.ZERO));
        assertEquals(all.subList(1, 10), offsetsOf(f.nextBatch(50, Duration.ZERO)));

        // A wake from another thread ends a wait, with or without a timeout.
        for (boolean timed : new boolean[] {false, true}) {
            CompletableFuture<List<Record>> waiting = FollowTest.onThread(
                    () -> timed ? f.nextBatch(5, Duration.ofSeconds(30)) : f.nextBatch(5), null);
            FollowTest.letItWait();
            assertFalse(waiting.isDone());
            f.wake();
            Throwable woken = FollowTest.failure(waiting);
            assertTrue(woken instanceof CanceledException, woken.toString());
        }
        assertEquals(List.of(), f.nextBatch(5, Duration.ZERO), "one wake, one CanceledException");

        // An interrupt ends a wait with InterruptedException, the status cleared.
        AtomicReference<Thread> thread = new AtomicReference<>();
        AtomicReference<Boolean> statusAfter = new AtomicReference<>();
        CompletableFuture<List<Record>> waiting = FollowTest.onThread(() -> {
            try {
                return f.nextBatch(5);
            } finally {
                statusAfter.set(Thread.currentThread().isInterrupted());
            }
        }, thread);
        FollowTest.letItWait();
        thread.get().interrupt();
        Throwable e = FollowTest.failure(waiting);
        assertTrue(e instanceof InterruptedException, e.toString());
        assertEquals(false, statusAfter.get());
        Thread.currentThread().interrupt();
        assertThrows(InterruptedException.class, () -> f.nextBatch(5, Duration.ofSeconds(30)));
        assertFalse(Thread.currentThread().isInterrupted());
        Thread.currentThread().interrupt();
        assertEquals(List.of(), f.nextBatch(5, Duration.ZERO), "no wait, so an interrupt does not concern it");
        assertTrue(Thread.interrupted());
        long after = db.append("fw", "id-0", value(11));
        assertEquals(List.of(after), offsetsOf(f.nextBatch(5, Duration.ofSeconds(5))), "still a follower");

        // Bad arguments.
        assertThrows(InvalidArgumentException.class, () -> f.nextBatch(0));
        assertThrows(InvalidArgumentException.class, () -> f.nextBatch(-1, Duration.ZERO));
        assertThrows(NullPointerException.class, () -> f.nextBatch(1, null));

        // A close from another thread ends a wait; every call after it throws.
        CompletableFuture<List<Record>> closing = FollowTest.onThread(() -> f.nextBatch(5), null);
        FollowTest.letItWait();
        f.close();
        assertTrue(FollowTest.failure(closing) instanceof IllegalStateException);
        assertThrows(IllegalStateException.class, () -> f.nextBatch(5));
        assertThrows(IllegalStateException.class, () -> f.nextBatch(5, Duration.ZERO));
        BadInputMatrixTest.assertUsable(db);
    }
}
