"""The ack events that can be pending and aged, as promotions read them: over the loader's columns.

:attr:`EventLog.pending` builds one :class:`PendingAck` with two datetimes per event (a third of
``check``'s time at a million events). The promote replay asks, per route and refresh, whether
the primary has an ack open at the refresh and older than ``aged_factor`` x its SLA: integer
questions about microseconds. So :func:`pending_acks` groups the loader's
:class:`~govgate.fatigue.scan.LateRows` by ``(signer_id, owner_route)`` as row numbers sorted by
``(request_dt_utc, ack_event_id)``; a :class:`PendingGroup` is a ``Sequence[PendingAck]`` that
builds an item only when one is read (a plugin's trigger), and :meth:`PendingGroup.first_aged`
answers the built-in rule on the integers directly.
"""

from __future__ import annotations

import weakref
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import overload

from . import pgnumeric
from .events import EventLog
from .model import PendingAck
from .scan import NO_ANSWER, LateRows

__all__ = ["PendingAcks", "PendingGroup", "pending_acks"]

_MICROS_PER_CENTIHOUR = pgnumeric.MICROS_PER_CENTIHOUR
_MICROS_PER_HOUR = Decimal(3_600_000_000)
_MICRO = timedelta(microseconds=1)


class _Columns:
    """The late rows, the grid origin and the SLA decimals, shared by every group."""

    __slots__ = ("late", "limits", "origin", "slas")

    def __init__(self, late: LateRows, origin: datetime) -> None:
        self.late = late
        self.origin = origin
        self.slas: dict[int, Decimal] = {}
        #: (SLA in centi-hours, aged_factor) -> the largest age in microseconds not aged.
        self.limits: dict[tuple[int, Decimal], int] = {}

    def sla(self, row: int) -> Decimal:
        centi = self.late.slas[row]
        known = self.slas.get(centi)
        if known is None:
            known = self.slas[centi] = pgnumeric.to_decimal(centi, 2)
        return known

    def ack(self, row: int) -> PendingAck:
        late, origin = self.late, self.origin
        answered = late.answered[row]
        return PendingAck(
            ack_event_id=late.ids[row],
            signer_id=late.signers[row],
            owner_route=late.routes[row],
            cert_window_id=late.windows[row],
            request_dt_utc=origin + timedelta(microseconds=late.requested[row]),
            ack_dt_utc=None if answered == NO_ANSWER else origin + timedelta(
                microseconds=answered),
            sla_target_hours=self.sla(row),
        )


class _Rows(Sequence[PendingAck]):
    """Late rows (by row number) as :class:`PendingAck` items built when read."""

    def __init__(self, columns: _Columns, rows: list[int]) -> None:
        self._columns = columns
        self._rows = rows

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> PendingAck: ...

    @overload
    def __getitem__(self, index: slice) -> list[PendingAck]: ...

    def __getitem__(self, index: int | slice) -> PendingAck | list[PendingAck]:
        if isinstance(index, slice):
            return [self._columns.ack(row) for row in self._rows[index]]
        return self._columns.ack(self._rows[index])

    def __iter__(self) -> Iterator[PendingAck]:
        return map(self._columns.ack, self._rows)


class PendingGroup(_Rows):
    """One ``(signer_id, owner_route)``'s pending-capable acks, by ``(request, id)``."""

    def __init__(self, columns: _Columns, rows: list[int], key: tuple[str, str]) -> None:
        super().__init__(columns, rows)
        self.key = key
        requested = columns.late.requested
        self._requested = [requested[row] for row in rows]  # sorted: bisect on it

    def first_aged(self, at: datetime, window_days: int, aged_factor: Decimal) -> str | None:
        """The id of the first ack (in order) requested in ``[at - window, at)``, not answered
        by ``at`` and strictly older than ``aged_factor`` x its SLA; None when there is none.

        The same comparison as :func:`~govgate.promote.rules.aged_pending_trigger` on
        :class:`PendingAck` items: whole microseconds against the same exact decimal limit.
        """
        columns = self._columns
        late = columns.late
        t = (at - columns.origin) // _MICRO
        requested = self._requested
        start = bisect_left(requested, t - window_days * 86_400_000_000)
        rows, answered_at, slas, limits = self._rows, late.answered, late.slas, columns.limits
        for position in range(start, len(requested)):
            request = requested[position]
            if request >= t:
                break
            row = rows[position]
            answered = answered_at[row]
            if answered != NO_ANSWER and answered <= t:
                continue  # answered by the refresh: not pending in the world as it was at t
            key = (slas[row], aged_factor)
            limit = limits.get(key)
            if limit is None:
                # An age in whole microseconds exceeds the exact decimal limit exactly when it
                # exceeds the limit's floor.
                exact = aged_factor * columns.sla(row) * _MICROS_PER_HOUR
                limit = limits[key] = int(exact.to_integral_value(rounding=ROUND_FLOOR))
            if t - request > limit:
                return late.ids[row]
        return None


class PendingAcks(_Rows):
    """Every ack that can be pending and aged, ordered by ``(request_dt_utc, ack_event_id)``:
    the same items as :attr:`EventLog.pending`, built only when read."""

    def __init__(self, columns: _Columns, rows: list[int]) -> None:
        super().__init__(columns, rows)
        self._groups: dict[tuple[str, str], PendingGroup] | None = None

    def by_signer_route(self) -> dict[tuple[str, str], PendingGroup]:
        """The groups of :func:`~govgate.promote.engine.pending_index`, without items (built
        once: every replay over these rows reads the same groups)."""
        if self._groups is None:
            self._groups = self._group()
        return self._groups

    def _group(self) -> dict[tuple[str, str], PendingGroup]:
        late = self._columns.late
        signers, routes = late.signers, late.routes
        grouped: dict[tuple[str, str], list[int]] = {}
        for row in self._rows:  # already in (request, id) order: each group stays ordered
            grouped.setdefault((signers[row], routes[row]), []).append(row)
        return {key: PendingGroup(self._columns, rows, key) for key, rows in grouped.items()}


#: Per loaded log, its pending acks: a document evaluates one log several times (the readback's
#: open and close, the review's what-if replays) and every evaluation reads the same rows.
_BUILT: weakref.WeakKeyDictionary[EventLog, PendingAcks] = weakref.WeakKeyDictionary()


def pending_acks(log: EventLog) -> PendingAcks:
    """:attr:`EventLog.pending` over the loader's columns (see the module docstring); built
    once per log.

    :raises RuntimeError: When the log was loaded with ``pending=False``.
    """
    if not isinstance(log, EventLog):  # a stand-in (tests): nothing to key on
        return _build(log)
    known = _BUILT.get(log)
    if known is None:
        known = _BUILT[log] = _build(log)
    return known


def _build(log: EventLog) -> PendingAcks:
    late = log.late_rows
    requested, answered, slas, ids = late.requested, late.answered, late.slas, late.ids
    limit = _MICROS_PER_CENTIHOUR
    rows = [
        row for row, done, asked, sla in zip(range(len(ids)), answered, requested, slas,
                                             strict=True)
        if done == NO_ANSWER or done - asked > sla * limit
    ]  # answered in time (rounded up to the SLA): never aged
    # By (request, id): by id, then (stable) by request.
    rows.sort(key=ids.__getitem__)
    rows.sort(key=requested.__getitem__)
    return PendingAcks(_Columns(late, log.grid_origin), rows)
