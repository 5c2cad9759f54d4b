package io.roche;

import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;

/**
 * A value read in place by {@link Roche#getView}: a read-only direct
 * ByteBuffer over libroche's own bytes (the store's mapping, or on a
 * read-only store a native copy), with no copy into the Java heap.
 *
 * <pre>
 * try (ValueView v = db.getView("events", off)) {
 *     ByteBuffer bytes = v.buffer();   // read-only, direct, no copy
 *     ...
 * }
 * </pre>
 *
 * The bytes are pinned (libroche's roche_get_view) and stay valid and
 * unchanged whatever happens meanwhile: appends, {@link
 * Roche#closeNamespace}, {@link Roche#deleteNamespace}, even {@link
 * Roche#close}. Retention is the one exception: on a writable store the
 * bytes read as zeros once {@link Roche#retain} (or the retention option)
 * frees their block; that is no crash, but copy with {@link #toArray} what
 * you keep while retention runs.
 *
 * <p><b>How long the pin lasts.</b> Java cannot revoke a direct buffer, so
 * the pin lasts as long as a buffer can read it:
 * <ul>
 * <li>{@link #close} before any {@link #buffer} call releases the pin at
 *     once (use {@link #toArray} or {@link #length} only, and the view
 *     costs nothing once closed);
 * <li>once {@link #buffer} has handed a buffer out, {@link #close} ends the
 *     view (its methods throw IllegalStateException) but the pin is
 *     released by a Cleaner when no buffer from it (nor a duplicate or slice
 *     of one) is reachable any more, as the JDK unmaps a MappedByteBuffer.
 *     A buffer read after close therefore reads the right bytes, never
 *     released memory.
 * </ul>
 * A pin holds its namespace's mapping (and a deleted namespace's disk
 * space): drop buffers promptly, or copy with {@link #toArray}.
 *
 * <p>A view left to the garbage collector is released the same way. A view
 * may be shared between threads: {@link #close} waits for a {@link
 * #toArray} in flight and releases the value exactly once; a second close
 * does nothing.
 */
public final class ValueView implements AutoCloseable {
    /**
     * The native buffer: writable to JNI, so it never leaves this class;
     * callers get read-only duplicates. Null once closed, so that a closed
     * view does not keep the pin: only buffers handed out do. Guarded by
     * state.
     */
    private ByteBuffer raw;
    private final State state;
    private final Cleaner.Cleanable cleanable;

    /** Called from native code (Native.getView), which owns the pin until this returns. */
    private ValueView(long handle, ByteBuffer raw) {
        this.raw = raw;
        this.state = new State(handle);
        // Registered on the buffer rather than on the view: every duplicate,
        // read-only view or slice of a direct buffer keeps the one it came
        // from reachable, so the Cleaner cannot free the bytes under a buffer
        // still in use. Last, so that a failure leaves the pin to the native
        // caller to release.
        this.cleanable = Roche.CLEANER.register(raw, state);
    }

    /**
     * A new read-only direct buffer over the value, position 0, limit its
     * length; each call gives an independent position and limit. It stays
     * readable after {@link #close} (see above: the pin then lasts until no
     * such buffer is reachable).
     *
     * @throws IllegalStateException when the view is closed
     */
    public ByteBuffer buffer() {
        synchronized (state) {
            state.check();
            state.lent = true;
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

    /**
     * End the view. The pin is released now when no buffer was handed out,
     * else once no buffer from {@link #buffer} is reachable. Idempotent.
     */
    @Override
    public void close() {
        boolean now;
        synchronized (state) {
            if (state.closed) {
                return;
            }
            state.closed = true;
            raw = null;
            now = !state.lent;
        }
        if (now) {
            cleanable.clean();
        }
    }

    /** The pin, apart from the view so the Cleaner can release it. */
    static final class State implements Runnable {
        private long handle; // 0 once released; guarded by this
        /** close() was called; guarded by this. */
        boolean closed;
        /** buffer() handed a buffer out: only the Cleaner may release the pin. Guarded by this. */
        boolean lent;

        State(long handle) {
            this.handle = handle;
        }

        /** Called holding this. */
        void check() {
            if (closed || handle == 0) {
                throw new IllegalStateException("this ValueView is closed");
            }
        }

        /** Close (no buffer lent) or Cleaner, once: waits for a toArray in flight. Needs no store: the view outlives it. */
        @Override
        public synchronized void run() {
            if (handle != 0) {
                Native.viewRelease(handle);
                handle = 0;
            }
        }
    }
}
