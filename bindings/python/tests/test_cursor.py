"""Cursors: commit, get, list, delete; a follower resumes from one."""

import pytest

import roche


def test_cursor_calls(db):
    db.append(b"x", namespace="c")
    assert db.cursors("c") == []
    db.commit_cursor("mailer", [1, 2, 3], namespace="c")
    db.commit_cursor("audit", [7], namespace="c")
    assert db.cursor("mailer", namespace="c") == [1, 2, 3]
    assert db.cursors(namespace="c") == ["audit", "mailer"]
    db.commit_cursor("mailer", [4], namespace="c")
    assert db.cursor("mailer", namespace="c") == [4]
    db.delete_cursor("mailer", namespace="c")
    assert db.cursors("c") == ["audit"]
    with pytest.raises(roche.NotFound):
        db.cursor("mailer", namespace="c")
    with pytest.raises(roche.NotFound):
        db.delete_cursor("mailer", namespace="c")
    with pytest.raises(roche.NotFound):
        db.commit_cursor("x", [0], namespace="no-such")


def test_cursor_bad_arguments(db):
    db.append(b"x", namespace="c")
    with pytest.raises(roche.InvalidArgument):
        db.commit_cursor("a/b", [0], namespace="c")
    with pytest.raises(roche.InvalidArgument):
        db.commit_cursor("many", [0] * 8192, namespace="c")
    with pytest.raises(TypeError):
        db.commit_cursor("c", "0", namespace="c")
    with pytest.raises(TypeError):
        db.commit_cursor(None, [0], namespace="c")


def test_follower_resumes_from_its_cursor(db):
    db.append_many([b"a", b"b", b"c"], id="k", namespace="q")
    with db.follow("q", cursor="worker", timeout=0) as follower:
        assert follower.next().value == b"a"
        follower.commit("worker")
    with db.follow("q", cursor="worker", timeout=0) as follower:
        assert [r.value for r in follower] == [b"b", b"c"]
        follower.commit("worker")
    db.append(b"d", id="k", namespace="q")
    with db.follow("q", cursor="worker", timeout=0) as follower:
        assert [r.value for r in follower] == [b"d"]


def test_read_only_handles_may_commit(root):
    with roche.open(root) as db:
        db.append(b"x", namespace="ro")
        with roche.open(root, read_only=True) as reader:
            reader.commit_cursor("r", [5], namespace="ro")
            assert db.cursor("r", namespace="ro") == [5]
