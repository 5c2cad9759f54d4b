"""Stores written by C (tests/interop.c) and by the roche CLI, read from
Python, and the reverse. ctest sets ROCHE_INTEROP and ROCHE_CLI."""

import os
import subprocess

import pytest

import roche

VALUES = [b"hello", b"", b"nul\0byte", b"\xff\x00\x80", "ü".encode("utf-16-be"), b"z" * 5000,
          bytes(range(256))]

INTEROP = os.environ.get("ROCHE_INTEROP")
CLI = os.environ.get("ROCHE_CLI")
needs_interop = pytest.mark.skipif(not (INTEROP and os.access(INTEROP, os.X_OK)),
                                   reason="set ROCHE_INTEROP to the roche_interop program (ctest does)")
needs_cli = pytest.mark.skipif(not (CLI and os.access(CLI, os.X_OK)),
                               reason="set ROCHE_CLI to the roche tool (ctest does)")


def interop(command, root, namespace, *args):
    result = subprocess.run([INTEROP, command, root, namespace, *map(str, args)],
                            capture_output=True, text=True, check=True)
    return result.stdout.splitlines()


def cli(root, *args, input=b""):
    result = subprocess.run([CLI, "--root", root, *map(str, args)], input=input,
                            capture_output=True, check=True)
    return result.stdout


@needs_interop
def test_python_writes_c_reads(root):
    with roche.open(root) as db:
        offsets = [db.append(value, namespace="from-python") for value in VALUES]
    lines = interop("read", root, "from-python", *offsets, 123456789)
    assert lines == [value.hex() for value in VALUES] + [f"ERR {roche.native.ENOTFOUND}"]


@needs_interop
def test_c_writes_python_reads(root):
    offsets = [int(line) for line in interop("write", root, "from-c", *[v.hex() for v in VALUES])]
    with roche.open(root, read_only=True) as db:
        assert [db.get(o, namespace="from-c") for o in offsets] == VALUES
        assert db.multi_get(offsets, namespace="from-c") == VALUES
        assert [r.value for r in db.scan("from-c")] == VALUES
    with roche.open(root) as db:  # and writable, which rebuilds nothing
        assert db.multi_get(offsets, namespace="from-c") == VALUES


@needs_interop
def test_c_reads_while_python_holds_the_writer_lock(root):
    with roche.open(root) as db:
        offset = db.append(b"live", namespace="shared")
        assert interop("read", root, "shared", offset) == [b"live".hex()]


@needs_cli
def test_cli_writes_python_reads(root):
    offsets = [int(cli(root, "--ns", "cli", "append", input=value)) for value in VALUES]
    batch = [int(x) for x in cli(root, "--ns", "cli", "append", "--null", input=b"a\0b\0c\0").split()]
    with roche.open(root, read_only=True) as db:
        assert db.multi_get(offsets, namespace="cli") == VALUES
        assert db.multi_get(batch, namespace="cli") == [b"a", b"b", b"c"]


@needs_cli
def test_python_writes_cli_reads(root):
    with roche.open(root) as db:
        offsets = db.append_many(VALUES, namespace="py")
    for offset, value in zip(offsets, VALUES):
        assert cli(root, "--ns", "py", "get", offset) == value
    stat = cli(root, "--ns", "py", "stat").decode()
    assert f"records         {len(VALUES)}" in stat.replace("  records", "records")


@needs_cli
def test_cli_tail_reads_a_python_cursor(root):
    with roche.open(root, buckets=1) as db:
        offsets = db.append_many([b"one", b"two", b"three"], namespace="log")
        follower = db.follow("log", timeout=0)
        assert follower.next().value == b"one"
        follower.commit("shared")
        follower.close()
    out = cli(root, "--ns", "log", "tail", "--cursor", "shared", "--format", "tsv")
    assert [line.split(b"\t")[-1] for line in out.splitlines()] == [b"two", b"three"]
    with roche.open(root) as db:
        assert db.cursor("shared", namespace="log")[0] == offsets[2] + 16 + 5
