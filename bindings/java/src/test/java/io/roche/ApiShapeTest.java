package io.roche;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Issue 17, round 2: what a new user writing against the README meets.
 * Top-level exceptions (and the old nested spellings), one exception for
 * every bad argument, overloads without a namespace, accessors, Values as a
 * copy and an Iterable, names that are not UTF-8, views whose buffers
 * outlive close, group commit and the bound on open files.
 */
class ApiShapeTest extends StoreFixture {

    // ---- Exceptions ---------------------------------------------------------

    @Test
    void topLevelExceptionsAreThrownAndOldSpellingsStillCatchThem() {
        long off = db.append("e", null, bytes("v"));
        NotFoundException e = assertThrows(NotFoundException.class, () -> db.get("e", off + 1000));
        assertEquals(RocheException.ENOTFOUND, e.code());
        try {
            db.get("e", off + 1000);
            fail("no exception");
        } catch (@SuppressWarnings("removal") RocheException.NotFoundException old) {
            assertInstanceOf(NotFoundException.class, old, "the old spelling catches the new class");
        }
        assertThrows(CorruptException.class, () -> db.get("e", off + 1));
        assertThrows(LockedException.class, () -> Roche.open(root));
        try (Roche ro = Roche.open(root, Roche.Options.builder().readOnly(true).build())) {
            assertThrows(ReadOnlyException.class, () -> ro.append("e", bytes("v")));
        }
        // Every mapped code gives its class, a subclass of its old spelling.
        @SuppressWarnings("removal")
        Class<?>[][] pairs = {
            {InvalidArgumentException.class, null},
            {NotFoundException.class, RocheException.NotFoundException.class},
            {CorruptException.class, RocheException.CorruptException.class},
            {LockedException.class, RocheException.LockedException.class},
            {ReadOnlyException.class, RocheException.ReadOnlyException.class},
            {TimedOutException.class, RocheException.TimedOutException.class},
            {CanceledException.class, RocheException.CanceledException.class},
            {DroppedException.class, RocheException.DroppedException.class},
            {NotSupportedException.class, RocheException.NotSupportedException.class},
        };
        int[] codes = {RocheException.EINVAL, RocheException.ENOTFOUND, RocheException.ECORRUPT,
            RocheException.ELOCKED, RocheException.EREADONLY, RocheException.ETIMEDOUT,
            RocheException.ECANCELED, RocheException.EDROPPED, RocheException.ENOTSUP};
        for (int i = 0; i < codes.length; i++) {
            RocheException mapped = RocheException.of(codes[i], "m", 42);
            assertSame(pairs[i][0], mapped.getClass());
            assertEquals(codes[i], mapped.code());
            if (pairs[i][1] != null) {
                assertTrue(((Class<?>) pairs[i][1]).isInstance(mapped), pairs[i][0].getName());
                assertTrue(mapped.getClass().getSuperclass() == pairs[i][1]);
            }
        }
        assertEquals(42, ((DroppedException) RocheException.of(RocheException.EDROPPED, "m", 42)).offset());
        assertSame(RocheException.class, RocheException.of(RocheException.EIO, "m", -1).getClass());
    }

    // ---- Bad arguments: one exception -----------------------------------------

