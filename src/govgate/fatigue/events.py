"""Load a ``signer_ack_event`` export into an :class:`EventLog`, in one streaming pass.

A million rows must load in about the time it takes merely to parse them, in well under 100 MB,
so no object is built per row and nothing is validated through a schema (see ``scan.py``). Each
row is parsed into a few small integers and folded into per-signer aggregates on the refresh
grid (see ``cells.py``):

* ``SignerLoad.cells``: per (request day, answer day, NULL outcome), the rows, latency sums,
  breaches and latency/SLA ratios as PostgreSQL rounds them. The heat-map turns cells into
  difference arrays over days: its cost is signers x days plus cells, never days x events.
* ``SignerLoad.window_days``: per cert window, the days on which the signer had a request in it
  (``COUNT(DISTINCT cert_window_id)`` over a sliding window needs coverage, not sums).
* ``EventLog.pending``: the events that can ever be pending and aged, whole.

The refresh grid is fixed at load time (``refresh_anchor``, 00:00 UTC by default) because it
decides which day each instant falls in. The first bad row stops the load with a
:class:`~govgate.errors.GovgateError` naming the file, the row and the column.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cached_property
from operator import attrgetter
from pathlib import Path

from ..errors import GovgateError
from . import pgnumeric
from .cells import split_key
from .model import DEFAULT_SLA_TARGET_HOURS, PendingAck
from .reduction import Reduction, first_row_origin, grid_origin
from .rows import Records, open_records
from .scan import NO_ANSWER, LateRows, scan
from .validate import parse_sla, parse_timestamp

__all__ = ["EventLog", "SignerLoad", "default_slas", "event_log", "load_events", "reduce_file"]

_MICROS_PER_CENTIHOUR = pgnumeric.MICROS_PER_CENTIHOUR


@dataclass(frozen=True, slots=True, eq=False)
class SignerLoad:
    """One signer's events, aggregated on the refresh grid (see the module docstring).

    Day numbers count whole days from :attr:`EventLog.grid_origin`: an event is first seen by the
    refresh on ``request_day + 1``.
    """

    signer_id: str
    #: The first refresh day at which this signer has any event before it.
    first_day: int
    cells: Mapping[int, int]
    #: Cert window index (into :attr:`EventLog.cert_windows`) -> sorted request days.
    window_days: Mapping[int, tuple[int, ...]]


@dataclass(frozen=True, eq=False)
class EventLog:
    """A loaded ``signer_ack_event`` export: what the heat-map history and promotions need."""

    #: The file name as given.
    source: str
    #: A refresh instant; every refresh is this instant plus whole days.
    grid_origin: datetime
    event_count: int
    #: Per signer, sorted by ``signer_id``.
    signers: tuple[SignerLoad, ...]
    cert_windows: tuple[str, ...]
    #: None when loaded with ``pending=False``.
    _late: LateRows | None = field(default_factory=LateRows, repr=False)

    @cached_property
    def pending(self) -> tuple[PendingAck, ...]:
        """Events that are pending at some refresh and could age.

        ``ack_outcome`` NULL (``ack_dt_utc`` is then None: pending at every refresh, as SQL's
        ``pending_acks_now`` counts them) or answered more than ``sla_target_hours`` after the
        request. Ordered by ``(request_dt_utc, ack_event_id)``. Built on first use: the
        heat-map alone does not need them.
        """
        late = self._late
        if late is None:
            raise RuntimeError(f"{self.source} was loaded with pending=False")
        slas: dict[int, Decimal] = {}
        origin = self.grid_origin
        out = []
        for aid, signer, route, cw, requested, answered, sla_c in zip(
            late.ids,
            late.signers,
            late.routes,
            late.windows,
            late.requested,
            late.answered,
            late.slas,
            strict=True,
        ):
            if answered != NO_ANSWER and answered - requested <= sla_c * _MICROS_PER_CENTIHOUR:
                continue  # rounded up to the SLA, yet answered in time: never aged
            sla = slas.get(sla_c)
            if sla is None:
                sla = slas[sla_c] = pgnumeric.to_decimal(sla_c, 2)
            out.append(
                PendingAck(
                    ack_event_id=aid,
                    signer_id=signer,
                    owner_route=route,
                    cert_window_id=cw,
                    request_dt_utc=origin + timedelta(microseconds=requested),
                    ack_dt_utc=(
                        None
                        if answered == NO_ANSWER
                        else origin + timedelta(microseconds=answered)
                    ),
                    sla_target_hours=sla,
                )
            )
        out.sort(key=attrgetter("request_dt_utc", "ack_event_id"))
        return tuple(out)

    @property
    def late_rows(self) -> LateRows:
        """The columns behind :attr:`pending` (``fatigue/pending.py`` reads them directly)."""
        if self._late is None:
            raise RuntimeError(f"{self.source} was loaded with pending=False")
        return self._late

    @property
    def signer_ids(self) -> tuple[str, ...]:
        """Every signer in the export, sorted."""
        return tuple(s.signer_id for s in self.signers)

    def day_of(self, instant: datetime) -> int:
        """The grid day number of a refresh instant; ValueError if it is off the grid."""
        delta = instant - self.grid_origin
        if delta % timedelta(days=1):
            raise ValueError(
                f"{instant.isoformat()} is not on this log's refresh grid (refreshes at "
                f"{self.grid_origin.time().isoformat()} UTC); load it with refresh_anchor="
                "that instant"
            )
        return delta.days


def load_events(
    path: Path,
    *,
    default_sla: Mapping[str, Decimal] | None = None,
    refresh_anchor: datetime | None = None,
    source: str | None = None,
    pending: bool = True,
    max_bytes: int | None = None,
) -> EventLog:
    """Read a ``signer_ack_event`` export (CSV as PostgreSQL's COPY writes it, or JSON).

    :param path: The export. ``.json`` (or content starting with ``[``/``{``) is JSON.
    :param default_sla: ``sla_target_hours`` per route where the column is absent or empty;
        routes not named fall back to :data:`~govgate.fatigue.model.DEFAULT_SLA_TARGET_HOURS`.
        The known owner routes are the lesson's four plus every route named here (the ones a
        ``backup_owner_policy`` declares under ``owner_routes``); any other is refused.
    :param refresh_anchor: Any refresh instant (default: 00:00 UTC, the nightly refresh).
        :func:`~govgate.fatigue.heatmap.history` accepts only as-of instants on this grid.
    :param source: How messages name the file (default: ``path`` as given).
    :param pending: Keep the events that can be pending and aged (:attr:`EventLog.pending`,
        which promotions need; the heat-map does not): about a tenth of the rows.
    :param max_bytes: Refuse a file above this size, also one that grows past it while it is
        read (default: ``sources.max_bytes``'s default). Only a regular file is read.
    :raises GovgateError: On the first bad row, naming file, row and column.
    """
    source = str(path) if source is None else source
    reduction = reduce_file(
        path,
        default_slas(default_sla, source),
        refresh_anchor=refresh_anchor,
        source=source,
        pending=pending,
        max_bytes=max_bytes,
    )
    return event_log(reduction, source)


def reduce_file(
    path: Path,
    defaults: dict[str, int],
    *,
    refresh_anchor: datetime | None,
    source: str,
    pending: bool,
    max_bytes: int | None = None,
) -> Reduction:
    """The built-in engine: one pass of the Python scanner over a CSV or JSON export.

    :param defaults: The known owner routes and their default SLA in hundredths of an hour
        (:func:`default_slas`).
    """
    records = open_records(path, source, max_bytes)
    origin = (
        grid_origin(refresh_anchor)
        if refresh_anchor is not None
        else first_row_origin(_first_request(records))
    )
    result = scan(records, defaults, origin, late=pending)
    return Reduction(
        origin, result.count, result.cells, result.window_days, result.late if pending else None
    )


def _first_request(records: Records) -> datetime | None:
    """The first row's ``request_dt_utc`` (None when it has none that parses): the grid
    origin when no anchor is given (see ``reduction.first_row_origin``)."""
    for fields in records.reread():
        if len(fields) > 4:
            parsed = parse_timestamp(fields[4], "request_dt_utc")
            if isinstance(parsed, datetime):
                return parsed
        break
    return None


def default_slas(given: Mapping[str, Decimal] | None, source: str) -> dict[str, int]:
    """The known owner routes (the lesson's four and those ``given``) with their default SLA in
    hundredths of an hour; GovgateError naming ``source`` for a bad one."""
    merged = {**DEFAULT_SLA_TARGET_HOURS, **(given or {})}
    out: dict[str, int] = {}
    for route in sorted(merged):
        centi = parse_sla(str(merged[route]))
        if isinstance(centi, str):
            raise GovgateError(f"default SLA for {route}: {centi}", source=source)
        out[route] = centi
    return out


def event_log(reduction: Reduction, source: str) -> EventLog:
    """The :class:`EventLog` of a reduction, from whichever engine produced it."""
    window_ids = sorted({cw for windows in reduction.window_days.values() for cw in windows})
    window_index = {cw: i for i, cw in enumerate(window_ids)}
    loads = []
    for signer in sorted(reduction.cells):
        cells = reduction.cells[signer]
        first = min(split_key(key)[0] for key in cells) + 1
        window_days = {
            window_index[cw]: tuple(sorted(days))
            for cw, days in reduction.window_days.get(signer, {}).items()
        }
        loads.append(SignerLoad(signer, first, cells, window_days))
    return EventLog(
        source=source,
        grid_origin=reduction.origin,
        event_count=reduction.count,
        signers=tuple(loads),
        cert_windows=tuple(window_ids),
        _late=reduction.late,
    )
