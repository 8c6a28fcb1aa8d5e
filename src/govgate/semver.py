"""Strict semantic versions (``MAJOR.MINOR.PATCH``), compared numerically."""

from __future__ import annotations

import re

from .errors import GovgateError

# ASCII: Python's \d also matches "١", which int() reads, so "1١.2.0" would be 11.2.0.
_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)\Z", re.ASCII)


def parse_semver(text: object, *, source: str | None = None, where: str | None = None,
                 ) -> tuple[int, int, int]:
    """Parse ``1.2.0`` into ``(1, 2, 0)``; anything else is bad input."""
    # Bounded before int(), which raises ValueError beyond 4,300 digits.
    match = _SEMVER.match(text) if isinstance(text, str) and len(text) <= 100 else None
    if not match:
        shown = repr(text) if len(repr(text)) <= 60 else repr(text)[:56] + "...'"
        raise GovgateError(f"expected a semantic version like 1.2.0, got {shown}",
                           source=source, where=where)
    major, minor, patch = (int(g) for g in match.groups())
    return (major, minor, patch)


def bump_minor(text: str) -> str:
    major, minor, _ = parse_semver(text)
    return f"{major}.{minor + 1}.0"
