package io.roche;

import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A value read in place by {@link Roche#getView}: a read-only direct
 * ByteBuffer over libroche's own bytes (the store's mapping, or on a
 * read-only store a native copy), with no copy into the Java heap.
 *
 * <pre>
 * try (ValueView v = db.getView("events", off)) {
 *     ByteBuffer bytes = v.buffer();   // read it here, inside the try
 *     ...
 * }
 * </pre>
 *
 * The bytes stay valid and unchanged until {@link #close}, whatever happens
 * meanwhile: appends, {@link Roche#closeNamespace}, {@link
 * Roche#deleteNamespace}, even {@link Roche#close} (the view pins the
 * namespace's mapping, so close views promptly: a pinned mapping of a
 * deleted namespace keeps its disk space until released). Retention is the
 * one exception: on a writable store the bytes read as zeros once {@link
 * Roche#retain} (or the retention option) frees their block; that is no
 * crash, but copy with {@link #toArray} what you keep while retention runs.
 *
 * <p><b>A buffer must not be used after the view is closed.</b> Java cannot
 * revoke a direct ByteBuffer: reading one from {@link #buffer} (or any
 * duplicate or slice of it) after {@link #close} reads memory libroche has
 * released, and may crash the JVM. {@link #buffer}, {@link #toArray} and
 * {@link #length} throw IllegalStateException once the view is closed; a
 * buffer obtained before cannot. Copy with {@link #toArray} what must
 * outlive the view.
 *
 * <p>A view left to the garbage collector is released by a Cleaner once
 * neither the view nor any buffer from {@link #buffer} is reachable. A view
 * may be shared between threads: {@link #close} waits for a {@link #toArray}
 * in flight and releases the value exactly once; a second close does
 * nothing.
 */
public final class ValueView implements AutoCloseable {
    /** The native buffer: writable to JNI, so it never leaves this class; callers get read-only duplicates. */
    private final ByteBuffer raw;
    private final State state;
    private final Cleaner.Cleanable cleanable;
    private final AtomicBoolean closed = new AtomicBoolean();

    /** Called from native code (Native.getView), which owns the pin until this returns. */
    private ValueView(long handle, ByteBuffer raw) {
        this.raw = raw;
        this.state = new State(handle);
        // Registered on the buffer rather than on the view: every duplicate of
        // a direct buffer keeps the one it came from reachable, so the
        // Cleaner cannot free the bytes under a buffer still in use. Last,
        // so that a failure leaves the pin to the native caller to release.
        this.cleanable = Roche.CLEANER.register(raw, state);
    }

    /**
     * A new read-only direct buffer over the value, position 0, limit its
     * length; each call gives an independent position and limit. It must
     * not be used after {@link #close}.
     *
     * @throws IllegalStateException when the view is closed
     */
    public ByteBuffer buffer() {
        synchronized (state) {
            state.check();
            return raw.asReadOnlyBuffer();
        }
    }

    /** The value's length in bytes. @throws IllegalStateException when the view is closed */
    public int length() {
        synchronized (state) {
            state.check();
            return raw.capacity();
        }
    }

    /** A copy of the value on the Java heap, which outlives the view. @throws IllegalStateException when closed */
    public byte[] toArray() {
        synchronized (state) {
            state.check();
            byte[] copy = new byte[raw.capacity()];
            raw.duplicate().get(copy);
            return copy;
        }
    }

    /** Release the value; buffers from {@link #buffer} must not be used afterwards. Idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            cleanable.clean();
        }
    }

    /** The pin, apart from the view so the Cleaner can release it. */
    static final class State implements Runnable {
        private long handle; // 0 once released; guarded by this

        State(long handle) {
            this.handle = handle;
        }

        /** Called holding this. */
        void check() {
            if (handle == 0) {
                throw new IllegalStateException("this ValueView is closed");
            }
        }

        /** Close or Cleaner, once: waits for a toArray in flight. Needs no store: the view outlives it. */
        @Override
        public synchronized void run() {
            if (handle != 0) {
                Native.viewRelease(handle);
                handle = 0;
            }
        }
    }
}
