"""The file source: paths relative to the configuration's folder, never outside it.

Only regular files are read. A FIFO would block the gate forever (nobody writes to it) and a
device node such as ``/dev/zero`` never ends, and ``stat`` says nothing about either (a size of
0), so every input is opened without blocking, checked with ``fstat`` on the opened descriptor
(the same file that is then read, whatever is renamed meanwhile), and read with the size cap
enforced while reading (a file that grows past it is refused too).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import SourceError
from ..hookspecs import hookimpl
from . import digests

#: Larger inputs are refused rather than read into memory whole (``sources.max_bytes``).
DEFAULT_MAX_BYTES = 512 * 1024 * 1024


def resolve_path(ref: str, base: Path, settings: Mapping[str, Any]) -> Path:
    """Resolve ``ref`` against ``base``; refuse paths that escape it unless allowed."""
    if "\x00" in ref:  # no file system accepts it; Python raises ValueError
        raise SourceError("a path cannot contain a NUL character", source=ref)
    try:
        path = _resolve(base, ref)
    except (RuntimeError, OSError):  # a symlink loop (RuntimeError before Python 3.13)
        raise SourceError("cannot resolve the path (a symlink loop?)", source=ref) from None
    if not settings.get("allow_outside", False) and not _within(path, _resolved(base)):
        raise SourceError(
            "path escapes the configuration's folder (set sources.allow_outside: true to allow)",
            source=ref,
        )
    return path


#: Folders (as written) and their real paths, each resolved once while a loader reads many files
#: (see :func:`resolving_once`); None outside such a loader: resolved at every call.
_RESOLVED_BASES: ContextVar[dict[str, str] | None] = ContextVar("resolved_bases", default=None)


@contextmanager
def resolving_once() -> Iterator[None]:
    """Within the block, each folder is resolved once (a job folder per window reads three files
    against the same base: resolving every path again cost a third of the read)."""
    token = _RESOLVED_BASES.set({})
    try:
        yield
    finally:
        _RESOLVED_BASES.reset(token)


def _resolve(base: Path, ref: str) -> Path:
    """``(base / ref).resolve()``; within :func:`resolving_once`, the folder holding the file
    is resolved once for all its files.

    The real path of ``folder/name`` is the real path of ``folder`` joined with ``name`` when
    ``name`` is neither ``.``/``..`` nor a symbolic link (checked with ``lstat`` on the resolved
    folder); otherwise the whole path is resolved as before. A job folder per window has three
    files, and resolving every component of each path again was a fifth of loading a long
    schedule.
    """
    cache = _RESOLVED_BASES.get()
    # POSIX only: on Windows a junction is not S_ISLNK, and resolve() asks the system anyway.
    if cache is None or os.name != "posix":
        return (base / ref).resolve()
    # Strings, not Path objects: building and parsing Paths was most of the cost here.
    # (os.path.join keeps an absolute ref as it is, as Path's / does.)
    full = os.path.join(os.fspath(base), ref)
    folder_text, name = os.path.split(full)
    if name in ("", ".", ".."):
        return Path(full).resolve()
    candidate = os.path.join(_real_folder(folder_text, cache), name)
    try:
        if stat.S_ISLNK(os.lstat(candidate).st_mode):
            return Path(full).resolve()
    except FileNotFoundError:
        pass  # resolve() leaves a missing last component as it is written
    except OSError:
        return Path(full).resolve()  # raises or answers as it always did
    return Path(candidate)


def _real_folder(text: str, cache: dict[str, str]) -> str:
    """The real path of the folder ``text``, each folder on the way resolved once: a new folder
    under a known one costs one ``lstat`` (is it a link?) instead of one per component."""
    real = cache.get(text)
    if real is None:
        parent, name = os.path.split(text)
        if not parent or parent == text or name in ("", ".", ".."):
            real = str(Path(text).resolve())
        else:
            candidate = os.path.join(_real_folder(parent, cache), name)
            try:
                link = stat.S_ISLNK(os.lstat(candidate).st_mode)
            except FileNotFoundError:
                link = False  # resolve() keeps a missing component as it is written
            except OSError:
                link = True  # let resolve() answer (or raise) as it always did
            real = str(Path(text).resolve()) if link else candidate
        cache[text] = real
    return real


def _within(path: Path, folder: Path) -> bool:
    """``path.is_relative_to(folder)`` (the same lexical test on the parts, without the
    exception ``relative_to`` raises and catches for every path outside)."""
    inside = folder.parts
    return path.parts[:len(inside)] == inside


def _resolved(base: Path) -> Path:
    cache = _RESOLVED_BASES.get()
    if cache is None or os.name != "posix":
        return base.resolve()
    return Path(_real_folder(os.fspath(base), cache))


def kind_of(path: Path, ref: str) -> str | None:
    """``"file"``, ``"folder"`` or None when nothing is there; any other OS error (a name too
    long, a symlink loop, no permission) is a :class:`SourceError` naming ``ref``."""
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or 'I/O error'}", source=ref) from None
    except ValueError:  # a NUL character
        raise SourceError("a path cannot contain a NUL character", source=ref) from None
    return "folder" if stat.S_ISDIR(mode) else "file"


def max_bytes(settings: Mapping[str, Any]) -> int:
    """``sources.max_bytes`` (the configuration schema checks it is a positive integer)."""
    value = settings.get("max_bytes", DEFAULT_MAX_BYTES)
    return value if type(value) is int and value > 0 else DEFAULT_MAX_BYTES


#: O_NONBLOCK: opening a FIFO then returns at once instead of waiting for a writer (POSIX only;
#: Windows has no FIFOs to open by path).
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(
    os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def _not_regular(mode: int) -> str:
    kind = ("a folder" if stat.S_ISDIR(mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
    return f"expected a regular file, found {kind}"


def open_input(path: Path, ref: str, limit: int) -> BinaryIO:
    """Open ``path`` for reading when it is a regular file of at most ``limit`` bytes.

    Never blocks and never opens a device: ``stat`` refuses one before it is opened, and
    ``fstat`` on the opened descriptor refuses anything swapped in meanwhile.

    :raises SourceError: For a missing or unreadable file, anything but a regular file, or a
        file above ``limit``; the message names ``ref``.
    """
    fd, _info = _open_regular(path, ref, limit)
    try:
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _open_regular(path: Path, ref: str, limit: int) -> tuple[int, os.stat_result]:
    """The descriptor of ``path`` opened as :func:`open_input` opens it, and its ``fstat``."""
    if "\x00" in str(path):
        raise SourceError("a path cannot contain a NUL character", source=ref)
    try:
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):
            raise SourceError(_not_regular(mode), source=ref)
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        raise SourceError("file not found", source=ref) from None
    except PermissionError:
        raise SourceError("permission denied", source=ref) from None
    except OSError as exc:  # a name too long, a symlink loop, an I/O error
        raise SourceError(f"cannot read: {exc.strerror or 'I/O error'}", source=ref) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SourceError(_not_regular(info.st_mode), source=ref)
        if info.st_size > limit:
            raise SourceError(f"file is {info.st_size} bytes, above the limit of {limit} "
                              "(sources.max_bytes)", source=ref)
        return fd, info
    except BaseException:
        os.close(fd)
        raise


def read_input(path: Path, ref: str, limit: int) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them (see :func:`open_input`).

    :raises SourceError: As :func:`open_input`, and when the file grows past ``limit`` while it
        is read.
    """
    fd, st = _open_regular(path, ref, limit)
    try:
        # Sized by the file, not by the limit: reading limit + 1 would allocate the whole
        # limit (512 MiB by default) for every small file. A file that grows while it is
        # read (or reports no size, as /proc does) is read on in chunks up to the limit.
        # The descriptor itself, not a buffered file object: most inputs are small files read
        # whole, thousands of them on a long schedule.
        chunks = [os.read(fd, min(st.st_size, limit) + 1)]
        total = len(chunks[0])
        while total <= limit:
            more = os.read(fd, min(1 << 20, limit + 1 - total))
            if not more:
                break
            chunks.append(more)
            total += len(more)
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or 'I/O error'}", source=ref) from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise SourceError(f"file grew past the limit of {limit} bytes while it was read "
                          "(sources.max_bytes)", source=ref)
    digests.remember(st, data)
    return data


def check_size(path: Path, ref: str, settings: Mapping[str, Any]) -> None:
    """Refuse anything but a regular file of at most ``sources.max_bytes`` (for loaders that
    stream a file in place; they open it again with :func:`open_input`)."""
    open_input(path, ref, max_bytes(settings)).close()


@hookimpl(trylast=True)
def govgate_read_source(ref: str, base: Path, settings: Mapping[str, Any]) -> bytes | None:
    if "://" in ref and not ref.startswith("file://"):
        return None
    path = resolve_path(ref.removeprefix("file://"), base, settings)
    return read_input(path, ref, max_bytes(settings))
