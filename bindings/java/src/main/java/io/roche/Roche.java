package io.roche;

import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * An open libroche store: an append-only blob store where each append
 * returns the record's offset, and the offset reads it back.
 *
 * <pre>
 * try (Roche db = Roche.open(Path.of("data"))) {
 *     long off = db.append("events", "user-42", bytes);
 *     byte[] v = db.get("events", off);
 * }
 * </pre>
 *
 * A namespace is also a log: {@link #follow} reads its records as they are
 * appended, cursors ({@link #commitCursor}) remember where a consumer
 * stopped, and {@link #retain} drops the oldest records.
 *
 * <p>A Roche serves any number of threads at once. A namespace of null means
 * libroche's "default", and so does leaving it out: every call that takes a
 * namespace first has an overload without it ({@code append(value)}, {@code
 * get(offset)}, {@code multiGet(offsets...)}, {@code scan(from)}, ...), as
 * rocksdbjni's calls without a column family use the default one.
 *
 * <p>Names (namespaces, ids, cursors) cross to libroche as UTF-8. Failures
 * throw {@link RocheException} or one of its subclasses; every bad argument
 * value, whether the binding or libroche finds it bad, throws {@link
 * InvalidArgumentException}; null values and arrays throw
 * NullPointerException; calls after {@link #close} throw
 * IllegalStateException.
 */
public final class Roche implements AutoCloseable {
    static final Cleaner CLEANER = Cleaner.create();

    private final NativeStore store;
    private final Cleaner.Cleanable cleanable;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** The last namespace's bytes: most callers use one or two, so skip re-encoding. */
    private volatile Name lastNamespace = new Name("default");

    private Roche(long handle) {
        store = new NativeStore(handle);
        cleanable = CLEANER.register(this, store);
    }

    /** Open (read-write, creating it if needed) the store at root with default options. */
    public static Roche open(Path root) {
        return open(root, Options.DEFAULTS);
    }

    public static Roche open(Path root, Options options) {
        Objects.requireNonNull(root, "root");
        Objects.requireNonNull(options, "options");
        byte[] path = cString(root.toString(), "root");
        return new Roche(Native.open(path, options.buckets, options.readOnly, options.sync.code,
                options.syncPeriodMs, options.maxOpenFiles, options.retentionAgeMs, options.retentionBytes,
                options.format.code));
    }

    /** libroche's version, "MAJOR.MINOR.PATCH". */
    public static String version() {
        Native.init();
        return Native.version();
    }

    /** Append value to the default namespace, to this thread's bucket; returns its offset. */
    public long append(byte[] value) {
        return append(null, null, value);
    }

    /** Append value to ns, to this thread's bucket; returns its offset. */
    public long append(String ns, byte[] value) {
        return append(ns, null, value);
    }

    /** Append the buffer's remaining bytes to the default namespace, as {@link #append(String, String, ByteBuffer)}. */
    public long append(ByteBuffer value) {
        return append(null, null, value);
    }

    /** Append the buffer's remaining bytes to ns, as {@link #append(String, String, ByteBuffer)}. */
    public long append(String ns, ByteBuffer value) {
        return append(ns, null, value);
    }

    /** Append value to ns (bucket chosen by id's hash, or per thread when id is null); returns its offset. */
    public long append(String ns, String id, byte[] value) {
        Objects.requireNonNull(value, "value");
        return append(ns, id, value, 0, value.length);
    }

    /** Append value[from, from + length). */
    public long append(String ns, String id, byte[] value, int from, int length) {
        Objects.requireNonNull(value, "value");
        Objects.checkFromIndexSize(from, length, value.length);
        byte[] name = namespace(ns), key = id(id);
        long db = store.enter();
        try {
            return Native.append(db, name, key, value, from, length);
        } finally {
            store.leave();
        }
    }

    /**
     * Append the buffer's remaining bytes and advance its position past
     * them, as a channel write does. A direct buffer is read in place, with
     * no copy.
     */
    public long append(String ns, String id, ByteBuffer value) {
        Objects.requireNonNull(value, "value");
        int position = value.position(), length = value.remaining();
        long offset;
        if (value.isDirect()) {
            byte[] name = namespace(ns), key = id(id);
            long db = store.enter();
            try {
                offset = Native.appendDirect(db, name, key, value, position, length);
            } finally {
                store.leave();
            }
        } else if (value.hasArray()) {
            offset = append(ns, id, value.array(), value.arrayOffset() + position, length);
        } else { // a read-only heap buffer hides its array
            byte[] copy = new byte[length];
            value.duplicate().get(copy);
            offset = append(ns, id, copy);
        }
        value.position(position + length);
        return offset;
    }

    /** {@link #appendMany(String, String, byte[]...)} with no id: this thread's bucket. */
    public long[] appendMany(String ns, List<byte[]> values) {
        return appendMany(ns, null, values);
    }

    /**
     * {@link #appendMany(String, String, byte[]...)} with no id: this
     * thread's bucket. (Not varargs: {@code appendMany(ns, null, a, b)}
     * keeps meaning a null id.)
     */
    public long[] appendMany(String ns, byte[][] values) {
        return appendMany(ns, null, values);
    }

    /**
     * Append every value in one call, all to one bucket, in order; returns
     * their offsets. One call takes at most 2 GiB in all: more is a
     * RocheException with code ETOOBIG, and nothing is written.
     */
    public long[] appendMany(String ns, String id, List<byte[]> values) {
        Objects.requireNonNull(values, "values");
        return appendMany(ns, id, values.toArray(new byte[0][]));
    }

    public long[] appendMany(String ns, String id, byte[]... values) {
        Objects.requireNonNull(values, "values");
        int[] lengths = new int[values.length];
        long total = 0;
        for (int i = 0; i < values.length; i++) {
            Objects.requireNonNull(values[i], "values[" + i + "]");
            lengths[i] = values[i].length;
            total += lengths[i];
        }
        // The batch crosses as one byte[]; total is a long so that no count of
        // arrays can wrap it. Too big for one array is too big for the call:
        // ETOOBIG, as libroche answers a value it cannot hold.
        if (total > Integer.MAX_VALUE - 8) {
            throw RocheException.of(RocheException.ETOOBIG,
                    "value too big: a batch of " + total + " bytes; one call takes at most 2 GiB, split it");
        }
        // One Java array crosses into native code instead of one per value.
        byte[] data = new byte[(int) total];
        int at = 0;
        for (byte[] value : values) {
            System.arraycopy(value, 0, data, at, value.length);
            at += value.length;
        }
        byte[] name = namespace(ns), key = id(id);
        long db = store.enter();
        try {
            return Native.appendMany(db, name, key, data, lengths);
        } finally {
            store.leave();
        }
    }

    /** The value at offset in the default namespace. */
    public byte[] get(long offset) {
        return get(null, offset);
    }

    /** The value at offset; NotFoundException or CorruptException when there is none. */
    public byte[] get(String ns, long offset) {
        byte[] name = namespace(ns);
        long db = store.enter();
        try {
            return Native.get(db, name, offset);
        } finally {
            store.leave();
        }
    }

    /**
     * The value at offset in place, with no copy: close the view (try with
     * resources) to release it, and use its buffer only until then; the
     * bytes stay valid until that close, even past appends, a close or
     * delete of the namespace, or this store's close. NotFoundException or
     * CorruptException when there is no value there, as for {@link #get}.
     */
    public ValueView getView(String ns, long offset) {
        return getView0(ns, offset);
    }

    /** {@link #getView(String, long)} in the default namespace. */
    public ValueView getView(long offset) {
        return getView0(null, offset);
    }

    private ValueView getView0(String ns, long offset) {
        byte[] name = namespace(ns);
        long db = store.enter();
        try {
            return Native.getView(db, name, offset);
        } finally {
            store.leave();
        }
    }

    /** The values at offsets in the default namespace, in request order, each with its own status. */
    public Values multiGet(long... offsets) {
        return multiGet(null, offsets);
    }

    /** The values at offsets, in request order, each with its own status. */
    public Values multiGet(String ns, long... offsets) {
        Objects.requireNonNull(offsets, "offsets");
        byte[] name = namespace(ns);
        int[] statuses = new int[offsets.length];
        long db = store.enter();
        try {
            return new Values(Native.multiGet(db, name, offsets, statuses), statuses, offsets);
        } finally {
            store.leave();
        }
    }

    /** Scan every record of the default namespace whose offset is at least from. */
    public Scan scan(long from) {
        return scan(null, from);
    }

    /** Scan every record of ns whose offset is at least from (0 for all; last seen + 1 to resume). */
    public Scan scan(String ns, long from) {
        byte[] name = namespace(ns);
        long db = store.enter();
        try {
            return new Scan(this, store, Native.scanOpen(db, name, from), name, CLEANER);
        } finally {
            store.leave();
        }
    }

    /** {@link #stream(String, long)} of the default namespace. */
    public Stream<Record> stream(long from) {
        return stream(null, from);
    }

    /** {@link #scan} as a Stream; close the stream (try with resources) to free the scan. */
    public Stream<Record> stream(String ns, long from) {
        Scan scan = scan(ns, from);
        Spliterator<Record> records = Spliterators.spliteratorUnknownSize(
                scan, Spliterator.ORDERED | Spliterator.NONNULL);
        return StreamSupport.stream(records, false).onClose(scan::close);
    }

    /** fsync every namespace this handle has open. */
    public void sync() {
        long db = store.enter();
        try {
            Native.sync(db);
        } finally {
            store.leave();
        }
    }

    public void sync(String ns) {
        byte[] name = namespace(ns);
        long db = store.enter();
        try {
            Native.syncNamespace(db, name);
        } finally {
            store.leave();
        }
    }

    /**
     * The namespaces under the root, sorted (by their UTF-8 bytes), each a
     * name the other calls accept. A namespace directory whose name is not
     * valid UTF-8 (made by another program: every name from Java is UTF-8)
     * has no Java name that reaches it, so it is left out rather than
     * handed out as a lossy name that would name another directory; {@link
     * #rawNamespaces()} lists every name as its bytes.
     */
    public List<String> namespaces() {
        List<String> names = new ArrayList<>();
        for (byte[] raw : rawNamespaces()) {
            String name = utf8(raw);
            if (name != null) {
                names.add(name);
            }
        }
        return names;
    }

    /**
     * Every namespace under the root as the bytes of its directory name (no
     * terminating NUL), sorted, including those {@link #namespaces()} leaves
     * out because they are not valid UTF-8. For listing and reporting: the
     * other calls take names as Strings, so a name that is not UTF-8 cannot
     * be used from Java (rename the directory, with the store closed).
     */
    public List<byte[]> rawNamespaces() {
        byte[] packed;
        long db = store.enter();
        try {
            packed = Native.namespaces(db);
        } finally {
            store.leave();
        }
        return unpack(packed);
    }

    /** Names back to back, each ending in a NUL ("a\0b\0"), as libroche lists them. */
    private static List<byte[]> unpack(byte[] packed) {
        List<byte[]> names = new ArrayList<>();
        for (int start = 0, end; start < packed.length; start = end + 1) {
            for (end = start; packed[end] != 0; end++) { }
            names.add(Arrays.copyOfRange(packed, start, end));
        }
        return names;
    }

    /** The names of a packed list that are valid UTF-8, in order. */
    private static List<String> unpackUtf8(byte[] packed) {
        List<String> names = new ArrayList<>();
        for (byte[] raw : unpack(packed)) {
            String name = utf8(raw);
            if (name != null) {
                names.add(name);
            }
        }
        return names;
    }

    /** raw decoded as strict UTF-8, or null when it is not valid UTF-8. */
    static String utf8(byte[] raw) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(raw)).toString();
        } catch (CharacterCodingException notUtf8) {
            return null;
        }
    }

    /** Trim, unmap and close ns's files; the next call that uses ns opens it again. */
    public void closeNamespace(String ns) {
        byte[] name = namespace(ns);
        long db = store.enter();
        try {
            Native.closeNamespace(db, name);
            store.namespaceClosed(name); // its scans' next step is libroche's ENOTFOUND
        } finally {
            store.leave();
        }
    }

    /** Delete ns with every bucket file; its offsets become not found. */
    public void deleteNamespace(String ns) {
        byte[] name = namespace(ns);
        long db = store.enter();
        try {
            Native.deleteNamespace(db, name);
            store.namespaceClosed(name); // its scans' next step is libroche's ENOTFOUND
        } finally {
            store.leave();
        }
    }

    /** {@link #stat(String)} of the default namespace. */
    public Stats stat() {
        return stat(null);
    }

    /** Walk ns, checking every record (time proportional to its data); NotFoundException when ns does not exist. */
    public Stats stat(String ns) {
        byte[] name = namespace(ns);
        long db = store.enter();
        try {
            return new Stats(Native.stat(db, name));
        } finally {
            store.leave();
        }
    }

    // ---- Following, cursors, retention ----------------------------------------

    /**
     * Follow ns: every record already there, then each one as it is
     * appended (by this store or by a writer in another process), each
     * bucket in offset order, with no gaps and no repeats. With positions
     * (one offset per bucket, as {@link Follower#position()} or {@link
     * #getCursor} give them), each bucket named starts there; the others
     * start at their first record kept. A writable store creates ns when it
     * does not exist yet; a read-only one throws NotFoundException.
     */
    public Follower follow(String ns, long... from) {
        return follow(ns, from, false);
    }

    /** {@link #follow(String, long...)} of the default namespace, from each bucket's first record kept. */
    public Follower follow() {
        return follow(null, new long[0], false);
    }

    /** {@link #follow(String, long[], boolean)} of the default namespace. */
    public Follower follow(long[] from, boolean fromEnd) {
        return follow(null, from, fromEnd);
    }

    /**
     * As {@link #follow(String, long...)}; with fromEnd, buckets not named in
     * from start at their end now (only records appended from now on), not
     * at their first record.
     */
    public Follower follow(String ns, long[] from, boolean fromEnd) {
        Objects.requireNonNull(from, "from");
        byte[] name = namespace(ns);
        long db = store.enter();
        try {
            return new Follower(this, store, Native.followOpen(db, name, from, fromEnd), name, CLEANER);
        } finally {
            store.leave();
        }
    }

    /**
     * Follow ns from where the cursor says ({@link #commitCursor}, {@link
     * Follower#commit}); a cursor that does not exist yet starts as {@link
     * #follow(String, long[], boolean)} with no positions.
     */
    public Follower followCursor(String ns, String cursor, boolean fromEnd) {
        byte[] name = namespace(ns), key = cursor(cursor);
        long db = store.enter();
        try {
            return new Follower(this, store, Native.followOpenCursor(db, name, key, fromEnd), name, CLEANER);
        } finally {
            store.leave();
        }
    }

    /** {@link #followCursor(String, String, boolean)} from each bucket's first record kept. */
    public Follower followCursor(String ns, String cursor) {
        return followCursor(ns, cursor, false);
    }

    /**
     * Save a position (one offset per bucket, at most 8191) under a cursor
     * name, creating the cursor; a crash leaves the old position or the new
     * one, never a mix. Read-only stores may commit too. NotFoundException
     * when ns does not exist.
     */
    public void commitCursor(String ns, String cursor, long[] offsets) {
        Objects.requireNonNull(offsets, "offsets");
        byte[] name = namespace(ns), key = cursor(cursor);
        long db = store.enter();
        try {
            Native.cursorCommit(db, name, key, offsets);
        } finally {
            store.leave();
        }
    }

    /** The position a cursor holds; NotFoundException when there is no such cursor or namespace. */
    public long[] getCursor(String ns, String cursor) {
        byte[] name = namespace(ns), key = cursor(cursor);
        long db = store.enter();
        try {
            return Native.cursorGet(db, name, key);
        } finally {
            store.leave();
        }
    }

    /**
     * The cursors of ns, sorted; NotFoundException when ns does not exist.
     * As {@link #namespaces()}, a cursor file whose name is not valid UTF-8
     * (no Java name reaches it) is left out.
     */
    public List<String> cursors(String ns) {
        byte[] name = namespace(ns);
        byte[] packed;
        long db = store.enter();
        try {
            packed = Native.cursorList(db, name);
        } finally {
            store.leave();
        }
        return unpackUtf8(packed);
    }

    /** Delete a cursor; NotFoundException when there is none. */
    public void deleteCursor(String ns, String cursor) {
        byte[] name = namespace(ns), key = cursor(cursor);
        long db = store.enter();
        try {
            Native.cursorDelete(db, name, key);
        } finally {
            store.leave();
        }
    }

    /**
     * Retention: drop, in every bucket of ns, the records appended before
     * olderThanNs (ns since the epoch; 0: no age limit), then, oldest first
     * across buckets, as many more as needed for what is kept to total at
     * most maxBytes (headers included; 0: no size limit). Their disk space
     * is freed in place; the offsets of the records kept do not change. A
     * get of a dropped offset throws {@link DroppedException}.
     *
     * @return the bytes of the records dropped by this call
     * @throws NotSupportedException when the file system
     *         cannot punch holes (nothing is dropped)
     * @throws ReadOnlyException on a read-only store
     */
    public long retain(String ns, long olderThanNs, long maxBytes) {
        if (olderThanNs < 0) {
            throw new InvalidArgumentException("invalid argument: olderThanNs must be 0 or more, not " + olderThanNs);
        }
        checkMaxBytes(maxBytes);
        byte[] name = namespace(ns);
        long db = store.enter();
        try {
            return Native.retain(db, name, olderThanNs, maxBytes);
        } finally {
            store.leave();
        }
    }

    /** {@link #retain(String, long, long)} dropping the records appended before olderThan (not before the epoch). */
    public long retain(String ns, Instant olderThan, long maxBytes) {
        Objects.requireNonNull(olderThan, "olderThan");
        if (olderThan.isBefore(Instant.EPOCH)) {
            throw new InvalidArgumentException("invalid argument: olderThan is before the epoch: " + olderThan);
        }
        return retain(ns, epochNanos(olderThan), maxBytes);
    }

    /**
     * {@link #retain(String, long, long)} dropping the records older than
     * maxAge now; Duration.ZERO means no age limit, as 0 does for libroche.
     */
    public long retain(String ns, Duration maxAge, long maxBytes) {
        return retain0(ns, maxAge, maxBytes);
    }

    /** {@link #retain(String, Duration, long)} of the default namespace. */
    public long retain(Duration maxAge, long maxBytes) {
        return retain0(null, maxAge, maxBytes);
    }

    private long retain0(String ns, Duration maxAge, long maxBytes) {
        Objects.requireNonNull(maxAge, "maxAge");
        if (maxAge.isNegative()) {
            throw new InvalidArgumentException("invalid argument: maxAge must not be negative: " + maxAge);
        }
        if (maxAge.isZero()) {
            return retain(ns, 0L, maxBytes);
        }
        Instant now = Instant.now();
        Instant cut = maxAge.compareTo(Duration.between(Instant.EPOCH, now)) >= 0 ? Instant.EPOCH : now.minus(maxAge);
        // Older than the epoch keeps everything: an age limit of 1 ns past it.
        return retain(ns, Math.max(1L, epochNanos(cut)), maxBytes);
    }

    /** ns since the epoch; past 2262 (a long's end) it is the largest. */
    private static long epochNanos(Instant t) {
        try {
            return Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000_000L), t.getNano());
        } catch (ArithmeticException past2262) {
            return Long.MAX_VALUE;
        }
    }

    private static void checkMaxBytes(long maxBytes) {
        if (maxBytes < 0) {
            throw new InvalidArgumentException("invalid argument: maxBytes must be 0 (no limit) or more, not " + maxBytes);
        }
    }

    /**
     * The records bucket (0..8190) of ns holds now: its first record kept
     * and where its next record will go. A bucket with no file has both at
     * its offset 0. NotFoundException when ns does not exist; a bucket out of
     * range is a RocheException with code EINVAL.
     */
    public BucketRange bucketRange(String ns, int bucket) {
        byte[] name = namespace(ns);
        long[] range;
        long db = store.enter();
        try {
            range = Native.bucketRange(db, name, bucket);
        } finally {
            store.leave();
        }
        return new BucketRange(range[0], range[1]);
    }

    /**
     * Close the store: wakes and frees open followers, frees open scans,
     * trims the files, releases the lock. Waits for calls in flight on other
     * threads (a follower waiting for a record returns at once and throws
     * IllegalStateException). A second close does nothing.
     */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                store.close();
            } finally {
                cleanable.clean(); // unregisters; the store is closed already
            }
        }
    }

    private byte[] namespace(String ns) {
        if (ns == null) {
            return null;
        }
        Name last = lastNamespace;
        if (last.text.equals(ns)) {
            return last.bytes;
        }
        Name name = new Name(ns);
        lastNamespace = name;
        return name.bytes;
    }

    private static byte[] id(String id) {
        return id == null ? null : cString(id, "id");
    }

    /** A cursor's name: libroche judges its rules (as a namespace's, up to 200 bytes). */
    static byte[] cursor(String cursor) {
        return cString(Objects.requireNonNull(cursor, "cursor"), "cursor");
    }

    /**
     * UTF-8 with a terminating NUL. A NUL inside would cut the string short
     * in C, and a lone surrogate has no UTF-8 (String.getBytes would make it
     * '?', another name): both are InvalidArgumentException.
     */
    static byte[] cString(String text, String what) {
        if (text.indexOf('\0') >= 0) {
            throw new InvalidArgumentException("invalid argument: " + what + " contains a NUL character");
        }
        ByteBuffer utf8;
        try {
            utf8 = StandardCharsets.UTF_8.newEncoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .encode(CharBuffer.wrap(text));
        } catch (CharacterCodingException loneSurrogate) {
            throw new InvalidArgumentException("invalid argument: " + what
                    + " is not valid Unicode (a lone surrogate has no UTF-8)");
        }
        byte[] terminated = new byte[utf8.remaining() + 1];
        utf8.get(terminated, 0, utf8.remaining());
        return terminated;
    }

    /**
     * A namespace and its C string. Its rules (length, '/', leading '.') are
     * libroche's to check: it answers ROCHE_EINVAL, as to every binding.
     */
    private static final class Name {
        final String text;
        final byte[] bytes;

        Name(String text) {
            this.text = text;
            this.bytes = cString(text, "namespace");
        }
    }

    /** When an append returns: libroche's ROCHE_SYNC_* policies. */
    public enum SyncPolicy {
        /** No fsync (the default, as in rochefort); appends survive a process crash. */
        NEVER(0),
        /** msync and fdatasync before each append returns. */
        ALWAYS(1),
        /**
         * Group commit: a thread of the store syncs every namespace each
         * {@link Options.Builder#syncPeriod period} (100 ms unless set), as
         * Kafka's flush.ms; a machine crash loses at most about the last
         * period's appends. {@link Roche#sync()} still covers everything
         * before it.
         */
        PERIODIC(2);

        final int code;

        SyncPolicy(int code) {
            this.code = code;
        }
    }

    /**
     * The check every record header carries: libroche's ROCHE_FORMAT_*
     * ({@link Options.Builder#format}). The format is the handle's, not
     * recorded in the store: every handle on a root, writer and readers,
     * must use the format its headers carry. A namespace whose headers
     * carry the other one is refused, unchanged: each call that opens it
     * throws {@link CorruptException}.
     */
    public enum Format {
        /** The default: CRC-32 (zlib's) of the 12 header bytes. */
        ROCHE(0),
        /**
         * rochefort v0.5's own check (the upper 32 bits of MetroHash64 of
         * the header), and rochefort's placement of ids in buckets, for a
         * store a rochefort v0.5 server takes turns on during a migration.
         * Offsets, companions, recovery, follow, cursors and retention are
         * as in the default format.
         */
        ROCHEFORT(1);

        final int code;

        Format(int code) {
            this.code = code;
        }
    }

    /** Open options: {@code Roche.Options.builder().buckets(16).readOnly(true).build()}. */
    public static final class Options {
        static final Options DEFAULTS = builder().build();

        final int buckets;
        final boolean readOnly;
        final SyncPolicy sync;
        final int syncPeriodMs;
        final int maxOpenFiles;
        final long retentionAgeMs;
        final long retentionBytes;
        final Format format;

        private Options(Builder b) {
            buckets = b.buckets;
            readOnly = b.readOnly;
            sync = b.sync;
            syncPeriodMs = b.syncPeriodMs;
            maxOpenFiles = b.maxOpenFiles;
            retentionAgeMs = b.retentionAgeMs;
            retentionBytes = b.retentionBytes;
            format = b.format;
        }

        public static Builder builder() {
            return new Builder();
        }

        public static final class Builder {
            private int buckets = 8;
            private boolean readOnly;
            private SyncPolicy sync = SyncPolicy.NEVER;
            private int syncPeriodMs; // 0: libroche's default
            private int maxOpenFiles; // 0: libroche's default
            private long retentionAgeMs;
            private long retentionBytes;
            private Format format = Format.ROCHE;

            /** Bucket files per namespace, 1..8191 (default 8). */
            public Builder buckets(int buckets) {
                if (buckets < 1 || buckets > 8191) {
                    throw new InvalidArgumentException("invalid argument: buckets must be 1..8191, not " + buckets);
                }
                this.buckets = buckets;
                return this;
            }

            /** A read-only handle takes no lock and writes nothing. */
            public Builder readOnly(boolean readOnly) {
                this.readOnly = readOnly;
                return this;
            }

            /** When appends reach the disk: {@link SyncPolicy} (default NEVER). */
            public Builder sync(SyncPolicy sync) {
                this.sync = Objects.requireNonNull(sync, "sync");
                return this;
            }

            /**
             * The period of {@link SyncPolicy#PERIODIC} group commit, 1 ms
             * to 1 hour in whole milliseconds (default 100 ms); another
             * policy ignores it.
             */
            public Builder syncPeriod(Duration period) {
                Objects.requireNonNull(period, "period");
                if (period.compareTo(Duration.ofMillis(1)) < 0 || period.compareTo(Duration.ofHours(1)) > 0
                        || period.getNano() % 1_000_000 != 0) {
                    throw new InvalidArgumentException("invalid argument: syncPeriod must be whole milliseconds"
                            + " from 1 ms to 1 hour, not " + period);
                }
                this.syncPeriodMs = (int) period.toMillis();
                return this;
            }

            /**
             * Bound the file descriptors the store keeps open, 4 or more
             * (libroche's default: a quarter of the process's limit, within
             * 16..4096); past it the namespaces used least recently are
             * closed, and opened again when next used.
             */
            public Builder maxOpenFiles(int maxOpenFiles) {
                if (maxOpenFiles < 4) {
                    throw new InvalidArgumentException("invalid argument: maxOpenFiles must be 4 or more, not "
                            + maxOpenFiles);
                }
                this.maxOpenFiles = maxOpenFiles;
                return this;
            }

            /**
             * Retention as an open option: about once a second the writer
             * applies {@link Roche#retain} to every namespace it has open,
             * dropping records older than maxAge and, per namespace, the
             * oldest beyond maxBytes. Duration.ZERO and 0 turn a limit off
             * (the default); an age is rounded up to whole milliseconds.
             */
            public Builder retention(Duration maxAge, long maxBytes) {
                Objects.requireNonNull(maxAge, "maxAge");
                if (maxAge.isNegative()) {
                    throw new InvalidArgumentException("invalid argument: maxAge must not be negative: " + maxAge);
                }
                checkMaxBytes(maxBytes);
                long ms;
                try {
                    ms = maxAge.toMillis();
                    if (maxAge.compareTo(Duration.ofMillis(ms)) > 0 && ms < Long.MAX_VALUE) {
                        ms++; // 0.5 ms is a limit, not none
                    }
                } catch (ArithmeticException huge) {
                    ms = Long.MAX_VALUE;
                }
                this.retentionAgeMs = ms;
                this.retentionBytes = maxBytes;
                return this;
            }

            /**
             * The header check of every record this store writes and
             * reads: {@link Format} (default ROCHE). ROCHEFORT for a store
             * a rochefort v0.5 server shares (libroche's
             * roche_options_set_format documents how the two take turns).
             */
            public Builder format(Format format) {
                this.format = Objects.requireNonNull(format, "format");
                return this;
            }

            public Options build() {
                return new Options(this);
            }
        }
    }
}
