"""The append-only ledger: format, idempotence, crash recovery, concurrency and tamper detection."""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govgate.errors import ExitCode, GovgateError
from govgate.ledger import ZERO_HASH, Ledger, main_verify
from govgate.model import LedgerRecord

T0 = datetime(2026, 11, 20, tzinfo=UTC)
# fork: the children below are closures over test state, and fork is what makes that cheap.
FORK = multiprocessing.get_context("fork")


def rec(key: str, *, kind: str = "promote", minutes: int = 0, **data: object) -> LedgerRecord:
    return LedgerRecord(kind=kind, key=key, at=T0 + timedelta(minutes=minutes), data=dict(data))


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\n")[:-1]


def write_lines(path: Path, lines: list[bytes]) -> None:
    path.write_bytes(b"".join(line + b"\n" for line in lines))


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "state" / "ledger.jsonl")


def filled(ledger: Ledger, n: int = 5) -> Ledger:
    ledger.append(rec(f"k{i}", minutes=i, n=i) for i in range(1, n + 1))
    return ledger


# --- format and idempotence -------------------------------------------------------------------


def test_missing_file_is_an_empty_ledger(ledger: Ledger) -> None:
    assert ledger.records() == []
    assert ledger.keys() == set()
    report = ledger.verify()
    assert (report.ok, report.count, report.torn_tail, report.head) == (True, 0, False, ZERO_HASH)
    assert not ledger.path.exists()


def test_line_format_is_canonical_and_chained(ledger: Ledger) -> None:
    at = datetime(2026, 11, 20, 1, 2, 3, 4, tzinfo=timezone(timedelta(hours=2)))
    ledger.append([rec("a", route="publish_gate", ratio=Decimal("0.75")), rec("b", kind="page")])
    ledger.append([LedgerRecord(kind="revert", key="c", at=at, data={"é": [1, None]})])
    first, second, third = lines_of(ledger.path)
    assert first == (
        b'{"at":"2026-11-20T00:00:00Z","data":{"ratio":"0.75","route":"publish_gate"},'
        b'"key":"a","kind":"promote","prev":"' + ZERO_HASH.encode() + b'","seq":1}'
    )
    assert json.loads(second)["prev"] == hashlib.sha256(first).hexdigest()
    assert json.loads(second)["seq"] == 2
    assert json.loads(third)["prev"] == hashlib.sha256(second).hexdigest()
    assert json.loads(third)["at"] == "2026-11-19T23:02:03.000004Z"  # converted to UTC
    assert '"é"'.encode() in third  # UTF-8, not \u escapes
    assert ledger.verify().head == hashlib.sha256(third).hexdigest()
    assert [r.at for r in ledger.records()] == [T0, T0, at]


def test_append_is_idempotent_by_key(ledger: Ledger) -> None:
    a, b, c = rec("a"), rec("b"), rec("c")
    assert ledger.append([a, b]) == [a, b]
    assert ledger.append([b, c, c]) == [c]
    assert ledger.append([a]) == []
    before = ledger.path.read_bytes()
    assert ledger.append([rec("b", kind="other", n=9)]) == []  # the key alone decides
    assert ledger.path.read_bytes() == before
    assert [r.key for r in ledger.records()] == ["a", "b", "c"]
    assert ledger.keys() == {"a", "b", "c"}
    assert ledger.verify().ok


def test_append_nothing_creates_no_file(ledger: Ledger) -> None:
    assert ledger.append([]) == []
    assert not ledger.path.exists()


def test_records_round_trip(ledger: Ledger) -> None:
    written = [rec("x", kind="incident", windows=["r1", "r2"], red=True), rec("y", minutes=5)]
    ledger.append(written)
    read = ledger.records()
    assert [(r.kind, r.key, r.at, r.data) for r in read] == [
        (w.kind, w.key, w.at, w.data) for w in written
    ]


