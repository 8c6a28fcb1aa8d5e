"""The append-only ledger: hash-chained JSON Lines that survive a crash and never duplicate a fact.

Each line is one record ``{"at", "data", "key", "kind", "prev", "seq"}``, serialised with sorted
keys and compact separators, UTF-8, ``\\n`` terminated. ``seq`` counts from 1 (so it equals the
line number) and ``prev`` is the SHA-256 of the previous line's bytes (64 zeros on the first line),
which chains every record to all the ones before it.

A record is committed once its ``\\n`` is on disk. Bytes after the last ``\\n`` are a *torn tail*
left by an interrupted write: readers ignore it, :meth:`Ledger.verify` reports it, and the next
:meth:`Ledger.append` truncates exactly those bytes. Anything else that breaks the chain is
tampering or corruption, and appending to such a ledger is refused: history is never rewritten.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from .errors import GovgateError
from .model import LedgerRecord
from .timeutil import format_instant, parse_instant

__all__ = ["ZERO_HASH", "Ledger", "VerifyReport", "canonical_json", "main_verify", "print_verify"]

#: The ``prev`` of the first record.
ZERO_HASH = "0" * 64
_FIELDS = frozenset({"at", "data", "key", "kind", "prev", "seq"})


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What :meth:`Ledger.verify` found.

    ``ok`` is true when every committed record is intact (a torn tail does not spoil it);
    ``count`` is the number of intact records before the first bad line; ``head`` is the hash of
    the last intact line, which a caller may publish to anchor the chain (a hash chain alone cannot
    tell that its last records were cut off or rewritten consistently).
    """

    ok: bool
    count: int
    first_bad_line: int | None
    problem: str | None
    torn_tail: bool
    head: str = ZERO_HASH


class _BadLine(Exception):
    """One line fails its own checks; the message says how."""


@dataclass(frozen=True, slots=True)
class _Scan:
    records: tuple[LedgerRecord, ...]
    committed: int  # length in bytes of the newline-terminated prefix
    torn: bool
    head: str
    bad_line: int | None = None
    problem: str | None = None


def _json_default(value: object) -> object:
    # Evaluators carry instants and exact decimals; store them in their canonical text form so a
    # partner can recompute a line's hash without knowing Python's types.
    if isinstance(value, datetime):
        return format_instant(_require_aware(value))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"ledger data must be JSON values, got {type(value).__name__}")


def canonical_json(obj: object) -> bytes:
    """Serialise ``obj`` the way ledger lines are: sorted keys, compact, UTF-8, no NaN.

    Instants become canonical UTC strings (:func:`~govgate.timeutil.format_instant`), dates ISO
    dates and decimals their exact text; any other non-JSON value is a ``TypeError``.
    """
    options: dict[str, Any] = {"ensure_ascii": False, "allow_nan": False, "default": _json_default}
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), **options).encode("utf-8")


def _sha(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()


def _require_aware(dt: datetime) -> datetime:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"ledger instants must carry a UTC offset, got naive {dt.isoformat()}")
    return dt


def _encode(seq: int, record: LedgerRecord, prev: str) -> bytes:
    if not record.kind or not record.key:
        raise ValueError("a ledger record needs a non-empty kind and key")
    at = format_instant(_require_aware(record.at))
    fields = {"at": at, "data": record.data, "key": record.key, "kind": record.kind}
    return canonical_json({**fields, "prev": prev, "seq": seq})


def _parse_line(line: bytes) -> tuple[LedgerRecord, int, str]:
    """Check one line on its own and return its record, ``seq`` and ``prev``."""
    try:
        obj = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _BadLine("not valid UTF-8 JSON") from None
    except RecursionError:  # govgate never writes one; a hostile line must not crash a reader
        raise _BadLine("JSON nested too deeply") from None
    if not isinstance(obj, dict) or set(obj) != _FIELDS:
        found = sorted(obj) if isinstance(obj, dict) else type(obj).__name__
        raise _BadLine(f"expected an object with fields {sorted(_FIELDS)}, found {found}")
    seq, kind, key, at, data, prev = (obj[f] for f in ("seq", "kind", "key", "at", "data", "prev"))
    if type(seq) is not int:
        raise _BadLine(f"seq {seq!r} is not an integer")
    if not (isinstance(kind, str) and kind and isinstance(key, str) and key):
        raise _BadLine("kind and key must be non-empty strings")
    if not isinstance(data, dict):
        raise _BadLine("data is not an object")
    if not (isinstance(prev, str) and len(prev) == 64 and set(prev) <= set("0123456789abcdef")):
        raise _BadLine("prev is not a lowercase SHA-256 hex digest")
    try:
        instant = parse_instant(at)
    except GovgateError as exc:
        raise _BadLine(f"bad at: {exc.message}") from None
    if format_instant(instant) != at:
        raise _BadLine(f"at {at!r} is not in canonical form {format_instant(instant)!r}")
    try:
        canonical = canonical_json(obj) == line
    except (ValueError, RecursionError):  # NaN, Infinity or a deep nest: never written by us
        canonical = False
    if not canonical:
        # Hashes are over bytes, so a line must have exactly one spelling.
        raise _BadLine("not in canonical form (sorted keys, compact separators): edited by hand?")
    return LedgerRecord(kind=kind, key=key, at=instant, data=data), seq, prev


