package io.roche;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;

/** Roche.Format: rochefort v0.5's header check and id placement, and each format refusing the other's store. */
class FormatTest extends StoreFixture {
    static final String NS = "events";
    /** Ids and the buckets rochefort v0.5 puts them in among 8 (tests/test_compat.c's fixture). */
    static final String[] IDS = {"a", "b", "c", "big", "z"};
    static final int[] ROCHEFORT_BUCKETS = {3, 0, 3, 3, 0};

    static Roche.Options options(Roche.Format format) {
        return Roche.Options.builder().buckets(8).format(format).build();
    }

    static byte[] valueOf(String id) {
        return bytes("value of " + id);
    }

    /** Writes IDS (and a batch with no id) to NS under format; the offsets of IDS. */
    static long[] writeStore(Path store, Roche.Format format) {
        long[] offsets = new long[IDS.length];
        try (Roche db = Roche.open(store, options(format))) {
            for (int i = 0; i < IDS.length; i++) {
                offsets[i] = db.append(NS, IDS[i], valueOf(IDS[i]));
            }
            db.appendMany(NS, null, bytes("one"), new byte[0], bytes("t\0hree"));
        }
        return offsets;
    }

    /** Every file of ns's directory and its bytes, to prove a refusal changed nothing. */
    static Map<String, byte[]> snapshot(Path dir) throws IOException {
        Map<String, byte[]> files = new TreeMap<>();
        try (Stream<Path> list = Files.list(dir)) {
            for (Path p : list.collect(Collectors.toList())) {
                files.put(p.getFileName().toString(), Files.readAllBytes(p));
            }
        }
        return files;
    }

    static void assertSameFiles(Map<String, byte[]> before, Map<String, byte[]> after) {
        assertEquals(before.keySet(), after.keySet(), "no file made, cut or moved aside");
        before.forEach((name, bytes) -> assertArrayEquals(bytes, after.get(name), name + " unchanged"));
    }

    /** For each header of a closed bucket file: does its check field hold zlib's CRC-32 of the 12 bytes before it? */
    static List<Boolean> headersCarryCrc32(Path raw) throws IOException {
        ByteBuffer file = ByteBuffer.wrap(Files.readAllBytes(raw)).order(ByteOrder.LITTLE_ENDIAN);
        List<Boolean> crc = new ArrayList<>();
        for (int pos = 0; pos < file.limit(); ) {
            int length = file.getInt(pos);
            CRC32 c = new CRC32();
            c.update(file.array(), pos, 12);
            crc.add((int) c.getValue() == file.getInt(pos + 12));
            pos += 16 + length;
        }
        return crc;
    }

    static long crc32Bucket(String id, int buckets) {
        CRC32 c = new CRC32();
        c.update(bytes(id));
        return c.getValue() % buckets;
    }

    @Test
    void rochefortFormatRoundTripsAndPlacesIdsAsRochefortDoes() throws Exception {
        Path store = dir.resolve("rf");
        long[] offsets = writeStore(store, Roche.Format.ROCHEFORT);
        boolean anyDiffers = false;
        for (int i = 0; i < IDS.length; i++) {
            assertEquals(ROCHEFORT_BUCKETS[i], offsets[i] >>> 50, "rochefort's bucket for " + IDS[i]);
            anyDiffers |= ROCHEFORT_BUCKETS[i] != crc32Bucket(IDS[i], 8);
        }
        assertTrue(anyDiffers, "the fixture tells the two placements apart");
        try (Roche db = Roche.open(store, options(Roche.Format.ROCHEFORT))) {
            for (int i = 0; i < IDS.length; i++) {
                assertArrayEquals(valueOf(IDS[i]), db.get(NS, offsets[i]));
            }
            List<byte[]> all = BadInputMatrixTest.scanValues(db, NS);
            assertEquals(IDS.length + 3, all.size());
            assertTrue(all.stream().anyMatch(v -> Arrays.equals(v, bytes("t\0hree"))));
            assertTrue(all.stream().anyMatch(v -> v.length == 0));
            long more = db.append(NS, "a", bytes("more"));
            assertEquals(3, more >>> 50);
            assertArrayEquals(bytes("more"), db.get(NS, more));
            assertEquals(IDS.length + 4, db.stat(NS).records(), "stat checks every record in this format");
        }
        // Every header on disk carries rochefort's check, not CRC-32.
        for (int bucket : new int[] {0, 3}) {
            List<Boolean> crc = headersCarryCrc32(store.resolve(NS).resolve("append." + bucket + ".raw"));
            assertFalse(crc.isEmpty());
            assertFalse(crc.contains(true), "bucket " + bucket + ": " + crc);
        }
    }

