"""Shared fixtures: a scratch store directory, an open store, helpers."""

import os
import subprocess
import sys

import pytest

import roche


@pytest.fixture
def root(tmp_path):
    return str(tmp_path / "store")


@pytest.fixture
def db(root):
    store = roche.open(root)
    yield store
    store.close()


def open_fds():
    return len(os.listdir("/proc/self/fd"))


def run_python(code, *args, timeout=60):
    """Run code in a fresh interpreter (the same one, same PYTHONPATH)."""
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=timeout, env=os.environ.copy())


def assert_usable(store, namespace=None):
    """One append and one get: the store still works after a bad call."""
    offset = store.append(b"still fine", namespace=namespace)
    assert store.get(offset, namespace=namespace) == b"still fine"
