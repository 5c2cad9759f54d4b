"""Following a namespace: in this process, from another thread, and across
processes; wake, timeouts, position, Dropped."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import roche


def test_follow_returns_appends_in_order(db):
    follower = db.follow("log", timeout=0)
    assert follower.next(0) is None
    offsets = db.append_many([b"a", b"b", b"c"], namespace="log")
    assert [r.offset for r in follower] == offsets
    assert follower.next(0) is None
    follower.close()


def test_follow_waits_for_another_thread(db):
    with db.follow("log") as follower:
        def writer():
            time.sleep(0.1)
            db.append(b"late", namespace="log")

        thread = threading.Thread(target=writer)
        started = time.monotonic()
        thread.start()
        record = follower.next(timeout=5)
        thread.join()
        assert record.value == b"late" and time.monotonic() - started < 4


def test_timeout(db):
    follower = db.follow("idle")
    started = time.monotonic()
    assert follower.next(timeout=0.3) is None
    assert 0.25 < time.monotonic() - started < 3
    follower.close()


def test_wake_from_another_thread(db):
    follower = db.follow("idle")  # iteration waits for ever
    threading.Timer(0.2, follower.wake).start()
    started = time.monotonic()
    assert list(follower) == []  # wake ends iteration
    assert time.monotonic() - started < 5
    threading.Timer(0.2, follower.wake).start()
    with pytest.raises(roche.Canceled):
        follower.next()  # next() raises
    follower.close()


def test_close_ends_a_wait_in_another_thread(db):
    follower = db.follow("idle")
    outcome = []

    def wait():
        try:
            follower.next()
        except roche.Closed:
            outcome.append("closed")

    thread = threading.Thread(target=wait)
    thread.start()
    time.sleep(0.2)
    follower.close()
    thread.join(5)
    assert outcome == ["closed"]
    with pytest.raises(roche.Closed):
        follower.wake()


def test_store_close_ends_a_wait(root):
    db = roche.open(root)
    follower = db.follow("idle")
    outcome = []
    thread = threading.Thread(target=lambda: outcome.append(pytest.raises(roche.Closed, follower.next)))
    thread.start()
    time.sleep(0.2)
    db.close()
    thread.join(5)
    assert len(outcome) == 1


def test_position_counts_only_handed_out_records(db):
    offsets = db.append_many([b"r%d" % i for i in range(10)], id="k", namespace="pos")
    follower = db.follow("pos", timeout=0)
    for _ in range(4):
        follower.next()
    position = follower.position()
    bucket = roche.bucket_of(offsets[0])
    assert position[bucket] == offsets[4]
    follower.close()
    again = db.follow("pos", position=position, timeout=0)
    assert [r.value for r in again] == [b"r%d" % i for i in range(4, 10)]
    again.close()


def test_from_end(db):
    db.append_many([b"old"] * 3, namespace="fe")
    follower = db.follow("fe", from_end=True, timeout=0)
    assert follower.next(0) is None
    db.append(b"new", namespace="fe")
    assert [r.value for r in follower] == [b"new"]
    follower.close()


def test_read_only_follow_of_missing_namespace(root):
    with roche.open(root):
        with roche.open(root, read_only=True) as reader:
            with pytest.raises(roche.NotFound):
                reader.follow("absent")


def test_follow_arguments(db):
    with pytest.raises(ValueError):
        db.follow("x", position=[0], cursor="c")
    with pytest.raises(TypeError):
        db.follow("x", position=["a"])
    with pytest.raises(TypeError):
        db.follow("x", timeout="soon")


def test_follow_across_processes(root):
    with roche.open(root, buckets=2) as db:
        db.append(b"first", namespace="xproc")
        reader = textwrap.dedent("""
            import sys, roche
            with roche.open(sys.argv[1], read_only=True) as db:
                print("ready", flush=True)
                got = []
                with db.follow("xproc", timeout=10) as follower:
                    for record in follower:
                        got.append(record.value)
                        if record.value == b"last":
                            break
                print(b",".join(got).decode(), flush=True)
        """)
        child = subprocess.Popen([sys.executable, "-c", reader, root], stdout=subprocess.PIPE, text=True,
                                 env=os.environ.copy())
        assert child.stdout.readline().strip() == "ready"
        time.sleep(0.1)
        expected = [b"first"]
        for i in range(50):
            value = b"v%d" % i
            db.append(value, id="one-id", namespace="xproc")
            expected.append(value)
        db.append(b"last", id="one-id", namespace="xproc")
        out, _ = child.communicate(timeout=30)
        assert child.returncode == 0
        got = out.strip().split(",")
        # one id's records come in order; "first" (another bucket) comes once
        assert [v for v in got if v.startswith("v")] == [f"v{i}" for i in range(50)]
        assert got.count("first") == 1 and got[-1] == "last"


def test_dropped_carries_the_offset(db):
    offsets = db.append_many([b"x" * 5000] * 20, id="k", namespace="drop")
    follower = db.follow("drop", timeout=0)
    follower.BATCH = 1  # fetch one record at a time: the rest are dropped unread
    assert follower.next(0).offset == offsets[0]
    try:
        freed = db.retain("drop", max_bytes=0)
    except roche.NotSupported as error:
        follower.close()
        pytest.skip(f"this file system cannot punch holes: {error}")
    assert freed > 0
    with pytest.raises(roche.Dropped) as info:
        follower.next(0)
    assert info.value.offset == offsets[1] and info.value.code == roche.native.EDROPPED
    assert follower.next(0) is None  # goes on after the dropped records
    db.append(b"after", id="k", namespace="drop")
    assert follower.next(1).value == b"after"
    follower.close()


def test_ctrl_c_interrupts_a_wait(db):
    follower = db.follow("idle")  # waits for ever
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        follower.next()
    assert time.monotonic() - started < 5
    timer.join()
    db.append(b"still works", namespace="idle")
    assert follower.next(1).value == b"still works"
    follower.close()
