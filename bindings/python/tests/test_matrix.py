"""The bad-input matrix of tests/reliability/BINDINGS.md, Python column.
Each row: the error the matrix asks for, and the store usable afterwards."""

import mmap

import pytest

import roche
from conftest import assert_usable


# 1. Missing values (None)

def test_open_root_none(tmp_path):
    with pytest.raises(TypeError):
        roche.open(None)


def test_open_options_none_are_defaults(root):
    with roche.open(root, buckets=None, sync_period=None, max_open_files=None, retention=None) as db:
        assert_usable(db)


def test_append_value_none(db):
    with pytest.raises(TypeError):
        db.append(None)
    assert list(db.scan()) == []
    assert_usable(db)


def test_namespace_and_id_none(db):
    offset = db.append(b"v", id=None, namespace=None)
    assert db.get(offset, namespace="default") == b"v"


def test_append_many_none(db):
    with pytest.raises(TypeError):
        db.append_many(None)
    with pytest.raises(TypeError):
        db.append_many([b"a", None, b"c"])
    assert list(db.scan()) == []  # nothing written
    assert_usable(db)


def test_get_offset_none(db):
    with pytest.raises(TypeError):
        db.get(None)
    assert_usable(db)


def test_multi_get_none(db):
    with pytest.raises(TypeError):
        db.multi_get(None)
    with pytest.raises(TypeError):
        db.multi_get([0, None])
    assert_usable(db)


def test_scan_namespace_none_is_default(db):
    db.append(b"d", namespace="default")
    assert [r.value for r in db.scan(None)] == [b"d"]


# 2. A closed store

CALLS = {
    "append": lambda db: db.append(b"x"),
    "append_many": lambda db: db.append_many([b"x"]),
    "get": lambda db: db.get(0),
    "get_view": lambda db: db.get_view(0),
    "multi_get": lambda db: db.multi_get([0]),
    "scan": lambda db: list(db.scan()),
    "stat": lambda db: db.stat(),
    "namespaces": lambda db: db.namespaces(),
    "sync": lambda db: db.sync(),
    "close_namespace": lambda db: db.close_namespace("default"),
    "delete_namespace": lambda db: db.delete_namespace("default"),
    "follow": lambda db: db.follow(),
    "commit_cursor": lambda db: db.commit_cursor("c", [0]),
    "cursor": lambda db: db.cursor("c"),
    "cursors": lambda db: db.cursors(),
    "delete_cursor": lambda db: db.delete_cursor("c"),
    "retain": lambda db: db.retain("default", max_bytes=1),
    "bucket_range": lambda db: db.bucket_range(0),
}


@pytest.mark.parametrize("call", sorted(CALLS))
def test_closed_store(root, call):
    db = roche.open(root)
    db.append(b"x")
    db.close()
    with pytest.raises(roche.Closed) as info:
        CALLS[call](db)
    assert info.value.code is None and "closed" in str(info.value)


def test_double_close(root):
    db = roche.open(root)
    db.close()
    db.close()


def test_scan_open_when_store_closes(root):
    db = roche.open(root)
    db.append_many([b"r%d" % i for i in range(1000)])
    records = db.scan(batch=10)
    assert next(records).value == b"r0"
    db.close()
    with pytest.raises(roche.Closed):
        for _ in records:
            pass


def test_store_left_to_the_collector(root):
    db = roche.open(root)
    offset = db.append(b"trimmed")
    del db  # closed by the collector: the lock goes, the file is trimmed
    with roche.open(root) as again:
        assert again.get(offset) == b"trimmed"


# 3. Bad offsets

