"""Resources: stores and scans dropped without close, no descriptor growth."""

import gc
import os

import roche
from conftest import open_fds


def test_2000_stores_dropped_without_close(tmp_path):
    root = str(tmp_path / "s")
    with roche.open(root) as db:
        db.append_many([b"x"] * 10, namespace="a")
    gc.collect()
    before = open_fds()
    for i in range(2000):
        db = roche.open(root)
        db.append(b"%d" % i, namespace="a")
        db.get(0, namespace="a")
        del db
    gc.collect()
    assert open_fds() <= before + 2
    with roche.open(root) as db:
        assert db.stat("a").records == 2010


def test_2000_read_only_stores_dropped(tmp_path):
    root = str(tmp_path / "s")
    with roche.open(root) as db:
        offset = db.append(b"x")
    before = open_fds()
    for _ in range(2000):
        roche.open(root, read_only=True).get(offset)
    gc.collect()
    assert open_fds() <= before + 2


def test_scan_abandoned_halfway(db):
    db.append_many([b"v%d" % i for i in range(10_000)])
    before = open_fds()
    for _ in range(200):
        records = db.scan(batch=100)
        for n, _record in enumerate(records):
            if n == 150:
                break
        del records  # the generator's finally frees the iterator
    gc.collect()
    assert open_fds() <= before + 2
    records = db.scan()
    next(records)
    records.close()  # explicit close of the generator
    assert sum(1 for _ in db.scan()) == 10_000


def test_scan_outlives_its_store_reference(root):
    def records():
        return roche.open(root).scan()

    with roche.open(root) as db:
        db.append_many([b"a", b"b"])
    assert [r.value for r in records()] == [b"a", b"b"]  # the generator keeps the store


def test_followers_and_views_dropped(db):
    offset = db.append(b"v")
    before = open_fds()
    for _ in range(500):
        follower = db.follow("f", timeout=0)
        list(follower)
        del follower
        view = db.get_view(offset)
        del view
    gc.collect()
    assert open_fds() <= before + 2


def test_files_trimmed_after_collector_close(root):
    db = roche.open(root)
    db.append(b"x" * 10)
    del db
    gc.collect()
    sizes = [os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(root) for f in fs
             if f.endswith(".raw")]
    assert sizes == [16 + 10]