def test_naive_instants_and_non_json_data_are_refused(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        ledger.append([LedgerRecord(kind="k", key="a", at=datetime(2026, 1, 1))])
    with pytest.raises(TypeError, match="JSON"):
        ledger.append([LedgerRecord(kind="k", key="a", at=T0, data={"s": {1, 2}})])
    with pytest.raises(ValueError):
        ledger.append([LedgerRecord(kind="k", key="a", at=T0, data={"x": float("nan")})])
    assert not ledger.path.exists()


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(st.sampled_from("abcdefgh"), max_size=5), max_size=6))
def test_any_sequence_of_appends_keeps_a_valid_chain(
    tmp_path_factory: pytest.TempPathFactory, batches: list[list[str]]
) -> None:
    ledger = Ledger(tmp_path_factory.mktemp("prop") / "ledger.jsonl")
    expected: list[str] = []
    for batch in batches:
        ledger.append(rec(k) for k in batch)
        expected += [k for k in dict.fromkeys(batch) if k not in expected]
    assert [r.key for r in ledger.records()] == expected
    report = ledger.verify()
    assert report.ok and report.count == len(expected) and not report.torn_tail


# --- concurrency ------------------------------------------------------------------------------


def _append_many(path: Path, name: str, start: Any) -> None:
    start.wait()
    ledger = Ledger(path)
    for i in range(40):
        # Shared keys race for the same slot; own keys interleave with the other writer's.
        ledger.append([rec(f"shared-{i}"), rec(f"{name}-{i}")])
    os._exit(0)


def test_concurrent_appends_from_two_processes(ledger: Ledger) -> None:
    start = FORK.Event()
    children = [FORK.Process(target=_append_many, args=(ledger.path, name, start)) for name in "pq"]
    for child in children:
        child.start()
    start.set()
    for child in children:
        child.join(timeout=60)
        assert child.exitcode == 0
    report = ledger.verify()
    assert report.ok and not report.torn_tail, report.problem
    keys = [r.key for r in ledger.records()]
    assert len(keys) == len(set(keys)) == 120
    assert [json.loads(line)["seq"] for line in lines_of(ledger.path)] == list(range(1, 121))


# --- crash mid-write --------------------------------------------------------------------------


def _die_mid_write(path: Path, fraction: float) -> None:
    real_write = os.write

    def torn_write(fd: int, data: bytes) -> int:
        real_write(fd, bytes(data)[: int(len(data) * fraction)])
        os._exit(17)  # killed mid-append: no cleanup, no exception handlers

    os.write = torn_write  # only in this forked child
    Ledger(path).append([rec("late-1", minutes=10), rec("late-2", minutes=11)])


# The two records are equally long: at 0.5 the first one is complete, the second not started.
@pytest.mark.parametrize(
    ("fraction", "torn", "count"),
    [(0.3, True, 3), (0.5, False, 4), (0.7, True, 4), (0.999, True, 4)],
)
def test_writer_killed_mid_append_leaves_a_recoverable_ledger(
    ledger: Ledger, fraction: float, torn: bool, count: int
) -> None:
    filled(ledger, 3)
    before = ledger.records()
    child = FORK.Process(target=_die_mid_write, args=(ledger.path, fraction))
    child.start()
    child.join(timeout=30)
    assert child.exitcode == 17
    assert ledger.path.read_bytes().endswith(b"\n") is not torn

    report = ledger.verify()
    assert report.ok and report.torn_tail is torn
    assert report.count == len(ledger.records()) == count
    if torn:
        assert "torn" in (report.problem or "") and "recoverable" in (report.problem or "")
        out = io.StringIO()
        assert main_verify(ledger.path, out) == 0
        assert out.getvalue().startswith(
            f"ledger OK: {report.count} records, head {report.head}; torn tail")
    assert [r.key for r in ledger.records()][:3] == [r.key for r in before]

    written = ledger.append([rec("late-1", minutes=10), rec("late-2", minutes=11), rec("k1")])
    assert {r.key for r in written} <= {"late-1", "late-2"}
    assert [r.key for r in ledger.records()] == ["k1", "k2", "k3", "late-1", "late-2"]
    report = ledger.verify()
    assert report.ok and not report.torn_tail and report.problem is None


