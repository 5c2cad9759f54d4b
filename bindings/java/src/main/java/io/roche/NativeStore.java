package io.roche;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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
    /**
     * Stores not closed yet. A Cleaner never runs at exit, so a store still
     * open then would keep its reserved file space until the next open's
     * recovery; the shutdown hook closes these as close() would (trimmed
     * files, lock released). Holding a NativeStore keeps no Roche reachable:
     * the Cleaner holds it already.
     */
    private static final Set<NativeStore> OPEN = ConcurrentHashMap.newKeySet();

    static {
        try {
            Runtime.getRuntime().addShutdownHook(new Thread(NativeStore::closeAllAtExit, "roche-close-at-exit"));
        } catch (IllegalStateException shuttingDown) {
            // The first store opened during shutdown: its next open recovers it.
        }
    }

    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final Lock reading = lock.readLock();
    private final long db;
    private boolean closed; // written under the write lock
    /** Set before close takes the write lock: followers about to wait give up instead. */
    private volatile boolean closing;
    /** Live scan iterators: libroche wants them freed before the handle. */
    private final Set<Scan.State> scans = Collections.synchronizedSet(
            Collections.newSetFromMap(new IdentityHashMap<>()));
    /** Live followers: freed before the handle too, and woken first so close never waits on one. */
    private final Set<Follower.State> followers = Collections.synchronizedSet(
            Collections.newSetFromMap(new IdentityHashMap<>()));

    NativeStore(long db) {
        this.db = db;
        OPEN.add(this);
    }

    /** Closes what is still open; calls in flight finish first, later ones see the store closed. */
    private static void closeAllAtExit() {
        for (NativeStore store : OPEN) {
            store.run();
        }
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

    /** Scans of ns drop what they fetched: their next step asks libroche (ns closed or deleted, or tried to be). */
    void namespaceClosed(byte[] ns) {
        synchronized (scans) {
            for (Scan.State scan : scans) {
                scan.namespaceClosed(ns);
            }
        }
    }

    void register(Follower.State follower) { followers.add(follower); }

    void unregister(Follower.State follower) { followers.remove(follower); }

    /** Whether close has begun; read by a follower (holding the read lock) before it waits. */
    boolean closing() {
        return closing;
    }

    /**
     * Free the followers and scans, then the handle; the first call does the
     * work. A follower waiting for a record holds the read lock: it is woken
     * first (closing is set before, so one that starts to wait after the
     * wake sees it, or meets the wake libroche keeps for its next call).
     */
    void close() {
        closing = true;
        Follower.State[] waiting;
        synchronized (followers) {
            waiting = followers.toArray(new Follower.State[0]);
        }
        for (Follower.State follower : waiting) {
            follower.wake();
        }
        lock.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            OPEN.remove(this);
            Scan.State[] open;
            synchronized (scans) {
                open = scans.toArray(new Scan.State[0]);
                scans.clear();
            }
            for (Scan.State scan : open) {
                scan.free();
            }
            Follower.State[] live;
            synchronized (followers) {
                live = followers.toArray(new Follower.State[0]);
                followers.clear();
            }
            for (Follower.State follower : live) {
                follower.free();
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
