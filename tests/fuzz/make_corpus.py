#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets (committed; rerun only to
change it): bucket files for fuzz_open, offset lists for fuzz_read."""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def record(value, time_ns=1_700_000_000_000_000_000):
    head = struct.pack("<IQ", len(value), time_ns)
    return head + struct.pack("<I", zlib.crc32(head)) + value


def write(target, name, data):
    path = os.path.join(HERE, "corpus", target, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def bucket_files():
    good = record(b"hello") + record(b"") + record(bytes(range(256))) + record(b"x" * 40)
    yield "empty", b""
    yield "one-record", record(b"value")
    yield "clean", good
    yield "torn-header", good + record(b"tail")[:9]
    yield "torn-value", good + record(b"a longer tail value")[:25]
    yield "reserved-zeros", good + bytes(4096)
    damaged = bytearray(good)
    damaged[16 + 5 + 3] ^= 0x40  # the second record's header
    yield "damaged-middle", bytes(damaged)
    yield "zeros-then-record", record(b"a") + bytes(100) + record(b"after the gap")
    head = struct.pack("<IQ", 0xFFFFFFF0, 1)
    yield "huge-length", head + struct.pack("<I", zlib.crc32(head)) + b"short"
    yield "garbage", bytes((i * 131 + 7) % 256 for i in range(300))


def offset_lists():
    u64 = lambda *xs: b"".join(struct.pack("<Q", x) for x in xs)
    yield "zero", u64(0)
    yield "small", u64(1, 15, 16, 17, 33)
    yield "bucket-one", u64(1 << 50, (1 << 50) + 16)
    yield "far", u64(2**64 - 1, 1 << 49, 8191 << 50)
    yield "near-records", bytes([0xB0, 0, 0, 0xB1, 5, 1, 0xB2, 11, 0xFF, 0xB3, 23, 16])


for name, data in bucket_files():
    write("open", name, data)
for name, data in offset_lists():
    write("read", name, data)
