package io.roche;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Following a namespace: waits, wakes, interrupts, restarts, other processes, retention under a follower. */
class FollowTest extends StoreFixture {
    static final String NS = "log";

    /** Value i of a run: "v<i>" padded to a length that varies with i (as tests/test_follow.c). */
    static byte[] value(int i) {
        StringBuilder s = new StringBuilder("v").append(i);
        for (int pad = i % 37; pad > 0; pad--) {
            s.append('.');
        }
        return bytes(s.toString());
    }

    /** The i of a value(i). */
    static int seq(byte[] value) {
        String s = new String(value, StandardCharsets.UTF_8);
        int end = s.indexOf('.');
        return Integer.parseInt(s.substring(1, end < 0 ? s.length() : end));
    }

    static String text(Record r) {
        return new String(r.value(), StandardCharsets.UTF_8);
    }

    /** Runs call on a thread of its own; the future completes with what it returned or threw. */
    static <T> CompletableFuture<T> onThread(java.util.concurrent.Callable<T> call, AtomicReference<Thread> thread) {
        CompletableFuture<T> result = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                result.complete(call.call());
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        });
        if (thread != null) {
            thread.set(t);
        }
        t.start();
        return result;
    }

    static Throwable failure(CompletableFuture<?> future) throws Exception {
        ExecutionException e = assertThrows(ExecutionException.class, () -> future.get(20, TimeUnit.SECONDS));
        return e.getCause();
    }

    /** Waits until thread is parked or waiting: blocked in a native wait reads as RUNNABLE, so give it time. */
    static void letItWait() throws InterruptedException {
        Thread.sleep(150);
    }

    @Test
    void existingRecordsThenNewOnes() throws Exception {
        long a = db.append(NS, null, bytes("a"));
        long b = db.append(NS, null, bytes("bb"));
        try (Follower f = db.follow(NS)) {
            Record r = f.poll();
            assertEquals(a, r.offset());
            assertEquals("a", text(r));
            assertTrue(r.timeNs() > 0);
            assertEquals(b, f.next(Duration.ZERO).offset());
            assertNull(f.poll());
            long t0 = System.nanoTime();
            assertNull(f.next(Duration.ofMillis(50)));
            assertTrue(System.nanoTime() - t0 >= 45_000_000L, "it waited its timeout");
            long c = db.append(NS, null, bytes("ccc"));
            Record late = f.next();
            assertEquals(c, late.offset());
            assertEquals("ccc", text(late));
        }
    }

    @Test
    void aWaitIsRungByAnAppendFromAnotherThread() throws Exception {
        db.close();
        db = Roche.open(root, Roche.Options.builder().buckets(4).build());
        try (Follower f = db.follow(NS)) { // before the namespace has a bucket
            AtomicReference<Thread> thread = new AtomicReference<>();
            CompletableFuture<Record> got = onThread(() -> f.next(Duration.ofSeconds(30)), thread);
            letItWait();
            // 300 ms of waiting take (almost) no CPU: it sleeps, it does not poll.
            java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
            long cpu0 = threads.getThreadCpuTime(thread.get().getId());
            Thread.sleep(300);
            long cpuNs = threads.getThreadCpuTime(thread.get().getId()) - cpu0;
            assertTrue(cpu0 < 0 || cpuNs < 30_000_000L, "the idle follower used " + cpuNs + " ns of CPU in 300 ms");
            long t0 = System.nanoTime();
            long off = db.append(NS, "late", bytes("late"));
            Record r = got.get(20, TimeUnit.SECONDS);
            assertEquals(off, r.offset());
            assertTrue(System.nanoTime() - t0 < 10_000_000_000L, "rung, not timed out");
        }
    }

    @Test
    void wakeEndsAWaitOncePerWake() throws Exception {
        try (Follower f = db.follow(NS)) {
            CompletableFuture<Record> waiting = onThread(f::next, null);
            letItWait();
            assertFalse(waiting.isDone());
            f.wake();
            Throwable woken = failure(waiting);
            assertTrue(woken instanceof CanceledException, woken.toString());
            assertEquals(RocheException.ECANCELED, ((RocheException) woken).code());
            assertNull(f.poll(), "one wake, one CanceledException");
            // A wake with no one waiting is kept for the next call.
            f.wake();
            assertThrows(CanceledException.class, () -> f.next(Duration.ofSeconds(10)));
            f.wake();
            f.wake();
            assertThrows(CanceledException.class, f::poll);
            assertNull(f.poll());
            // Still a follower.
            long off = db.append(NS, null, bytes("after"));
            assertEquals(off, f.next(Duration.ofSeconds(10)).offset());
        }
    }

    @Test
    void interruptEndsAWaitAndLeavesTheFollowerUsable() throws Exception {
        try (Follower f = db.follow(NS)) {
            AtomicReference<Thread> thread = new AtomicReference<>();
            AtomicReference<Boolean> statusAfter = new AtomicReference<>();
            CompletableFuture<Record> waiting = onThread(() -> {
                try {
                    return f.next();
                } finally {
                    statusAfter.set(Thread.currentThread().isInterrupted());
                }
            }, thread);
            letItWait();
            assertFalse(waiting.isDone());
            long t0 = System.nanoTime();
            thread.get().interrupt();
            Throwable e = failure(waiting);
            assertTrue(e instanceof InterruptedException, e.toString());
            assertTrue(System.nanoTime() - t0 < 5_000_000_000L);
            assertEquals(false, statusAfter.get(), "InterruptedException clears the status");

            // The same with a timeout, and with the status set before the call.
            CompletableFuture<Record> timed = onThread(() -> f.next(Duration.ofSeconds(30)), thread);
            letItWait();
            thread.get().interrupt();
            assertTrue(failure(timed) instanceof InterruptedException);
            Thread.currentThread().interrupt();
            assertThrows(InterruptedException.class, () -> f.next(Duration.ofSeconds(30)));
            assertFalse(Thread.currentThread().isInterrupted());
            Thread.currentThread().interrupt();
            assertNull(f.poll(), "poll never waits, so an interrupt does not concern it");
            assertTrue(Thread.interrupted());

            // No wake is left over: no CanceledException, and records still come.
            assertNull(f.next(Duration.ofMillis(20)));
            long off = db.append(NS, null, bytes("after"));
            assertEquals(off, f.next(Duration.ofSeconds(10)).offset());
            CompletableFuture<Record> again = onThread(f::next, null);
            letItWait();
            long next = db.append(NS, null, bytes("next"));
            assertEquals(next, again.get(20, TimeUnit.SECONDS).offset());
        }
    }

    @Test
    void iteratorAndStreamEndAtAWakeOrAnInterrupt() throws Exception {
        try (Follower f = db.follow(NS)) {
            CountDownLatch three = new CountDownLatch(3);
            CompletableFuture<List<String>> consumed = onThread(() -> f.stream().map(FollowTest::text)
                    .peek(v -> three.countDown()).collect(Collectors.toList()), null);
            for (String v : List.of("one", "two", "three")) {
                db.append(NS, null, bytes(v));
            }
            assertTrue(three.await(20, TimeUnit.SECONDS));
            f.wake();
            assertEquals(List.of("one", "two", "three"), consumed.get(20, TimeUnit.SECONDS));

            AtomicReference<Thread> thread = new AtomicReference<>();
            CountDownLatch four = new CountDownLatch(1);
            CompletableFuture<Boolean> interrupted = onThread(() -> {
                Iterator<Record> it = f.iterator();
                assertEquals("four", text(it.next()));
                four.countDown();
                assertFalse(it.hasNext());
                assertThrows(NoSuchElementException.class, it::next);
                return Thread.currentThread().isInterrupted();
            }, thread);
            db.append(NS, null, bytes("four"));
            assertTrue(four.await(20, TimeUnit.SECONDS));
            letItWait();
            thread.get().interrupt();
            assertTrue(interrupted.get(20, TimeUnit.SECONDS), "the iterator leaves the interrupt status set");
            assertNull(f.poll());
        }
    }

    @Test
    void closingTheFollowerOrTheStoreEndsAWait() throws Exception {
        Follower f = db.follow(NS);
        CompletableFuture<Record> waiting = onThread(f::next, null);
        letItWait();
        f.close();
        Throwable e = failure(waiting);
        assertTrue(e instanceof IllegalStateException, e.toString());
        f.close();

        Follower g = db.follow(NS);
        Follower h = db.follow(NS);
        CompletableFuture<Record> g1 = onThread(g::next, null);
        CompletableFuture<Record> h1 = onThread(() -> h.next(Duration.ofSeconds(60)), null);
        letItWait();
        long t0 = System.nanoTime();
        db.close();
        assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "the store's close did not wait for the followers");
        for (CompletableFuture<Record> w : List.of(g1, h1)) {
            Throwable closed = failure(w);
            assertTrue(closed instanceof IllegalStateException, closed.toString());
            assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
        }
        assertThrows(IllegalStateException.class, g::poll);
        assertThrows(IllegalStateException.class, g::wake);
        g.close();
        h.close();
        db = Roche.open(root);
    }

    @Test
    void restartFromPositionOrCursorMissesNothingAndRepeatsNothing() throws Exception {
        db.close();
        db = Roche.open(root, Roche.Options.builder().buckets(4).build());
        for (int i = 1; i <= 400; i++) {
            db.append(NS, "id" + (i % 7), value(i));
        }
        int[] seen = new int[601];
        long[] position;
        try (Follower f = db.follow(NS)) {
            for (int n = 0; n < 150; n++) {
                seen[seq(f.poll().value())]++;
            }
            position = f.position();
            assertEquals(4, position.length);
            for (int b = 0; b < 4; b++) {
                assertEquals(b, position[b] >>> 50, "one offset per bucket, in bucket order");
            }
            f.commit("reader");
        }
        assertArrayEquals(position, db.getCursor(NS, "reader"));
        db.close();
        db = Roche.open(root, Roche.Options.builder().buckets(4).build());
        for (int i = 401; i <= 500; i++) {
            db.append(NS, "x", value(i));
        }
        int[] fromCursor = seen.clone();
        try (Follower f = db.follow(NS, position)) {
            for (Record r; (r = f.poll()) != null; ) {
                seen[seq(r.value())]++;
            }
        }
        try (Follower f = db.followCursor(NS, "reader")) {
            for (Record r; (r = f.poll()) != null; ) {
                fromCursor[seq(r.value())]++;
            }
            // The cursor moves on only when committed.
            assertArrayEquals(position, db.getCursor(NS, "reader"));
            f.commit("reader");
            assertArrayEquals(f.position(), db.getCursor(NS, "reader"));
        }
        for (int i = 1; i <= 500; i++) {
            assertEquals(1, seen[i], "record v" + i + " from the position");
            assertEquals(1, fromCursor[i], "record v" + i + " from the cursor");
        }
        try (Follower f = db.followCursor(NS, "reader")) {
            assertNull(f.poll(), "the committed cursor is at the end");
        }
        try (Follower f = db.followCursor(NS, "no-such-cursor")) {
            assertEquals(1, seq(f.poll().value()), "a cursor not made yet starts at the beginning");
        }
        try (Follower f = db.followCursor(NS, "no-such-cursor", true)) {
            assertNull(f.poll(), "... or at the end");
        }
    }

    @Test
    void fromEndSeesOnlyNewRecords() throws Exception {
        db.append(NS, "a", bytes("old"));
        try (Follower f = db.follow(NS, new long[0], true)) {
            assertNull(f.poll());
            for (String id : List.of("a", "b", "c", "d", "e", "f")) {
                db.append(NS, id, bytes(id));
            }
            List<String> got = new ArrayList<>();
            for (Record r; (r = f.poll()) != null; ) {
                got.add(text(r));
            }
            got.sort(null);
            assertEquals(List.of("a", "b", "c", "d", "e", "f"), got);
        }
    }

    /**
     * Run by {@link #aFollowerInAnotherJvmGetsEveryRecordInOrder} in a JVM of
     * its own (no JUnit there): follows ns read-only, says "ready", reads
     * count records and checks each bucket's come back to back, in order.
     */
    static final class ChildFollower {
        public static void main(String[] args) throws Exception {
            Path root = Path.of(args[0]);
            int count = Integer.parseInt(args[1]);
            try (Roche ro = Roche.open(root, Roche.Options.builder().readOnly(true).build());
                 Follower f = ro.follow(NS)) {
                System.out.println("ready");
                System.out.flush();
                Map<Long, Long> nextPosition = new HashMap<>();
                Map<Long, Integer> lastSeq = new HashMap<>();
                for (int n = 0; n < count; n++) {
                    Record r = f.next(Duration.ofSeconds(30));
                    if (r == null) {
                        System.out.println("timed out after " + n);
                        return;
                    }
                    long bucket = r.offset() >>> 50, pos = r.offset() & ((1L << 50) - 1);
                    if (pos != nextPosition.getOrDefault(bucket, 0L)) {
                        System.out.println("gap or repeat at " + r.offset());
                        return;
                    }
                    nextPosition.put(bucket, pos + 16 + r.value().length);
                    int seq = seq(r.value());
                    if (!Arrays.equals(value(seq), r.value()) || seq <= lastSeq.getOrDefault(bucket, -1)) {
                        System.out.println("wrong value or order at " + r.offset());
                        return;
                    }
                    lastSeq.put(bucket, seq);
                }
                System.out.println("ok " + count + " " + (f.poll() == null));
            }
        }
    }

    static String classPath() throws Exception {
        return Path.of(Roche.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                + java.io.File.pathSeparator
                + Path.of(FollowTest.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    @Test
    void aFollowerInAnotherJvmGetsEveryRecordInOrder() throws Exception {
        int count = 5000;
        db.append(NS, "k0", value(0)); // the namespace exists for the read-only child
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Path err = dir.resolve("child.err");
        Process p = new ProcessBuilder(java.toString(), "-Xcheck:jni", "-cp", classPath(),
                ChildFollower.class.getName(), root.toString(), Integer.toString(count + 1))
                .redirectError(err.toFile()).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            assertEquals("ready", out.readLine(), () -> readQuietly(err));
            Thread.sleep(200); // the child waits, asleep
            for (int i = 1; i <= count; i++) {
                db.append(NS, "k" + (i % 5), value(i)); // buckets made while it follows
                if (i % 1000 == 0) {
                    Thread.sleep(2);
                }
            }
            assertEquals("ok " + (count + 1) + " true", out.readLine(), () -> readQuietly(err));
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child JVM did not exit");
        } finally {
            if (p.isAlive()) {
                p.destroyForcibly();
            }
        }
        assertEquals(0, p.exitValue(), readQuietly(err));
        assertEquals("", readQuietly(err), "no crash report, no -Xcheck:jni warning");
    }

    static String readQuietly(Path file) {
        try {
            return Files.readString(file);
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }

    /** The writer is C (tests/interop.c) in another process; the follower a read-only Java store. */
    @Test
    void aWriterInAnotherProcessRingsAJavaFollower() throws Exception {
        String program = System.getenv("ROCHE_INTEROP");
        assumeTrue(program != null, "ROCHE_INTEROP is not set (ctest sets it)");
        db.append(NS, null, bytes("before"));
        db.close();
        db = Roche.open(root, Roche.Options.builder().readOnly(true).build());
        try (Follower f = db.follow(NS, new long[0], true)) {
            CompletableFuture<List<String>> got = onThread(() -> {
                List<String> values = new ArrayList<>();
                while (values.size() < 3) {
                    Record r = f.next(Duration.ofSeconds(30));
                    if (r == null) {
                        break;
                    }
                    values.add(text(r));
                }
                return values;
            }, null);
            letItWait();
            Process p = new ProcessBuilder(program, "write", root.toString(), NS, "6f6e65", "74776f", "7468726565")
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            p.getInputStream().readAllBytes();
            assertEquals(0, p.waitFor());
            long t0 = System.nanoTime();
            assertEquals(List.of("one", "two", "three"), got.get(20, TimeUnit.SECONDS));
            assertTrue(System.nanoTime() - t0 < 10_000_000_000L, "rung, not timed out");
        }
    }

    @Test
    void followerLearnsOfDroppedRecordsAndGoesOn() throws Exception {
        db.close();
        db = Roche.open(root, Roche.Options.builder().buckets(1).build());
        byte[] big = new byte[2000];
        Arrays.fill(big, (byte) 'z');
        long[] off = new long[20];
        off[0] = db.append(NS, null, big);
        try (Follower f = db.follow(NS)) {
            // Records a follower fetched in a batch are copies, handed out
            // even if retention drops them since: it fetches record 0 alone.
            assertEquals(off[0], f.poll().offset());
            for (int i = 1; i < 20; i++) {
                off[i] = db.append(NS, null, big);
            }
            // Keep the newest 5 records: the follower, at record 1, lost 14.
            assertEquals(15 * (16 + 2000), db.retain(NS, 0L, 5 * (16 + 2000)));
            DroppedException e = assertThrows(DroppedException.class, f::poll);
            assertEquals(off[1], e.offset(), "where it was");
            assertEquals(RocheException.EDROPPED, e.code());
            for (int i = 15; i < 20; i++) {
                assertEquals(off[i], f.poll().offset());
            }
            assertNull(f.poll());
        }
        // Restarting below the first record kept is reported too, once.
        try (Follower f = db.follow(NS, off[3])) {
            assertEquals(off[3], assertThrows(DroppedException.class, f::poll).offset());
            assertEquals(off[15], f.next(Duration.ofSeconds(1)).offset());
        }
        // The iterator passes the exception on; the follower goes on after it.
        try (Follower f = db.follow(NS, off[3])) {
            Iterator<Record> it = f.iterator();
            assertThrows(DroppedException.class, it::hasNext);
            assertEquals(off[15], it.next().offset());
        }
        // From the start: the first record kept, silently.
        try (Follower f = db.follow(NS)) {
            assertEquals(off[15], f.poll().offset());
        }
    }

    @Test
    void deletingTheNamespaceEndsAWait() throws Exception {
        db.append(NS, null, bytes("x"));
        try (Follower f = db.follow(NS, new long[0], true)) {
            CompletableFuture<Record> waiting = onThread(() -> f.next(Duration.ofSeconds(20)), null);
            letItWait();
            db.deleteNamespace(NS);
            Throwable e = failure(waiting);
            assertTrue(e instanceof NotFoundException, e.toString());
        }
    }

    @Test
    void followerOutlivesClosesOfItsNamespace() throws Exception {
        db.append(NS, null, bytes("one"));
        try (Follower f = db.follow(NS)) {
            assertEquals("one", text(f.poll()));
            db.closeNamespace(NS);
            db.append(NS, null, bytes("two"));
            assertEquals("two", text(f.next(Duration.ofSeconds(1))));
            db.closeNamespace(NS);
            assertNull(f.poll());
        }
    }

    /** Interrupts at random instants, inside and outside the wait: every record once, in order. */
    @Test
    void interruptsNeverLoseOrRepeatARecord() throws Exception {
        int count = 2000;
        try (Follower f = db.follow(NS)) {
            AtomicReference<Thread> consumer = new AtomicReference<>();
            CompletableFuture<int[]> consumed = onThread(() -> {
                List<Integer> got = new ArrayList<>();
                int interrupts = 0;
                while (got.size() < count) {
                    try {
                        got.add(seq(f.next().value()));
                    } catch (InterruptedException e) {
                        interrupts++;
                    }
                }
                Thread.interrupted();
                for (int i = 0; i < count; i++) {
                    assertEquals(i, got.get(i).intValue());
                }
                return new int[] {got.size(), interrupts};
            }, consumer);
            Thread interrupter = new Thread(() -> {
                while (!consumed.isDone()) {
                    consumer.get().interrupt();
                    try {
                        Thread.sleep(0, 300_000);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            interrupter.start();
            for (int i = 0; i < count; i++) {
                db.append(NS, "one-bucket", value(i));
                if (i % 100 == 0) {
                    Thread.sleep(3);
                }
            }
            int[] result = consumed.get(60, TimeUnit.SECONDS);
            interrupter.join();
            assertEquals(count, result[0]);
            assertTrue(result[1] > 0, "the consumer was interrupted");
            assertNull(f.poll(), "and nothing is left over");
        }
    }

    /** Followers waiting, waking and committing on several threads while the store closes. */
    @Test
    void closeRacingFollowersNeverCrashes() throws Exception {
        for (int round = 0; round < 20; round++) {
            Roche shared = Roche.open(dir.resolve("race" + round));
            shared.append(NS, null, bytes("first"));
            List<Thread> callers = new ArrayList<>();
            List<Throwable> unexpected = java.util.Collections.synchronizedList(new ArrayList<>());
            CountDownLatch started = new CountDownLatch(4);
            for (int t = 0; t < 4; t++) {
                int kind = t;
                callers.add(new Thread(() -> {
                    try {
                        Follower f = shared.follow(NS);
                        started.countDown();
                        while (true) {
                            try {
                                switch (kind) {
                                    case 0: f.next(); break;                          // waits for ever
                                    case 1: f.next(Duration.ofMillis(1)); break;
                                    case 2: f.poll(); f.position(); f.commit("c"); f.wake(); break;
                                    default: shared.append(NS, null, bytes("more")); f.poll(); break;
                                }
                            } catch (CanceledException woken) {
                                // its own wake
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
            started.await();
            Thread.sleep(5);
            shared.close();
            for (Thread c : callers) {
                c.join(20_000);
                assertFalse(c.isAlive(), "a follower still waits after the store closed");
            }
            assertEquals(List.of(), unexpected);
        }
        // And a follower closed while other threads wake it and wait in it.
        for (int round = 0; round < 20; round++) {
            Follower f = db.follow(NS);
            List<Throwable> unexpected = java.util.Collections.synchronizedList(new ArrayList<>());
            List<Thread> callers = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                int kind = t;
                callers.add(new Thread(() -> {
                    try {
                        while (true) {
                            try {
                                if (kind == 0) {
                                    f.wake();
                                } else {
                                    f.next();
                                }
                            } catch (CanceledException woken) {
                                // the other thread's wake
                            }
                        }
                    } catch (IllegalStateException closed) {
                        // the way out
                    } catch (Throwable e) {
                        unexpected.add(e);
                    }
                }));
            }
            callers.forEach(Thread::start);
            Thread.sleep(5);
            f.close();
            for (Thread c : callers) {
                c.join(20_000);
                assertFalse(c.isAlive());
            }
            assertEquals(List.of(), unexpected);
        }
        BadInputMatrixTest.assertUsable(db);
    }

    @Test
    void badArgumentsAndClosedFollowersThrow() throws Exception {
        db.append(NS, null, bytes("x"));
        assertThrows(NullPointerException.class, () -> db.follow(NS, (long[]) null));
        assertThrows(NullPointerException.class, () -> db.follow(NS, null, true));
        assertThrows(NullPointerException.class, () -> db.followCursor(NS, null));
        assertThrows(InvalidArgumentException.class, () -> db.followCursor(NS, "a\0b"));
        assertThrows(InvalidArgumentException.class, () -> db.follow("a\0b"));
        BadInputMatrixTest.assertCode(RocheException.EINVAL, () -> db.follow("a/b"));
        BadInputMatrixTest.assertCode(RocheException.EINVAL, () -> db.followCursor(NS, "a/b"));
        BadInputMatrixTest.assertCode(RocheException.EINVAL, () -> db.followCursor(NS, ""));
        // Offsets of no bucket a namespace can have, and negative ones: no crash.
        for (long wild : new long[] {-1L, Long.MIN_VALUE, Long.MAX_VALUE, 8191L << 50, 12345}) {
            try (Follower f = db.follow(NS, wild)) {
                try {
                    f.poll();
                } catch (RocheException fine) {
                    // libroche's to judge
                }
                assertNotNull(f.position());
            }
        }
        Follower f = db.follow(NS);
        assertThrows(NullPointerException.class, () -> f.next(null));
        assertThrows(NullPointerException.class, () -> f.commit(null));
        assertThrows(InvalidArgumentException.class, () -> f.commit("a\0"));
        BadInputMatrixTest.assertCode(RocheException.EINVAL, () -> f.commit("a/b"));
        assertEquals("x", text(f.next(Duration.ofMillis(-5))));
        long t0 = System.nanoTime();
        assertNull(f.next(Duration.ofMillis(-5)));
        assertNull(f.next(Duration.ofNanos(Long.MIN_VALUE)));
        assertTrue(System.nanoTime() - t0 < 1_000_000_000L, "a negative timeout does not wait");
        f.close();
        f.close();
        List<Executable> afterClose = List.of(f::poll, f::next, () -> f.next(Duration.ofSeconds(1)), f::wake,
                f::position, () -> f.commit("c"), () -> f.iterator().hasNext());
        for (Executable call : afterClose) {
            IllegalStateException e = assertThrows(IllegalStateException.class, call);
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
        }
        // A read-only store cannot follow a namespace that does not exist.
        try (Roche ro = Roche.open(root, Roche.Options.builder().readOnly(true).build())) {
            assertThrows(NotFoundException.class, () -> ro.follow("nothing"));
            try (Follower rf = ro.follow(NS)) {
                assertEquals("x", text(rf.poll()));
            }
        }
        // A follower left to the collector, and the store closed under one.
        db.follow(NS).poll();
        Follower open = db.follow(NS);
        db.close();
        for (Executable call : List.<Executable>of(open::poll, open::wake, open::position, () -> db.follow(NS),
                () -> db.followCursor(NS, "c"))) {
            assertThrows(IllegalStateException.class, call);
        }
        open.close();
        db = Roche.open(root);
        BadInputMatrixTest.assertUsable(db);
    }
}
