package io.roche;

import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * A scan of one namespace in increasing offset order. Close it (try with
 * resources) to free its native iterator at once; one left to the garbage
 * collector is freed by a Cleaner, and closing the store frees it too.
 * A scan belongs to one thread at a time. To resume later, scan again from
 * the last offset seen + 1.
 *
 * <p>Records cross from native code in batches (roche_scan_next_batch: up
 * to {@link #BATCH} records, or fewer when values are large, about {@link
 * #BATCH_BYTES} a batch), one JNI call each, and are handed out one by one.
 * A batch holds copies: what it fetched stays valid whatever happens next.
 * Closing the scan or the store, or closing or deleting the scan's
 * namespace through this store, drops the records fetched and not handed
 * out yet, so the step after it fails as a step of an unbatched scan would
 * (IllegalStateException, NotFoundException).
 */
public final class Scan implements Iterator<Record>, AutoCloseable {
    /** The most records one native call of the iterator fetches. */
    public static final int BATCH = 1024;
    /** About the most value bytes one native call of the iterator fetches (at least one record). */
    public static final int BATCH_BYTES = 1 << 20;
    /** The most records {@link #nextBatch(int)} asks libroche for in one call. */
    static final int MAX_BATCH = 65536;
    /** The first fetch's size, before the values' sizes are known. */
    private static final int FIRST_BATCH = 64;

    private final State state;
    private final Cleaner.Cleanable cleanable;
    /** Keeps the store open while the scan is in use, even if the caller dropped it. */
    @SuppressWarnings("unused")
    private final Roche owner;
    /** The fetched batch: values[pos..count) and their offsets and times in meta. */
    private byte[][] values;
    private long[] meta = new long[0];
    private int pos;
    private int count;
    /** How many records the next fetch of the iterator asks for. */
    private int want = FIRST_BATCH;
    private boolean done;
    /** hasNext() said true: the record at pos is handed out next, whatever happened since. */
    private boolean promised;

    Scan(Roche owner, NativeStore store, long handle, byte[] ns, Cleaner cleaner) {
        this.owner = owner;
        this.state = new State(store, handle, ns);
        store.register(state);
        this.cleanable = cleaner.register(this, state);
    }

    @Override
    public boolean hasNext() {
        if (promised) {
            return true;
        }
        if (pos < count && !state.stale) {
            return promised = true;
        }
        if (done && pos >= count) {
            return false;
        }
        fetch(want);
        return promised = pos < count;
    }

    /** The next record; one that hasNext() promised is handed out even if the scan was closed since. */
    @Override
    public Record next() {
        if (!hasNext()) {
            throw new NoSuchElementException("the scan is at its end");
        }
        return take();
    }

    /**
     * The next records, up to max of them, in one native call when none
     * is fetched already (then at least one, unless the scan is at its end);
     * when the iterator holds records fetched before, some of those, with
     * no native call. An empty list at the end. Mixes freely with {@link
     * #next()}: each record comes once, in order. A max above 65,536 asks
     * for 65,536. A value too large for a Java array (2 GiB and more) ends
     * the list before it, and the call that reaches it throws.
     *
     * @throws InvalidArgumentException when max is below 1
     * @throws RocheException ETOOBIG when the first record is too large for a Java array
     */
    public List<Record> nextBatch(int max) {
        if (max < 1) {
            throw new InvalidArgumentException("nextBatch: max must be at least 1, not " + max);
        }
        if (!promised && (pos >= count || state.stale)) {
            if (done && pos >= count) {
                return Collections.emptyList();
            }
            fetch(Math.min(max, MAX_BATCH));
        }
        // A record hasNext() promised, alone if the scan went stale since.
        int n = promised && state.stale ? 1 : Math.min(max, count - pos);
        List<Record> batch = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            // A value too large for a Java array ends the list before it:
            // the records ahead of it are handed out, and the next call
            // throws for it (thrown now, they would be lost to the caller).
            if (values[pos] == null && !batch.isEmpty()) {
                break;
            }
            batch.add(take());
        }
        return batch;
    }

    private Record take() {
        promised = false;
        int i = pos++;
        byte[] value = values[i];
        values[i] = null; // the caller's now; the batch does not keep it alive
        if (value == null) {
            throw RocheException.of(RocheException.ETOOBIG, "the value at offset " + meta[i]
                    + " is larger than a Java array can hold", meta[i]);
        }
        return new Record(meta[i], value, meta[count + i]);
    }

    /** One native call for up to max records; at the end, done. */
    private void fetch(int max) {
        values = null;
        pos = count = 0;
        if (meta.length < 2 * max) {
            meta = new long[2 * max];
        }
        byte[][] batch = state.step(max, meta);
        if (batch == null || batch.length == 0) {
            done = true;
            return;
        }
        values = batch;
        count = batch.length;
        if (count < max) {
            // offsets then times, with the times moved next to the offsets
            System.arraycopy(meta, max, meta, count, count);
        }
        long bytes = 0;
        for (byte[] v : batch) {
            bytes += v == null ? 0 : v.length;
        }
        long average = Math.max(1, bytes / count);
        want = (int) Math.max(1, Math.min(BATCH, BATCH_BYTES / average));
    }

    /** Free the native iterator; idempotent. */
    @Override
    public void close() {
        values = null;
        pos = count = 0;
        promised = false;
        cleanable.clean();
    }

    @Override
    public String toString() {
        return "Scan[fetched=" + (count - pos) + (done ? ", at its end" : "") + "]";
    }

    /** The native iterator, apart from the Scan so the Cleaner can free it. */
    static final class State implements Runnable {
        private final NativeStore store;
        private final byte[] ns;
        private long handle; // 0 once freed
        /**
         * Set when the records fetched must not be handed out: the scan or
         * the store was closed, or the namespace closed or deleted through
         * this store. The next step then asks libroche, which says why.
         */
        volatile boolean stale;

        State(NativeStore store, long handle, byte[] ns) {
            this.store = store;
            this.handle = handle;
            this.ns = ns;
        }

        /** Up to max records (their offsets in meta[0, n), times in meta[max, max + n)), or null at the end. */
        byte[][] step(int max, long[] meta) {
            store.enter();
            try {
                synchronized (this) {
                    if (handle == 0) {
                        throw new IllegalStateException("this scan is closed");
                    }
                    return Native.scanNextBatch(handle, max, meta);
                }
            } finally {
                store.leave();
            }
        }

        /** Roche.closeNamespace or deleteNamespace of name (null: the default namespace). */
        void namespaceClosed(byte[] name) {
            if (sameNamespace(ns, name)) {
                stale = true;
            }
        }

        private static final byte[] DEFAULT = {'d', 'e', 'f', 'a', 'u', 'l', 't', 0};

        /** Names as Roche passes them: NUL-terminated UTF-8, or null for the default ("" too). */
        static boolean sameNamespace(byte[] a, byte[] b) {
            return Arrays.equals(a == null || a.length <= 1 ? DEFAULT : a, b == null || b.length <= 1 ? DEFAULT : b);
        }

        /** Called with the store's read or write lock held. */
        synchronized void free() {
            stale = true;
            if (handle != 0) {
                Native.scanFree(handle);
                handle = 0;
            }
        }

        /** Close or Cleaner: a closed store has freed this already. */
        @Override
        public void run() {
            stale = true;
            try {
                store.enter();
            } catch (IllegalStateException storeClosed) {
                return;
            }
            try {
                free();
                store.unregister(this);
            } finally {
                store.leave();
            }
        }
    }
}
