package io.roche;

/** Statistics of one namespace, from {@link Roche#stat}. */
public final class Stats {
    public final int buckets;
    public final long records;
    public final long bytes;
    public final long oldestNs;
    public final long newestNs;
    public final long damagedRanges;
    public final long damagedBytes;
    public final long recoveredBytes;
    /** Records dropped by retention ({@link Roche#retain}), and their bytes, headers included. */
    public final long droppedRecords;
    public final long droppedBytes;

    Stats(long[] f) {
        buckets = (int) f[0];
        records = f[1];
        bytes = f[2];
        oldestNs = f[3];
        newestNs = f[4];
        damagedRanges = f[5];
        damagedBytes = f[6];
        recoveredBytes = f[7];
        droppedRecords = f[8];
        droppedBytes = f[9];
    }

    @Override
    public String toString() {
        return "Stats[buckets=" + buckets + ", records=" + records + ", bytes=" + bytes
                + ", damagedRanges=" + damagedRanges + ", recoveredBytes=" + recoveredBytes
                + ", droppedRecords=" + droppedRecords + ", droppedBytes=" + droppedBytes + "]";
    }
}
