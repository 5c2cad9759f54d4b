"""The roche.Error hierarchy: one class per libroche return code."""

from __future__ import annotations

from typing import Optional

from . import native

__all__ = [
    "Error", "InvalidArgument", "NotFound", "Corrupt", "IOFailure", "NoMemory", "TooBig",
    "Locked", "ReadOnly", "Internal", "TimedOut", "Canceled", "Dropped", "NotSupported", "Closed",
]


class Error(Exception):
    """A failure libroche reported.

    ``code`` is libroche's negative ``ROCHE_E*`` value (``None`` for
    :class:`Closed`, which the binding raises itself), ``detail`` the
    failing call's detail from ``roche_last_error()`` (a path, an errno
    text; may be empty), and ``offset`` the record the failure is about when
    the call knows it (get, multi_get items, scans and followers), else
    ``None``. ``str(error)`` is libroche's text for the code followed by
    the detail.
    """

    code: Optional[int] = None
    detail: str = ""
    offset: Optional[int] = None


class InvalidArgument(Error, ValueError):
    """ROCHE_EINVAL: a bad name, a bad option value, ..."""


class NotFound(Error, LookupError):
    """ROCHE_ENOTFOUND: no record, namespace or cursor there."""


class Corrupt(Error):
    """ROCHE_ECORRUPT: the record fails its checks, or none starts there."""


class IOFailure(Error, OSError):
    """ROCHE_EIO: a system call failed (the detail names it)."""


class NoMemory(Error, MemoryError):
    """ROCHE_ENOMEM."""


class TooBig(Error, ValueError):
    """ROCHE_ETOOBIG: a value longer than 4 GiB - 1 (roche.MAX_VALUE)."""


class Locked(Error):
    """ROCHE_ELOCKED: another handle, in this or another process, writes to the store."""


class ReadOnly(Error):
    """ROCHE_EREADONLY: a write on a store opened with read_only=True."""


class Internal(Error):
    """ROCHE_EINTERNAL: a bug in libroche; please report it."""


class TimedOut(Error, TimeoutError):
    """ROCHE_ETIMEDOUT: nothing new within the timeout (Follower.next returns None instead)."""


class Canceled(Error):
    """ROCHE_ECANCELED: Follower.wake() ended the wait (iteration ends instead)."""


class Dropped(Error):
    """ROCHE_EDROPPED: retention dropped the record.

    From a follower, ``offset`` is where it was in that bucket; the next
    call goes on from the bucket's first record kept.
    """


class NotSupported(Error):
    """ROCHE_ENOTSUP: the file system cannot do it (retention punches holes)."""


class Closed(Error):
    """The store (or the scan, or the follower) is closed, or was opened by
    the parent of this forked process. ``code`` is None."""


_CLASSES = {
    native.EINVAL: InvalidArgument,
    native.ENOTFOUND: NotFound,
    native.ECORRUPT: Corrupt,
    native.EIO: IOFailure,
    native.ENOMEM: NoMemory,
    native.ETOOBIG: TooBig,
    native.ELOCKED: Locked,
    native.EREADONLY: ReadOnly,
    native.EINTERNAL: Internal,
    native.ETIMEDOUT: TimedOut,
    native.ECANCELED: Canceled,
    native.EDROPPED: Dropped,
    native.ENOTSUP: NotSupported,
}


def make(code: int, detail: str, offset: Optional[int]) -> BaseException:
    """Build the exception for a code (called by roche.native)."""
    if code == native.ECLOSED:
        error: Error = Closed("the store is closed")
        code_value: Optional[int] = None
    elif code == native.EFORKED:
        error = Closed("the store was opened by the parent process before fork(); open it again in the child")
        code_value = None
    elif code == native.EBUSY:
        return RuntimeError("this iterator is in use by another thread")
    else:
        text = native.strerror(code)
        error = _CLASSES.get(code, Error)(f"{text}: {detail}" if detail else text)
        code_value = code
    error.code = code_value
    error.detail = detail
    error.offset = offset
    return error
