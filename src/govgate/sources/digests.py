"""The SHA-256 of the input files this process has read, so that the evidence manifest does not
read and hash them all a second time.

The manifest lists every input file with its SHA-256. On a long schedule that is thousands of
small files which the loaders have just read; reading each again cost as much as loading them.
A file read through :func:`govgate.sources.files.read_input` is remembered by its identity as
``fstat`` gave it before the read (device, inode, size, modification and change times in
nanoseconds) with the digest of the bytes read. The manifest asks :func:`known` with a fresh
``stat``: the same identity gives the digest of the very bytes that were evaluated; any change
(a rewrite, even of the same size, moves the change time) gives None and the file is hashed
again. Large files are not remembered (hashing them on every read would cost commands that
write no manifest).
"""

from __future__ import annotations

import hashlib
import os

__all__ = ["known", "remember"]

#: Files up to this size are digested when read.
LIMIT = 1 << 20

_Identity = tuple[int, int, int, int, int]
_DIGESTS: dict[tuple[int, int], tuple[_Identity, str]] = {}


def _identity(st: os.stat_result) -> _Identity:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def remember(st: os.stat_result, data: bytes) -> None:
    """Keep the digest of ``data``, read from the file ``st`` describes (taken before the read)."""
    if len(data) == st.st_size <= LIMIT and st.st_ino:
        _DIGESTS[(st.st_dev, st.st_ino)] = (_identity(st), hashlib.sha256(data).hexdigest())


def known(st: os.stat_result) -> str | None:
    """The SHA-256 of the file ``st`` describes when this process read it unchanged, else None."""
    entry = _DIGESTS.get((st.st_dev, st.st_ino))
    return entry[1] if entry is not None and entry[0] == _identity(st) else None
