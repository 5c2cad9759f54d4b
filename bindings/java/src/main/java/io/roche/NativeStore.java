package io.roche;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The native handle and what guards it. It holds no reference to its Roche,
 * so the Cleaner can run it once the Roche is unreachable.
 *
 * Every call holds the read side of the lock while it is inside native code;
 * close takes the write side, so it waits for calls in flight and never
 * frees the handle under them.
 */
final class NativeStore implements Runnable {
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final Lock reading = lock.readLock();
    private final long db;
    private boolean closed; // written under the write lock
    /** Live scan iterators: libroche wants them freed before the handle. */
    private final Set<Scan.State> scans = Collections.synchronizedSet(
            Collections.newSetFromMap(new IdentityHashMap<>()));

    NativeStore(long db) {
        this.db = db;
    }

    /** Enter a call: returns the handle with the read lock held. Pair with {@link #leave}. */
    long enter() {
        reading.lock();
        if (closed) {
            reading.unlock();
            throw new IllegalStateException("this Roche store is closed");
        }
        return db;
    }

    void leave() {
        reading.unlock();
    }

    void register(Scan.State scan) { scans.add(scan); }

    void unregister(Scan.State scan) { scans.remove(scan); }

    /** Free the scans, then the handle; the first call does the work. */
    void close() {
        lock.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            Scan.State[] open;
            synchronized (scans) {
                open = scans.toArray(new Scan.State[0]);
                scans.clear();
            }
            for (Scan.State scan : open) {
                scan.free();
            }
            Native.close(db);
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** The Cleaner's action for a store dropped without close. */
    @Override
    public void run() {
        try {
            close();
        } catch (RocheException ignored) {
            // Nobody is left to tell; the next open recovers the files.
        }
    }
}
