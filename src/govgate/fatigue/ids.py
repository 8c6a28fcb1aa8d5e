"""The ``ack_event_id`` values of an export, kept as 8-byte hashes for the duplicate check.

A million ids as strings would cost about 60 MB; their hashes cost 8 MB. Equal hashes only
make the ids *suspects*: the loader then re-reads the file and compares the strings.

Two cheap cases come first. Exports are often in primary-key order (a serial id, rows in
insertion order, or ``COPY (SELECT ... ORDER BY ack_event_id)``): while every id is greater than
the one before, none can repeat, so the hashes are only appended (a later id out of order may
still repeat one of them). Otherwise each chunk's hashes are sorted and cut into partitions by
their top bits, so that each partition fits in a set of modest size at the end.
"""

from __future__ import annotations

import bisect
import itertools
import operator
import struct
from array import array
from collections import Counter

__all__ = ["EMPTY_HASHES", "EventIds"]

_PARTITIONS = 8
_BOUNDS = [-(1 << 63) + k * (1 << 61) for k in range(1, _PARTITIONS)]
_SORT_BLOCK = 4096
#: Hashes of the ids that are empty: SQL's empty string, and the loader's mark for a quoted one.
EMPTY_HASHES = frozenset({hash(""), hash("\x00")})


class EventIds:
    """The hashes of the ids given to :meth:`add`, in file order of the parts."""

    def __init__(self) -> None:
        #: Hashes of the ids added while :attr:`ordered` held, in file order.
        self.in_order = array("q")
        #: Every later hash, in partitions by value (native 8-byte integers).
        self.partitions = [bytearray() for _ in range(_PARTITIONS)]
        #: Whether every id so far was greater than the one before it.
        self.ordered = True
        self.first: str | None = None
        self.last: str | None = None

    def add(self, ids: list[str]) -> None:
        """Remember the ids of the next chunk of rows."""
        if not ids:
            return
        if self.first is None:
            self.first = ids[0]
        if self.ordered:
            last = self.last  # None: nothing added yet
            if (last is None or last < ids[0]) and all(
                map(operator.lt, ids, itertools.islice(ids, 1, None))
            ):
                self.in_order.extend(map(hash, ids))
                self.last = ids[-1]
                return
            self.ordered = False
        self._partition(sorted(map(hash, ids)))

    def extend(self, later: EventIds) -> None:
        """Append the ids of the next part of the file (scanned by a worker)."""
        if later.first is None:
            return
        if self.first is None:
            self.first = later.first
        ordered = self.ordered and later.ordered
        if ordered and self.last is not None and not self.last < later.first:
            ordered = False
        if ordered:
            self.in_order += later.in_order
            self.last = later.last
        else:
            self._spill()
            later._spill()
            self.ordered = False
        for mine, theirs in zip(self.partitions, later.partitions, strict=True):
            mine += theirs

    def suspects(self) -> set[int]:
        """Hashes of ids that are empty or may repeat (each to be confirmed on the strings)."""
        # In increasing order, "" and "\x00" (the smallest strings) can only come first.
        found = {h for h in self.in_order[:2] if h in EMPTY_HASHES}
        if self.ordered:
            return found  # strictly increasing: nothing repeats
        self._spill()
        for blob in self.partitions:
            part = memoryview(blob).cast("q")
            unique = set(part)
            found.update(unique & EMPTY_HASHES)
            if len(unique) != len(part):
                found.update(h for h, count in Counter(part).items() if count > 1)
            del unique
        return found

    def _spill(self) -> None:
        """Move the in-order hashes into the partitions (the order no longer rules repeats out)."""
        kept = self.in_order
        for start in range(0, len(kept), _SORT_BLOCK):
            self._partition(sorted(kept[start : start + _SORT_BLOCK]))
        self.in_order = array("q")

    def _partition(self, hashes: list[int]) -> None:
        # Cutting sorted hashes at the partition bounds keeps this in C; struct packs a slice at
        # once (array.extend from a list converts number by number).
        lo = 0
        for part, bound in zip(self.partitions, _BOUNDS, strict=False):
            hi = bisect.bisect_left(hashes, bound, lo)
            if hi > lo:
                part += struct.pack(f"{hi - lo}q", *hashes[lo:hi])
                lo = hi
        if lo < len(hashes):
            self.partitions[-1] += struct.pack(f"{len(hashes) - lo}q", *hashes[lo:])