def _prev_of(line: bytes) -> str | None:
    try:
        prev = json.loads(line.decode("utf-8")).get("prev")
    except (UnicodeDecodeError, ValueError, AttributeError, RecursionError):
        return None
    return prev if isinstance(prev, str) else None


def _scan(blob: bytes) -> _Scan:
    """Check the whole chain and stop at the first bad line."""
    committed = blob.rfind(b"\n") + 1
    torn = committed < len(blob)
    lines = blob[:committed].split(b"\n")[:-1]
    hashes = [_sha(line) for line in lines]
    records: list[LedgerRecord] = []
    first_seen: dict[str, int] = {}

    def bad(line_no: int, problem: str) -> _Scan:
        kept = tuple(records[: line_no - 1])
        head = hashes[line_no - 2] if line_no > 1 else ZERO_HASH
        return _Scan(kept, committed, torn, head, line_no, problem)

    for i, line in enumerate(lines, start=1):
        try:
            record, seq, prev = _parse_line(line)
        except _BadLine as exc:
            return bad(i, str(exc))
        # seq before prev: a deleted or moved record shows up at its new position, not before it.
        if seq != i:
            return bad(i, f"seq is {seq}, expected {i}: a record was deleted, inserted or moved")
        if record.key in first_seen:
            return bad(i, f"duplicate key {record.key!r} (first on line {first_seen[record.key]})")
        expected = hashes[i - 2] if i > 1 else ZERO_HASH
        if prev != expected:
            # One edited line breaks the link after it, and also the link before it when its own
            # prev was edited; the next link tells which of the two lines changed.
            nxt = _prev_of(lines[i]) if i < len(lines) else None
            if i == 1 or nxt not in (None, hashes[i - 1]):
                return bad(i, "prev does not match the line before: this record was edited")
            return bad(i - 1, f"record was edited: its hash no longer matches the prev of line {i}")
        first_seen[record.key] = i
        records.append(record)
    return _Scan(tuple(records), committed, torn, hashes[-1] if hashes else ZERO_HASH)


def _read_fd(fd: int) -> bytes:
    with open(fd, "rb", closefd=False) as handle:
        return handle.read()


def _write_all(fd: int, data: bytes) -> None:
    # One os.write normally; the loop only continues a short write.
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _fsync_dir(directory: Path) -> None:
    from .locking import fsync_dir

    fsync_dir(directory)


@contextlib.contextmanager
def _locked_file(path: Path, *, exclusive: bool) -> Iterator[None]:
    """Hold ``path``'s lock (govgate.locking: flock on POSIX, msvcrt on Windows).

    Readers never create files; without a lock file no writer has run yet.
    """
    from .locking import file_lock

    with file_lock(path, exclusive=exclusive, create=exclusive):
        yield


def _make_parents(directory: Path) -> None:
    if not directory.exists():
        _make_parents(directory.parent)
        directory.mkdir(exist_ok=True)
        _fsync_dir(directory.parent)  # so the new directory entry itself survives a crash


