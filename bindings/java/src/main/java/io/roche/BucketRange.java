package io.roche;

/**
 * The records one bucket holds now, from {@link Roche#bucketRange}: offsets
 * {@code first} (its first record kept; retention drops the ones before) up
 * to {@code end} (where its next record will go), equal when it holds none.
 */
public final class BucketRange {
    public final long first;
    public final long end;

    BucketRange(long first, long end) {
        this.first = first;
        this.end = end;
    }

    /** No record kept in the bucket. */
    public boolean isEmpty() {
        return first == end;
    }

    @Override
    public String toString() {
        return "BucketRange[first=" + first + ", end=" + end + "]";
    }
}
