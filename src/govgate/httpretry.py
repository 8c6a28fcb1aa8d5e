"""The retry rules every HTTP client in govgate shares (pager webhook, https source)."""

from __future__ import annotations

import re

_RETRY_AFTER = re.compile(r"^\d{1,9}(?:\.\d+)?$")


def retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header, or None.

    Only the delta-seconds form: the HTTP-date form would need a clock read, and exponential
    backoff is a fine answer there.
    """
    if value is None or not _RETRY_AFTER.match(value.strip()):
        return None
    return float(value.strip())


def retry_delay(attempt: int, server_asked: float | None, backoff: float, cap: float) -> float:
    """The wait before attempt ``attempt + 1``: the server's ask, else doubling backoff, capped."""
    delay = server_asked if server_asked is not None else backoff * 2 ** (attempt - 1)
    return min(delay, cap)
