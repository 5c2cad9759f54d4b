package io.roche;

/** One record met by a scan or a follower: its offset, its value and its append time. */
public final class Record {
    private final long offset;
    private final byte[] value;
    private final long timeNs;

    Record(long offset, byte[] value, long timeNs) {
        this.offset = offset;
        this.value = value;
        this.timeNs = timeNs;
    }

    public long offset() { return offset; }

    /** The value; the array belongs to the caller. */
    public byte[] value() { return value; }

    /** Wall-clock time of the append, in ns since the epoch. */
    public long timeNs() { return timeNs; }

    @Override
    public String toString() {
        return "Record[offset=" + offset + ", length=" + value.length + ", timeNs=" + timeNs + "]";
    }
}
