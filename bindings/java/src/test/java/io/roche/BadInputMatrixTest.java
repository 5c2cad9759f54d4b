package io.roche;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The rows of the bindings' bad-input matrix (tests/reliability/BINDINGS.md)
 * that RocheTest does not already cover. Every test that provokes an error
 * then proves the store still works with one append and one get
 * ({@link #assertUsable}), as the matrix asks.
 */
class BadInputMatrixTest extends StoreFixture {
    /** The matrix's closing check: one append and one get succeed. */
    static void assertUsable(Roche store) {
        byte[] value = bytes("still usable");
        long offset = store.append("usable", null, value);
        assertArrayEquals(value, store.get("usable", offset));
    }

    /** Records in ns; 0 when ns does not exist. */
    static long records(Roche store, String ns) {
        try {
            return store.stat(ns).records();
        } catch (NotFoundException none) {
            return 0;
        }
    }

    static List<Long> scanOffsets(Roche store, String ns, long from) {
        List<Long> offsets = new ArrayList<>();
        try (Scan scan = store.scan(ns, from)) {
            scan.forEachRemaining(r -> offsets.add(r.offset()));
        }
        return offsets;
    }

    static List<byte[]> scanValues(Roche store, String ns) {
        try (Stream<Record> all = store.stream(ns, 0)) {
            return all.map(Record::value).collect(Collectors.toList());
        }
    }

    static RocheException assertCode(int code, Executable call) {
        RocheException e = assertThrows(RocheException.class, call);
        assertEquals(code, e.code(), e.getMessage());
        return e;
    }

    static long bucketOf(long offset) {
        return offset >>> 50;
    }

    // ---- 1. Missing values -------------------------------------------------

    @Test
    void nullValuesInTheOverloadsRocheTestLeavesOutWriteNothing() {
        db.append("n", null, bytes("first"));
        assertThrows(NullPointerException.class, () -> db.append("n", null, (byte[]) null, 0, 0));
        assertThrows(NullPointerException.class, () -> db.append("n", "id", (byte[]) null));
        assertThrows(NullPointerException.class, () -> db.append("n", null, (ByteBuffer) null));
        assertThrows(NullPointerException.class, () -> db.appendMany("n", null, (List<byte[]>) null));
        assertThrows(NullPointerException.class,
                () -> db.appendMany("n", null, Arrays.asList(bytes("a"), null, bytes("c"))));
        assertThrows(NullPointerException.class, () -> db.appendMany("n", null, bytes("a"), bytes("b"), null));
        assertEquals(1, records(db, "n"), "a batch with a null is refused before its first value is written");
        assertThrows(NullPointerException.class, () -> db.appendMany("fresh", null, (List<byte[]>) null));
        assertFalse(Files.exists(root.resolve("fresh")), "a refused append creates no namespace");

        long empty = db.append("n", null, new byte[0]);
        assertEquals(0, db.get("n", empty).length, "an empty array is a value, not a missing one");
        assertEquals(2, records(db, "n"));
        assertUsable(db);
    }

    @Test
    void nullIdGivesEachThreadItsOwnBucket() throws Exception {
        long[][] offsets = new long[2][3];
        for (int t = 0; t < 2; t++) {
            int me = t;
            Thread writer = new Thread(() -> {
                for (int i = 0; i < 3; i++) {
                    offsets[me][i] = db.append("per-thread", null, bytes(me + ":" + i));
                }
            });
            writer.start();
            writer.join();
        }
        for (long[] mine : offsets) {
            assertEquals(bucketOf(mine[0]), bucketOf(mine[1]));
            assertEquals(bucketOf(mine[0]), bucketOf(mine[2]));
        }
        assertNotEquals(bucketOf(offsets[0][0]), bucketOf(offsets[1][0]), "two threads, two buckets");
        assertArrayEquals(bytes("1:2"), db.get("per-thread", offsets[1][2]));
    }

    @Test
    void scanOfNullNamespaceIsTheDefault() {
        long a = db.append(null, "k", bytes("a"));
        long b = db.append("default", "k", bytes("b"));
        long c = db.append("", "k", bytes("c"));
        assertEquals(List.of(a, b, c), scanOffsets(db, null, 0));
        try (Stream<Record> all = db.stream(null, 0)) {
            assertEquals(List.of("a", "b", "c"),
                    all.map(r -> new String(r.value(), StandardCharsets.UTF_8)).collect(Collectors.toList()));
        }
        assertEquals(List.of("default"), db.namespaces());
    }

    /**
     * Null offsets (get, one multiGet element) and offsets, namespaces,
     * values or bucket counts of another type are compile errors in Java:
     * this keeps them so, should someone add a boxed or Object overload.
     */
    @Test
    void nullOffsetsAndWrongTypesDoNotCompile() throws Exception {
        Set<Class<?>> allowed = Set.of(String.class, long.class, long[].class, byte[].class, byte[][].class,
                int.class, boolean.class, ByteBuffer.class, List.class, Path.class, Roche.Options.class,
                java.time.Instant.class, java.time.Duration.class);
        for (Method m : Roche.class.getDeclaredMethods()) {
            if (Modifier.isPublic(m.getModifiers())) {
                for (Class<?> p : m.getParameterTypes()) {
                    assertTrue(allowed.contains(p), m + " takes a " + p.getName());
                }
            }
        }
        assertEquals(long.class, Roche.class.getMethod("get", String.class, long.class).getParameterTypes()[1]);
        assertEquals(long.class, Roche.class.getMethod("getView", String.class, long.class).getParameterTypes()[1]);
        assertEquals(long[].class, Roche.class.getMethod("multiGet", String.class, long[].class).getParameterTypes()[1]);
        assertEquals(long.class, Roche.class.getMethod("scan", String.class, long.class).getParameterTypes()[1]);
        assertEquals(long[].class, Roche.class.getMethod("follow", String.class, long[].class).getParameterTypes()[1]);
        assertEquals(long[].class,
                Roche.class.getMethod("commitCursor", String.class, String.class, long[].class).getParameterTypes()[2]);
        for (Method m : Roche.Options.Builder.class.getDeclaredMethods()) {
            if (m.getName().equals("buckets")) {
                assertEquals(List.of(int.class), List.of(m.getParameterTypes()), "buckets takes an int only");
            }
        }
    }

    /** A raw List smuggles other types past the compiler: a type error, nothing written. */
    @Test
    @SuppressWarnings({"unchecked", "rawtypes"})
    void rawListOfNonByteArraysIsATypeError() {
        for (Object wrong : List.of("a string", 42, Map.of("k", "v"), List.of("x", "y"))) {
            List raw = new ArrayList(List.of(bytes("fine"), wrong));
            RuntimeException e = assertThrows(RuntimeException.class, () -> db.appendMany("typed", null, raw));
            assertTrue(e instanceof ArrayStoreException || e instanceof ClassCastException, e.toString());
        }
        assertFalse(Files.exists(root.resolve("typed")));
        assertUsable(db);
    }

    // ---- 2. A closed store -------------------------------------------------

    @Test
    void callsRocheTestLeavesOutAlsoSayClosed() {
        long off = db.append("c", null, bytes("kept"));
        db.close();
        ByteBuffer direct = ByteBuffer.allocateDirect(4).put(bytes("abcd")).flip();
        List<Executable> calls = List.of(
                () -> db.appendMany("c", null, bytes("a"), bytes("b")),
                () -> db.appendMany("c", null, List.of(bytes("a"))),
                () -> db.append("c", null, bytes("xy"), 0, 1),
                () -> db.append("c", null, direct),
                () -> db.append("c", null, ByteBuffer.wrap(bytes("heap"))),
                () -> db.stream("c", 0),
                () -> db.stat("c"),
                () -> db.sync("c"),
                () -> db.closeNamespace("c"),
                () -> db.deleteNamespace("c"));
        for (Executable call : calls) {
            IllegalStateException e = assertThrows(IllegalStateException.class, call);
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
        }
        assertEquals(4, direct.remaining(), "a refused append leaves the buffer alone");

        db = Roche.open(root);
        assertArrayEquals(bytes("kept"), db.get("c", off), "deleteNamespace after close deleted nothing");
        assertUsable(db);
    }

    /**
     * RocheTest closes the store under a scan that has not started. Here the
     * scan and a stream have each fetched a record: that record is a Java
     * copy and is still handed out (hasNext() promised it), the step after
     * it is an error, never a read of the freed iterator.
     */
    @Test
    void scansMidWayWhenTheStoreClosesFailOnTheirNextStep() {
        long first = db.append("m", "k", bytes("one"));
        db.append("m", "k", bytes("two"));
        Scan scan = db.scan("m", 0);
        assertTrue(scan.hasNext());
        Stream<Record> stream = db.stream("m", 0);
        java.util.Iterator<Record> streamed = stream.iterator();
        assertEquals(first, streamed.next().offset());
        db.close();
        assertArrayEquals(bytes("one"), scan.next().value(), "the record fetched before close");
        assertThrows(IllegalStateException.class, scan::hasNext);
        assertThrows(IllegalStateException.class, scan::next);
        assertThrows(IllegalStateException.class, streamed::hasNext);
        scan.close();
        stream.close();

        db = Roche.open(root);
        assertEquals(2, scanOffsets(db, "m", 0).size());
        assertUsable(db);
    }

    @Test
    void storeLeftToTheCollectorIsTrimmedAsCloseDoes() throws Exception {
        Path forgotten = dir.resolve("forgotten");
        LeftOpenAtExit.openAppendAndDrop(forgotten);
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (true) {
            System.gc();
            Roche reopened;
            try {
                reopened = Roche.open(forgotten);
            } catch (LockedException stillHeld) {
                assertTrue(System.nanoTime() < deadline, "the Cleaner never closed the store");
                Thread.sleep(20);
                continue;
            }
            try (Roche again = reopened) {
                // Opening does not touch the namespace: the size is what the Cleaner's close left.
                assertEquals(16 + 10, Files.size(forgotten.resolve("default").resolve("append.0.raw")));
                assertEquals(List.of("ten bytes!"), scanValues(again, null).stream()
                        .map(v -> new String(v, StandardCharsets.UTF_8)).collect(Collectors.toList()));
                assertUsable(again);
            }
            return;
        }
    }

    /**
     * Run by {@link #storeLeftOpenAtExitIsClosed} in a JVM of its own, so it
     * uses nothing of the enclosing class (whose JUnit types are not there).
     */
    static final class LeftOpenAtExit {
        /** A one-bucket store holding "ten bytes!", dropped with a scan still open. */
        static void openAppendAndDrop(Path root) {
            Roche dropped = Roche.open(root, Roche.Options.builder().buckets(1).build());
            dropped.append(null, null, "ten bytes!".getBytes(StandardCharsets.US_ASCII));
            dropped.scan(null, 0).hasNext();
        }

        public static void main(String[] args) {
            openAppendAndDrop(Path.of(args[0]));
            System.out.println("appended");
        }
    }

    @Test
    void storeLeftOpenAtExitIsClosed() throws Exception {
        Path child = dir.resolve("at-exit");
        String classPath = Path.of(Roche.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                + java.io.File.pathSeparator
                + Path.of(BadInputMatrixTest.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Path err = dir.resolve("child.err");
        Process p = new ProcessBuilder(java.toString(), "-Xcheck:jni", "-cp", classPath,
                LeftOpenAtExit.class.getName(), child.toString())
                .redirectError(err.toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child JVM did not exit");
        String stderr = Files.readString(err);
        assertEquals(0, p.exitValue(), stderr);
        assertEquals("appended\n", out);
        assertEquals("", stderr, "no crash report, no -Xcheck:jni warning");
        assertEquals(16 + 10, Files.size(child.resolve("default").resolve("append.0.raw")),
                "the store was closed at exit: its file trimmed to its one record");
        try (Roche again = Roche.open(child)) {
            assertEquals(1, scanValues(again, null).size());
            assertUsable(again);
        }
    }

    // ---- 3. Bad offsets ----------------------------------------------------

    @Test
    void offsetsWithNoRecordAreNotFound() {
        long a = db.append("o", "k", bytes("alpha"));
        long[] bad = {
            100L << 50,      // a bucket with no file
            Long.MIN_VALUE,  // 2**63: bucket 8192, above the last possible bucket
            Long.MAX_VALUE,  // bucket 8191: above the 0..8190 a namespace can hold
            -1L,             // negative: 2**64 - 1 once unsigned
            -(1L << 50) + 16,
        };
        for (long offset : bad) {
            assertCode(RocheException.ENOTFOUND, () -> db.get("o", offset));
            assertThrows(NotFoundException.class, () -> db.get("o", offset));
            assertCode(RocheException.ENOTFOUND, () -> db.getView("o", offset));
        }
        assertThrows(NotFoundException.class, () -> db.get("no-such-ns", a));
        assertThrows(NotFoundException.class, () -> db.getView("no-such-ns", a));
        assertFalse(Files.exists(root.resolve("no-such-ns")), "a get creates no namespace");

        long[] mixed = new long[bad.length + 2];
        mixed[0] = a;
        System.arraycopy(bad, 0, mixed, 1, bad.length);
        mixed[mixed.length - 1] = a;
        Values values = db.multiGet("o", mixed);
        assertArrayEquals(bytes("alpha"), values.get(0));
        assertArrayEquals(bytes("alpha"), values.get(mixed.length - 1));
        for (int i = 1; i <= bad.length; i++) {
            assertEquals(RocheException.ENOTFOUND, values.status(i), "item " + i);
        }
        assertUsable(db);
    }

    @Test
    void scanFromABadOffsetStartsAtTheNextRecord() {
        List<Long> all = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            all.add(db.append("s", "k" + i, bytes("value " + i)));
        }
        long a = db.append("s", "same", bytes("first of three"));
        long b = db.append("s", "same", bytes("second of three"));
        long c = db.append("s", "same", bytes("third of three"));
        all.addAll(List.of(a, b, c));
        all.sort(Long::compareUnsigned);
        long bucketA = bucketOf(a) << 50;

        long[] froms = {
            a + 1,                         // inside a record
            b + 3,                         // inside a header
            bucketA | ((1L << 50) - 1),    // far past the end of an existing bucket
            all.get(all.size() - 1) + 1000, // past the end of the last record
            100L << 50, Long.MIN_VALUE, Long.MAX_VALUE, -1L, 0,
        };
        for (long from : froms) {
            List<Long> expected = all.stream().filter(o -> Long.compareUnsigned(o, from) >= 0)
                    .collect(Collectors.toList());
            assertEquals(expected, scanOffsets(db, "s", from), "scan from " + Long.toUnsignedString(from));
        }
        assertEquals(b, scanOffsets(db, "s", a + 1).get(0), "the record after the one a + 1 is inside");
        assertEquals(c, scanOffsets(db, "s", b + 3).get(0));
        assertEquals(List.of(), scanOffsets(db, "no-such-ns", a + 1));
        assertFalse(Files.exists(root.resolve("no-such-ns")), "a scan creates no namespace");
        assertUsable(db);
    }

    // ---- 4. Huge and odd values --------------------------------------------

    @Test
    void nulBytesSurviveEveryPath() {
        byte[] aNulB = {'a', 0, 'b'};
        ByteBuffer direct = ByteBuffer.allocateDirect(3).put(aNulB).flip();
        long fromDirect = db.append("z", null, direct);
        long[] batch = db.appendMany("z", null, aNulB, aNulB);
        Values values = db.multiGet("z", fromDirect, batch[0], batch[1]);
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(aNulB, values.get(i));
        }
        assertArrayEquals(aNulB, db.get("z", fromDirect));
        List<byte[]> scanned = scanValues(db, "z");
        assertEquals(3, scanned.size());
        for (byte[] v : scanned) {
            assertArrayEquals(aNulB, v);
        }
    }

    @Test
    void emptyValuesComeBackEmptyNotNull() throws Exception {
        List<Long> offsets = new ArrayList<>();
        offsets.add(db.append("e", null, ByteBuffer.allocateDirect(0)));
        offsets.add(db.append("e", null, ByteBuffer.allocateDirect(8).position(8)));
        offsets.add(db.append("e", null, ByteBuffer.allocate(0)));
        // A zero-length file mapping is a direct buffer with no address at all.
        Path file = dir.resolve("empty-map");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            MappedByteBuffer mapped = ch.map(FileChannel.MapMode.READ_WRITE, 0, 0);
            assertTrue(mapped.isDirect());
            offsets.add(db.append("e", null, mapped));
        }
        for (long off : db.appendMany("e", null, new byte[0], new byte[0])) {
            offsets.add(off);
        }
        for (long off : offsets) {
            assertEquals(0, db.get("e", off).length);
        }
        Values values = db.multiGet("e", offsets.stream().mapToLong(Long::longValue).toArray());
        for (int i = 0; i < values.size(); i++) {
            assertNotNull(values.toArray()[i], "item " + i);
            assertEquals(0, values.get(i).length);
        }
        List<byte[]> scanned = scanValues(db, "e");
        assertEquals(offsets.size(), scanned.size());
        for (byte[] v : scanned) {
            assertEquals(0, v.length);
        }
    }

    @Test
    void oneMiBAndSixtyFourMiBRoundTrip() {
        Random random = new Random(42);
        byte[] mib = new byte[1 << 20];
        random.nextBytes(mib);
        ByteBuffer direct = ByteBuffer.allocateDirect(mib.length + 10);
        direct.position(3);
        direct.put(mib).flip().position(3);
        long small = db.append("big", null, direct);
        assertArrayEquals(mib, db.get("big", small));
        assertArrayEquals(mib, db.multiGet("big", small).get(0));
        assertArrayEquals(mib, scanValues(db, "big").get(0));

        byte[] huge = new byte[64 << 20];
        random.nextBytes(huge);
        long big = db.append("big", null, huge);
        assertArrayEquals(huge, db.get("big", big));
    }

    /**
     * A Java array holds at most 2 GiB - 1, so no single value reaches
     * libroche's 4 GiB - 1. What can overflow is the binding's own length
     * arithmetic: a batch summed in an int, a slice's from + length. Both are
     * refused before anything is allocated or written.
     */
    @Test
    void lengthsPastAnIntAreRefusedWithoutOverflow() {
        byte[] mib = new byte[1 << 20];
        db.append("huge", null, bytes("before"));
        // 2048 and 4096 references to one MiB: 2**31 and 2**32 bytes, the
        // latter 0 in 32-bit arithmetic. Nothing is allocated for them.
        for (int count : new int[] {2048, 2049, 4096}) {
            RocheException tooBig = assertCode(RocheException.ETOOBIG,
                    () -> db.appendMany("huge", null, Collections.nCopies(count, mib)));
            assertTrue(tooBig.getMessage().contains("2 GiB"), tooBig.getMessage());
            assertCode(RocheException.ETOOBIG,
                    () -> db.appendMany("huge", "id", Collections.nCopies(count, mib).toArray(new byte[0][])));
        }
        byte[] four = bytes("four");
        assertThrows(IndexOutOfBoundsException.class, () -> db.append("huge", null, four, 1, Integer.MAX_VALUE));
        assertThrows(IndexOutOfBoundsException.class, () -> db.append("huge", null, four, Integer.MAX_VALUE, 1));
        assertThrows(IndexOutOfBoundsException.class, () -> db.append("huge", null, four, -1, 2));
        assertThrows(IndexOutOfBoundsException.class, () -> db.append("huge", null, four, 0, -1));
        assertEquals(1, records(db, "huge"), "nothing written");
        assertUsable(db);
    }

    @Test
    void directBufferSlicesStoreExactlyPositionToLimit() {
        ByteBuffer whole = ByteBuffer.allocateDirect(32);
        whole.put(bytes("0123456789abcdefghijklmnopqrstuv")).clear();
        ByteBuffer slice = whole.duplicate().position(4).limit(10).slice(); // "456789", past the start
        ByteBuffer window = whole.duplicate().position(20).limit(23); // "klm"
        ByteBuffer readOnly = whole.asReadOnlyBuffer().position(28).limit(32); // "stuv"
        slice.position(2);                                            // "6789"
        long fromSlice = db.append("d", null, slice);
        long fromWindow = db.append("d", null, window);
        long fromReadOnly = db.append("d", null, readOnly);
        assertEquals("6789", new String(db.get("d", fromSlice), StandardCharsets.UTF_8));
        assertEquals("klm", new String(db.get("d", fromWindow), StandardCharsets.UTF_8));
        assertEquals("stuv", new String(db.get("d", fromReadOnly), StandardCharsets.UTF_8));
        assertEquals(0, slice.remaining() + window.remaining() + readOnly.remaining());

        ByteBuffer refused = whole.duplicate().position(1).limit(5);
        assertCode(RocheException.EINVAL, () -> db.append("..", null, refused));
        assertEquals(1, refused.position(), "a failed append does not consume the buffer");
        assertEquals(4, refused.remaining());
        assertUsable(db);
    }

    // ---- 5. Wrong types ----------------------------------------------------

    @Test
    void namespaceNamesAreLibrochesToJudge() throws Exception {
        long def = db.append("", null, bytes("default"));
        assertArrayEquals(bytes("default"), db.get(null, def));
        assertArrayEquals(bytes("default"), db.get("default", def));

        String bytes256 = "é".repeat(128);            // 128 chars, 256 UTF-8 bytes
        String bytes255 = "é".repeat(127) + "x";      // 255 bytes: the longest name
        for (String bad : List.of(".", "..", "../x", "a/b", ".hidden", "x".repeat(256), bytes256)) {
            assertCode(RocheException.EINVAL, () -> db.append(bad, null, bytes("v")));
            assertCode(RocheException.EINVAL, () -> db.get(bad, def));
            assertCode(RocheException.EINVAL, () -> db.multiGet(bad, def));
            assertCode(RocheException.EINVAL, () -> db.scan(bad, 0));
            assertCode(RocheException.EINVAL, () -> db.stat(bad));
            assertCode(RocheException.EINVAL, () -> db.deleteNamespace(bad));
        }
        long longest = db.append(bytes255, null, bytes("longest"));
        assertArrayEquals(bytes("longest"), db.get(bytes255, longest));

        try (Stream<Path> outside = Files.list(dir)) {
            assertEquals(List.of(root), outside.collect(Collectors.toList()), "nothing created beside the root");
        }
        assertEquals(List.of("default", bytes255), db.namespaces());
        assertUsable(db);
    }

    @Test
    void badBucketCountsFailAtTheOption() {
        Roche.Options.Builder builder = Roche.Options.builder();
        for (int bad : new int[] {-1, 8192, Integer.MIN_VALUE, Integer.MAX_VALUE}) {
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> builder.buckets(bad));
            assertTrue(e.getMessage().contains(Integer.toString(bad)), e.getMessage());
        }
        db.close();
        db = Roche.open(root, builder.build());
        db.append("b", null, bytes("v"));
        assertEquals(8, db.stat("b").buckets(), "the refused counts left the default in place");
        assertEquals(8191, Roche.Options.builder().buckets(8191).build().buckets);
        assertUsable(db);
    }

    // ---- 6. Threads --------------------------------------------------------

    @Test
    void eachThreadSeesItsOwnErrorDetail() throws Exception {
        long end = db.append("tl", "k", bytes("v")) + 1000;
        int rounds = 300;
        List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch start = new CountDownLatch(1);
        Thread notFound = new Thread(() -> {
            try {
                start.await();
                for (int i = 0; i < rounds; i++) {
                    long offset = end + i;
                    RocheException e = assertCode(RocheException.ENOTFOUND, () -> db.get("tl", offset));
                    assertTrue(e.getMessage().contains("offset " + offset + " "), e.getMessage());
                    assertFalse(e.getMessage().contains(".bad"), e.getMessage());
                }
            } catch (Throwable e) {
                failures.add(e);
            }
        });
        Thread invalid = new Thread(() -> {
            try {
                start.await();
                for (int i = 0; i < rounds; i++) {
                    String name = ".bad" + i;
                    RocheException e = assertCode(RocheException.EINVAL, () -> db.append(name, null, bytes("v")));
                    assertTrue(e.getMessage().contains("\"" + name + "\""), e.getMessage());
                    assertFalse(e.getMessage().contains("offset"), e.getMessage());
                }
            } catch (Throwable e) {
                failures.add(e);
            }
        });
        notFound.start();
        invalid.start();
        start.countDown();
        notFound.join();
        invalid.join();
        assertEquals(List.of(), failures);
        assertUsable(db);
    }
}
