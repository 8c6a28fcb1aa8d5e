"""Scan a large CSV export in parts, one process per part, when the machine has the CPUs.

The loop in ``scan.py`` is bound to one CPU. A large CSV file is cut after newlines into byte
ranges of about the same size; a forked worker scans each range after the first while this
process scans the first, then sends back what it collected (cell sums, request days per cert
window, late rows, ``ack_event_id`` hashes: plain data, no datetime objects) and exits. The parts
are merged in file order, so the result is the one a single pass gives: cell sums are integers
that add up, day sets unite, late rows keep file order (the tests compare the two).

Any failure in any part (a bad row, a worker that dies, a file that changes under us) abandons
the parts: the loader then reads the whole file in this process, which names the first bad row
exactly as it always does. Only the time depends on the machine, never the result or a message.

``GOVGATE_JOBS`` sets the number of processes (``1``: no workers). By default: the CPUs this
process may run on, at most 8, and at most one per :data:`MIN_PART_BYTES` of file. Workers are
forked, so they exist only where ``os.fork`` is safe to use here: Linux, and no other thread
running in this process (a library caller's threads could hold locks the child would inherit).
Forking (not spawning) also matters for the id hashes: a forked worker has this process's string
hash secret, so the hashes it sends compare with ours.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import sys
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, BinaryIO, NoReturn

from ..errors import UsageError
from .csvrows import MAX_RECORD_BYTES
from .rows import Records
from .scan import Part, _Scan

if TYPE_CHECKING:
    from .csvrows import CsvRecords

__all__ = ["JOBS_VARIABLE", "MIN_PART_BYTES", "jobs", "scan_in_parts"]

JOBS_VARIABLE = "GOVGATE_JOBS"
#: A smaller part costs more to start and to send back than it saves.
MIN_PART_BYTES = 4 << 20
_AUTO_MAX_JOBS = 8
_EXPLICIT_MAX_JOBS = 64


def jobs(environ: dict[str, str] | None = None) -> int | None:
    """The number of processes asked for with ``GOVGATE_JOBS`` (None: not set, or ``auto``)."""
    text = (os.environ if environ is None else environ).get(JOBS_VARIABLE, "").strip()
    if text in ("", "auto"):
        return None
    if not text.isdigit() or not 1 <= int(text) <= _EXPLICIT_MAX_JOBS:
        raise UsageError(
            f"expected a whole number from 1 to {_EXPLICIT_MAX_JOBS}, or auto; got {text!r}",
            where=f"environment variable {JOBS_VARIABLE}",
        )
    return int(text)


def scan_in_parts(
    records: Records, defaults: dict[str, int], origin: datetime, late: bool
) -> _Scan | None:
    """The merged scan of ``records`` done in parts, or None when it should be (or was not) done
    in one process (then nothing was consumed: the caller scans as usual)."""
    from .csvrows import CsvRecords

    asked = jobs()
    if not isinstance(records, CsvRecords) or asked == 1 or not _fork_is_safe():
        return None
    try:
        size = os.stat(records.path).st_size
    except OSError:
        return None  # the one-process scan reports it
    body = size - records.header_bytes
    count = min(
        asked or min(len(os.sched_getaffinity(0)), _AUTO_MAX_JOBS),
        body // MIN_PART_BYTES,
    )
    if count < 2:
        return None
    try:
        with open(records.path, "rb") as handle:
            cuts = record_starts(handle, records.header_bytes, size, count)
    except OSError:
        return None
    if cuts is None:
        return None
    bounds = [records.header_bytes, *cuts, size]
    ranges = [(a, b) for a, b in itertools.pairwise(bounds) if b > a]
    return _run(records, ranges, defaults, origin, late) if len(ranges) > 1 else None


def record_starts(handle: BinaryIO, start: int, end: int, count: int) -> list[int] | None:
    """Offsets that cut ``[start, end)`` into ``count`` parts of about equal size, each just
    after a newline; None if the file has too few lines for that.

    Quotes are not tracked: no column of a valid row may hold a line break, so every newline of
    a valid export ends a record. Should a cut fall inside a quoted field anyway, the part
    before it ends in an open quote and fails, and the loader reads the file in one process.
    """
    cuts: list[int] = []
    for k in range(1, count):
        pos = max(start + (end - start) * k // count, cuts[-1] if cuts else start)
        handle.seek(pos)
        # A record is at most MAX_RECORD_BYTES: no newline that near means a bad file, which
        # the one-process scan names (reading on to a far newline would cost the whole file).
        block = handle.read(MAX_RECORD_BYTES + 1)
        newline = block.find(b"\n")
        if newline < 0:
            return None
        cut = pos + newline + 1
        if cut >= end:
            return None
        cuts.append(cut)
    return cuts


def _fork_is_safe() -> bool:
    if not hasattr(os, "fork") or not hasattr(os, "sched_getaffinity"):
        return False
    threading = sys.modules.get("threading")
    return threading is None or threading.active_count() == 1


def _run(
    records: CsvRecords,
    ranges: list[tuple[int, int]],
    defaults: dict[str, int],
    origin: datetime,
    late: bool,
) -> _Scan | None:
    import pickle

    workers: list[tuple[int, int]] = []  # (pid, read end of its pipe)
    try:
        for start, end in ranges[1:]:
            try:
                read_end, write_end = os.pipe()
                pid = os.fork()
            except OSError:  # out of processes or descriptors: one process does it
                return None
            if pid == 0:  # the worker: _work never returns
                scan = functools.partial(_scan_part, records, start, end, defaults, origin, late)
                _work(scan, read_end, write_end)
            os.close(write_end)
            workers.append((pid, read_end))
        first = records.part(*ranges[0])
        state = _Scan(first, defaults, origin, late)
        state.explain = False
        try:
            state.loop()
        except Exception:
            return None
        if first.extra:
            return None  # see _work
        parts: list[Part] = []
        while workers:
            pid, read_end = workers[0]
            with os.fdopen(read_end, "rb") as pipe:
                workers[0] = (pid, -1)
                try:  # streamed: the whole message is never held as bytes
                    received = pickle.load(pipe)
                except Exception:  # a worker that failed or died sends nothing, or half
                    received = None
            _, status = os.waitpid(pid, 0)
            workers.pop(0)
            if os.waitstatus_to_exitcode(status) != 0 or received is None:
                return None
            parts.append(received)
    finally:
        for pid, read_end in workers:  # only after a failure or an interrupt
            if read_end >= 0:
                os.close(read_end)
            _stop(pid)
    # The merged scan reads as if one pass had read the whole file: the full records, with the
    # rows counted and the ids of every part.
    for part in parts:
        state.absorb(part)
        first.ids.extend(part.ids)
        first.count += part.count
    records.count, records.ids = first.count, first.ids
    state.records = records
    return state


def _scan_part(
    records: CsvRecords, start: int, end: int, defaults: dict[str, int], origin: datetime,
    late: bool,
) -> _Scan:
    return _Scan(records.part(start, end), defaults, origin, late)


def _work(make: Callable[[], _Scan], unused: int, fd: int) -> NoReturn:
    """A worker: run the scan ``make`` sets up, write what it collected to ``fd``, and exit,
    whatever happens (returning would run the rest of the parent's program a second time)."""
    status = 1
    try:
        import pickle

        os.close(unused)
        state = make()
        state.explain = False
        state.loop()
        # A record over several lines is never a valid row (no column may hold a line break):
        # should the loop have let one pass, the one-process scan names it, numbering lines.
        if not state.records.extra:  # type: ignore[attr-defined]
            with os.fdopen(fd, "wb") as pipe:
                pickle.dump(state.export(), pipe, protocol=pickle.HIGHEST_PROTOCOL)
            status = 0
    except BaseException:  # the exit status says it; the parent then starts over alone
        pass
    finally:
        os._exit(status)


def _stop(pid: int) -> None:
    import signal

    with contextlib.suppress(ProcessLookupError):  # already gone
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
