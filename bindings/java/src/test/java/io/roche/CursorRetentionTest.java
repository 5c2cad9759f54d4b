package io.roche;

import static io.roche.BadInputMatrixTest.assertCode;
import static io.roche.BadInputMatrixTest.assertUsable;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Consumer cursors, retention (a call and an open option), bucket ranges, the new error codes. */
class CursorRetentionTest extends StoreFixture {
    // ---- Cursors -----------------------------------------------------------

    @Test
    void cursorsRoundTripOverwriteListAndDelete() {
        db.append("events", null, bytes("x"));
        long[] pos = {17, (1L << 50) + 5, Long.MAX_VALUE, -1L};
        db.commitCursor("events", "consumer-1", pos);
        assertArrayEquals(pos, db.getCursor("events", "consumer-1"));
        db.commitCursor("events", "empty", new long[0]);
        assertArrayEquals(new long[0], db.getCursor("events", "empty"));
        db.commitCursor("events", "consumer-1", new long[] {40, 50});
        assertArrayEquals(new long[] {40, 50}, db.getCursor("events", "consumer-1"));

        for (String name : List.of("zeta", "alpha", "mid-1", "Mid")) {
            db.commitCursor("events", name, new long[] {9});
        }
        assertEquals(List.of("Mid", "alpha", "consumer-1", "empty", "mid-1", "zeta"), db.cursors("events"));
        db.deleteCursor("events", "alpha");
        assertThrows(NotFoundException.class, () -> db.getCursor("events", "alpha"));
        assertThrows(NotFoundException.class, () -> db.deleteCursor("events", "alpha"));
        assertEquals(List.of("Mid", "consumer-1", "empty", "mid-1", "zeta"), db.cursors("events"));
        db.commitCursor("events", "alpha", new long[] {1});
        assertArrayEquals(new long[] {1}, db.getCursor("events", "alpha"));

        // null and "" are the default namespace, as everywhere.
        db.append(null, null, bytes("y"));
        db.commitCursor(null, "c", new long[] {3});
        assertArrayEquals(new long[] {3}, db.getCursor("", "c"));
        assertArrayEquals(new long[] {3}, db.getCursor("default", "c"));
        assertEquals(List.of("c"), db.cursors(null));

        // The largest position.
        long[] most = new long[8191];
        for (int i = 0; i < most.length; i++) {
            most[i] = (long) i * 977;
        }
        db.commitCursor("events", "most", most);
        assertArrayEquals(most, db.getCursor("events", "most"));
        assertUsable(db);
    }

    @Test
    void cursorsOfMissingThingsAreNotFound() {
        db.append("n", null, bytes("x"));
        assertThrows(NotFoundException.class, () -> db.getCursor("n", "never"));
        assertThrows(NotFoundException.class, () -> db.deleteCursor("n", "never"));
        assertThrows(NotFoundException.class, () -> db.commitCursor("nope", "c", new long[] {1}));
        assertThrows(NotFoundException.class, () -> db.getCursor("nope", "c"));
        assertThrows(NotFoundException.class, () -> db.cursors("nope"));
        assertThrows(NotFoundException.class, () -> db.deleteCursor("nope", "c"));
        assertFalse(Files.exists(root.resolve("nope")), "nothing made");
        assertEquals(List.of(), db.cursors("n"));
        assertUsable(db);
    }

    @Test
    void badCursorArguments() {
        db.append("n", null, bytes("x"));
        long[] pos = {1};
        assertThrows(NullPointerException.class, () -> db.commitCursor("n", null, pos));
        assertThrows(NullPointerException.class, () -> db.commitCursor("n", "c", null));
        assertThrows(NullPointerException.class, () -> db.getCursor("n", null));
        assertThrows(NullPointerException.class, () -> db.deleteCursor("n", null));
        assertThrows(InvalidArgumentException.class, () -> db.commitCursor("n", "a\0b", pos));
        assertThrows(InvalidArgumentException.class, () -> db.getCursor("n\0", "c"));
        char[] k = new char[201];
        Arrays.fill(k, 'k');
        for (String bad : List.of("", ".x", ".", "..", "a/b", "/", new String(k))) {
            assertCode(RocheException.EINVAL, () -> db.commitCursor("n", bad, pos));
            assertCode(RocheException.EINVAL, () -> db.getCursor("n", bad));
            assertCode(RocheException.EINVAL, () -> db.deleteCursor("n", bad));
        }
        assertCode(RocheException.EINVAL, () -> db.cursors("a/b"));
        db.commitCursor("n", new String(k, 0, 200), pos);
        assertCode(RocheException.EINVAL, () -> db.commitCursor("n", "c", new long[8192]));
        assertThrows(NotFoundException.class, () -> db.getCursor("n", "c"));
        assertEquals(List.of(new String(k, 0, 200)), db.cursors("n"), "nothing bad left a file behind");
        db.close();
        List<Executable> closed = List.of(() -> db.commitCursor("n", "c", pos), () -> db.getCursor("n", "c"),
                () -> db.cursors("n"), () -> db.deleteCursor("n", "c"), () -> db.retain("n", 0L, 0),
                () -> db.bucketRange("n", 0));
        for (Executable call : closed) {
            assertThrows(IllegalStateException.class, call);
        }
        db = Roche.open(root);
        assertUsable(db);
    }

