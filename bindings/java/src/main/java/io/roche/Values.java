package io.roche;

/**
 * The result of {@link Roche#multiGet}: one item per requested offset, in
 * request order, each with its own status, so one bad offset does not lose
 * the others.
 */
public final class Values {
    private final byte[][] values;
    private final int[] statuses;
    private final long[] offsets;

    Values(byte[][] values, int[] statuses, long[] offsets) {
        this.values = values;
        this.statuses = statuses;
        this.offsets = offsets;
    }

    public int size() { return values.length; }

    /** 0 when item i was read, else the ROCHE_E* code a get of it would raise. */
    public int status(int i) { return statuses[i]; }

    public boolean isOk(int i) { return statuses[i] == 0; }

    /** Item i's value, or the typed exception a get of its offset would throw. */
    public byte[] get(int i) {
        if (statuses[i] != 0) {
            throw RocheException.of(statuses[i], "item " + i + ": " + Native.strerror(statuses[i]), offsets[i]);
        }
        return values[i];
    }

    /** Every value in request order; failed items are null. The array is the caller's. */
    public byte[][] toArray() { return values; }
}
