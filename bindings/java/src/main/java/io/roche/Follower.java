package io.roche;

import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.spi.AbstractInterruptibleChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * A follower of one namespace, from {@link Roche#follow} or {@link
 * Roche#followCursor}: its records as they are appended, by this store or
 * by a writer in another process, like a tail of a log.
 *
 * <pre>
 * try (Follower f = db.followCursor("events", "mailer")) {
 *     while (running) {
 *         Record r = f.next(Duration.ofSeconds(1));   // null: nothing new in time
 *         if (r != null) { handle(r); f.commit("mailer"); }
 *     }
 * }
 * </pre>
 *
 * Each bucket's records come in offset order, once each, with no gaps;
 * records of different buckets are not ordered with respect to each other.
 * {@link #position()} (one offset per bucket) or a cursor ({@link #commit})
 * restarts a follower where this one stopped, missing nothing and repeating
 * nothing.
 *
 * <p>Waiting: {@link #next(Duration)} and {@link #next()}, and {@link
 * #nextBatch(int, Duration)} and {@link #nextBatch(int)} for a list of
 * records at a time, sleep in libroche's futex wait (no polling, no CPU)
 * until a record comes.
 * <ul>
 * <li>Timeout: {@link #next(Duration)} returns null, {@link
 *     #nextBatch(int, Duration)} an empty list.
 * <li>{@link #wake()}, from any thread: the waiting call (or, when none
 *     waits, the next one) throws {@link CanceledException},
 *     once per wake, as Kafka's consumer throws WakeupException.
 * <li>{@link Thread#interrupt()} of the waiting thread: the call throws
 *     InterruptedException (the interrupt status cleared, as is the rule).
 *     A blocking call made with the status already set throws at once.
 * <li>{@link #close()} or the store's close from another thread: the
 *     waiting call returns at once and throws IllegalStateException.
 * </ul>
 * {@link #iterator()} and {@link #stream()} block for each record and end
 * (hasNext() false) at a wake or an interrupt (the interrupt status is then
 * left set).
 *
 * <p>Other failures: {@link DroppedException} when retention
 * dropped records this follower had not read yet ({@link
 * DroppedException#offset()} is where it was in that bucket;
 * the next call goes on from the bucket's first record kept);
 * CorruptException for a damaged record (the next call goes on past it);
 * NotFoundException when the namespace was deleted.
 *
 * <p>Records cross from native code in batches (roche_follow_next_batch,
 * sized as a {@link Scan}'s) and are handed out one by one, or as a list
 * by {@link #nextBatch(int)} (one native call for up to max records);
 * {@link #position()} and {@link #commit} count only the records handed
 * out. A wake comes before records already fetched, which follow it.
 * Records fetched before a retention pass dropped them are still handed
 * out.
 *
 * <p>A follower belongs to one thread at a time; {@link #wake()} and {@link
 * #close()} may come from any thread. Close it (try with resources) to free
 * it; one left to the garbage collector is freed by a Cleaner, and closing
 * the store frees it too. Every call after close throws
 * IllegalStateException.
 */
public final class Follower implements Iterable<Record>, AutoCloseable {
    /** What {@link #fill} found: nothing within the timeout, records to hand out, or a wake not asked for. */
    private static final int NONE = 0, READY = 1, AGAIN = 2;

    private final State state;
    private final Cleaner.Cleanable cleanable;
    /** Keeps the store open while the follower is in use, even if the caller dropped it. */
    @SuppressWarnings("unused")
    private final Roche owner;

    /** The namespace, for a commit of a position that records fetched and not handed out move back. */
    private final byte[] ns;
    /** The fetched batch, as Scan's: values[pos..count), offsets in meta[0, count), times after them. */
    private byte[][] values;
    private long[] meta = new long[0];
    private int pos;
    private int count;
    /** How many records the next fetch asks for (Scan's rule: up to Scan.BATCH, about Scan.BATCH_BYTES). */
    private int want = 64;

    Follower(Roche owner, NativeStore store, long handle, byte[] ns, Cleaner cleaner) {
        this.owner = owner;
        this.ns = ns;
        this.state = new State(store, handle);
        store.register(state);
        this.cleanable = cleaner.register(this, state);
    }

    /** The next record if one is there now, else null; never waits. */
    public Record poll() {
        try {
            return fillNow(want) ? take() : null;
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * The next record, waiting for one as long as it takes.
     *
     * @throws CanceledException when {@link #wake()} was called
     * @throws InterruptedException when the thread is interrupted
     */
    public Record next() throws InterruptedException {
        return await(-1, want) ? take() : null;
    }

    /**
     * The next record, waiting up to timeout for one; null when none came in
     * time. A timeout of zero or less does not wait (as {@link #poll()}).
     *
     * @throws CanceledException when {@link #wake()} was called
     * @throws InterruptedException when the thread is interrupted
     */
    public Record next(Duration timeout) throws InterruptedException {
        long nanos = nanos(timeout);
        if (nanos == 0) {
            return poll();
        }
        return await(nanos, want) ? take() : null;
    }

    /**
     * The next records, up to max of them, waiting for the first as long as
     * it takes (as {@link #next()}): in one native call when none is
     * fetched already (then as many as are there, at least one, without
     * waiting for more); when the follower holds records fetched before,
     * some of those, with no native call. Never empty. Mixes freely with
     * {@link #next()} and {@link #poll()}: each record comes once, in its
     * bucket's order, and {@link #position()} counts the records handed
     * out. A max above 65,536 asks for 65,536.
     *
     * @throws InvalidArgumentException when max is below 1
     * @throws CanceledException when {@link #wake()} was called
     * @throws InterruptedException when the thread is interrupted
     */
    public List<Record> nextBatch(int max) throws InterruptedException {
        checkMax(max);
        return await(-1, Math.min(max, Scan.MAX_BATCH)) ? takeUpTo(max) : Collections.emptyList();
    }

    /**
     * {@link #nextBatch(int)}, waiting up to timeout for the first record
     * (as {@link #next(Duration)}): an empty list when none came in time. A
     * timeout of zero or less does not wait: the records there now, or an
     * empty list.
     *
     * @throws InvalidArgumentException when max is below 1
     * @throws CanceledException when {@link #wake()} was called
     * @throws InterruptedException when the thread is interrupted (never
     *         with a timeout of zero or less, as {@link #poll()})
     */
    public List<Record> nextBatch(int max, Duration timeout) throws InterruptedException {
        checkMax(max);
        long nanos = nanos(timeout);
        int ask = Math.min(max, Scan.MAX_BATCH);
        boolean ready;
        if (nanos == 0) {
            try {
                ready = fillNow(ask);
            } finally {
                Reference.reachabilityFence(this);
            }
        } else {
            ready = await(nanos, ask);
        }
        return ready ? takeUpTo(max) : Collections.emptyList();
    }

    private static void checkMax(int max) {
        if (max < 1) {
            throw new InvalidArgumentException("nextBatch: max must be at least 1, not " + max);
        }
    }

    /** A timeout in ns: 0 for none (zero or negative), -1 for one past a long's range (for ever). */
    private static long nanos(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            return 0;
        }
        try {
            return timeout.toNanos();
        } catch (ArithmeticException centuries) {
            return -1;
        }
    }

    /** fill(0, max) until it answers: a wake left by an interrupt or a close makes it look again. */
    private boolean fillNow(int max) {
        int got;
        do {
            got = fill(0, max);
        } while (got == AGAIN);
        return got == READY;
    }

    /**
     * Waits up to nanos (-1: for ever) for records to hand out: true when
     * there are some (fetched with up to max in one native call, when none
     * was fetched already), false when none came in time.
     */
    private boolean await(long nanos, int max) throws InterruptedException {
        try {
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            long deadline = System.nanoTime() + nanos;
            while (true) {
                // What is there now, with no interruptible section to set up.
                int got = fill(0, max);
                if (got == AGAIN) {
                    continue;
                }
                if (got == READY) {
                    return true;
                }
                int ms = -1;
                if (nanos >= 0) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return false;
                    }
                    ms = (int) Math.min(Integer.MAX_VALUE, (left + 999_999) / 1_000_000);
                }
                // The wait: an interrupt runs Waiter.implCloseChannel on the
                // interrupting thread, which wakes the native wait.
                Waiter waiter = new Waiter(state);
                boolean interrupted = false;
                got = NONE;
                try {
                    waiter.enter();
                    got = fill(ms, max);
                } finally {
                    try {
                        waiter.exit(true);
                    } catch (ClosedByInterruptException e) {
                        interrupted = true;
                    } catch (AsynchronousCloseException notOurs) {
                        // Only an interrupt closes a Waiter.
                    }
                }
                if (interrupted) {
                    if (got == READY) {
                        return true; // the interrupt status stays set for the next wait
                    }
                    Thread.interrupted();
                    throw new InterruptedException();
                }
                if (got == READY || got == NONE && ms >= 0 && deadline - System.nanoTime() <= 0) {
                    return got == READY;
                }
            }
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * One native call at most: READY when records are there to hand out;
     * NONE when none came within timeoutMs; AGAIN when a wake came that the
     * caller did not ask for (an interrupt's).
     */
    private int fill(int timeoutMs, int max) {
        if (pos < count) {
            // Records fetched before: handed out with no native call, unless
            // a wake, a close or the store's close came since, which the
            // native call would have reported first.
            state.checkOpen();
            if (state.userWoken.getAndSet(false)) {
                // libroche's own wake, if it lands after this, only makes
                // the next native call report AGAIN, which looks again.
                throw (CanceledException) RocheException.of(RocheException.ECANCELED,
                        "the follower was woken (wake())");
            }
            return READY;
        }
        try {
            return fetch(timeoutMs, max) ? READY : NONE;
        } catch (CanceledException e) {
            if (state.userWoken.getAndSet(false)) {
                throw e;
            }
            state.checkOpen(); // woken by a close
            return AGAIN;
        }
    }

    /** One native call for up to max records; false when none came within timeoutMs. */
    private boolean fetch(int timeoutMs, int max) {
        if (meta.length < 2 * max) {
            meta = new long[2 * max];
        }
        byte[][] batch = state.step(timeoutMs, max, meta);
        if (batch == null || batch.length == 0) {
            return false;
        }
        values = batch;
        pos = 0;
        count = batch.length;
        if (count < max) {
            System.arraycopy(meta, max, meta, count, count); // the times next to the offsets
        }
        long bytes = 0;
        for (byte[] v : batch) {
            bytes += v == null ? 0 : v.length;
        }
        want = (int) Math.max(1, Math.min(Scan.BATCH, Scan.BATCH_BYTES / Math.max(1, bytes / count)));
        return true;
    }

    /**
     * Up to max of the records fetched (at least one). A value too large
     * for a Java array ends the list before it, so the records ahead of it
     * are handed out; it throws at its turn, alone, as from {@link #next()}.
     */
    private List<Record> takeUpTo(int max) {
        int n = Math.min(max, count - pos);
        List<Record> batch = new ArrayList<>(n);
        for (int i = 0; i < n && (batch.isEmpty() || values[pos] != null); i++) {
            batch.add(take());
        }
        return batch;
    }

    private Record take() {
        int i = pos++;
        byte[] value = values[i];
        long offset = meta[i];
        long timeNs = meta[count + i];
        values[i] = null; // the caller's now
        if (pos == count) {
            values = null;
            pos = count = 0;
        }
        if (value == null) {
            throw RocheException.of(RocheException.ETOOBIG, "the value at offset " + offset
                    + " is larger than a Java array can hold", offset);
        }
        return new Record(offset, value, timeNs);
    }

    /**
     * Wake this follower from any thread: the call waiting in it throws
     * {@link CanceledException} now, or the next call does at
     * once if none is waiting.
     *
     * @throws IllegalStateException when the follower or its store is closed
     */
    public void wake() {
        state.userWoken.set(true); // before libroche's wake: the call it ends sees it
        if (!state.wake()) {
            state.userWoken.set(false);
            throw new IllegalStateException("this follower is closed");
        }
    }

    /**
     * Where the follower goes on: for each bucket 0..n-1, the offset after
     * the last record it returned (or where it starts). Pass it to {@link
     * Roche#follow(String, long...)} or {@link Roche#commitCursor} to resume.
     */
    public long[] position() {
        try {
            return fetchedBack(state.position());
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * The native position moved back, in each bucket that has records
     * fetched and not handed out yet, to the first of them (a bucket's
     * records come in order, so that is where it goes on).
     */
    private long[] fetchedBack(long[] position) {
        long seen = 0; // buckets past 63 are rare: checked the long way
        for (int i = pos; i < count; i++) {
            long offset = meta[i];
            int bucket = (int) (offset >>> 50);
            if (bucket >= position.length) {
                continue;
            }
            if (bucket < 64) {
                if ((seen & (1L << bucket)) != 0) {
                    continue;
                }
                seen |= 1L << bucket;
            } else if (firstOf(bucket) != i) {
                continue;
            }
            position[bucket] = offset;
        }
        return position;
    }

    private int firstOf(int bucket) {
        for (int i = pos; i < count; i++) {
            if ((int) (meta[i] >>> 50) == bucket) {
                return i;
            }
        }
        return -1;
    }

    /** Save {@link #position()} under a cursor name of this follower's namespace ({@link Roche#commitCursor}). */
    public void commit(String cursor) {
        byte[] name = Roche.cursor(cursor);
        try {
            if (pos < count) {
                state.commit(ns, name, position());
            } else {
                state.commit(name);
            }
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * The records as they come: hasNext() waits for the next one, and
     * returns false once the follower is woken ({@link #wake()}) or the
     * thread interrupted (its interrupt status is left set). Each call gives
     * a new iterator over the same follower.
     */
    @Override
    public Iterator<Record> iterator() {
        return new Iterator<Record>() {
            private Record next;
            private boolean done;

            @Override
            public boolean hasNext() {
                if (next == null && !done) {
                    try {
                        next = Follower.this.next();
                    } catch (CanceledException woken) {
                        done = true;
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        done = true;
                    }
                }
                return next != null;
            }

            @Override
            public Record next() {
                if (!hasNext()) {
                    throw new NoSuchElementException("the follower was woken or interrupted");
                }
                Record record = next;
                next = null;
                return record;
            }
        };
    }

    /**
     * {@link #iterator()} as a sequential Stream: it ends at a wake or an
     * interrupt. Closing the stream leaves the follower open.
     */
    public Stream<Record> stream() {
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(
                iterator(), Spliterator.ORDERED | Spliterator.NONNULL), false);
    }

    /** Free the follower; a call waiting in it on another thread returns first. Idempotent. */
    @Override
    public void close() {
        cleanable.clean();
    }

    /** Ends a native wait when the waiting thread is interrupted (the public hook for it). */
    private static final class Waiter extends AbstractInterruptibleChannel {
        private final State state;

        Waiter(State state) {
            this.state = state;
        }

        void enter() {
            begin();
        }

        void exit(boolean completed) throws AsynchronousCloseException {
            end(completed);
        }

        /** Runs on the interrupting thread. */
        @Override
        protected void implCloseChannel() {
            state.wake();
        }
    }

    /** The native follower, apart from the Follower so the Cleaner can free it. */
    static final class State implements Runnable {
        private final NativeStore store;
        /** 0 once freed. Read and written holding this (the follower's calls); written holding wakeLock too. */
        private long handle;
        /** Held by wake and free only: wake must not wait for a call in flight, nor meet a freed handle. */
        private final Object wakeLock = new Object();
        private volatile boolean closing;
        /** A {@link Follower#wake()} not reported yet, told apart from the wakes of interrupts and closes. */
        final AtomicBoolean userWoken = new AtomicBoolean();

        State(NativeStore store, long handle) {
            this.store = store;
            this.handle = handle;
        }

        void checkOpen() {
            if (closing || store.closing()) {
                throw new IllegalStateException(closing ? "this follower is closed" : "this Roche store is closed");
            }
        }

        /** Up to max records (as Native.followNextBatch), or null when none came within timeoutMs (-1: for ever). */
        byte[][] step(int timeoutMs, int max, long[] meta) {
            store.enter();
            try {
                synchronized (this) {
                    if (handle == 0) {
                        throw new IllegalStateException("this follower is closed");
                    }
                    checkOpen();
                    return Native.followNextBatch(handle, timeoutMs, max, meta);
                }
            } finally {
                store.leave();
            }
        }

        /** Commit a position (the follower's, moved back over records fetched) to a cursor of ns. */
        void commit(byte[] ns, byte[] cursor, long[] position) {
            long db = store.enter();
            try {
                synchronized (this) {
                    if (handle == 0) {
                        throw new IllegalStateException("this follower is closed");
                    }
                    Native.cursorCommit(db, ns, cursor, position);
                }
            } finally {
                store.leave();
            }
        }

        long[] position() {
            store.enter();
            try {
                synchronized (this) {
                    if (handle == 0) {
                        throw new IllegalStateException("this follower is closed");
                    }
                    return Native.followPosition(handle);
                }
            } finally {
                store.leave();
            }
        }

        void commit(byte[] cursor) {
            store.enter();
            try {
                synchronized (this) {
                    if (handle == 0) {
                        throw new IllegalStateException("this follower is closed");
                    }
                    Native.followCommit(handle, cursor);
                }
            } finally {
                store.leave();
            }
        }

        /** libroche's wake, from any thread; false when the follower is freed already. */
        boolean wake() {
            synchronized (wakeLock) {
                if (handle == 0) {
                    return false;
                }
                Native.followWake(handle);
                return true;
            }
        }

        /** Called with the store's read or write lock held; waits for a call in flight, which it wakes first. */
        void free() {
            closing = true;
            wake();
            synchronized (this) {
                synchronized (wakeLock) {
                    if (handle != 0) {
                        Native.followFree(handle);
                        handle = 0;
                    }
                }
            }
        }

        /** Close or Cleaner: a closed store has freed this already. */
        @Override
        public void run() {
            closing = true; // a call about to wait gives up rather than hold up the close
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
