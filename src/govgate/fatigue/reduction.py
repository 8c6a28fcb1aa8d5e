"""The reduced form of a ``signer_ack_event`` export: what every heat-map engine produces.

The heat-map, its history and the promotions need only what is *counted* from the rows; what is
*decided* (the view's columns, the classification, recovering, the promote rules) is computed in
Python from these counts (``heatmap.py``, ``promote/``). An engine (the built-in Python scanner,
PostgreSQL push-down, DuckDB) reads the rows wherever they are and returns a :class:`Reduction`
through the ``govgate_reduce_events`` hook; docs/engines.md states the contract in full.

Everything in a reduction is an exact integer or a string, so two engines agree byte for byte or
not at all: day numbers count whole days from :attr:`Reduction.origin`, latencies are hundredths
of an hour, instants are microseconds since the origin, and the per-row latency/SLA ratios are
summed at 24 decimals exactly as PostgreSQL rounded each of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .cells import (
    DAY_SPAN,
    NEVER,
    ORIGIN_DAYS,
    PENDING_FLAG,
    SUM_BREACHES,
    SUM_LATENCY,
    SUM_RATIO,
    SUM_ROWS,
    SUM_SCALE16,
    SUM_SCALE20,
    SUM_SCALE24,
)
from .scan import LateRows

__all__ = ["ENGINES", "Reduction", "cell_key", "cell_sums", "grid_origin"]

#: The engine names ``fatigue.engine`` and ``--engine`` accept.
ENGINES: tuple[str, ...] = ("python", "duckdb", "postgresql")

_EPOCH = datetime(1, 1, 1, tzinfo=UTC)


@dataclass
class Reduction:
    """One export, reduced (see docs/engines.md for every field's exact meaning)."""

    #: A refresh instant: every refresh is this plus whole days; day numbers count from it.
    origin: datetime
    #: Rows read.
    count: int
    #: signer_id -> :func:`cell_key` -> :func:`cell_sums`.
    cells: dict[str, Mapping[int, int]]
    #: signer_id -> cert_window_id -> the request days of the signer's rows in that window.
    window_days: dict[str, dict[str, set[int]]]
    #: The rows that can be pending and aged; None when the caller asked for ``pending=False``.
    late: LateRows | None
    #: None: every row was read. Else the engine read only the rows requested at or after this
    #: instant (``requested_since``, see docs/engines.md) and rows requested before it exist.
    requested_since: datetime | None = None
    #: With ``requested_since``: every signer with a row requested before it.
    unread_signers: frozenset[str] = frozenset()


def grid_origin(anchor: datetime) -> datetime:
    """The grid origin the loader uses for a refresh anchor: :data:`~.cells.ORIGIN_DAYS` days
    before it (fewer near year 1), so that recent day numbers are small integers."""
    anchor = anchor.astimezone(UTC)
    return anchor - timedelta(days=min(ORIGIN_DAYS, (anchor - _EPOCH).days))


def first_row_origin(request: datetime | None) -> datetime:
    """The grid origin when no anchor is given: from the export's first row's request (any
    midnight is on the nightly grid; one near the data keeps day numbers small)."""
    if request is None:
        return grid_origin(datetime(2000, 1, 1, tzinfo=UTC))
    day = request.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return grid_origin(day + timedelta(days=ORIGIN_DAYS // 2))


def cell_key(request_day: int, answer_delay: int | None, null_outcome: bool) -> int:
    """The key of a cell.

    :param request_day: Whole days from the origin to ``request_dt_utc``, rounded down.
    :param answer_delay: None without ``ack_dt_utc``; else the day of the first refresh at or
        after the answer minus ``request_day``, and at least 1 (an answer by the first refresh
        that sees the request counts as answered there).
    :param null_outcome: ``ack_outcome`` is NULL (pending at every refresh).
    """
    key = request_day * DAY_SPAN + (NEVER if answer_delay is None else answer_delay)
    return key + PENDING_FLAG if null_outcome else key


def cell_sums(
    rows: int,
    latency_centihours: int = 0,
    breaches: int = 0,
    scale16: int = 0,
    scale20: int = 0,
    scale24: int = 0,
    ratio_sum24: int = 0,
) -> int:
    """The packed sums of a cell (the layout of ``cells.py``).

    :param rows: Rows in the cell.
    :param latency_centihours: Sum of the rows' ``ack_latency_hours`` in hundredths.
    :param breaches: Rows with ``ack_latency_hours > sla_target_hours``.
    :param scale16: Rows whose ``ack_latency_hours / sla_target_hours`` PostgreSQL rounds at 16
        decimals (``scale20``, ``scale24`` likewise; the rest are rounded at 12).
    :param ratio_sum24: Sum of those rounded ratios, times 10**24.
    """
    return (
        (rows << SUM_ROWS)
        + (latency_centihours << SUM_LATENCY)
        + (breaches << SUM_BREACHES)
        + (scale16 << SUM_SCALE16)
        + (scale20 << SUM_SCALE20)
        + (scale24 << SUM_SCALE24)
        + (ratio_sum24 << SUM_RATIO)
    )
