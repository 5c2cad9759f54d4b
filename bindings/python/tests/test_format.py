"""roche.open(format=...): rochefort v0.5's header check and id placement,
and each format refusing a store written in the other."""

import os
import struct
import zlib

import pytest

import roche
from roche import native

from conftest import assert_usable

NS = "events"
# Ids and the buckets rochefort v0.5 puts them in among 8 (tests/test_compat.c's fixture).
IDS = ["a", "b", "c", "big", "z"]
ROCHEFORT_BUCKETS = [3, 0, 3, 3, 0]


def value_of(id):
    return b"value of " + id.encode()


def write_store(path, format):
    """IDS (and a batch with no id) appended to NS; the offsets of IDS."""
    with roche.open(path, buckets=8, format=format) as db:
        offsets = [db.append(value_of(i), id=i, namespace=NS) for i in IDS]
        db.append_many([b"one", b"", b"t\0hree"], namespace=NS)
    return offsets


def snapshot(directory):
    """Every file of a directory and its bytes, to prove a refusal changed nothing."""
    files = {}
    for name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, name), "rb") as f:
            files[name] = f.read()
    return files


def headers_carry_crc32(raw):
    """For each header of a closed bucket file: does its check hold zlib's CRC-32 of the 12 bytes before it?"""
    with open(raw, "rb") as f:
        data = f.read()
    checks, pos = [], 0
    while pos < len(data):
        length, = struct.unpack_from("<I", data, pos)
        check, = struct.unpack_from("<I", data, pos + 12)
        checks.append(check == zlib.crc32(data[pos:pos + 12]))
        pos += 16 + length
    return checks


def test_rochefort_format_round_trips_and_places_ids_as_rochefort(tmp_path):
    path = tmp_path / "rf"
    offsets = write_store(path, "rochefort")
    assert [roche.bucket_of(o) for o in offsets] == ROCHEFORT_BUCKETS
    assert ROCHEFORT_BUCKETS != [zlib.crc32(i.encode()) % 8 for i in IDS], "the fixture tells them apart"
    with roche.open(path, buckets=8, format="rochefort") as db:
        assert db.format == "rochefort"
        assert [db.get(o, namespace=NS) for o in offsets] == [value_of(i) for i in IDS]
        values = [r.value for r in db.scan(NS)]
        assert len(values) == len(IDS) + 3
        assert b"t\0hree" in values and b"" in values
        more = db.append(b"more", id="a", namespace=NS)
        assert roche.bucket_of(more) == 3
        assert db.get(more, namespace=NS) == b"more"
        assert db.stat(NS).records == len(IDS) + 4
    for bucket in (0, 3):
        checks = headers_carry_crc32(path / NS / f"append.{bucket}.raw")
        assert checks and not any(checks), f"bucket {bucket}: rochefort's check, not CRC-32"


def test_default_format_writes_crc32_and_places_ids_by_it(tmp_path):
    path = tmp_path / "default"
    offsets = write_store(path, "roche")
    assert [roche.bucket_of(o) for o in offsets] == [zlib.crc32(i.encode()) % 8 for i in IDS]
    checks = headers_carry_crc32(path / NS / "append.0.raw")
    assert checks and all(checks)
    with roche.open(path, buckets=8) as db:  # no format: the default
        assert db.format == "roche"
        assert db.get(offsets[0], namespace=NS) == value_of(IDS[0])


@pytest.mark.parametrize("written,opened", [("rochefort", "roche"), ("roche", "rochefort"),
                                            ("rochefort", None)])
def test_a_store_in_the_other_format_is_refused_unchanged(tmp_path, written, opened):
    path = tmp_path / "s"
    offsets = write_store(path, written)
    before = snapshot(path / NS)
    with roche.open(path, buckets=8, format=opened) as db:
        calls = [lambda: db.get(offsets[0], namespace=NS),
                 lambda: db.append(b"x", id="a", namespace=NS),
                 lambda: db.append(b"x", namespace=NS),
                 lambda: db.append_many([b"x"], namespace=NS),
                 lambda: list(db.scan(NS))]
        for call in calls:
            with pytest.raises(roche.Corrupt) as e:
                call()
            assert e.value.code == native.ECORRUPT
        assert_usable(db)  # other namespaces are not affected
    with roche.open(path, read_only=True, format=opened) as ro:
        with pytest.raises(roche.Corrupt):
            ro.get(offsets[1], namespace=NS)
    assert snapshot(path / NS) == before, "no file made, cut, moved aside or changed"
    with roche.open(path, buckets=8, format=written) as db:
        assert [db.get(o, namespace=NS) for o in offsets] == [value_of(i) for i in IDS]


@pytest.mark.parametrize("format,error", [("metrohash", roche.InvalidArgument), ("", roche.InvalidArgument),
                                          ("ROCHEFORT", roche.InvalidArgument), (1, TypeError),
                                          (b"rochefort", TypeError)])
def test_bad_format_option(tmp_path, format, error):
    with pytest.raises(error) as e:
        roche.open(tmp_path / "s", format=format)
    if error is roche.InvalidArgument:
        assert e.value.code == native.EINVAL
        assert isinstance(e.value, ValueError)
    assert not (tmp_path / "s").exists()  # refused at the option, before open


@pytest.mark.parametrize("code", [2, -1, 2**31 - 1])
def test_unknown_format_code_is_libroches_invalid_argument(tmp_path, code):
    # The low-level module passes the code to libroche, which judges it.
    with pytest.raises(roche.InvalidArgument) as e:
        native.Store(str(tmp_path / "s"), format=code)
    assert e.value.code == native.EINVAL
    assert "ROCHE_FORMAT" in e.value.detail
    assert not (tmp_path / "s").exists()
    with roche.open(tmp_path / "ok", format="rochefort") as db:
        assert_usable(db)
