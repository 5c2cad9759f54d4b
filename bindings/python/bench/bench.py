"""Python-side throughput of the roche package, beside py-lmdb's put/get.

The loops of bindings/ruby/bench/bench.rb and bindings/perl/bench/bench.pl
(100-byte values, one thread, batches of 1000), so bench/bindings.sh can set
each figure beside the same loop in C:

    PYTHONPATH=build/bindings/python/package python3 bindings/python/bench/bench.py [COUNT] [BATCH]

Then py-lmdb (Debian python3-lmdb), when installed: put (one transaction
per put, as an append is one call, and one transaction per batch of 1000)
and get (one read transaction for the loop, as a cursor-less lookup).
"""

import os
import random
import shutil
import sys
import tempfile
import time

import roche

COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
BATCH = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
VALUE = b"v" * 100


def measure(label, operations, fn):
    started = time.perf_counter()
    fn()
    seconds = time.perf_counter() - started
    print(f"{label:<28} {operations:10d} ops {seconds:8.3f} s {operations / seconds:12.0f} ops/s", flush=True)


def main():
    root = tempfile.mkdtemp(prefix="roche-bench-")
    try:
        with roche.open(os.path.join(root, "roche")) as db:
            offsets = []

            def appends():
                append = db.append
                offsets.extend([append(VALUE) for _ in range(COUNT)])

            measure("append (100 B)", COUNT, appends)
            batch = [VALUE] * BATCH

            def append_many():
                for _ in range(COUNT // BATCH):
                    db.append_many(batch, namespace="batched")

            measure(f"append_many ({BATCH} x 100 B)", COUNT, append_many)
            shuffled = offsets[:]
            random.Random(1).shuffle(shuffled)

            def gets():
                get = db.get
                for offset in shuffled:
                    get(offset)

            measure("get", COUNT, gets)

            def multi_gets():
                for i in range(0, COUNT, BATCH):
                    db.multi_get(shuffled[i:i + BATCH])

            measure(f"multi_get ({BATCH} per call)", COUNT, multi_gets)

            def scan():
                for _record in db.scan():
                    pass

            measure("scan", COUNT, scan)
        try:
            import lmdb
        except ImportError:
            print("py-lmdb: not installed (apt-get install python3-lmdb), skipped")
            return
        env = lmdb.open(os.path.join(root, "lmdb"), map_size=1 << 30, sync=False, metasync=False,
                        writemap=True)
        keys = [i.to_bytes(8, "big") for i in range(COUNT)]

        def puts():
            begin = env.begin
            for key in keys:
                with begin(write=True) as txn:
                    txn.put(key, VALUE, append=True)

        measure("lmdb put (100 B)", COUNT, puts)
        keys2 = [(COUNT + i).to_bytes(8, "big") for i in range(COUNT)]

        def put_batches():
            for i in range(0, COUNT, BATCH):
                with env.begin(write=True) as txn:
                    put = txn.put
                    for key in keys2[i:i + BATCH]:
                        put(key, VALUE, append=True)

        measure(f"lmdb put ({BATCH} per txn)", COUNT, put_batches)
        shuffled_keys = keys[:]
        random.Random(1).shuffle(shuffled_keys)

        def lmdb_gets():
            with env.begin() as txn:
                get = txn.get
                for key in shuffled_keys:
                    get(key)

        measure("lmdb get", COUNT, lmdb_gets)
        env.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
