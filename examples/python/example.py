"""A tour of the roche package. Run it with the demo target, or by hand:
    PYTHONPATH=build/bindings/python/package python3 examples/python/example.py [ROOT]
"""

import sys
import tempfile
import threading

import roche


def tour(root):
    with roche.open(root, buckets=4) as db:
        # Push data, get a file offset back. Values are bytes: NULs are fine.
        offset = db.append(b"hello\0world", id="user-42", namespace="events")
        print(f"appended at {offset}: {db.get(offset, namespace='events')!r}")

        # Batches amortize the cost of each call.
        offsets = db.append_many([b"one", b"two", b"three"], id="user-42", namespace="events")
        print(f"batch offsets: {offsets}")

        # multi_get answers in request order; a bad offset gives a roche.Error
        # in its place instead of failing the others.
        for item in db.multi_get([offsets[2], 123_456_789, offsets[0]], namespace="events"):
            print(f"  multi_get: {item!r}")

        # Walk a namespace: Record(offset, value, time_ns) named tuples.
        for record in db.scan("events"):
            print(f"  {record.offset} {record.time_ns} {record.value!r}")

        try:
            db.get(offset + 1, namespace="events")
        except roche.Corrupt as error:
            print(f"reading inside a record: {type(error).__name__}: {error} (offset {error.offset})")

        # Zero copy: a memoryview of the store's own mapping.
        with db.get_view(offsets[1], namespace="events") as view:
            print(f"view of {len(view)} bytes: {bytes(view)!r}")

        # Follow the namespace as a log, from a cursor, while another thread appends.
        with db.follow("events", cursor="printer", timeout=0.5) as follower:
            threading.Timer(0.1, db.append, (b"late",), {"namespace": "events"}).start()
            for record in follower:
                print(f"  followed: {record.value!r}")
            follower.commit("printer")
        print(f"cursor printer: {db.cursor('printer', namespace='events')}")

        db.sync()
        print(f"namespaces: {db.namespaces()}")
        print(f"stat: {db.stat('events')}")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        tour(sys.argv[1])
    else:
        with tempfile.TemporaryDirectory(prefix="roche-example-") as root:
            tour(root)
