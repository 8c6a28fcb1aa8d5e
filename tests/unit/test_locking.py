"""govgate.locking: fcntl on POSIX, msvcrt on Windows (simulated here: CI runs on Linux)."""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path

import pytest

from govgate import locking


@pytest.mark.skipif(os.name == "nt", reason="POSIX flock")
def test_an_exclusive_lock_excludes_another_open_file(tmp_path: Path) -> None:
    import fcntl

    lock = tmp_path / "x.lock"
    with locking.file_lock(lock, exclusive=True) as held:
        assert held
        other = os.open(lock, os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(other)
    other = os.open(lock, os.O_RDWR)
    try:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released when the block ended
    finally:
        os.close(other)


@pytest.mark.skipif(os.name == "nt", reason="POSIX flock")
def test_shared_locks_coexist(tmp_path: Path) -> None:
    import fcntl

    lock = tmp_path / "x.lock"
    lock.touch()
    with locking.file_lock(lock, exclusive=False):
        other = os.open(lock, os.O_RDONLY)
        try:
            fcntl.flock(other, fcntl.LOCK_SH | fcntl.LOCK_NB)
        finally:
            os.close(other)


def test_a_reader_never_creates_the_lock_file(tmp_path: Path) -> None:
    lock = tmp_path / "x.lock"
    with locking.file_lock(lock, exclusive=False, create=False) as held:
        assert held is False
    assert not lock.exists()


class FakeMsvcrt(types.ModuleType):
    """msvcrt.locking as Windows answers it: the first ``busy`` attempts find the lock held."""

    LK_NBLCK, LK_UNLCK, LK_LOCK = 2, 0, 1

    def __init__(self, busy: int) -> None:
        super().__init__("msvcrt")
        self.busy = busy
        self.calls: list[tuple[int, int]] = []

    def locking(self, fd: int, mode: int, nbytes: int) -> None:
        self.calls.append((mode, nbytes))
        if mode == self.LK_NBLCK and self.busy:
            self.busy -= 1
            raise PermissionError(13, "Permission denied")


@pytest.fixture
def windows(monkeypatch: pytest.MonkeyPatch) -> FakeMsvcrt:
    fake = FakeMsvcrt(busy=2)
    monkeypatch.setitem(sys.modules, "msvcrt", fake)
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(locking, "POLL_SECONDS", 0)
    # Windows has no O_CLOEXEC: the flags must not need it.
    monkeypatch.delattr(os, "O_CLOEXEC", raising=False)
    return fake


def test_windows_polls_until_the_lock_is_free_and_unlocks_after(windows: FakeMsvcrt,
                                                                tmp_path: Path) -> None:
    assert locking.is_windows()
    with locking.file_lock(tmp_path / "x.lock", exclusive=True) as held:
        assert held
        assert windows.calls == [(FakeMsvcrt.LK_NBLCK, 1)] * 3  # two busy answers, then held
    assert windows.calls[-1] == (FakeMsvcrt.LK_UNLCK, 1)


def test_windows_takes_the_exclusive_lock_for_readers_too(windows: FakeMsvcrt,
                                                          tmp_path: Path) -> None:
    windows.busy = 0
    (tmp_path / "x.lock").touch()
    with locking.file_lock(tmp_path / "x.lock", exclusive=False, create=False) as held:
        assert held
    assert windows.calls == [(FakeMsvcrt.LK_NBLCK, 1), (FakeMsvcrt.LK_UNLCK, 1)]


def test_os_name_nt_alone_also_means_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "name", "nt")
    assert locking.is_windows()
    monkeypatch.setattr(os, "name", "posix")
    monkeypatch.setattr(sys, "platform", "linux")
    assert not locking.is_windows()


def test_the_ledger_appends_through_the_windows_lock(windows: FakeMsvcrt, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from govgate.ledger import Ledger
    from govgate.model import LedgerRecord

    windows.busy = 0
    ledger = Ledger(tmp_path / "ledger.jsonl")
    ledger.append([LedgerRecord("page", "k1", datetime(2026, 1, 1, tzinfo=UTC), {"a": 1})])
    assert [r.key for r in ledger.records()] == ["k1"]
    assert (FakeMsvcrt.LK_UNLCK, 1) in windows.calls


def test_fsync_dir_is_skipped_on_windows(windows: FakeMsvcrt, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> int:
        raise PermissionError(13, "a folder cannot be opened on Windows")

    monkeypatch.setattr(os, "open", refuse)
    locking.fsync_dir(tmp_path)  # no error: nothing to do


@pytest.mark.skipif(os.name == "nt", reason="POSIX folders can be fsynced")
def test_fsync_dir_syncs_the_folder_on_posix(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd))[1])
    locking.fsync_dir(tmp_path)
    assert len(synced) == 1


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0,
                    reason="POSIX permissions (root reads and writes anything)")
def test_a_reader_that_may_only_read_the_lock_file_still_locks(tmp_path: Path) -> None:
    lock = tmp_path / "x.lock"
    lock.touch()
    lock.chmod(0o444)
    with locking.file_lock(lock, exclusive=False, create=False) as held:
        assert held


def test_readers_open_read_only_and_writers_create(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[int] = []
    real = os.open

    def spy(path: object, flags: int, *args: int) -> int:
        opened.append(flags)
        return real(path, flags, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", spy)
    lock = tmp_path / "x.lock"
    with locking.file_lock(lock, exclusive=True):
        pass
    with locking.file_lock(lock, exclusive=False, create=False):
        pass
    writer, reader = opened
    assert writer & os.O_CREAT and writer & (os.O_RDWR | os.O_WRONLY) == os.O_RDWR
    assert not reader & os.O_CREAT and reader & (os.O_RDWR | os.O_WRONLY) == 0
