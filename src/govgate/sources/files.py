"""The file source: paths relative to the configuration's folder, never outside it."""

from __future__ import annotations

import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import SourceError
from ..hookspecs import hookimpl

#: Larger inputs are refused rather than read into memory whole (``sources.max_bytes``).
DEFAULT_MAX_BYTES = 512 * 1024 * 1024


def resolve_path(ref: str, base: Path, settings: Mapping[str, Any]) -> Path:
    """Resolve ``ref`` against ``base``; refuse paths that escape it unless allowed."""
    try:
        path = (base / ref).resolve()
    except (RuntimeError, OSError):  # a symlink loop (RuntimeError before Python 3.13)
        raise SourceError("cannot resolve the path (a symlink loop?)", source=ref) from None
    if not settings.get("allow_outside", False) and not path.is_relative_to(base.resolve()):
        raise SourceError(
            "path escapes the configuration's folder (set sources.allow_outside: true to allow)",
            source=ref,
        )
    return path


def kind_of(path: Path, ref: str) -> str | None:
    """``"file"``, ``"folder"`` or None when nothing is there; any other OS error (a name too
    long, a symlink loop, no permission) is a :class:`SourceError` naming ``ref``."""
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or 'I/O error'}", source=ref) from None
    return "folder" if stat.S_ISDIR(mode) else "file"


def check_size(path: Path, ref: str, settings: Mapping[str, Any]) -> None:
    """Refuse a file above ``sources.max_bytes`` (also for loaders that stream a file in place).

    :raises FileNotFoundError: and the other ``OSError``s of ``stat``, for the caller to word.
    """
    limit = int(settings.get("max_bytes", DEFAULT_MAX_BYTES))
    size = path.stat().st_size
    if size > limit:
        raise SourceError(f"file is {size} bytes, above the limit of {limit}", source=ref)


@hookimpl(trylast=True)
def govgate_read_source(ref: str, base: Path, settings: Mapping[str, Any]) -> bytes | None:
    if "://" in ref and not ref.startswith("file://"):
        return None
    path = resolve_path(ref.removeprefix("file://"), base, settings)
    try:
        check_size(path, ref, settings)
        return path.read_bytes()
    except FileNotFoundError:
        raise SourceError("file not found", source=ref) from None
    except IsADirectoryError:
        raise SourceError("expected a file, found a folder", source=ref) from None
    except PermissionError:
        raise SourceError("permission denied", source=ref) from None
    except OSError as exc:  # a name too long, a symlink loop, an I/O error
        raise SourceError(f"cannot read: {exc.strerror or 'I/O error'}", source=ref) from None
