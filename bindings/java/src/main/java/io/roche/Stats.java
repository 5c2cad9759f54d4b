package io.roche;

/**
 * Statistics of one namespace, from {@link Roche#stat}: read them with the
 * accessors ({@code stats.records()}), as {@link Record}'s. The public
 * fields of version 0.1.0 are kept, deprecated, for one minor version.
 */
public final class Stats {
    /** @deprecated Use {@link #buckets()}; the field goes in 0.2.0. */
    @Deprecated(since = "0.1.0", forRemoval = true)
    public final int buckets;
    /** @deprecated Use {@link #records()}; the field goes in 0.2.0. */
    @Deprecated(since = "0.1.0", forRemoval = true)
    public final long records;
    /** @deprecated Use {@link #bytes()}; the field goes in 0.2.0. */
    @Deprecated(since = "0.1.0", forRemoval = true)
    public final long bytes;
    /** @deprecated Use {@link #oldestNs()}; the field goes in 0.2.0. */
    @Deprecated(since = "0.1.0", forRemoval = true)
    public final long oldestNs;
    /** @deprecated Use {@link #newestNs()}; the field goes in 0.2.0. */
    @Deprecated(since = "0.1.0", forRemoval = true)
    public final long newestNs;
    /** @deprecated Use {@link #damagedRanges()}; the field goes in 0.2.0. */
    @Deprecated(since = "0.1.0", forRemoval = true)
    public final long damagedRanges;
    /** @deprecated Use {@link #damagedBytes()}; the field goes in 0.2.0. */
    @Deprecated(since = "0.1.0", forRemoval = true)
    public final long damagedBytes;
    /** @deprecated Use {@link #recoveredBytes()}; the field goes in 0.2.0. */
    @Deprecated(since = "0.1.0", forRemoval = true)
    public final long recoveredBytes;
    /** @deprecated Use {@link #droppedRecords()}; the field goes in 0.2.0. */
    @Deprecated(since = "0.1.0", forRemoval = true)
    public final long droppedRecords;
    /** @deprecated Use {@link #droppedBytes()}; the field goes in 0.2.0. */
    @Deprecated(since = "0.1.0", forRemoval = true)
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

    /** Bucket files in the namespace. */
    public int buckets() { return buckets; }

    /** Records that pass their checks. */
    public long records() { return records; }

    /** Their bytes, headers included. */
    public long bytes() { return bytes; }

    /** Smallest record time, ns since the epoch (0 when empty). */
    public long oldestNs() { return oldestNs; }

    /** Largest record time, ns since the epoch (0 when empty). */
    public long newestNs() { return newestNs; }

    /** Records that fail their checks. */
    public long damagedRanges() { return damagedRanges; }

    /** Their total length. */
    public long damagedBytes() { return damagedBytes; }

    /** Written bytes past the last good record, cut by recovery at open. */
    public long recoveredBytes() { return recoveredBytes; }

    /** Records dropped by retention ({@link Roche#retain}). */
    public long droppedRecords() { return droppedRecords; }

    /** Their bytes, headers included. */
    public long droppedBytes() { return droppedBytes; }

    @Override
    public String toString() {
        return "Stats[buckets=" + buckets + ", records=" + records + ", bytes=" + bytes
                + ", oldestNs=" + oldestNs + ", newestNs=" + newestNs
                + ", damagedRanges=" + damagedRanges + ", damagedBytes=" + damagedBytes
                + ", recoveredBytes=" + recoveredBytes
                + ", droppedRecords=" + droppedRecords + ", droppedBytes=" + droppedBytes + "]";
    }
}
