"""Retention: retain(), the open option, bucket_range, stat's dropped fields."""

import time

import pytest

import roche


def retain_or_skip(db, *args, **kwargs):
    try:
        return db.retain(*args, **kwargs)
    except roche.NotSupported as error:
        pytest.skip(f"this file system cannot punch holes: {error}")


def test_retain_by_size(db):
    offsets = db.append_many([b"x" * 4000] * 10, id="k", namespace="r")
    bucket = roche.bucket_of(offsets[0])
    assert db.bucket_range(bucket, namespace="r") == (offsets[0], offsets[-1] + 16 + 4000)
    freed = retain_or_skip(db, "r", max_bytes=3 * (16 + 4000))
    assert freed == 7 * (16 + 4000)
    first, end = db.bucket_range(bucket, namespace="r")
    assert first == offsets[7] and end == offsets[-1] + 16 + 4000
    with pytest.raises(roche.Dropped) as info:
        db.get(offsets[0], namespace="r")
    assert info.value.offset == offsets[0]
    result = db.multi_get(offsets, namespace="r")
    assert all(isinstance(r, roche.Dropped) for r in result[:7]) and result[7:] == [b"x" * 4000] * 3
    assert [r.offset for r in db.scan("r")] == offsets[7:]
    stat = db.stat("r")
    assert stat.records == 3 and stat.dropped_records == 7 and stat.dropped_bytes == freed


def test_retain_by_age(db):
    old = db.append(b"old", id="k", namespace="age")
    time.sleep(0.05)
    cut = time.time_ns()
    time.sleep(0.05)
    new = db.append(b"new", id="k", namespace="age")
    retain_or_skip(db, "age", older_than=cut)
    with pytest.raises(roche.Dropped):
        db.get(old, namespace="age")
    assert db.get(new, namespace="age") == b"new"


def test_retain_everything_and_errors(db, root):
    db.append_many([b"y"] * 5, namespace="all")
    retain_or_skip(db, "all", max_bytes=0)
    assert list(db.scan("all")) == []
    with pytest.raises(roche.NotFound):
        db.retain("missing", max_bytes=1)
    with roche.open(root, read_only=True) as reader:
        with pytest.raises(roche.ReadOnly):
            reader.retain("all", max_bytes=1)


def test_bucket_range_edges(db):
    db.append(b"x", namespace="br")
    assert db.bucket_range(8000, namespace="br") == (8000 << 50, 8000 << 50)
    with pytest.raises(roche.InvalidArgument):
        db.bucket_range(8191 + 1, namespace="br")
    with pytest.raises(roche.NotFound):
        db.bucket_range(0, namespace="absent")


def test_retention_open_option(tmp_path):
    root = tmp_path / "s"
    with roche.open(root) as db:
        db.append_many([b"z" * 1000] * 20, id="k", namespace="opt")
    try:
        with roche.open(root, retention={"max_age": 0.001, "max_bytes": None}) as db:
            db.append(b"poke", id="k", namespace="opt")  # opens the namespace
            deadline = time.monotonic() + 5
            while db.stat("opt").dropped_records < 20 and time.monotonic() < deadline:
                time.sleep(0.1)
            stat = db.stat("opt")
    except roche.NotSupported as error:
        pytest.skip(f"this file system cannot punch holes: {error}")
    if stat.dropped_records == 0:
        pytest.skip("retention dropped nothing (hole punching unsupported here?)")
    assert stat.dropped_records >= 20
    with pytest.raises(ValueError):
        roche.open(root, retention={"max_size": 1})
    with pytest.raises(TypeError):
        roche.open(root, retention=5)