    @Test
    void aReadOnlyStoreCommitsCursorsBesideTheWriter() {
        db.append("n", null, bytes("x"));
        try (Roche ro = Roche.open(root, Roche.Options.builder().readOnly(true).build())) {
            ro.commitCursor("n", "reader", new long[] {3, 4});
            assertArrayEquals(new long[] {3, 4}, db.getCursor("n", "reader"));
            db.commitCursor("n", "reader", new long[] {30, 40});
            assertArrayEquals(new long[] {30, 40}, ro.getCursor("n", "reader"));
            assertEquals(List.of("reader"), ro.cursors("n"));
            ro.deleteCursor("n", "reader");
            assertEquals(List.of(), db.cursors("n"));
            assertThrows(ReadOnlyException.class, () -> ro.retain("n", 0L, 1));
        }
    }

    // ---- Retention ---------------------------------------------------------

    @Test
    void retentionDropsTheOldestAndReportsThem() {
        db.close();
        db = Roche.open(root, Roche.Options.builder().buckets(1).build());
        byte[] big = new byte[2000];
        long[] off = new long[20];
        for (int i = 0; i < 20; i++) {
            off[i] = db.append("r", null, big);
        }
        long record = 16 + 2000;
        assertEquals(0, db.retain("r", Duration.ofHours(1), 0), "nothing an hour old");
        assertEquals(0, db.retain("r", Duration.ZERO, 0), "no limits: nothing dropped");
        assertEquals(0, db.retain("r", 0L, 0));
        assertEquals(15 * record, db.retain("r", 0L, 5 * record));
        assertEquals(0, db.retain("r", 0L, 5 * record), "done already");

        DroppedException e = assertThrows(DroppedException.class, () -> db.get("r", off[3]));
        assertEquals(off[3], e.offset());
        assertEquals(RocheException.EDROPPED, e.code());
        assertEquals(off[0], assertThrows(DroppedException.class, () -> db.getView("r", off[0])).offset());
        Values vs = db.multiGet("r", off[15], off[2]);
        assertArrayEquals(big, vs.get(0));
        assertEquals(RocheException.EDROPPED, vs.status(1));
        assertEquals(off[2], assertThrows(DroppedException.class, () -> vs.get(1)).offset());
        assertNull(vs.toArray()[1]);
        assertEquals(off[15], BadInputMatrixTest.scanOffsets(db, "r", 0).get(0), "scans start at the first kept");

        BucketRange range = db.bucketRange("r", 0);
        assertEquals(off[15], range.first());
        assertEquals(off[19] + record, range.end());
        assertFalse(range.isEmpty());
        Stats stats = db.stat("r");
        assertEquals(5, stats.records());
        assertEquals(15, stats.droppedRecords());
        assertEquals(15 * record, stats.droppedBytes());
        assertTrue(stats.toString().contains("droppedRecords=15"), stats.toString());

        // An Instant after every append drops them all.
        assertEquals(5 * record, db.retain("r", Instant.now().plusSeconds(1), 0));
        assertTrue(db.bucketRange("r", 0).isEmpty());
        assertThrows(DroppedException.class, () -> db.get("r", off[19]));
        long next = db.append("r", null, bytes("new"));
        assertArrayEquals(bytes("new"), db.get("r", next));
        assertEquals(new BucketRange(next, next + 16 + 3).toString(), db.bucketRange("r", 0).toString());
        assertUsable(db);
    }

