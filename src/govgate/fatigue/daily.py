"""The daily history kept small: one byte per signer-day, rows and hashes computed on demand.

Keeping every refresh's rows costs signers x days objects (5,000 signers over three years are
millions of rows, gigabytes). What the consumers read of most refreshes is the classification;
the rows and the snapshot hash they read for a few days only (the latest refresh, the month of
a review, the days of the picture, the refreshes a promote cites). So a :class:`History` keeps:

* per refresh, one byte per signer: the index of its class in a small table (0: not seen yet);
* the rows of the days most recently asked for (a bounded cache of day blocks);
* the hashes computed so far (64 characters each).

Rows of a day block are recomputed from the loaded cells with the same difference arrays as the
full history, restricted to the block: per signer only the cells requested in the block's reach
(``window_days`` before it) are read, found by bisection in the signer's sorted cell keys.
"""

from __future__ import annotations

import copy
from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import TYPE_CHECKING, overload

from .cells import DAY_SPAN, FIELD_MASK, NEVER, PENDING_FLAG
from .events import EventLog, SignerLoad
from .model import HeatmapRow, Refresh
from .snapshot import snapshot_hash

if TYPE_CHECKING:
    from .heatmap import Classifier
    from .model import Thresholds

__all__ = ["BLOCK_DAYS", "DayNumbers", "History", "Streaks", "SumsTable", "day_numbers"]

#: Rows are recomputed in blocks of this many days (a month of a review spans two at most).
BLOCK_DAYS = 32
#: Blocks of rows kept at once: the picture's days, a month and a promote's refresh fit.
_CACHED_BLOCKS = 3

#: Cell sums -> (avg ratio, breaches, avg latency); see ``heatmap.py``.
SumsTable = dict[int, tuple[Decimal, int, Decimal | None]]
#: Checkpoint (a refresh index) -> each signer's quiet streak (by position) before that refresh:
#: where a history under other thresholds from that day on resumes (``heatmap.reclassified``).
Streaks = dict[int, "array[int]"]
_HALF_FLAG = PENDING_FLAG // 2


class DayNumbers:
    """One signer's view-level numbers for the days ``[lo, hi)``, by difference arrays.

    ``counts[j]`` and the others are for day ``lo + j`` (days count from the history's start).
    """

    __slots__ = ("answered", "counts", "pending", "windows")

    def __init__(self, counts: list[int], pending: list[int], answered: list[int],
                 windows: list[int]) -> None:
        self.counts = counts
        self.pending = pending
        self.answered = answered
        self.windows = windows


def day_numbers(load: SignerLoad, start: int, lo: int, hi: int, window: int,
                keys: Sequence[int] | None = None) -> DayNumbers:
    """The numbers of ``load`` on days ``[lo, hi)`` of a history starting at grid day ``start``.

    :param keys: The signer's cell keys, sorted; when given only the cells that reach the
        block are read (a block of a long history), otherwise every cell (the full history).
    """
    n = hi - lo
    counts = [0] * (n + 1)
    pending = [0] * (n + 1)
    answered = [0] * (n + 1)  # cell sums of the rows answered by the refresh
    cells = load.cells
    offset = start + lo - 1  # begin = request_day - offset: the first refresh that sees it
    if keys is None:
        items: Iterator[tuple[int, int]] | Sequence[tuple[int, int]] = iter(cells.items())
    else:
        items = [(key, cells[key]) for key in _reaching(keys, offset + 1 - window, offset + n)]
    for key, packed in items:
        null_outcome = key >= _HALF_FLAG  # split_key, inlined
        request_day, delay = divmod(key - PENDING_FLAG if null_outcome else key, DAY_SPAN)
        begin = request_day - offset
        if begin >= n:
            continue  # requested at or after the block's last refresh: not seen in it
        end = begin + window
        if end <= 0:
            continue  # out of the window before the block starts
        if end > n:
            end = n
        seen_from = begin if begin > 0 else 0
        rows_n = packed & FIELD_MASK
        counts[seen_from] += rows_n
        counts[end] -= rows_n
        if delay == NEVER:
            if null_outcome:
                pending[seen_from] += rows_n
                pending[end] -= rows_n
            continue
        # delay = answer day - request day: the refresh of the answer day sees it answered.
        answered_from = begin + delay - 1 if delay else begin
        pending_until = end if null_outcome or answered_from > end else answered_from
        if pending_until > seen_from:
            pending[seen_from] += rows_n
            pending[pending_until] -= rows_n
        if answered_from < end:
            from_day = answered_from if answered_from > 0 else 0
            answered[from_day] += packed
            answered[end] -= packed
    return DayNumbers(list(accumulate(counts)), list(accumulate(pending)),
                      list(accumulate(answered)),
                      _window_counts(load.window_days, offset, n, window, keys is not None))



