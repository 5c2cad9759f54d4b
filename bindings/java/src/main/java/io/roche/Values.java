package io.roche;

import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * The result of {@link Roche#multiGet}: one item per requested offset, in
 * request order, each with its own status, so one bad offset does not lose
 * the others.
 *
 * <pre>
 * for (Values.Item item : db.multiGet("events", offsets)) {
 *     if (item.isOk()) use(item.offset(), item.value());
 *     else log(item.offset(), item.error());      // the exception a get would throw
 * }
 * </pre>
 *
 * Each value array is handed out as it is (by {@link #get}, {@link
 * #toArray} and the items), not copied per call: it belongs to the caller,
 * and Values itself never reads it again.
 */
public final class Values implements Iterable<Values.Item> {
    private final byte[][] values;
    private final int[] statuses;
    private final long[] offsets;

    Values(byte[][] values, int[] statuses, long[] offsets) {
        this.values = values;
        this.statuses = statuses;
        this.offsets = offsets.clone(); // the caller may reuse its array
    }

    public int size() { return values.length; }

    /** 0 when item i was read, else the ROCHE_E* code a get of it would raise. */
    public int status(int i) { return statuses[i]; }

    public boolean isOk(int i) { return statuses[i] == 0; }

    /** The offset item i asked for. */
    public long offset(int i) { return offsets[i]; }

    /** Item i's value, or the typed exception a get of its offset would throw. */
    public byte[] get(int i) {
        RocheException e = error(i);
        if (e != null) {
            throw e;
        }
        return values[i];
    }

    /** The exception a get of item i's offset would throw, or null when it was read. */
    public RocheException error(int i) {
        if (statuses[i] == 0) {
            return null;
        }
        return RocheException.of(statuses[i], "item " + i + ": " + Native.strerror(statuses[i]), offsets[i]);
    }

    /**
     * Every value in request order; failed items are null. A new array at
     * each call: changing it changes nothing here.
     */
    public byte[][] toArray() { return values.clone(); }

    /** Item i. */
    public Item item(int i) {
        if (i < 0 || i >= values.length) {
            throw new IndexOutOfBoundsException("item " + i + " of " + values.length);
        }
        return new Item(i);
    }

    /** The items in request order, failed ones included (for-each never throws for a bad offset). */
    @Override
    public Iterator<Item> iterator() {
        return new Iterator<Item>() {
            private int next;

            @Override
            public boolean hasNext() {
                return next < values.length;
            }

            @Override
            public Item next() {
                if (next >= values.length) {
                    throw new NoSuchElementException("no item " + next + " of " + values.length);
                }
                return new Item(next++);
            }
        };
    }

    @Override
    public String toString() {
        int failed = 0;
        for (int status : statuses) {
            if (status != 0) {
                failed++;
            }
        }
        return "Values[size=" + values.length + ", failed=" + failed + "]";
    }

    /** One item of a multiGet: its offset and either its value or its error. */
    public final class Item {
        private final int index;

        private Item(int index) {
            this.index = index;
        }

        /** Its place in the request (0-based). */
        public int index() { return index; }

        /** The offset it asked for. */
        public long offset() { return offsets[index]; }

        /** 0 when it was read, else the ROCHE_E* code. */
        public int status() { return statuses[index]; }

        public boolean isOk() { return statuses[index] == 0; }

        /** Its value, or the typed exception a get of its offset would throw. */
        public byte[] value() { return get(index); }

        /** The exception a get of its offset would throw, or null when it was read. */
        public RocheException error() { return Values.this.error(index); }

        @Override
        public String toString() {
            return "Item[index=" + index + ", offset=" + offsets[index]
                    + (isOk() ? ", length=" + values[index].length : ", status=" + statuses[index]) + "]";
        }
    }
}