    @Test
    void retentionAsAnOpenOptionRunsByItself() throws Exception {
        db.close();
        db = Roche.open(root, Roche.Options.builder().buckets(1).retention(Duration.ZERO, 3 * (16 + 1000)).build());
        for (int i = 0; i < 20; i++) {
            db.append("auto", null, new byte[1000]);
        }
        long deadline = System.nanoTime() + 15_000_000_000L;
        while (db.stat("auto").droppedRecords() == 0) {
            assertTrue(System.nanoTime() < deadline, "the writer never applied its retention");
            Thread.sleep(50);
        }
        Stats stats = db.stat("auto");
        assertEquals(17, stats.droppedRecords());
        assertEquals(3, stats.records());

        // By age: records older than 100 ms go.
        db.close();
        db = Roche.open(root, Roche.Options.builder().buckets(1).retention(Duration.ofMillis(100), 0).build());
        long old = db.append("aged", null, bytes("old"));
        deadline = System.nanoTime() + 15_000_000_000L;
        while (true) {
            try {
                db.get("aged", old);
            } catch (DroppedException dropped) {
                break;
            }
            assertTrue(System.nanoTime() < deadline, "the old record was never dropped");
            Thread.sleep(50);
        }
        assertUsable(db);
    }

    @Test
    void badRetentionArguments() {
        db.append("r", null, bytes("x"));
        assertThrows(InvalidArgumentException.class, () -> db.retain("r", -1L, 0));
        assertThrows(InvalidArgumentException.class, () -> db.retain("r", 0L, -1));
        assertThrows(InvalidArgumentException.class, () -> db.retain("r", Duration.ofSeconds(-1), 0));
        assertThrows(InvalidArgumentException.class, () -> db.retain("r", Instant.EPOCH.minusNanos(1), 0));
        assertThrows(NullPointerException.class, () -> db.retain("r", (Duration) null, 0));
        assertThrows(NullPointerException.class, () -> db.retain("r", (Instant) null, 0));
        assertThrows(NotFoundException.class, () -> db.retain("nope", 0L, 1));
        assertCode(RocheException.EINVAL, () -> db.retain("a/b", 0L, 1));
        assertEquals(0, db.retain("r", Instant.EPOCH, 0), "the epoch is no age limit");
        assertEquals(0, db.retain("r", Duration.ofDays(365 * 200), 0), "older than the epoch: nothing");
        assertArrayEquals(bytes("x"), BadInputMatrixTest.scanValues(db, "r").get(0));

        Roche.Options.Builder b = Roche.Options.builder();
        assertThrows(NullPointerException.class, () -> b.retention(null, 0));
        assertThrows(InvalidArgumentException.class, () -> b.retention(Duration.ofMillis(-1), 0));
        assertThrows(InvalidArgumentException.class, () -> b.retention(Duration.ZERO, -1));
        assertEquals(1, b.retention(Duration.ofNanos(1), 0).build().retentionAgeMs, "rounded up, not off");
        assertEquals(Long.MAX_VALUE, b.retention(Duration.ofSeconds(Long.MAX_VALUE), 0).build().retentionAgeMs);

        assertThrows(NotFoundException.class, () -> db.bucketRange("nope", 0));
        assertCode(RocheException.EINVAL, () -> db.bucketRange("r", 8191));
        assertCode(RocheException.EINVAL, () -> db.bucketRange("r", -1));
        assertCode(RocheException.EINVAL, () -> db.bucketRange("r", Integer.MIN_VALUE));
        BucketRange none = db.bucketRange("r", 100);
        assertEquals(100L << 50, none.first());
        assertEquals(100L << 50, none.end());
        assertUsable(db);
    }

    @Test
    void newCodesMapToTheirOwnExceptions() {
        assertTrue(RocheException.of(RocheException.ETIMEDOUT, "t") instanceof TimedOutException);
        assertTrue(RocheException.of(RocheException.ECANCELED, "c") instanceof CanceledException);
        assertTrue(RocheException.of(RocheException.ENOTSUP, "n") instanceof NotSupportedException);
        RocheException dropped = RocheException.of(RocheException.EDROPPED, "d");
        assertTrue(dropped instanceof DroppedException);
        assertEquals(-1, ((DroppedException) dropped).offset(), "no offset known");
        assertEquals(-30910, RocheException.ETIMEDOUT);
        assertEquals(-30911, RocheException.ECANCELED);
        assertEquals(-30912, RocheException.EDROPPED);
        assertEquals(-30913, RocheException.ENOTSUP);
        assertEquals("not supported by the file system", Native.strerror(RocheException.ENOTSUP));
    }
}