def test_complete_line_without_newline_is_still_torn(ledger: Ledger) -> None:
    filled(ledger, 2)
    data = ledger.path.read_bytes()
    ledger.path.write_bytes(data[:-1])  # the last record lost only its newline
    assert ledger.verify().torn_tail
    assert ledger.keys() == {"k1"}
    assert ledger.append([rec("k2"), rec("k3")]) == [rec("k2"), rec("k3")]
    assert ledger.verify().ok and [r.key for r in ledger.records()] == ["k1", "k2", "k3"]


def test_garbage_tail_is_recovered(ledger: Ledger) -> None:
    filled(ledger, 2)
    with ledger.path.open("ab") as f:
        f.write(b'\x00\x00\xff{"seq')
    assert ledger.verify().torn_tail and ledger.verify().ok
    ledger.append([rec("k3")])
    report = ledger.verify()
    assert (report.ok, report.count, report.torn_tail) == (True, 3, False)


# --- tampering --------------------------------------------------------------------------------


def _edit(line: bytes, **changes: object) -> bytes:
    obj = json.loads(line)
    obj.update(changes)
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _tampered(
    ledger: Ledger, change: Callable[[list[bytes]], list[bytes]]
) -> tuple[int | None, str]:
    lines = lines_of(filled(ledger, 5).path)
    write_lines(ledger.path, change(lines))
    report = ledger.verify()
    assert not report.ok
    return report.first_bad_line, report.problem or ""


def test_edited_record_is_reported_at_its_line(ledger: Ledger) -> None:
    def edit(lines: list[bytes]) -> list[bytes]:
        lines[2] = _edit(lines[2], data={"n": 99})
        return lines

    line, problem = _tampered(ledger, edit)
    assert line == 3 and "edited" in problem and "line 4" in problem


def test_edited_prev_is_reported_at_its_line(ledger: Ledger) -> None:
    def edit(lines: list[bytes]) -> list[bytes]:
        lines[1] = _edit(lines[1], prev="f" * 64)
        return lines

    assert _tampered(ledger, edit)[0] == 2


def test_edited_last_line_by_hand_is_caught_by_canonical_form(ledger: Ledger) -> None:
    def edit(lines: list[bytes]) -> list[bytes]:
        lines[4] = lines[4].replace(b'"n":5', b'"n": 6')
        return lines

    line, problem = _tampered(ledger, edit)
    assert line == 5 and "canonical" in problem


def test_swapped_records_are_reported_at_the_first_moved_line(ledger: Ledger) -> None:
    line, problem = _tampered(ledger, lambda ls: [ls[0], ls[2], ls[1], ls[3], ls[4]])
    assert line == 2 and "seq is 3, expected 2" in problem


def test_deleted_record_is_reported_where_the_gap_is(ledger: Ledger) -> None:
    line, problem = _tampered(ledger, lambda ls: [ls[0], ls[1], ls[3], ls[4]])
    assert line == 3 and "deleted" in problem


def test_duplicated_line_is_reported(ledger: Ledger) -> None:
    assert _tampered(ledger, lambda ls: [*ls[:3], ls[2], *ls[3:]])[0] == 4


def test_duplicate_key_with_a_consistent_chain_is_reported(ledger: Ledger) -> None:
    first = lines_of(filled(ledger, 2).path)
    forged = _edit(first[0], seq=3, prev=hashlib.sha256(first[1]).hexdigest())
    write_lines(ledger.path, [*first, forged])
    report = ledger.verify()
    assert (report.ok, report.first_bad_line, report.count) == (False, 3, 2)
    assert "duplicate key 'k1'" in (report.problem or "")


def test_invalid_line_in_the_middle_is_not_a_torn_tail(ledger: Ledger) -> None:
    line, problem = _tampered(ledger, lambda ls: [ls[0], b"{oops", *ls[1:]])
    assert line == 2 and "JSON" in problem


