"""The loader's single pass over the rows: parse, check and fold each row into its cell.

Every line of :meth:`_Scan.loop` runs a million times for a million rows, so it is written for
CPython: one flat loop, lookups bound to locals, small dicts (per signer, per SLA), the integers
CPython preallocates, one dict update of one integer per row, no object kept per row. A bad row
is not explained in the loop: it fails fast (an exception, a failed lookup) and
:class:`~govgate.fatigue.validate.RowDiagnosis` then re-reads it and names what is wrong.
"""

from __future__ import annotations

import bisect
import gc
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ..errors import GovgateError
from . import pgnumeric
from .cells import (
    DAY_SPAN,
    NEVER,
    PENDING_FLAG,
    SUM_BREACHES,
    SUM_LATENCY,
    SUM_RATIO,
    SUM_ROWS,
    SUM_SCALE16,
    SUM_SCALE20,
    SUM_SCALE24,
    split_key,
)
from .ids import EventIds
from .rows import EMPTY_STRING, Records, RowChunk
from .validate import FIRST_INSTANT, LAST_INSTANT, RowDiagnosis, check_derived, parse_sla

__all__ = ["NO_ANSWER", "LateRows", "ScanResult", "scan"]

#: :attr:`LateRows.answered` of an event whose ``ack_outcome`` is NULL (pending for good).
NO_ANSWER = -(1 << 63)
_MICRO = timedelta(microseconds=1)
#: What the loop holds per signer: its cells, its "add a request day" per cert window, and the
#: signer string itself (one shared copy).
_Signer = tuple[defaultdict[int, int], dict[str, Callable[[int], None]], str]

# Refresh ends kept ready around the origin (days -2048..2047): a lookup, not a subtraction.
_ENDS_AROUND = 2048
# ASCII control characters (line ends cannot occur inside a field here) to NUL, the rest as is.
_ASCII_CONTROL_TO_NUL = bytes(0 if b < 0x20 or b == 0x7F else b for b in range(256))


@dataclass
class LateRows:
    """The events that can be pending and aged (about one row in ten), column by column.

    Instants are whole microseconds since the grid origin: a tenth of the memory of datetime
    objects, and quick to send from a worker process (see ``workers.py``).
    """

    ids: list[str] = field(default_factory=list)
    signers: list[str] = field(default_factory=list)
    routes: list[str] = field(default_factory=list)
    windows: list[str | None] = field(default_factory=list)
    #: ``request_dt_utc`` in microseconds since the grid origin.
    requested: array[int] = field(default_factory=lambda: array("q"))
    #: ``ack_dt_utc`` likewise; :data:`NO_ANSWER` when ``ack_outcome`` is NULL.
    answered: array[int] = field(default_factory=lambda: array("q"))
    #: ``sla_target_hours`` in hundredths.
    slas: array[int] = field(default_factory=lambda: array("l"))

    @classmethod
    def from_rows(cls, rows: Iterable[Sequence[Any]]) -> LateRows:
        """From ``(ack_event_id, signer_id, owner_route, cert_window_id, requested, answered,
        sla_centi)`` tuples as a database engine returns them (``answered`` None: no answer)."""
        late = cls()
        for aid, signer, route, window, requested, answered, sla_c in rows:
            late.ids.append(aid)
            late.signers.append(signer)
            late.routes.append(route)
            late.windows.append(window)
            late.requested.append(requested)
            late.answered.append(NO_ANSWER if answered is None else answered)
            late.slas.append(sla_c)
        return late

    def extend(self, other: LateRows) -> None:
        """Append ``other``'s rows after these (parts of a file are merged in file order)."""
        self.ids += other.ids
        self.signers += other.signers
        self.routes += other.routes
        self.windows += other.windows
        self.requested += other.requested
        self.answered += other.answered
        self.slas += other.slas


@dataclass
class ScanResult:
    """What one pass collected (the loader turns it into an ``EventLog``)."""

    count: int
    #: signer_id -> cell key -> cell sums.
    cells: dict[str, Mapping[int, int]]
    #: signer_id -> cert_window_id -> request days.
    window_days: dict[str, dict[str, set[int]]]
    late: LateRows


@dataclass
class Part(ScanResult):
    """What the scan of one part of a file collected, with its ids (see :meth:`_Scan.export`)."""

    ids: EventIds


def _skip(*_: object) -> None:
    """Stands for :meth:`_Scan._keep` when late rows are not wanted."""


class _Reject(Exception):
    """A row is bad in a way the fast path notices but does not explain (the diagnosis does)."""


