"""After os.fork(), the child cannot use the parent's store and does not
harm it; it can open the store again (after the parent lets go)."""

import os

import pytest

import roche

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork() here")


def wait_child(pid):
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_child_cannot_use_parents_store(root):
    db = roche.open(root)
    offset = db.append(b"parent's")
    follower = db.follow("default", timeout=0)
    records = db.scan()
    pid = os.fork()
    if pid == 0:  # the child: every call is refused with Closed
        code = 0
        for call in (lambda: db.append(b"child's"), lambda: db.get(offset), lambda: db.sync(),
                     lambda: db.multi_get([offset]), lambda: list(records),
                     lambda: follower.next(0), lambda: follower.wake()):
            try:
                call()
                code = 1
            except roche.Closed as error:
                if "fork" not in str(error):
                    code = 2
            except BaseException:  # noqa: BLE001
                code = 3
        if not db.closed:
            code = 4
        del db, records, follower  # dealloc in the child: must not touch the files
        os._exit(code)
    assert wait_child(pid) == 0
    # the parent's store is intact and still its own
    assert db.get(offset) == b"parent's"
    assert [r.value for r in db.scan()] == [b"parent's"]
    assert db.append(b"after") > offset
    with pytest.raises(roche.Locked):
        roche.open(root)  # the parent still holds the writer lock
    follower.close()
    db.close()


def test_child_close_leaves_files_and_lock_alone(root):
    db = roche.open(root)
    offsets = db.append_many([b"a" * 100] * 100)
    size_before = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(root) for f in fs)
    pid = os.fork()
    if pid == 0:
        db.close()
        os._exit(0)
    assert wait_child(pid) == 0
    size_after = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(root) for f in fs)
    assert size_after == size_before  # the child did not trim the parent's files
    assert db.multi_get(offsets) == [b"a" * 100] * 100
    db.close()


def test_child_opens_its_own(root):
    with roche.open(root) as db:
        db.append(b"x")
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        with roche.open(root) as own:
            offset = own.append(b"from the child")
        os.write(write_fd, str(offset).encode())
        os._exit(0)
    os.close(write_fd)
    assert wait_child(pid) == 0
    offset = int(os.read(read_fd, 100))
    os.close(read_fd)
    with roche.open(root, read_only=True) as db:
        assert db.get(offset) == b"from the child"