def day_numbers_by_window(load: SignerLoad, start: int, lo: int, hi: int,
                          windows: Sequence[int] | int,
                          keys: Sequence[int] | None = None) -> DayNumbers:
    """:func:`day_numbers` where the window may change from day to day (policy versions with
    other thresholds): ``windows`` is one window, or the window of each day of ``[lo, hi)``."""
    if isinstance(windows, int):
        return day_numbers(load, start, lo, hi, windows, keys)
    used = set(windows)
    if len(used) == 1:
        return day_numbers(load, start, lo, hi, windows[0], keys)
    by = {w: day_numbers(load, start, lo, hi, w, keys) for w in used}
    picked = [by[w] for w in windows]
    return DayNumbers([n.counts[j] for j, n in enumerate(picked)],
                      [n.pending[j] for j, n in enumerate(picked)],
                      [n.answered[j] for j, n in enumerate(picked)],
                      [n.windows[j] for j, n in enumerate(picked)])

def _reaching(keys: Sequence[int], first_day: int, end_day: int) -> list[int]:
    """The sorted keys whose request day is in ``[first_day, end_day)``, both key runs."""
    out: list[int] = []
    for base in (0, PENDING_FLAG):  # answered-or-not keys, then the NULL-outcome ones
        low = bisect_left(keys, base + first_day * DAY_SPAN)
        high = bisect_left(keys, base + end_day * DAY_SPAN, low)
        out.extend(keys[low:high])
    return out


def _window_counts(window_days: Mapping[int, tuple[int, ...]], offset: int, n: int, window: int,
                   seek: bool) -> list[int]:
    """``COUNT(DISTINCT cert_window_id)`` per refresh: coverage of each window's intervals."""
    diff = [0] * (n + 1)
    for request_days in window_days.values():
        covered_until = -1  # end of the current merged interval, exclusive
        first = bisect_left(request_days, offset + 1 - window) if seek else 0
        for request_day in request_days[first:] if first else request_days:  # sorted
            begin = request_day - offset
            if begin >= n:
                break
            end = begin + window
            if end <= 0:
                continue
            if end > n:
                end = n
            if begin < 0:
                begin = 0
            if begin <= covered_until:
                if end > covered_until:
                    diff[covered_until] += 1
                    diff[end] -= 1
                    covered_until = end
                continue
            diff[begin] += 1
            diff[end] -= 1
            covered_until = end
    return list(accumulate(diff))


class _Classes(Mapping[str, str]):
    """One refresh's classification as a read-only mapping over a byte per signer."""

    __slots__ = ("_codes", "_index", "_names", "_signers")

    def __init__(self, signers: tuple[str, ...], index: Mapping[str, int], codes: bytearray,
                 names: Sequence[str]) -> None:
        self._signers = signers
        self._index = index
        self._codes = codes
        self._names = names

    def __getitem__(self, signer: str) -> str:
        pos = self._index.get(signer)
        code = self._codes[pos] if pos is not None else 0
        if not code:
            raise KeyError(signer)
        return self._names[code]

    def get(self, signer: str, default: str | None = None) -> str | None:  # type: ignore[override]
        # The promote replay asks this for every route at every refresh: no exception path.
        pos = self._index.get(signer)
        code = self._codes[pos] if pos is not None else 0
        return self._names[code] if code else default

    def __iter__(self) -> Iterator[str]:
        codes = self._codes
        return (signer for pos, signer in enumerate(self._signers) if codes[pos])

    def __len__(self) -> int:
        return len(self._codes) - self._codes.count(0)