def test_broken_ledger_refuses_append_and_reads(ledger: Ledger) -> None:
    _tampered(ledger, lambda ls: [ls[0], ls[2], ls[1], ls[3], ls[4]])
    before = ledger.path.read_bytes()
    with pytest.raises(GovgateError) as excinfo:
        ledger.append([rec("new")])
    assert excinfo.value.exit_code == ExitCode.USAGE_ERROR == 2
    assert "line 2" in str(excinfo.value) and str(ledger.path) in str(excinfo.value)
    assert ledger.path.read_bytes() == before  # never "fixed" silently
    with pytest.raises(GovgateError, match="line 2"):
        ledger.records()


def test_broken_ledger_with_torn_tail_is_still_broken(ledger: Ledger) -> None:
    _tampered(ledger, lambda ls: [ls[1], ls[0], ls[2]])
    with ledger.path.open("ab") as f:
        f.write(b'{"partial')
    report = ledger.verify()
    assert (report.ok, report.first_bad_line, report.torn_tail) == (False, 1, True)
    with pytest.raises(GovgateError):
        ledger.append([rec("new")])


def test_main_verify_output(ledger: Ledger) -> None:
    out = io.StringIO()
    assert main_verify(ledger.path, out) == 0
    assert out.getvalue() == "ledger OK: 0 records (no ledger file yet)\n"
    filled(ledger, 3)
    out = io.StringIO()
    assert main_verify(ledger.path, out) == 0
    assert out.getvalue() == f"ledger OK: 3 records, head {ledger.verify().head}\n"
    _tampered(ledger, lambda ls: [ls[0], ls[1], ls[3], ls[4]])
    out = io.StringIO()
    assert main_verify(ledger.path, out) == 2
    assert out.getvalue().startswith("ledger BROKEN at line 3: seq is 4, expected 3")
    assert out.getvalue().count("\n") == 1


def test_io_errors_are_user_errors_not_tracebacks(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "a-folder")
    ledger.path.mkdir()
    with pytest.raises(GovgateError, match="cannot write"):
        ledger.append([rec("a")])
    with pytest.raises(GovgateError, match="cannot read"):
        ledger.records()


# --- hostile lines: deep nesting, huge numbers --------------------------------------------------


def _valid_line_with(ledger: Ledger, seq: int, data_json: str) -> bytes:
    """A line that is canonical and chained except for what ``data_json`` holds."""
    prev = hashlib.sha256(lines_of(ledger.path)[-1]).hexdigest()
    return ('{"at":"2026-11-20T00:00:00Z","data":' + data_json + ',"key":"x","kind":"promote",'
            f'"prev":"{prev}","seq":{seq}}}').encode()


@pytest.mark.parametrize("data_json", [
    '{"a":' + "[" * 100_000 + "]" * 100_000 + "}",   # deeper than any parser's recursion
    '{"a":' + "1" * 5_000 + "}",                       # past the int conversion limit
    '{"a":' + "[" * 100_000 + "}",                     # deep and unterminated
])
def test_a_hostile_line_is_reported_at_its_line_never_a_crash(ledger: Ledger,
                                                              data_json: str) -> None:
    filled(ledger, 3)
    write_lines(ledger.path, [*lines_of(ledger.path), _valid_line_with(ledger, 4, data_json),
                              _valid_line_with(ledger, 5, '{"b":1}')])
    report = ledger.verify()
    assert not report.ok and report.first_bad_line == 4 and report.count == 3
    with pytest.raises(GovgateError) as excinfo:
        ledger.records()
    assert excinfo.value.where == "line 4" and excinfo.value.exit_code == ExitCode.USAGE_ERROR
    with pytest.raises(GovgateError):
        ledger.append([rec("new")])
    out = io.StringIO()
    assert main_verify(ledger.path, out) == 2
    assert out.getvalue().startswith("ledger BROKEN at line 4: ")