    private static void assertInvalid(Executable call) {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, call);
        assertEquals(RocheException.EINVAL, e.code());
        assertTrue(e.getMessage().startsWith("invalid argument"), e.getMessage());
    }

    @Test
    void everyBadNameIsInvalidArgumentWhoeverFindsIt() throws Exception {
        long def = db.append(bytes("default"));
        db.append("n", bytes("n"));
        long[] position = {0};
        // The binding finds the first two (a NUL, a lone surrogate); libroche the others.
        for (String bad : List.of("a\0b", "s\uD800", "\uDC00x", ".", "..", "a/b", ".hidden", "x".repeat(256))) {
            assertInvalid(() -> db.append(bad, bytes("v")));
            assertInvalid(() -> db.append(bad, "id", bytes("v")));
            assertInvalid(() -> db.get(bad, def));
            assertInvalid(() -> db.getView(bad, def));
            assertInvalid(() -> db.multiGet(bad, def));
            assertInvalid(() -> db.scan(bad, 0));
            assertInvalid(() -> db.stat(bad));
            assertInvalid(() -> db.follow(bad));
            assertInvalid(() -> db.sync(bad));
            assertInvalid(() -> db.deleteNamespace(bad));
            assertInvalid(() -> db.commitCursor("n", bad, position));
            assertInvalid(() -> db.followCursor("n", bad));
        }
        assertInvalid(() -> db.append("n", "i\0d", bytes("v")));
        assertInvalid(() -> db.append("n", "\uD800", bytes("v")));
        assertEquals(List.of("default", "n"), db.namespaces(), "no bad name made a directory (no 's?')");
        assertArrayEquals(bytes("default"), db.get(def));
    }

    @Test
    void everyBadOptionOrNumberIsInvalidArgument() {
        Roche.Options.Builder b = Roche.Options.builder();
        assertInvalid(() -> b.buckets(0));
        assertInvalid(() -> b.buckets(8192));
        assertInvalid(() -> b.retention(Duration.ofMillis(-1), 0));
        assertInvalid(() -> b.retention(Duration.ZERO, -1));
        assertInvalid(() -> b.syncPeriod(Duration.ZERO));
        assertInvalid(() -> b.syncPeriod(Duration.ofHours(2)));
        assertInvalid(() -> b.syncPeriod(Duration.ofNanos(1_500_000)));
        assertInvalid(() -> b.maxOpenFiles(3));
        db.append("r", bytes("v"));
        assertInvalid(() -> db.retain("r", -1L, 0));
        assertInvalid(() -> db.retain("r", Duration.ofSeconds(-1), 0));
        assertInvalid(() -> db.bucketRange("r", 8191));
        assertInvalid(() -> db.commitCursor("r", "c", new long[8192]));
        ByteBuffer empty = ByteBuffer.allocateDirect(4);
        assertInvalid(() -> db.append("..", empty));
        // The two JDK idioms kept: null, and a slice outside its array.
        assertThrows(NullPointerException.class, () -> db.append((byte[]) null));
        assertThrows(IndexOutOfBoundsException.class, () -> db.append("r", null, new byte[2], 1, 2));
    }

    // ---- Overloads -------------------------------------------------------------

    @Test
    void overloadsWithoutANamespaceUseTheDefault() throws Exception {
        long a = db.append(bytes("a"));
        long b = db.append(ByteBuffer.wrap(bytes("b")));
        ByteBuffer direct = ByteBuffer.allocateDirect(1).put((byte) 'c').flip();
        long c = db.append(direct);
        assertEquals(0, direct.remaining(), "the buffer was consumed");
        long d = db.append("ns", bytes("d"));
        long e = db.append("ns", ByteBuffer.wrap(bytes("e")));
        long[] many = db.appendMany("ns", new byte[][] {bytes("f"), bytes("g")});
        long[] list = db.appendMany("ns", List.of(bytes("h")));
        long[] old = db.appendMany("ns", null, bytes("i"), bytes("j")); // the old varargs form still means id null
        assertEquals(2, old.length);

        assertArrayEquals(bytes("a"), db.get(a));
        assertArrayEquals(bytes("a"), db.get("default", a));
        assertArrayEquals(bytes("b"), db.get(null, b));
        assertArrayEquals(bytes("c"), db.get(c));
        assertArrayEquals(bytes("d"), db.get("ns", d));
        assertArrayEquals(bytes("e"), db.get("ns", e));
        assertArrayEquals(bytes("g"), db.get("ns", many[1]));
        assertArrayEquals(bytes("h"), db.get("ns", list[0]));
        assertEquals(a, d, "the first record of this thread's bucket, in two namespaces");
        assertArrayEquals(bytes("a"), db.get(d), "get(offset) reads the default namespace's");
        try (ValueView v = db.getView(a)) {
            assertArrayEquals(bytes("a"), v.toArray());
        }
        Values vs = db.multiGet(a, b, c);
        assertArrayEquals(bytes("c"), vs.get(2));
        try (Scan scan = db.scan(0)) {
            List<Long> offsets = new ArrayList<>();
            scan.forEachRemaining(r -> offsets.add(r.offset()));
            assertEquals(3, offsets.size());
        }
        try (Stream<Record> s = db.stream(b)) {
            assertTrue(s.count() >= 1);
        }
        assertEquals(3, db.stat().records());
        try (Follower f = db.follow()) {
            assertNotNull(f.poll());
        }
        try (Follower f = db.follow(new long[0], true)) {
            assertNull(f.poll(), "from the end: nothing yet");
            long later = db.append(bytes("later"));
            Record r = f.next(Duration.ofSeconds(5));
            assertEquals(later, r.offset());
        }
        assertEquals(0, db.retain(Duration.ofHours(1), 0));
        // Each thread keeps its own bucket with no id, in the short forms too.
        long[] other = new long[1];
        Thread t = new Thread(() -> other[0] = db.append(bytes("t")));
        t.start();
        t.join();
        assertTrue((other[0] >>> 50) != (a >>> 50), "another thread, another bucket");
    }

    // ---- Accessors ----------------------------------------------------------

    @Test
    @SuppressWarnings("removal")
    void statsAndBucketRangeHaveAccessorsAndKeepTheirFields() {
        long off = db.append("s", bytes("12345"));
        Stats stats = db.stat("s");
        assertEquals(8, stats.buckets());
        assertEquals(1, stats.records());
        assertEquals(16 + 5, stats.bytes());
        assertTrue(stats.oldestNs() > 0 && stats.oldestNs() == stats.newestNs());
        assertEquals(0, stats.damagedRanges() + stats.damagedBytes() + stats.recoveredBytes());
        assertEquals(0, stats.droppedRecords() + stats.droppedBytes());
        assertEquals(stats.records, stats.records(), "the deprecated field still holds it");
        BucketRange range = db.bucketRange("s", (int) (off >>> 50));
        assertEquals(off, range.first());
        assertEquals(off + 16 + 5, range.end());
        assertEquals(range.end, range.end());
    }

    // ---- Values ---------------------------------------------------------------

    @Test
    void valuesToArrayIsACopyAndValuesIsIterable() {
        long a = db.append("v", bytes("a"));
        long b = db.append("v", bytes("bb"));
        long[] asked = {a, a + 1, b, 99L << 50};
        Values vs = db.multiGet("v", asked);
        asked[0] = -1; // the caller's array is the caller's

        byte[][] first = vs.toArray();
        first[0] = null;
        first[2] = bytes("changed");
        byte[][] second = vs.toArray();
        assertNotSame(first, second);
        assertArrayEquals(bytes("a"), second[0], "changing a toArray() result changes nothing in Values");
        assertArrayEquals(bytes("bb"), vs.get(2));

        List<String> seen = new ArrayList<>();
        for (Values.Item item : vs) {
            if (item.isOk()) {
                seen.add(item.index() + ":" + item.offset() + "=" + new String(item.value(), StandardCharsets.UTF_8));
                assertNull(item.error());
            } else {
                seen.add(item.index() + ":" + item.offset() + "!" + item.status());
                assertEquals(item.status(), item.error().code());
                assertThrows(item.error().getClass(), item::value);
            }
        }
        assertEquals(List.of("0:" + a + "=a", "1:" + (a + 1) + "!" + RocheException.ECORRUPT,
                "2:" + b + "=bb", "3:" + (99L << 50) + "!" + RocheException.ENOTFOUND), seen);
        assertInstanceOf(CorruptException.class, vs.error(1));
        assertEquals(b, vs.offset(2));
        assertEquals(3, vs.item(3).index());
    }

    // ---- Names that are not UTF-8 ----------------------------------------------

    /** Runs sh in dir: Java's own file API cannot make a name that is not valid UTF-8. */
    private static void sh(Path dir, String script) throws Exception {
        Process p = new ProcessBuilder("sh", "-c", script).directory(dir.toFile()).inheritIO().start();
        assertEquals(0, p.waitFor(), script);
    }

    @Test
    void namespacesThatAreNotUtf8AreLeftOutAndListedAsBytes() throws Exception {
        db.append("ok", bytes("v"));
        db.append("é", bytes("v"));
        sh(root, "mkdir \"$(printf 'bad\\377name')\"");
        List<String> names = db.namespaces();
        assertEquals(List.of("ok", "é"), names, "no U+FFFD name that would name another directory");
        for (String name : names) {
            db.stat(name); // each one names its own directory
        }
        List<byte[]> raw = db.rawNamespaces();
        assertEquals(3, raw.size());
        assertArrayEquals(new byte[] {'b', 'a', 'd', (byte) 0xff, 'n', 'a', 'm', 'e'}, raw.get(0));
        assertArrayEquals(bytes("ok"), raw.get(1));
        assertArrayEquals(bytes("é"), raw.get(2));

        // Cursors too: a cursor file whose name is not UTF-8 is left out.
        db.commitCursor("ok", "mine", new long[] {0});
        sh(root.resolve("ok"), "cp cursor.mine \"cursor.$(printf '\\377')x\"");
        assertEquals(List.of("mine"), db.cursors("ok"));
    }

    // ---- Views whose buffers outlive close --------------------------------------

    private static List<String> mappingsUnder(Path dir) throws IOException {
        return Files.readAllLines(Path.of("/proc/self/maps")).stream()
                .filter(line -> line.contains(dir.toString() + "/")).collect(Collectors.toList());
    }

    @Test
    void aBufferReadAfterItsViewClosedReadsTheValueOnAReadOnlyStore() throws Exception {
        byte[] value = new byte[4096];
        Arrays.fill(value, (byte) 7);
        long off = db.append("ro", value);
        db.close();
        db = Roche.open(root, Roche.Options.builder().readOnly(true).build());
        ValueView view = db.getView("ro", off); // a read-only store's view is a native copy
        ByteBuffer buffer = view.buffer();
        view.close();
        assertThrows(IllegalStateException.class, view::buffer);
        for (int i = 0; i < 1000; i++) {
            db.get("ro", off); // malloc and free what a released copy would be reused for
        }
        byte[] read = new byte[buffer.remaining()];
        buffer.get(read);
        assertArrayEquals(value, read, "the buffer still reads the pinned value, not released memory");
    }

    @Test
    void closeReleasesAtOnceWhenNoBufferWasLentElseWhenTheBufferIsGone() throws Exception {
        Path nsDir = root.resolve("p");
        long off = db.append("p", bytes("pinned"));
        ValueView quiet = db.getView("p", off);
        ValueView lent = db.getView("p", off);
        ByteBuffer buffer = lent.buffer().slice();
        db.deleteNamespace("p");
        db.close(); // the store's close too
        quiet.close();
        lent.close();
        assertFalse(mappingsUnder(nsDir).isEmpty(), "the lent buffer keeps the deleted namespace mapped");
        System.gc();
        byte[] read = new byte[buffer.remaining()];
        buffer.duplicate().get(read);
        assertArrayEquals(bytes("pinned"), read);

        buffer = null;
        read = null;
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!mappingsUnder(nsDir).isEmpty()) {
            assertTrue(System.nanoTime() < deadline, "the pin outlived its last buffer");
            System.gc();
            Thread.sleep(20);
        }
        db = Roche.open(root);

        // Without buffer(): close releases at once.
        long again = db.append("q", bytes("q"));
        try (ValueView v = db.getView("q", again)) {
            assertArrayEquals(bytes("q"), v.toArray());
            db.deleteNamespace("q");
            assertFalse(mappingsUnder(root.resolve("q")).isEmpty());
        }
        assertEquals(List.of(), mappingsUnder(root.resolve("q")), "closed with no buffer lent: released now");
    }

    // ---- Sync policies and open files ---------------------------------------------

    /** The records count of the newest valid checkpoint in a companion file (0 when none). */
    private static long checkpointRecords(Path idx) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(idx)).order(ByteOrder.LITTLE_ENDIAN);
        long bestGeneration = -1, records = 0;
        for (int at : new int[] {0, 512}) {
            byte[] magic = new byte[8];
            b.position(at);
            b.get(magic);
            if (!Arrays.equals(magic, bytes("RCHIX002"))) {
                continue;
            }
            long generation = b.getLong(at + 8);
            if (generation > bestGeneration) {
                bestGeneration = generation;
                records = b.getLong(at + 16);
            }
        }
        return records;
    }

    @Test
    void groupCommitWritesCheckpointsWithNoSyncCall() throws Exception {
        db.close();
        Path idx = root.resolve("g").resolve("append.0.idx");
        db = Roche.open(root, Roche.Options.builder().buckets(1).sync(Roche.SyncPolicy.NEVER).build());
        for (int i = 0; i < 3; i++) {
            db.append("g", bytes("never " + i));
        }
        Thread.sleep(300);
        assertEquals(0, checkpointRecords(idx), "NEVER: no checkpoint without a sync");
        db.sync();
        assertEquals(3, checkpointRecords(idx), "sync() writes one");
        db.close();

        db = Roche.open(root, Roche.Options.builder().buckets(1)
                .sync(Roche.SyncPolicy.PERIODIC).syncPeriod(Duration.ofMillis(20)).build());
        for (int i = 0; i < 4; i++) {
            db.append("g", bytes("periodic " + i));
        }
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (checkpointRecords(idx) != 7) {
            assertTrue(System.nanoTime() < deadline, "no group commit within 10 s");
            Thread.sleep(10);
        }
    }

    /** File descriptors of this process open on files under dir. */
    private static long descriptorsUnder(Path dir) throws IOException {
        long n = 0;
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                try {
                    if (Files.readSymbolicLink(fd).toString().startsWith(dir.toString() + "/")) {
                        n++;
                    }
                } catch (IOException gone) {
                    // the listing's own descriptor
                }
            }
        }
        return n;
    }

    @Test
    void maxOpenFilesBoundsTheDescriptors() throws Exception {
        db.close();
        db = Roche.open(root, Roche.Options.builder().buckets(1).build());
        for (int i = 0; i < 20; i++) {
            db.append("n" + i, bytes("v"));
        }
        long unbounded = descriptorsUnder(root);
        db.close();
        db = Roche.open(root, Roche.Options.builder().buckets(1).maxOpenFiles(4).build());
        List<Long> offsets = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            offsets.add(db.append("n" + i, bytes("w" + i)));
        }
        long bounded = descriptorsUnder(root);
        assertTrue(unbounded >= 40, "20 namespaces hold a file and a companion each: " + unbounded);
        assertTrue(bounded <= 8, "bounded at 4 (plus a namespace's doorbell and directory): " + bounded);
        for (int i = 0; i < 20; i++) {
            assertArrayEquals(bytes("w" + i), db.get("n" + i, offsets.get(i)), "closed namespaces reopen");
        }
    }
}
