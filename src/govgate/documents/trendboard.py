"""The deficiency trend board export of lesson 173, as the monthly fatigue review reads it.

Lesson 174 cross-references signer fatigue with "dimensions trending hot": a tired signer
guarding a hot dimension is the first backup-promote candidate. The board is a table
(``kind: deficiency_trend_board``): ``dimension_id, owner_route, trend, as_of`` and optional
``recurrence_count``, ``note``. An export may hold several snapshots; the review uses, per
dimension, the latest row at or before the instant it looks at.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ..errors import GovgateError
from ..loaders.tables import read_table
from ..model import Location
from ..timeutil import parse_instant

__all__ = ["HOT_TRENDS", "KIND", "TrendRow", "board_at", "parse_trend_board"]

KIND = "deficiency_trend_board"
#: Trends that make a dimension "hot" for the cross-reference.
HOT_TRENDS: frozenset[str] = frozenset({"hot", "structural_red"})


@dataclass(frozen=True, slots=True)
class TrendRow:
    """One dimension's trend in one board snapshot."""

    dimension_id: str
    owner_route: str
    trend: str
    as_of: datetime
    recurrence_count: int | None = None
    note: str | None = None
    location: Location | None = None

    @property
    def hot(self) -> bool:
        return self.trend in HOT_TRENDS


def parse_trend_board(data: bytes, source: str) -> tuple[TrendRow, ...]:
    """Parse and validate a board export (schema ``deficiency_trend_board``).

    :raises GovgateError: On a bad row, naming the file, the row and the column.
    """
    rows = read_table(data, source, KIND)
    result = []
    seen: dict[tuple[str, datetime], int] = {}
    for row in rows:
        v = row.values
        count = v.get("recurrence_count")
        at = parse_instant(v["as_of"], source=source, where=row.where("as_of"))
        key = (str(v["dimension_id"]), at)
        if key in seen:
            # Two trends for one dimension in one snapshot: the review could not choose.
            raise GovgateError(f"duplicate dimension_id {key[0]!r} in the snapshot of "
                               f"{v['as_of']} (also on row {seen[key]})",
                               source=source, where=row.where("dimension_id"))
        seen[key] = row.number
        result.append(TrendRow(
            dimension_id=str(v["dimension_id"]),
            owner_route=str(v["owner_route"]),
            trend=str(v["trend"]),
            as_of=at,
            recurrence_count=int(count) if count not in (None, "") else None,
            note=v.get("note") or None,
            location=Location(source, row.number),
        ))
    return tuple(sorted(result, key=lambda r: (r.dimension_id, r.as_of)))


def board_at(rows: Sequence[TrendRow], at: datetime) -> tuple[TrendRow, ...]:
    """Per dimension, the latest snapshot row at or before ``at``, sorted by dimension."""
    latest: dict[str, TrendRow] = {}
    for row in rows:
        if row.as_of <= at and (row.dimension_id not in latest
                                or row.as_of > latest[row.dimension_id].as_of):
            latest[row.dimension_id] = row
    return tuple(latest[k] for k in sorted(latest))
