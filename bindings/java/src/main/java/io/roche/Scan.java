package io.roche;

import java.lang.ref.Cleaner;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * A scan of one namespace in increasing offset order. Close it (try with
 * resources) to free its native iterator at once; one left to the garbage
 * collector is freed by a Cleaner, and closing the store frees it too.
 * A scan belongs to one thread at a time. To resume later, scan again from
 * the last offset seen + 1.
 */
public final class Scan implements Iterator<Record>, AutoCloseable {
    private final State state;
    private final Cleaner.Cleanable cleanable;
    /** Keeps the store open while the scan is in use, even if the caller dropped it. */
    @SuppressWarnings("unused")
    private final Roche owner;
    private Record next;
    private boolean done;

    Scan(Roche owner, NativeStore store, long handle, Cleaner cleaner) {
        this.owner = owner;
        this.state = new State(store, handle);
        store.register(state);
        this.cleanable = cleaner.register(this, state);
    }

    @Override
    public boolean hasNext() {
        if (next == null && !done) {
            next = state.step();
            done = next == null;
        }
        return next != null;
    }

    @Override
    public Record next() {
        if (!hasNext()) {
            throw new NoSuchElementException("the scan is at its end");
        }
        Record record = next;
        next = null;
        return record;
    }

    /** Free the native iterator; idempotent. */
    @Override
    public void close() {
        cleanable.clean();
    }

    /** The native iterator, apart from the Scan so the Cleaner can free it. */
    static final class State implements Runnable {
        private final NativeStore store;
        private long handle; // 0 once freed

        State(NativeStore store, long handle) {
            this.store = store;
            this.handle = handle;
        }

        /** The next record, or null at the end. */
        Record step() {
            store.enter();
            try {
                synchronized (this) {
                    if (handle == 0) {
                        throw new IllegalStateException("this scan is closed");
                    }
                    return Native.scanNext(handle);
                }
            } finally {
                store.leave();
            }
        }

        /** Called with the store's read or write lock held. */
        synchronized void free() {
            if (handle != 0) {
                Native.scanFree(handle);
                handle = 0;
            }
        }

        /** Close or Cleaner: a closed store has freed this already. */
        @Override
        public void run() {
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
