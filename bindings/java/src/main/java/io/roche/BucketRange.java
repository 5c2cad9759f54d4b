package io.roche;

/**
 * The records one bucket holds now, from {@link Roche#bucketRange}: offsets
 * {@link #first()} (its first record kept; retention drops the ones before)
 * up to {@link #end()} (where its next record will go), equal when it
 * holds none. The public fields of version 0.1.0 are kept, deprecated, for
 * one minor version.
 */
public final class BucketRange {
    /** @deprecated Use {@link #first()}; the field goes in 0.2.0. */
    @Deprecated(since = "0.1.0", forRemoval = true)
    public final long first;
    /** @deprecated Use {@link #end()}; the field goes in 0.2.0. */
    @Deprecated(since = "0.1.0", forRemoval = true)
    public final long end;

    BucketRange(long first, long end) {
        this.first = first;
        this.end = end;
    }

    /** The offset of the bucket's first record kept. */
    public long first() { return first; }

    /** The offset where the bucket's next record will go. */
    public long end() { return end; }

    /** No record kept in the bucket. */
    public boolean isEmpty() {
        return first == end;
    }

    @Override
    public String toString() {
        return "BucketRange[first=" + first + ", end=" + end + "]";
    }
}
