"""The file source: paths relative to the configuration's folder, never outside it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import SourceError
from ..hookspecs import hookimpl

#: Larger inputs are refused rather than read into memory whole (``sources.max_bytes``).
DEFAULT_MAX_BYTES = 512 * 1024 * 1024


def resolve_path(ref: str, base: Path, settings: Mapping[str, Any]) -> Path:
    """Resolve ``ref`` against ``base``; refuse paths that escape it unless allowed."""
    path = (base / ref).resolve()
    if not settings.get("allow_outside", False) and not path.is_relative_to(base.resolve()):
        raise SourceError(
            "path escapes the configuration's folder (set sources.allow_outside: true to allow)",
            source=ref,
        )
    return path


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
