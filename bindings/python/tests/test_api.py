"""Every call of the Python API, on the happy path and its documented edges."""

import datetime
import os
import time

import pytest

import roche
from conftest import assert_usable


def test_version_and_constants():
    assert roche.libroche_version().count(".") == 2
    assert roche.MAX_VALUE == 2**32 - 1
    assert roche.MAX_BUCKETS == 8191
    assert roche.bucket_of(3 << 50 | 17) == 3


def test_open_is_a_context_manager(root):
    with roche.open(root) as db:
        assert not db.closed
        assert isinstance(db, roche.Store)
        assert "open" in repr(db)
    assert db.closed
    assert "closed" in repr(db)
    db.close()  # twice: a no-op


def test_open_accepts_pathlike_and_bytes(tmp_path):
    with roche.open(tmp_path / "a") as db:
        db.append(b"x")
    with roche.open(os.fsencode(str(tmp_path / "b"))) as db:
        db.append(b"x")
    assert (tmp_path / "a").is_dir() and (tmp_path / "b").is_dir()


def test_append_get(db):
    offset = db.append(b"hello")
    assert isinstance(offset, int)
    assert db.get(offset) == b"hello"
    assert db.get(offset, namespace="default") == b"hello"
    assert db.get(offset, namespace=None) == b"hello"


def test_append_with_id_and_namespace(db):
    offsets = [db.append(b"%d" % i, id="user-42", namespace="events") for i in range(10)]
    assert len({roche.bucket_of(o) for o in offsets}) == 1  # one id, one bucket
    assert offsets == sorted(offsets)
    assert [db.get(o, namespace="events") for o in offsets] == [b"%d" % i for i in range(10)]
    assert db.namespaces() == ["events"]


def test_append_many(db):
    values = [b"a", b"", b"ccc", bytearray(b"dd"), memoryview(b"eeee")]
    offsets = db.append_many(values, namespace="ns")
    assert len(offsets) == 5
    assert len({roche.bucket_of(o) for o in offsets}) == 1
    assert [db.get(o, namespace="ns") for o in offsets] == [bytes(v) for v in values]
    assert db.append_many([]) == []
    assert db.append_many((b"t1", b"t2"), id="x")  # any sequence
    big = [b"%05d" % i for i in range(5000)]
    got = db.append_many(big, namespace="big")
    assert db.multi_get(got, namespace="big") == big


def test_multi_get_per_item_errors(db):
    good = db.append_many([b"one", b"two"])
    result = db.multi_get([good[0], good[1] + 1, 100 << 50, good[1], good[0]])
    assert result[0] == b"one"
    assert isinstance(result[1], roche.Corrupt) and result[1].offset == good[1] + 1
    assert isinstance(result[2], roche.NotFound) and result[2].offset == 100 << 50
    assert result[3:] == [b"two", b"one"]
    assert db.multi_get([]) == []
    missing = db.multi_get(good, namespace="nope")
    assert all(isinstance(r, roche.NotFound) for r in missing)


def test_get_view_is_zero_copy(db):
    offset = db.append(b"pinned bytes")
    view = db.get_view(offset)
    assert isinstance(view, memoryview) and view.readonly
    assert view == b"pinned bytes" and view.tobytes() == b"pinned bytes"
    assert bytes(view[0:6]) == b"pinned"
    with pytest.raises(TypeError):
        view[0] = 1
    with pytest.raises(roche.NotFound):
        db.get_view(offset + (5 << 50))
    # a view outlives close (the pin holds the mapping)
    db.close()
    assert view == b"pinned bytes"
    view.release()


def test_get_view_read_only_store(root):
    with roche.open(root) as db:
        offset = db.append(b"copy")
        with roche.open(root, read_only=True) as reader:
            assert reader.get_view(offset) == b"copy"


def test_scan_and_resume(db):
    offsets = [db.append(b"v%d" % i, namespace="s") for i in range(100)]
    records = list(db.scan("s"))
    assert sorted(r.offset for r in records) == sorted(offsets)
    first = records[0]
    assert isinstance(first, roche.Record) and first == (first.offset, first.value, first.time_ns)
    assert abs(first.time_ns - time.time_ns()) < 60 * 10**9
    # resume after any record: from_offset = last + 1
    middle = records[40]
    rest = list(db.scan("s", from_offset=middle.offset + 1))
    assert rest == records[41:]
    assert list(db.scan("s", batch=1)) == records
    assert list(db.scan("missing")) == []
    assert list(db.scan("s", from_offset=2**64 - 1)) == []