def scan(
    records: Records, defaults: dict[str, int], origin: datetime, *, late: bool = True
) -> ScanResult:
    """Read every row of ``records``, check ids and generated columns; see the module doc.

    :param late: Keep the rows that can be pending and aged (:attr:`ScanResult.late`); the
        heat-map alone does not need them.
    """
    state: _Scan | None = None
    collecting = gc.isenabled()
    # The loop makes no reference cycles; a collection would only re-walk what it keeps.
    gc.disable()
    try:
        from .workers import scan_in_parts

        state = scan_in_parts(records, defaults, origin, late)  # None: one process does it all
        if state is None:
            state = _Scan(records, defaults, origin, late)
            state.loop()
    finally:
        if collecting:
            gc.enable()
    state.check_days()
    state.check_ids()
    if records.derived is not None:
        for n, fields, latency, breached in records.derived():
            check_derived(
                fields, latency, breached, defaults, records.source, records.row_number(n)
            )
    cells: dict[str, Mapping[int, int]] = {s: entry[0] for s, entry in state.signers.items()}
    return ScanResult(records.count, cells, state.window_days, state.late)


class _Scan:
    def __init__(
        self, records: Records, defaults: dict[str, int], origin: datetime, late: bool = True
    ) -> None:
        self.records = records
        self.keep_late = late
        self.defaults = defaults
        self.origin = origin
        self.signers: dict[str, _Signer] = {}
        #: signer -> cert window -> request days, and the ``set.add`` the loop calls for each
        self.window_days: dict[str, dict[str, set[int]]] = {}
        self.adders: dict[str, dict[str, Callable[[int], None]]] = {}
        #: SLA text -> (hundredths, cell sums of one answered row by latency hundredths; a list
        #: index touches less memory than a hash probe)
        self.slas: dict[str, tuple[int, list[int | None]]] = {}
        self.late = LateRows()
        self.interned: dict[str, str] = {}
        #: False in a worker: a bad row only stops it (the loader then re-reads the whole file,
        #: in one process, to name the first bad row).
        self.explain = True

    def loop(self) -> None:
        signers, slas = self.signers, self.slas
        # NULL or no column: the route's default.
        # The known routes are the defaults' keys (the lesson's four and declared ones).
        route_slas = {route: self._sla("", route) for route in self.defaults}
        outcome_flag = {"": 1, "approved": 0, "rejected": 0, "reroute_requested": 0, "timeout": 0}
        route_zero = dict.fromkeys(self.defaults, 0)
        fromiso = datetime.fromisoformat
        origin = self.origin
        # The end of each request day's first refresh: an answer by then needs no arithmetic.
        ends_get = {
            day: origin + timedelta(days=day + 1) for day in range(-_ENDS_AROUND, _ENDS_AROUND)
        }.get
        never_end = datetime.min.replace(tzinfo=UTC)
        keep = self._keep if self.keep_late else _skip
        span, never = DAY_SPAN, NEVER
        hash_ids = self.records.hash_ids
        printable = self._printable
        aid = signer = route = cw = rq = ak = oc = sl = ""
        try:
            for chunk in self.records.chunks():
                if not printable(hash_ids(chunk)):
                    self._explain_chunk(chunk)
                # Unpacked in the for statement, so zip can reuse its result tuple.
                for aid, signer, route, cw, rq, ak, oc, sl in chunk:
                    # Subscripts, not .get: CPython 3.11 specialises them; try costs nothing
                    # until a first sighting raises.
                    try:
                        cells, adders, signer = signers[signer]
                    except KeyError:
                        cells, adders, signer = self._new_signer(signer)
                    flag = outcome_flag[oc] + route_zero[route]
                    try:
                        sla_c, packs = slas[sl] if sl else route_slas[route]
                    except KeyError:
                        sla_c, packs = self._sla(sl, route)
                    requested = fromiso(rq)
                    day = (requested - origin).days
                    if cw:
                        try:
                            adders[cw](day)
                        except KeyError:
                            self._new_window(signer, cw)(day)
                    base = day * span
                    if ak:
                        acked = fromiso(ak)
                        latency = acked - requested
                        # Hundredths of an hour, half up: (seconds + 18) // 36 is exact with the
                        # microseconds too, every boundary k * 36 s + 18 s being a whole second.
                        whole_days = latency.days
                        if whole_days:
                            if whole_days < 0:
                                raise _Reject
                            centi = (whole_days * 86_400 + latency.seconds + 18) // 36
                        else:
                            centi = (latency.seconds + 18) // 36
                        try:
                            packed = packs[centi]
                        except IndexError:
                            packed = None
                        if packed is None:
                            packed = self._pack(centi, sla_c, packs)
                        if acked <= ends_get(day, never_end):
                            key = base + 1  # answered by the first refresh that sees it
                        else:
                            key = base - day - (origin - acked).days  # ceil: -floor(-x)
                            if key == base:  # day beyond the ends kept ready, answer at once:
                                key += 1  # delay 1, as in the contract (reduction.cell_key)
                        if flag:
                            key += PENDING_FLAG
                            keep(aid, signer, route, cw, requested, None, sla_c)
                        elif centi >= sla_c:
                            keep(aid, signer, route, cw, requested, acked, sla_c)
                        cells[key] += packed
                    elif flag:
                        cells[base + never + PENDING_FLAG] += 1
                        keep(aid, signer, route, cw, requested, None, sla_c)
                    else:
                        cells[base + never] += 1
        except GovgateError:
            raise
        except Exception as exc:
            if not self.explain:
                raise
            self._diagnose((aid, signer, route, cw, rq, ak, oc, sl), exc)

    # -- parts of a file scanned by workers (see workers.py) ---------------------------------

    def export(self) -> Part:
        """What this scan of one part collected, as plain data (sent from a worker)."""
        return Part(
            count=self.records.count,
            cells={signer: entry[0] for signer, entry in self.signers.items()},
            window_days=self.window_days,
            late=self.late,
            ids=self.records.ids,
        )

    def absorb(self, part: Part) -> None:
        """Fold the scan of the next part of the file into this one: cell sums add up, request
        days unite, late rows follow in file order."""
        for signer, cells in part.cells.items():
            entry = self.signers.get(signer) or self._new_signer(signer)
            mine = entry[0]
            for key, sums in cells.items():
                mine[key] += sums
        for signer, windows in part.window_days.items():
            signer = self.signers[signer][2]
            for cw, days in windows.items():
                if cw not in self.window_days[signer]:
                    self._new_window(signer, cw)
                self.window_days[signer][cw] |= days
        late = part.late
        intern = self.interned.setdefault
        late.signers = [self.signers[signer][2] for signer in late.signers]
        late.routes = [intern(route, route) for route in late.routes]
        late.windows = [intern(cw, cw) if cw else None for cw in late.windows]
        self.late.extend(late)

    # -- rare paths of the loop ------------------------------------------------------------

    def _new_signer(self, signer: str) -> _Signer:
        if signer in ("", EMPTY_STRING) or not signer.isprintable():
            raise _Reject
        adders: dict[str, Callable[[int], None]] = {}
        cells: defaultdict[int, int] = defaultdict(int)
        entry = (cells, adders, signer)
        self.signers[signer] = entry
        self.adders[signer] = adders
        self.window_days[signer] = {}
        return entry

    def _new_window(self, signer: str, cw: str) -> Callable[[int], None]:
        if cw == EMPTY_STRING or not cw.isprintable():
            raise _Reject
        days: set[int] = set()
        cw = self.interned.setdefault(cw, cw)
        self.window_days[signer][cw] = days
        self.adders[signer][cw] = days.add
        return days.add

    def _sla(self, text: str, route: str) -> tuple[int, list[int | None]]:
        if text:
            sla_c = parse_sla(text)
            if isinstance(sla_c, str):
                raise _Reject
        else:
            sla_c = self.defaults[route]  # no column, or NULL: the route's default
        entry: tuple[int, list[int | None]]
        for known in self.slas.values():
            if known[0] == sla_c:
                entry = known  # "0.5" and "0.50" share their cached sums
                break
        else:
            entry = (sla_c, [None] * 4096)
        if text:
            self.slas[text] = entry
        return entry

    @staticmethod
    def _printable(ids: list[str]) -> bool:
        """Whether every ``ack_event_id`` of a chunk is printable (signers and cert windows are
        checked once each, when first seen). ASCII text is checked on its bytes, in C."""
        joined = "".join(ids)
        if joined.isascii():
            return b"\0" not in joined.encode("ascii").translate(_ASCII_CONTROL_TO_NUL)
        return joined.isprintable()

    def _explain_chunk(self, chunk: RowChunk) -> None:
        """A chunk holds an unprintable identifier: explain its first bad row, in file order."""
        if not self.explain:
            raise _Reject
        records = self.records
        first = records.count - len(chunk) + 1  # this chunk's first row index
        for n, row in enumerate(chunk, first):
            RowDiagnosis(records.source, records.row_number(n), self.origin, self.defaults).explain(
                row
            )
        raise AssertionError("a chunk failed the printable check, yet no row was explained")

    def _keep(
        self,
        aid: str,
        signer: str,
        route: str,
        cw: str,
        requested: datetime,
        acked: datetime | None,
        sla_c: int,
    ) -> None:
        """Keep an event that can be pending and aged (one row in ten, not all)."""
        # The row's strings are fresh objects: keep one shared copy of each repeated value.
        intern = self.interned.setdefault
        late, origin = self.late, self.origin
        late.ids.append(aid)
        late.signers.append(signer)
        late.routes.append(intern(route, route))
        late.windows.append(intern(cw, cw) if cw else None)
        late.requested.append((requested - origin) // _MICRO)
        late.answered.append(NO_ANSWER if acked is None else (acked - origin) // _MICRO)
        late.slas.append(sla_c)

    def _pack(self, centi: int, sla_c: int, packs: list[int | None]) -> int:
        """The cell sums one answered row adds (cached per SLA, by latency)."""
        if centi > pgnumeric.MAX_LATENCY_CENTIHOURS:
            raise _Reject
        ratio, rscale = pgnumeric.ratio_scaled(centi, sla_c)
        packed = (1 << SUM_ROWS) + (centi << SUM_LATENCY) + (ratio << SUM_RATIO)
        if centi > sla_c:
            packed += 1 << SUM_BREACHES
        if rscale > 12:
            packed += 1 << {16: SUM_SCALE16, 20: SUM_SCALE20, 24: SUM_SCALE24}[rscale]
        if centi < 1 << 20:  # cache the common latencies (up to ~437 days)
            if centi >= len(packs):
                packs.extend([None] * (centi + 1 - len(packs)))
            packs[centi] = packed
        return packed

    def _diagnose(self, fields: Sequence[str], exc: Exception) -> None:
        """Raise the :class:`GovgateError` that explains why the loop failed on ``fields``."""
        records = self.records
        index = records.locate(fields)
        for n, candidate in enumerate(records.reread(), 1):
            if n == index or (n > index and len(candidate) != len(fields)):
                # The located row, else the first malformed one after it (``fields`` may be the
                # values of the row before a row of the wrong width).
                row = records.row_number(n)
                RowDiagnosis(records.source, row, self.origin, self.defaults).explain(candidate)
        raise exc  # not a data problem we know of: a bug, shown as one

    # -- after the loop ---------------------------------------------------------------------

    def check_days(self) -> None:
        """Every request inside the instants the history can hold (checked once, after the loop:
        only an absurd timestamp, like year 1 with a +23:59 offset, fails it)."""
        lo_day = (FIRST_INSTANT - self.origin).days + 1
        hi_day = (LAST_INSTANT - self.origin).days - 1
        days = []
        for cells, _, _ in self.signers.values():
            keys = sorted(cells)  # answered-or-not keys first, then the NULL-outcome ones
            cut = bisect.bisect_left(keys, PENDING_FLAG // 2)
            ends = {keys[0], keys[-1], *keys[max(cut - 1, 0) : cut + 1]}
            days += [split_key(key)[0] for key in ends]
        if not days or (lo_day <= min(days) and max(days) <= hi_day):
            return
        records = self.records
        for n, row in enumerate(records.reread(), 1):
            try:
                day = (datetime.fromisoformat(row[4]) - self.origin).days
            except (ValueError, TypeError, OverflowError, IndexError):  # pragma: no cover
                day = lo_day - 1
            if not lo_day <= day <= hi_day:
                where = records.row_number(n)
                RowDiagnosis(records.source, where, self.origin, self.defaults).explain(row)
        raise AssertionError("a request day is out of range, yet no row was explained")

    def check_ids(self) -> None:
        """Empty and duplicate ``ack_event_id``: hashes first (``ids.py``), strings on a match."""
        suspects = self.records.ids.suspects()
        if not suspects:
            return
        first_row: dict[str, int] = {}
        source = self.records.source
        for n, fields in enumerate(self.records.reread(), 1):
            aid = fields[0]
            if hash(aid) not in suspects:
                continue
            row = self.records.row_number(n)
            where = f"row {row}, column ack_event_id"
            if aid in ("", EMPTY_STRING):
                raise GovgateError(
                    "ack_event_id is empty (it is the primary key)", source=source, where=where
                )
            if aid in first_row:
                raise GovgateError(
                    f"duplicate ack_event_id {aid!r}: rows {first_row[aid]} and {row}",
                    source=source,
                    where=where,
                )
            first_row[aid] = row
