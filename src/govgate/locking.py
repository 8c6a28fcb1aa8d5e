"""The ledger's file primitives that differ between POSIX and Windows: locks, fsync of a folder.

Studios run govgate from pre-commit on Windows, so the ledger cannot rely on ``fcntl``,
``O_CLOEXEC`` or ``O_DIRECTORY``. This is the one place that knows the difference. A lock is
held on a separate lock file for the duration of a ``with`` block and released when its
descriptor closes (``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows).

Windows has no shared byte-range lock through ``msvcrt``: a shared request takes the exclusive
lock there, so readers wait for each other too. That is slower, never wrong.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["cloexec", "file_lock", "fsync_dir", "is_windows"]

#: Seconds between attempts while another process holds the lock (Windows only: flock blocks).
POLL_SECONDS = 0.05


def is_windows() -> bool:
    """Whether to use ``msvcrt`` (read at each call, so tests can pretend to be Windows)."""
    return os.name == "nt" or sys.platform == "win32"


def cloexec() -> int:
    """``os.O_CLOEXEC``, or 0 on Windows, whose descriptors are not inherited by default."""
    return int(getattr(os, "O_CLOEXEC", 0))


def fsync_dir(directory: Path) -> None:
    """Make a new entry of ``directory`` durable. On Windows a folder cannot be opened for
    fsync, and NTFS journals its metadata itself: nothing to do there."""
    if is_windows():
        return
    dfd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def _flags(create: bool) -> int:
    # A reader opens read-only: someone who may only read the ledger can still lock it
    # (flock and msvcrt.locking both work on a read-only descriptor).
    base = cloexec() | getattr(os, "O_BINARY", 0)
    return base | (os.O_RDWR | os.O_CREAT if create else os.O_RDONLY)


@contextlib.contextmanager
def file_lock(path: Path, *, exclusive: bool, create: bool = True) -> Iterator[bool]:
    """Hold a lock on ``path`` while the block runs.

    :param exclusive: An exclusive (writer) lock, else a shared (reader) one.
    :param create: Create the lock file when missing. With ``create=False`` a missing lock
        file means no writer has ever run: the block runs unlocked and gets False.
    :returns: (yields) True when a lock is held.
    """
    try:
        fd = os.open(path, _flags(create), 0o644)
    except FileNotFoundError:
        if create:
            raise
        yield False
        return
    try:
        if is_windows():
            _lock_windows(fd)
        else:
            _lock_posix(fd, exclusive)
        yield True
    finally:
        if is_windows():
            _unlock_windows(fd)
        os.close(fd)  # closing releases a flock


def _lock_posix(fd: int, exclusive: bool) -> None:
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)


def _msvcrt() -> Any:
    import msvcrt  # Windows only; mypy on Linux does not know its functions

    return msvcrt


def _lock_windows(fd: int) -> None:
    msvcrt = _msvcrt()
    os.lseek(fd, 0, os.SEEK_SET)
    # LK_LOCK gives up after ten seconds; a govgate run may hold the lock longer, so poll.
    while True:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return
        except OSError:
            time.sleep(POLL_SECONDS)


def _unlock_windows(fd: int) -> None:
    msvcrt = _msvcrt()
    with contextlib.suppress(OSError):  # not locked (the lock attempt itself failed)
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