def test_scan_sees_existing_records_while_appending(db):
    db.append_many([b"x"] * 10, namespace="grow")
    seen = 0
    for _record in db.scan("grow"):
        db.append(b"more", namespace="grow")
        seen += 1
    assert seen >= 10


def test_stat(db):
    db.append_many([b"abc"] * 4, namespace="st")
    stat = db.stat("st")
    assert isinstance(stat, roche.Stat)
    assert stat.records == 4 and stat.bytes == 4 * (16 + 3) and stat.buckets >= 1
    assert stat.oldest_ns <= stat.newest_ns and stat.dropped_records == 0 and stat.dropped_bytes == 0
    with pytest.raises(roche.NotFound):
        db.stat("nope")


def test_sync(db):
    db.append(b"x", namespace="a")
    db.sync()
    db.sync("a")
    db.sync(namespace="never-written")


def test_sync_policies(tmp_path):
    for sync in ("never", "always", "periodic"):
        with roche.open(tmp_path / sync, sync=sync, sync_period=0.01) as db:
            assert db.get(db.append(b"s")) == b"s"
    with pytest.raises(ValueError):
        roche.open(tmp_path / "bad", sync="sometimes")


def test_close_and_delete_namespace(db, root):
    offset = db.append(b"gone", namespace="tmp")
    db.close_namespace("tmp")
    assert db.get(offset, namespace="tmp") == b"gone"  # opened again
    db.delete_namespace("tmp")
    assert not os.path.exists(os.path.join(root, "tmp"))
    with pytest.raises(roche.NotFound):
        db.get(offset, namespace="tmp")
    with pytest.raises(roche.NotFound):
        db.delete_namespace("tmp")


def test_read_only(root):
    with roche.open(root) as db:
        offset = db.append(b"w")
        with roche.open(root, read_only=True) as reader:
            assert reader.read_only
            assert reader.get(offset) == b"w"
            newer = db.append(b"newer")
            assert reader.get(newer) == b"newer"  # sees the writer's appends
            with pytest.raises(roche.ReadOnly) as info:
                reader.append(b"no")
            assert info.value.code == roche.native.EREADONLY
            with pytest.raises(roche.ReadOnly):
                reader.sync()


def test_locked(root):
    with roche.open(root):
        with pytest.raises(roche.Locked):
            roche.open(root)


def test_read_only_missing_root(tmp_path):
    with pytest.raises(roche.NotFound):
        roche.open(tmp_path / "absent", read_only=True)


def test_io_failure_is_an_oserror(tmp_path):
    path = tmp_path / "file"
    path.write_bytes(b"")
    with pytest.raises(roche.IOFailure) as info:
        roche.open(path)
    assert isinstance(info.value, OSError) and info.value.detail


def test_errors_carry_code_and_detail(db):
    with pytest.raises(roche.InvalidArgument) as info:
        db.append(b"x", namespace="a/b")
    error = info.value
    assert error.code == roche.native.EINVAL and isinstance(error, ValueError)
    assert str(error).startswith("invalid argument")
    assert issubclass(roche.NotFound, roche.Error) and issubclass(roche.TimedOut, TimeoutError)


def test_buckets_option(root):
    with roche.open(root, buckets=1) as db:
        offsets = [db.append(b"x") for _ in range(5)]
        assert {roche.bucket_of(o) for o in offsets} == {0}
        assert db.stat().buckets == 1


def test_max_open_files(tmp_path):
    with roche.open(tmp_path / "s", max_open_files=4) as db:
        offsets = {ns: db.append(ns.encode(), namespace=ns) for ns in ("a", "b", "c", "d", "e")}
        assert all(db.get(o, namespace=ns) == ns.encode() for ns, o in offsets.items())


def test_reopen_keeps_offsets(root):
    with roche.open(root) as db:
        offsets = db.append_many([b"p%d" % i for i in range(50)], namespace="keep")
    with roche.open(root, buckets=3) as db:
        assert db.multi_get(offsets, namespace="keep") == [b"p%d" % i for i in range(50)]


def test_retain_older_than_arguments(db):
    db.append(b"x", namespace="r")
    assert db.retain("r", older_than=datetime.datetime(2000, 1, 1)) == 0
    assert db.retain("r", older_than=datetime.timedelta(days=1)) == 0
    assert db.retain("r", older_than=1) == 0
    assert db.retain("r") == 0
    with pytest.raises(TypeError):
        db.retain("r", older_than=1.5)
    with pytest.raises(ValueError):
        db.retain("r", max_bytes=-1)
    assert_usable(db, "r")