class Ledger:
    """An append-only, hash-chained JSON Lines file of :class:`~govgate.model.LedgerRecord`.

    A missing file is an empty ledger. Appending is idempotent by ``key`` and serialised across
    processes by an exclusive ``flock`` on the sidecar ``<ledger>.lock``.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")

    def __repr__(self) -> str:
        return f"Ledger({str(self.path)!r})"

    def _lock(self, *, exclusive: bool) -> contextlib.AbstractContextManager[None]:
        return _locked_file(self.lock_path, exclusive=exclusive)

    def describe(self) -> str:
        """The file's path, as messages name it."""
        return str(self.path)

    @contextlib.contextmanager
    def delivery_lock(self) -> Iterator[None]:
        """Serialise the sending of pending pages across processes.

        A lock file of its own (``<ledger>.deliver.lock``): appends take the ledger's lock
        inside it, and a process cannot take one ``flock`` twice through two descriptors.
        """
        try:
            _make_parents(self.path.parent)
            cm = _locked_file(self.path.with_name(self.path.name + ".deliver.lock"),
                              exclusive=True)
            cm.__enter__()
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise GovgateError(f"cannot lock: {reason}", source=str(self.path)) from None
        try:
            yield
        finally:
            cm.__exit__(None, None, None)

    def has(self, key: str) -> bool:
        """Whether a committed record has ``key``."""
        return key in self.keys()

    def raw(self) -> bytes:
        """The ledger's bytes, one line per record (what a record hash is computed over)."""
        return self._read()

    def _read(self) -> bytes:
        try:
            with self._lock(exclusive=False):
                return self.path.read_bytes()
        except FileNotFoundError:
            return b""
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise GovgateError(f"cannot read: {reason}", source=str(self.path)) from None

    def records(self) -> list[LedgerRecord]:
        """All committed records in order, ignoring a torn tail.

        :raises GovgateError: naming the file and the first bad line when the chain is broken.
        """
        scan = _scan(self._read())
        if scan.problem is not None:
            raise GovgateError(
                f"the ledger is broken: {scan.problem}",
                source=str(self.path),
                where=f"line {scan.bad_line}",
            )
        return list(scan.records)

    def keys(self) -> set[str]:
        """The keys of all committed records."""
        return {record.key for record in self.records()}

    def verify(self) -> VerifyReport:
        """Check the whole chain; report the first bad line and whether the tail is torn."""
        scan = _scan(self._read())
        problem = scan.problem
        if problem is None and scan.torn:
            problem = (
                f"torn tail after line {len(scan.records)} (an interrupted write); "
                "recoverable: the next append removes it"
            )
        return VerifyReport(
            ok=scan.bad_line is None,
            count=len(scan.records),
            first_bad_line=scan.bad_line,
            problem=problem,
            torn_tail=scan.torn,
            head=scan.head,
        )

    def append(self, records: Iterable[LedgerRecord]) -> list[LedgerRecord]:
        """Append the records whose key is not in the ledger yet, crash-safely.

        A torn tail is truncated first. Keys repeated within ``records`` are written once.

        :returns: the records actually written, in the given order.
        :raises GovgateError: when the chain is broken anywhere but a torn tail, or on I/O errors.
        """
        batch = list(records)
        try:
            _make_parents(self.path.parent)
            with self._lock(exclusive=True):
                return self._append_locked(batch)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise GovgateError(f"cannot write: {reason}", source=str(self.path)) from None

    def _append_locked(self, batch: list[LedgerRecord]) -> list[LedgerRecord]:
        from .locking import cloexec

        flags = os.O_RDWR | os.O_APPEND | cloexec()
        try:
            fd: int | None = os.open(self.path, flags)
        except FileNotFoundError:
            fd = None
        try:
            scan = _scan(_read_fd(fd) if fd is not None else b"")
            if scan.problem is not None:
                raise GovgateError(
                    f"refusing to append to a broken ledger: {scan.problem}; "
                    "govgate never rewrites history, restore the file or investigate",
                    source=str(self.path),
                    where=f"line {scan.bad_line}",
                )
            seen = {record.key for record in scan.records}
            written: list[LedgerRecord] = []
            lines: list[bytes] = []
            prev = scan.head
            for record in batch:
                if record.key in seen:
                    continue
                seen.add(record.key)
                line = _encode(len(scan.records) + len(lines) + 1, record, prev)
                prev = _sha(line)
                lines.append(line + b"\n")
                written.append(record)
            if not lines and not scan.torn:
                return []
            created = fd is None
            if fd is None:
                fd = os.open(self.path, flags | os.O_CREAT | os.O_EXCL, 0o644)
            if scan.torn:
                os.ftruncate(fd, scan.committed)
            try:
                _write_all(fd, b"".join(lines))
            except OSError:
                # Leave no partial batch behind when we can help it; a crash here is a torn tail.
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, scan.committed)
                raise
            os.fsync(fd)
        finally:
            if fd is not None:
                os.close(fd)
        if created:
            _fsync_dir(self.path.parent)
        return written


def main_verify(path: Path, out: TextIO) -> int:
    """Verify the ledger at ``path`` and print one line; return 0 when intact, 2 when broken.

    This is ``govgate ledger verify PATH``. A torn tail is intact (and reported).
    """
    suffix = "" if Path(path).exists() else " (no ledger file yet)"
    return print_verify(Ledger(path).verify(), out, suffix)


def print_verify(report: VerifyReport, out: TextIO, suffix: str = "") -> int:
    """Print one line about ``report`` (either backend); return 0 when intact, 2 when broken."""
    if not report.ok:
        print(f"ledger BROKEN at line {report.first_bad_line}: {report.problem}", file=out)
        return 2
    noun = "record" if report.count == 1 else "records"
    line = f"ledger OK: {report.count} {noun}"
    if report.count:
        # The head anchors the chain: kept elsewhere, it shows that no last records were cut.
        line += f", head {report.head}"
    if report.torn_tail:
        line += f"; {report.problem}"
    else:
        line += suffix
    print(line, file=out)
    return 0
