"""How the loader packs per-signer aggregates into plain integers (shared with the heat-map).

A *cell* collects the events of one signer that look alike to every refresh: same request day,
same answer day, same NULL-ness of ``ack_outcome``. Its key and its sums are each one integer, so
folding a row into its cell is one dict update of one integer.

Days count whole days from the log's grid origin (a refresh instant): an event requested on day
``d`` (``origin + d days <= request < origin + (d + 1) days``) is first seen by the refresh of
day ``d + 1``; an answer at ``a`` is seen from the first refresh at or after ``a``.
"""

from __future__ import annotations

__all__ = [
    "DAY_SPAN",
    "FIELD_MASK",
    "LATENCY_MASK",
    "NEVER",
    "ORIGIN_DAYS",
    "PENDING_FLAG",
    "SUM_BREACHES",
    "SUM_LATENCY",
    "SUM_RATIO",
    "SUM_ROWS",
    "SUM_SCALE16",
    "SUM_SCALE20",
    "SUM_SCALE24",
    "split_key",
]

#: Cell key = request_day * DAY_SPAN + (answer_day - request_day), or + NEVER without an answer,
#: plus PENDING_FLAG when ack_outcome is NULL (pending at every refresh, whatever ack_dt_utc
#: says). An answer is at most 41667 days late (NUMERIC(8,2) hours); the span is odd so that keys
#: spread over a dict's hash slots.
DAY_SPAN = 41_671
NEVER = DAY_SPAN - 1
PENDING_FLAG = 1 << 40
#: The grid origin is this many days before the refresh anchor: the last months' day numbers are
#: then CPython's preallocated small integers (nothing allocated per row or per stored day) and
#: keys stay below 2**30 for decades either side. Older days are negative, which is fine.
ORIGIN_DAYS = 255

#: Cell sums: bit offsets of the fields of one integer. Each field holds counts up to 2**40.
SUM_ROWS = 0  # rows (for an answered cell: answered rows)
SUM_LATENCY = 40  # sum of ack_latency_hours in hundredths (72 bits)
SUM_BREACHES = 112  # rows with ack_latency_hours > sla_target_hours
SUM_SCALE16 = 152  # rows whose latency/SLA PostgreSQL rounded at 16 digits
SUM_SCALE20 = 192  # ... at 20 digits
SUM_SCALE24 = 232  # ... at 24 digits (12 digits is the rest)
SUM_RATIO = 272  # sum of the rows' rounded latency/SLA at 24 digits (unbounded, last)
FIELD_MASK = (1 << 40) - 1
LATENCY_MASK = (1 << 72) - 1


def split_key(key: int) -> tuple[int, int, bool]:
    """``(request_day, answer_day - request_day or NEVER, ack_outcome is NULL)`` of a key."""
    flagged = key >= PENDING_FLAG // 2
    day, rest = divmod(key - PENDING_FLAG if flagged else key, DAY_SPAN)
    return day, rest, flagged
