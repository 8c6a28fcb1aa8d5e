"""Strict semantic versions (``MAJOR.MINOR.PATCH``), compared numerically."""

from __future__ import annotations

import re

from .errors import GovgateError

_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")


def parse_semver(text: object, *, source: str | None = None, where: str | None = None,
                 ) -> tuple[int, int, int]:
    """Parse ``1.2.0`` into ``(1, 2, 0)``; anything else is bad input."""
    match = _SEMVER.match(text) if isinstance(text, str) else None
    if not match:
        raise GovgateError(f"expected a semantic version like 1.2.0, got {text!r}",
                           source=source, where=where)
    major, minor, patch = (int(g) for g in match.groups())
    return (major, minor, patch)


def bump_minor(text: str) -> str:
    major, minor, _ = parse_semver(text)
    return f"{major}.{minor + 1}.0"
