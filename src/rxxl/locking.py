"""A lock file that says "a live rxxl run is writing here", on POSIX and Windows.

``rxxl report`` holds one in its output folder while it writes, so a second run into the same
folder is refused instead of racing it (last writer wins); the private scratch folders of the
claim detail hold one too, so that a later run can tell a killed run's folder (lock free) from
a live one's (lock held) and remove only the former.

The lock is the operating system's (``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows):
it goes with the process, so a run killed with ``kill -9`` never leaves a folder locked. The
file holds the holder's process id for the refusal message and is removed on release
(while still held, and a newcomer checks it locked the file that is still there, so two runs
can never both hold a lock through a removed file).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

try:  # POSIX
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt

from rxxl.errors import RxxlError

#: Windows locks a byte range, which others then cannot read: lock a byte far past the pid.
_WINDOWS_LOCK_OFFSET = 1 << 30
#: What a lock attempt on a file locked by another process fails with.
_BUSY = (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK, errno.EDEADLK)


class FolderBusy(RxxlError):
    """Another live process holds the lock."""


class FileLock:
    """An exclusive lock on ``path``, taken without waiting.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / ".lock"
    >>> first, second = FileLock(path), FileLock(path)
    >>> first.acquire(), second.acquire(), second.holder() == os.getpid()
    (True, False, True)
    >>> first.release(); path.exists()
    False
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._fd: int | None = None
        self._holder: int | None = None

    def acquire(self) -> bool:
        """Take the lock: True, or False when another process holds it (see :meth:`holder`)."""
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                if not _lock(fd):
                    self._holder = _read_pid(fd)
                    os.close(fd)
                    return False
                if _same_file(fd, self.path):
                    break
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)  # locked a file its holder removed meanwhile: try the new one
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode("ascii"))
        self._fd = fd
        return True

    def holder(self) -> int | None:
        """The process id in the lock file when :meth:`acquire` last failed (None: unknown)."""
        return self._holder

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.unlink(self.path)  # while held: see the module docstring
        except OSError:  # gone already, or Windows (an open file cannot be removed)
            pass
        _unlock(self._fd)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> FileLock:
        if not self.acquire():
            raise FolderBusy(f"{self.path}: locked by pid {self._holder or 'unknown'}")
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _lock(fd: int) -> bool:
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError as exc:
        if exc.errno in _BUSY:
            return False
        raise
    return True


def _unlock(fd: int) -> None:
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)
    else:
        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
        return False


def _read_pid(fd: int) -> int | None:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 32).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