class History(Sequence[Refresh]):
    """The daily refreshes ``origin + (start + i) days``, oldest first, kept compact.

    :param codes: Per refresh, one byte per signer of ``loads``: 0 before the signer's first
        event, else the index of its class in ``names`` (``names[0]`` is unused).
    :param rows: Rows already built by the full pass, by refresh index (kept in the cache).
    :param daily: The thresholds of each refresh, ``classify`` the classifier and ``streaks``
        the quiet streaks at the checkpoints: what a pass under other thresholds resumes from
        (``heatmap.reclassified``); ``keys`` the loads' sorted cell keys when already built.
    """

    def __init__(self, log: EventLog, loads: Sequence[SignerLoad], start: int,
                 window: int | Sequence[int], codes: list[bytearray], names: list[str],
                 sums: SumsTable,
                 rows: Mapping[int, tuple[HeatmapRow, ...]], *,
                 daily: Sequence[Thresholds] = (), classify: Classifier | None = None,
                 streaks: Streaks | None = None,
                 keys: list[list[int]] | None = None) -> None:
        self.log = log
        self.daily = daily
        self.classify = classify
        self.streaks = streaks
        self._loads = tuple(loads)
        self._signers = tuple(load.signer_id for load in loads)
        self._index = {signer: pos for pos, signer in enumerate(self._signers)}
        self._start = start
        self._window = window
        self._codes = codes
        self._names = names
        self._sums = sums
        self._origin = log.grid_origin + timedelta(days=start)
        self._blocks: OrderedDict[int, dict[int, tuple[HeatmapRow, ...]]] = OrderedDict()
        self._hashes: dict[int, str] = {}
        # The loads' sorted cell keys once built (in a list: views from until() share it).
        self._keys: list[list[list[int]]] = [] if keys is None else [keys]
        self._count = len(codes)
        for index, day_rows in rows.items():
            self._blocks.setdefault(self._block_of(index), {})[index] = day_rows

    def __eq__(self, other: object) -> bool:
        # Equal to any sequence of the same refreshes (a list from a plugin, another History).
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __len__(self) -> int:
        return self._count

    # -- what a resumed pass reads (``heatmap.reclassified``) ------------------------------

    @property
    def start(self) -> int:
        """The grid day of the first refresh."""
        return self._start

    @property
    def days(self) -> int:
        """The refreshes computed (a view from :meth:`until` shows fewer)."""
        return len(self._codes)

    @property
    def as_of(self) -> datetime:
        """The instant of the last refresh computed."""
        return self._origin + timedelta(days=len(self._codes) - 1)

    @property
    def loads(self) -> tuple[SignerLoad, ...]:
        return self._loads

    @property
    def codes(self) -> list[bytearray]:
        return self._codes

    @property
    def names(self) -> list[str]:
        return self._names

    def cell_keys(self) -> list[list[int]]:
        """Each load's cell keys, sorted (built once, shared with histories resumed from this)."""
        if not self._keys:
            self._keys.append([sorted(load.cells) for load in self._loads])
        return self._keys[0]

    def until(self, count: int) -> History:
        """The first ``count`` refreshes, sharing this history's store and caches (the history
        is causal: an earlier as-of's history is a prefix of a later one's)."""
        view = copy.copy(self)
        view._count = max(0, min(count, self._count))
        return view

    @property
    def days_with_rows_held(self) -> int:
        """How many refreshes' rows are held now (bounded: a few blocks, whatever was read)."""
        return sum(len(block) for block in self._blocks.values())

    def shares_store(self, other: History) -> bool:
        """Whether both are views of one computed history."""
        return self._codes is other._codes

    @overload
    def __getitem__(self, index: int) -> Refresh: ...

    @overload
    def __getitem__(self, index: slice) -> list[Refresh]: ...

    def __getitem__(self, index: int | slice) -> Refresh | list[Refresh]:
        if isinstance(index, slice):
            return [self._refresh(i) for i in range(*index.indices(self._count))]
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(index)
        return self._refresh(index)

    def __iter__(self) -> Iterator[Refresh]:
        return map(self._refresh, range(self._count))

    def _refresh(self, index: int) -> Refresh:
        return Refresh.on_demand(self._origin + timedelta(days=index), self, index)

    # -- RefreshSource ---------------------------------------------------------------------

    def classification_at(self, index: int) -> Mapping[str, str]:
        return _Classes(self._signers, self._index, self._codes[index], self._names)

    def snapshot_hash_at(self, index: int) -> str:
        known = self._hashes.get(index)
        if known is None:
            at = self._origin + timedelta(days=index)
            known = self._hashes[index] = snapshot_hash(at, self.rows_at(index))
        return known

    def rows_at(self, index: int) -> tuple[HeatmapRow, ...]:
        block = self._block_of(index)
        cached = self._blocks.get(block)
        if cached is not None and index in cached:
            self._blocks.move_to_end(block)
            return cached[index]
        lo = max(len(self._codes) - (block + 1) * BLOCK_DAYS, 0)
        hi = len(self._codes) - block * BLOCK_DAYS
        self._blocks[block] = computed = self._compute(lo, hi)
        self._blocks.move_to_end(block)
        while len(self._blocks) > _CACHED_BLOCKS:
            self._blocks.popitem(last=False)
        return computed[index]

    def _block_of(self, index: int) -> int:
        """Blocks count back from the latest refresh, so the latest days share one block."""
        return (len(self._codes) - 1 - index) // BLOCK_DAYS

    def _compute(self, lo: int, hi: int) -> dict[int, tuple[HeatmapRow, ...]]:
        from .heatmap import sums_numbers

        keys = self.cell_keys()
        rows: list[list[HeatmapRow]] = [[] for _ in range(hi - lo)]
        names, start, window = self._names, self._start, self._window
        sums = self._sums or {}  # a large log's memo lives for one block only
        codes = self._codes
        for pos, load in enumerate(self._loads):  # sorted by signer_id: rows come out sorted
            first = max(load.first_day - start, lo)
            if first >= hi:
                continue
            numbers = day_numbers_by_window(
                load, start, lo, hi, window if isinstance(window, int) else window[lo:hi],
                keys[pos])
            counts, pending, answered, windows = (
                numbers.counts, numbers.pending, numbers.answered, numbers.windows)
            signer = load.signer_id
            for index in range(first, hi):
                j = index - lo
                count = counts[j]
                if not count:
                    continue
                ratio_avg, breaches, latency_avg = sums_numbers(sums, count, answered[j])
                rows[j].append(HeatmapRow(
                    signer_id=signer,
                    ack_count_14d=count,
                    breached_count_14d=breaches,
                    concurrent_window_count_14d=windows[j],
                    avg_latency_hours_14d=latency_avg,
                    avg_latency_ratio_14d=ratio_avg,
                    pending_acks_now=pending[j],
                    classification=names[codes[index][pos]],
                ))
        return {lo + j: tuple(day_rows) for j, day_rows in enumerate(rows)}
