"""Atomic file writes: a reader (or a crash) never sees a half-written output."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_immutable(path: Path, data: bytes) -> None:
    """Write a content-addressed file once; an existing one must already hold the same bytes."""
    if path.exists():
        if path.read_bytes() != data:
            from .errors import GovgateError

            raise GovgateError("an immutable artifact exists with different content (edited?)",
                               source=str(path))
        return
    write_atomic(path, data)
