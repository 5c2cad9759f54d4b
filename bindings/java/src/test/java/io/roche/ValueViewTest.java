package io.roche;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ValueViewTest extends StoreFixture {
    private static byte[] read(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        return bytes;
    }

    private static void assertView(byte[] expected, ValueView view) {
        assertEquals(expected.length, view.length());
        assertArrayEquals(expected, read(view.buffer()));
        assertArrayEquals(expected, view.toArray());
    }

    @Test
    void valuesWithNulBytesEmptyAndLargeRoundTrip() {
        byte[] every = new byte[512];
        for (int i = 0; i < every.length; i++) {
            every[i] = (byte) i;
        }
        byte[] big = new byte[4 << 20];
        new Random(3).nextBytes(big);
        long a = db.append("v", null, every);
        long b = db.append("v", null, new byte[0]);
        long c = db.append("v", null, new byte[] {0, 0, 0});
        long d = db.append("v", null, big);
        try (ValueView va = db.getView("v", a); ValueView vb = db.getView("v", b);
             ValueView vc = db.getView("v", c); ValueView vd = db.getView(null, db.append(null, null, big))) {
            assertView(every, va);
            assertView(new byte[0], vb);
            assertEquals(0, vb.buffer().capacity());
            assertView(new byte[] {0, 0, 0}, vc);
            assertView(big, vd);
            try (ValueView again = db.getView("v", d)) {
                assertView(big, again);
            }
        }
    }

    @Test
    void bufferIsDirectReadOnlyAndIndependent() {
        long off = db.append("ro", null, bytes("abc"));
        try (ValueView view = db.getView("ro", off)) {
            ByteBuffer buffer = view.buffer();
            assertTrue(buffer.isDirect());
            assertTrue(buffer.isReadOnly());
            assertEquals(0, buffer.position());
            assertEquals(3, buffer.limit());
            assertThrows(ReadOnlyBufferException.class, () -> buffer.put(0, (byte) 'x'));
            assertThrows(ReadOnlyBufferException.class, () -> buffer.put((byte) 'x'));
            assertThrows(ReadOnlyBufferException.class, () -> buffer.duplicate().put(bytes("xyz")));
            buffer.get();
            assertEquals(0, view.buffer().position(), "each buffer() has its own position");
        }
        assertArrayEquals(bytes("abc"), db.get("ro", off), "the store is untouched");
    }

    @Test
    void bytesSurviveAppendsNamespaceCloseAndDelete() {
        byte[] value = bytes("pinned\0value");
        long off = db.append("p", null, value);
        try (ValueView view = db.getView("p", off)) {
            ByteBuffer buffer = view.buffer();
            byte[] filler = new byte[4096];
            for (int i = 0; i < 4096; i++) { // 16 MiB: the bucket grows far past its first reservation
                db.append("p", null, filler);
            }
            assertArrayEquals(value, read(buffer.duplicate()));
            db.closeNamespace("p");
            assertArrayEquals(value, read(buffer.duplicate()));
            assertView(value, view);
            db.deleteNamespace("p");
            assertThrows(NotFoundException.class, () -> db.get("p", off));
            assertArrayEquals(value, read(buffer.duplicate()));
            assertView(value, view);
            db.append("p", null, bytes("a new namespace p"));
            assertView(value, view);
        }
    }

    @Test
    void bytesSurviveTheStoreClose() {
        long off = db.append("s", null, bytes("outlives the store"));
        ValueView view = db.getView("s", off);
        ByteBuffer buffer = view.buffer();
        db.close();
        assertThrows(IllegalStateException.class, () -> db.getView("s", off));
        assertArrayEquals(bytes("outlives the store"), read(buffer));
        assertView(bytes("outlives the store"), view);
        view.close();
        db = Roche.open(root); // for the fixture's close
    }

    @Test
    void closeIsIdempotentAndUseAfterCloseThrows() {
        long off = db.append("c", null, bytes("v"));
        ValueView view = db.getView("c", off);
        view.close();
        view.close();
        assertThrows(IllegalStateException.class, view::buffer);
        assertThrows(IllegalStateException.class, view::toArray);
        assertThrows(IllegalStateException.class, view::length);
        view.close();
    }

    @Test
    void badOffsetsThrowAsGetDoes() {
        long off = db.append("b", null, bytes("0123456789"));
        assertThrows(NotFoundException.class, () -> db.getView("b", off + 1_000_000));
        assertThrows(NotFoundException.class, () -> db.getView("missing", 0));
        assertThrows(CorruptException.class, () -> db.getView("b", off + 3));
        assertThrows(CorruptException.class, () -> db.get("b", off + 3));
        assertEquals(RocheException.EINVAL,
                assertThrows(RocheException.class, () -> db.getView("a/b", 0)).code());
        assertThrows(InvalidArgumentException.class, () -> db.getView("a\0b", 0));
    }

    @Test
    void readOnlyStoreGivesAViewThatOutlivesIt() {
        long off = db.append("r", null, bytes("from\0disk"));
        long empty = db.append("r", null, new byte[0]);
        ValueView view;
        try (Roche reader = Roche.open(root, Roche.Options.builder().readOnly(true).build())) {
            view = reader.getView("r", off);
            try (ValueView none = reader.getView("r", empty)) {
                assertView(new byte[0], none);
            }
            assertThrows(NotFoundException.class, () -> reader.getView("r", off + 1_000_000));
        }
        try {
            assertView(bytes("from\0disk"), view);
            assertTrue(view.buffer().isReadOnly());
        } finally {
            view.close();
        }
    }

    @Test
    void closeRacingReadersNeverCrashes() throws Exception {
        long off = db.append("race", null, bytes("racing value"));
        for (int round = 0; round < 50; round++) {
            ValueView shared = db.getView("race", off);
            List<Throwable> unexpected = Collections.synchronizedList(new ArrayList<>());
            List<Thread> readers = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                readers.add(new Thread(() -> {
                    try {
                        while (true) {
                            assertArrayEquals(bytes("racing value"), shared.toArray());
                            assertEquals(12, shared.length());
                        }
                    } catch (IllegalStateException closed) {
                        // the only way out: the view closed under us
                    } catch (Throwable e) {
                        unexpected.add(e);
                    }
                }));
            }
            readers.forEach(Thread::start);
            Thread.sleep(1);
            shared.close();
            for (Thread r : readers) {
                r.join();
            }
            assertEquals(List.of(), unexpected);
        }
    }

    /** The lines of /proc/self/maps that map a file under dir. */
    private static List<String> mappingsUnder(Path dir) throws IOException {
        List<String> found = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
            if (line.contains(dir.toString() + "/")) {
                found.add(line);
            }
        }
        return found;
    }

    /** A view of a deleted namespace, dropped: only the view still maps its file. */
    private void dropAViewOfADeletedNamespace(Path nsDir) throws IOException {
        long off = db.append("gc", null, bytes("collect me"));
        ValueView view = db.getView("gc", off);
        db.deleteNamespace("gc");
        assertFalse(mappingsUnder(nsDir).isEmpty(), "the view pins the deleted namespace's mapping");
        assertArrayEquals(bytes("collect me"), view.toArray());
    }

    @Test
    void cleanerReleasesAForgottenView() throws Exception {
        Path nsDir = root.resolve("gc");
        try (ValueView held = db.getView("gc", db.append("gc", null, bytes("held")))) {
            db.deleteNamespace("gc");
            assertFalse(mappingsUnder(nsDir).isEmpty());
        }
        assertEquals(List.of(), mappingsUnder(nsDir), "close() released the pin at once");

        dropAViewOfADeletedNamespace(nsDir);
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!mappingsUnder(nsDir).isEmpty()) {
            assertTrue(System.nanoTime() < deadline, "the Cleaner never released the view");
            System.gc();
            Thread.sleep(20);
        }
    }

    @Test
    void aBufferKeepsItsForgottenViewPinned() throws Exception {
        long off = db.append("k", null, bytes("still here"));
        ByteBuffer buffer = db.getView("k", off).buffer(); // the view itself is dropped at once
        db.deleteNamespace("k");
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(10);
            assertArrayEquals(bytes("still here"), read(buffer.duplicate()));
        }
        assertFalse(mappingsUnder(root.resolve("k")).isEmpty(), "the buffer keeps the pin");
    }
}