    @Test
    void theDefaultFormatWritesCrc32AndPlacesIdsByIt() throws Exception {
        Path store = dir.resolve("default");
        long[] offsets = writeStore(store, Roche.Format.ROCHE);
        for (int i = 0; i < IDS.length; i++) {
            assertEquals(crc32Bucket(IDS[i], 8), offsets[i] >>> 50, "CRC-32's bucket for " + IDS[i]);
        }
        List<Boolean> crc = headersCarryCrc32(store.resolve(NS).resolve("append.0.raw"));
        assertFalse(crc.isEmpty());
        assertFalse(crc.contains(false), crc.toString());
        // No format given is the default.
        try (Roche db = Roche.open(store, Roche.Options.builder().buckets(8).build())) {
            assertArrayEquals(valueOf(IDS[0]), db.get(NS, offsets[0]));
        }
    }

    /** A store written in one format, opened in the other: every call on its namespace is ECORRUPT, nothing changes. */
    void assertRefused(Roche.Format written, Roche.Format opened) throws Exception {
        Path store = dir.resolve(written + "-then-" + opened);
        long[] offsets = writeStore(store, written);
        Map<String, byte[]> before = snapshot(store.resolve(NS));
        try (Roche db = Roche.open(store, options(opened))) {
            RocheException e = BadInputMatrixTest.assertCode(RocheException.ECORRUPT, () -> db.get(NS, offsets[0]));
            assertTrue(e instanceof CorruptException, e.toString());
            BadInputMatrixTest.assertCode(RocheException.ECORRUPT, () -> db.append(NS, "a", bytes("x")));
            BadInputMatrixTest.assertCode(RocheException.ECORRUPT, () -> db.append(NS, bytes("x")));
            BadInputMatrixTest.assertCode(RocheException.ECORRUPT, () -> db.appendMany(NS, null, bytes("x")));
            BadInputMatrixTest.assertCode(RocheException.ECORRUPT, () -> BadInputMatrixTest.scanValues(db, NS));
            // Other namespaces are not affected.
            BadInputMatrixTest.assertUsable(db);
        }
        try (Roche ro = Roche.open(store, Roche.Options.builder().readOnly(true).format(opened).build())) {
            BadInputMatrixTest.assertCode(RocheException.ECORRUPT, () -> ro.get(NS, offsets[1]));
        }
        assertSameFiles(before, snapshot(store.resolve(NS)));
        // In its own format the store is whole.
        try (Roche db = Roche.open(store, options(written))) {
            for (int i = 0; i < IDS.length; i++) {
                assertArrayEquals(valueOf(IDS[i]), db.get(NS, offsets[i]));
            }
        }
    }

    @Test
    void theDefaultFormatRefusesARochefortStore() throws Exception {
        assertRefused(Roche.Format.ROCHEFORT, Roche.Format.ROCHE);
    }

    @Test
    void theRochefortFormatRefusesADefaultStore() throws Exception {
        assertRefused(Roche.Format.ROCHE, Roche.Format.ROCHEFORT);
    }

    @Test
    void badFormatsAreRefusedBeforeOpenCreatesAnything() {
        assertThrows(NullPointerException.class, () -> Roche.Options.builder().format(null));
        // The enum has no bad value; the glue passes a code libroche does
        // not know through to it, whose EINVAL comes back as the binding's.
        for (int bad : new int[] {2, -1, Integer.MAX_VALUE}) {
            Path never = dir.resolve("never" + bad);
            RocheException e = BadInputMatrixTest.assertCode(RocheException.EINVAL,
                    () -> Native.open(Roche.cString(never.toString(), "root"), 8, false, 0, 0, 0, 0, 0, bad));
            assertTrue(e instanceof InvalidArgumentException, e.toString());
            assertFalse(Files.exists(never), "nothing created for format " + bad);
        }
        assertNotEquals(Roche.Format.ROCHE.code, Roche.Format.ROCHEFORT.code);
        BadInputMatrixTest.assertUsable(db);
    }
}
