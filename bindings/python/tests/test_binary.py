"""Binary safety: NUL bytes, all 256 byte values, empty, large values, and
every kind of buffer accepted without a copy on the Python side."""

import array
import mmap

import pytest

import roche


VALUES = [b"", b"\0", b"a\0b", bytes(range(256)), bytes(range(255, -1, -1)) * 3, b"\xff" * 1000]


def test_round_trip_single(db):
    for value in VALUES:
        offset = db.append(value)
        got = db.get(offset)
        assert got == value and type(got) is bytes
        assert db.get_view(offset) == value


def test_round_trip_batch(db):
    offsets = db.append_many(VALUES, namespace="batch")
    assert db.multi_get(offsets, namespace="batch") == VALUES
    assert [r.value for r in db.scan("batch")] == VALUES


def test_each_byte_value_alone(db):
    offsets = [db.append(bytes([b])) for b in range(256)]
    assert db.multi_get(offsets) == [bytes([b]) for b in range(256)]


def test_empty_value_is_bytes_not_none(db):
    offset = db.append(b"")
    assert db.get(offset) == b"" and db.get(offset) is not None
    assert db.multi_get([offset]) == [b""]
    assert len(db.get_view(offset)) == 0


@pytest.mark.parametrize("size", [1 << 20, 10 << 20, 64 << 20])
def test_large_values(db, size):
    value = bytes(range(256)) * (size // 256)
    offset = db.append(value, namespace="large")
    assert db.get(offset, namespace="large") == value
    view = db.get_view(offset, namespace="large")
    assert len(view) == size and view[-256:] == bytes(range(256))
    view.release()
    [again] = db.append_many([memoryview(value)[: size // 2]], namespace="large")
    assert db.get(again, namespace="large") == value[: size // 2]


def test_buffer_kinds(db):
    values = {
        "bytes": b"abc",
        "bytearray": bytearray(b"abc"),
        "memoryview": memoryview(b"xabcx")[1:4],
        "array": array.array("B", b"abc"),
        "array-int": array.array("i", [1, 2, 3]),
        "mmap": None,
    }
    m = mmap.mmap(-1, 4096)
    m.write(b"abc")
    values["mmap"] = m
    for name, value in values.items():
        offset = db.append(value)
        assert db.get(offset) == bytes(memoryview(value).cast("B")), name
    offsets = db.append_many(list(values.values()))
    assert db.multi_get(offsets) == [bytes(memoryview(v).cast("B")) for v in values.values()]
    m.close()


def test_numpy_arrays(db):
    np = pytest.importorskip("numpy", reason="numpy is not installed (apt-get install python3-numpy)")
    data = np.arange(1000, dtype=np.uint32)
    offset = db.append(data)
    assert np.frombuffer(db.get(offset), dtype=np.uint32).tolist() == data.tolist()
    view = db.get_view(offset)
    assert np.frombuffer(view, dtype=np.uint32)[999] == 999  # read in place
    offsets = db.append_many([data[:10], data[10:20]])
    assert [np.frombuffer(v, dtype=np.uint32).tolist() for v in db.multi_get(offsets)] == [
        list(range(10)), list(range(10, 20))]
    assert db.multi_get(np.array(offsets, dtype=np.uint64)) == db.multi_get(offsets)
    assert db.get(np.uint64(offset)) == data.tobytes()
    with pytest.raises((BufferError, ValueError)):  # numpy: ValueError
        db.append(data[::2])  # not contiguous


def test_bytearray_cannot_be_resized_during_the_call(db):
    value = bytearray(b"x" * 1000)
    offset = db.append(value)
    value.extend(b"y")  # the buffer was released after the call
    assert db.get(offset) == b"x" * 1000
