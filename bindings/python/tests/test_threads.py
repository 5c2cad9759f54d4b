"""Threads: one store shared by many, the GIL released, close racing calls."""

import threading
import time

import pytest

import roche
from conftest import assert_usable


def run_threads(count, target):
    errors = []

    def wrapper(i):
        try:
            target(i)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=wrapper, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_8_threads_x_10000_appends(db):
    results = {}

    def work(i):
        results[i] = [db.append(b"t%d-%d" % (i, n)) for n in range(10_000)]

    run_threads(8, work)
    offsets = [o for i in range(8) for o in results[i]]
    assert len(set(offsets)) == 80_000
    for i in range(8):
        values = db.multi_get(results[i])
        assert values == [b"t%d-%d" % (i, n) for n in range(10_000)]
    assert db.stat().records == 80_000


def test_batches_and_reads_in_threads(db):
    base = db.append_many([b"r%d" % i for i in range(1000)], namespace="shared")

    def work(i):
        for n in range(50):
            offsets = db.append_many([b"w%d" % i] * 100, namespace="shared")
            assert db.multi_get(offsets, namespace="shared") == [b"w%d" % i] * 100
            assert db.get(base[n], namespace="shared") == b"r%d" % n
            assert sum(1 for _ in db.scan("shared", batch=500)) >= 1000

    run_threads(4, work)


def test_each_thread_sees_its_own_error_detail(db):
    details = {}
    barrier = threading.Barrier(2)

    def work(i):
        namespace = f"missing-{i}"
        barrier.wait()
        try:
            db.get(0, namespace=namespace)
        except roche.NotFound as error:
            details[i] = error.detail

    run_threads(2, work)
    assert "missing-0" in details[0] and "missing-1" in details[1]


def test_gil_is_released_while_a_follower_waits(db):
    follower = db.follow("idle", timeout=1.0)
    ticks = []
    ticker = threading.Thread(target=lambda: [ticks.append(time.sleep(0.01)) for _ in range(20)])
    ticker.start()
    assert follower.next(timeout=0.5) is None
    ticker.join()
    assert len(ticks) == 20
    follower.close()


def test_close_while_other_threads_call(root):
    for _round in range(5):
        db = roche.open(root)
        stop = threading.Event()
        outcomes = []

        def hammer():
            try:
                while not stop.is_set():
                    db.append_many([b"x" * 100] * 100)
                    list(db.scan(batch=64))
            except roche.Closed:
                outcomes.append("closed")

        threads = [threading.Thread(target=hammer) for _ in range(3)]
        for thread in threads:
            thread.start()
        time.sleep(0.05)
        db.close()  # waits for the calls in flight; the rest raise Closed
        stop.set()
        for thread in threads:
            thread.join()
        assert outcomes == ["closed"] * 3
    with roche.open(root) as db:
        assert_usable(db)


def test_one_iterator_in_two_threads_is_refused(db):
    db.append_many([b"x" * 1000] * 3000)
    records = db.scan(batch=1024)
    next(records)
    # the generator itself refuses a second thread ("already executing"),
    # and the native iterator refuses one too, never a crash
    scan = roche.native.Store.scan_open(db, None, 0)
    errors = []

    def step():
        try:
            for _ in range(200):
                scan.next_batch(1024)
        except RuntimeError as error:
            errors.append(error)
        except roche.Error:
            pass

    run_threads(4, lambda i: step())
    scan.close()
