"""Atomic file writes: a reader (or a crash) never sees a half-written output."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
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


def write_all_atomic(files: Mapping[Path, bytes]) -> None:
    """Write a set of files so that a failure leaves every one of them as it was.

    Every file is first written whole to a temporary file beside it (the step that can run out
    of space); only then are they renamed into place, in path order. An interruption during
    the renames leaves each file either old or new, never torn.
    """
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in sorted(files.items()):
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            staged.append((tmp, path))
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        while staged:
            tmp, path = staged[0]
            os.replace(tmp, path)
            staged.pop(0)
    finally:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)


def write_immutable(path: Path, data: bytes) -> None:
    """Write a content-addressed file once; an existing one must already hold the same bytes."""
    if path.exists():
        if path.read_bytes() != data:
            from .errors import GovgateError

            raise GovgateError("an immutable artifact exists with different content (edited?)",
                               source=str(path))
        return
    write_atomic(path, data)