def test_bad_offsets(db):
    good = db.append(b"good")
    end = db.append(b"last")
    cases = {
        end + 1000: roche.NotFound,          # past the end
        100 << 50: roche.NotFound,           # a bucket with no file
        2**63: roche.NotFound,               # bucket above 8191
        good + 1: roche.Corrupt,             # inside a record
    }
    for offset, error in cases.items():
        with pytest.raises(error) as info:
            db.get(offset)
        assert info.value.offset == offset
        assert list(db.scan(from_offset=offset)) is not None  # never an error
    result = db.multi_get([good, *cases])
    assert result[0] == b"good"
    assert [type(r) for r in result[1:]] == list(cases.values())
    with pytest.raises(OverflowError):
        db.get(-1)
    with pytest.raises(OverflowError):
        db.get(2**64)
    with pytest.raises(OverflowError):
        db.multi_get([good, -5])
    with pytest.raises(roche.NotFound):
        db.get(good, namespace="no-such-namespace")
    assert [r.value for r in db.scan(from_offset=good + 1)] == [b"last"]
    assert_usable(db)


# 4. Huge and odd values

def test_nul_and_empty(db):
    assert db.get(db.append(b"a\0b")) == b"a\0b"
    assert db.get(db.append(b"")) == b""


def test_value_over_4_gib_is_too_big(db):
    # An untouched anonymous mapping: 4 GiB + 1 of address space, no memory.
    try:
        huge = mmap.mmap(-1, (4 << 30) + 1, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    except (OSError, OverflowError, ValueError) as error:
        pytest.skip(f"cannot map 4 GiB of address space here: {error}")
    try:
        with pytest.raises(roche.TooBig) as info:
            db.append(huge)
        assert info.value.code == roche.native.ETOOBIG
        with pytest.raises(roche.TooBig):
            db.append_many([b"small", huge])  # checked before anything is copied or written
        assert list(db.scan()) == []
    finally:
        huge.close()
    assert_usable(db)


def test_str_values_are_refused(db):
    with pytest.raises(TypeError):
        db.append("text")  # encode it: values are bytes
    with pytest.raises(TypeError):
        db.append_many(["text"])
    with pytest.raises(TypeError):
        db.append_many(b"abc")  # one bytes object is not a list of values


# 5. Wrong types

@pytest.mark.parametrize("offset", ["12", 1.5, object(), [1], b"1"])
def test_offset_wrong_types(db, offset):
    with pytest.raises(TypeError):
        db.get(offset)
    with pytest.raises(TypeError):
        db.multi_get([offset])
    assert_usable(db)


@pytest.mark.parametrize("value", [12, 1.5, {"a": 1}, [b"a", b"b"], object()])
def test_value_wrong_types(db, value):
    with pytest.raises(TypeError):
        db.append(value)
    assert_usable(db)


@pytest.mark.parametrize("namespace", [12, 1.5, object(), ["a"]])
def test_namespace_wrong_types(db, namespace):
    with pytest.raises(TypeError):
        db.append(b"x", namespace=namespace)
    with pytest.raises(TypeError):
        db.get(0, namespace=namespace)
    assert_usable(db)


@pytest.mark.parametrize("namespace", [".", "..", "a/b", ".hidden", "n" * 256, "/abs"])
def test_bad_namespace_names(db, root, tmp_path, namespace):
    with pytest.raises(roche.InvalidArgument):
        db.append(b"x", namespace=namespace)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]  # nothing outside root
    assert_usable(db)


def test_empty_namespace_is_default(db):
    offset = db.append(b"x", namespace="")
    assert db.get(offset, namespace="default") == b"x"


def test_nul_in_names(db):
    with pytest.raises(ValueError):
        db.append(b"x", namespace="a\0b")
    with pytest.raises(ValueError):
        db.append(b"x", id="a\0b")
    with pytest.raises(ValueError):
        roche.open("/tmp/a\0b")
    assert_usable(db)


@pytest.mark.parametrize("buckets,error", [(0, roche.InvalidArgument), (-1, roche.InvalidArgument),
                                           (8192, roche.InvalidArgument), ("8", TypeError),
                                           (1.0, TypeError)])
def test_bad_buckets_option(tmp_path, buckets, error):
    with pytest.raises(error):
        roche.open(tmp_path / "s", buckets=buckets)
    assert not (tmp_path / "s").exists()  # refused at the option, before open


# 6. Threads: see test_threads.py (per-thread error detail, concurrent
# appends, close racing calls).
