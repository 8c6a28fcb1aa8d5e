"""Large CSV exports scanned in parts by worker processes give exactly the one-process result.

Parts are forced on small files by lowering ``MIN_PART_BYTES`` and setting ``GOVGATE_JOBS``;
a spy on ``scan_in_parts`` proves the parts really ran (a silent fall-back to one process would
otherwise pass every comparison).
"""

from __future__ import annotations

import io
import itertools
import os
import random
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.unit.fatigue.factories import AS_OF, HEADER, Event, csv_text, random_events, write_csv

from govgate.cli import main
from govgate.errors import GovgateError, UsageError
from govgate.fatigue import workers
from govgate.fatigue.events import EventLog, load_events
from govgate.fatigue.heatmap import heatmap
from govgate.fatigue.snapshot import render_json

pytestmark = pytest.mark.skipif(
    not hasattr(os, "fork") or not hasattr(os, "sched_getaffinity"),
    reason="workers are forked, on Linux only",
)


class Spy:
    """Records what each ``scan_in_parts`` call returned: parts merged, or one process."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str | None, bool]] = []
        real = workers.scan_in_parts

        def spy(*args: Any) -> Any:
            state = real(*args)
            self.calls.append((os.environ.get("GOVGATE_JOBS"), state is not None))
            return state

        monkeypatch.setattr(workers, "scan_in_parts", spy)

    @property
    def results(self) -> list[bool]:
        """Parts or not, per load, leaving out the reference loads (``GOVGATE_JOBS=1``)."""
        return [merged for jobs, merged in self.calls if jobs != "1"]


@pytest.fixture
def parts(monkeypatch: pytest.MonkeyPatch) -> Iterator[Spy]:
    monkeypatch.setattr(workers, "MIN_PART_BYTES", 1)
    monkeypatch.setenv("GOVGATE_JOBS", "3")
    yield Spy(monkeypatch)


def serial(monkeypatch: pytest.MonkeyPatch, path: Path, **kwargs: Any) -> EventLog:
    with monkeypatch.context() as patch:
        patch.setenv("GOVGATE_JOBS", "1")
        return load_events(path, **kwargs)


def error_of(path: Path) -> tuple[str, str | None]:
    with pytest.raises(GovgateError) as caught:
        load_events(path)
    return caught.value.message, caught.value.where


def serial_error(monkeypatch: pytest.MonkeyPatch, path: Path) -> tuple[str, str | None]:
    with monkeypatch.context() as patch:
        patch.setenv("GOVGATE_JOBS", "1")
        return error_of(path)


def named_as_one_process_names_it(monkeypatch: pytest.MonkeyPatch, path: Path) -> str | None:
    """Load ``path`` twice (the parts are tried each time): the error must be the one-process
    error both times; returns where it points."""
    first = error_of(path)
    assert first == serial_error(monkeypatch, path)
    assert error_of(path) == first
    return first[1]


def outputs(log: EventLog) -> list[str]:
    """Everything the heat-map and promotions read from a log, as text."""
    days = [AS_OF - timedelta(days=d) for d in (0, 3, 13, 14, 15, 30)]
    loads = [(s.signer_id, s.first_day, sorted(s.cells.items()), s.window_days)
             for s in log.signers]  # fmt: skip
    return [
        str(log.event_count),
        repr(log.cert_windows),
        repr(loads),
        repr(log.pending),
        *(render_json(heatmap(log, at)) for at in days),
    ]


@pytest.mark.parametrize("jobs", ["2", "3", "7"])
def test_parts_give_the_one_process_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parts: Spy, jobs: str
) -> None:
    monkeypatch.setenv("GOVGATE_JOBS", jobs)
    events = random_events(random.Random(int(jobs)), 3000)
    path = write_csv(tmp_path / "e.csv", events)
    assert '"a,b"' in path.read_text(encoding="utf-8")  # quoted fields in every part
    merged = load_events(path, refresh_anchor=AS_OF)
    assert parts.results == [True]
    assert outputs(merged) == outputs(serial(monkeypatch, path, refresh_anchor=AS_OF))


def test_parts_keep_every_header_layout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parts: Spy
) -> None:
    """Columns in another order, the SLA column absent, CRLF line ends, a byte order mark."""
    events = random_events(random.Random(5), 2000)
    header = ("sla_target_hours", *reversed(HEADER[:-1]))
    crlf = tmp_path / "crlf.csv"
    text = csv_text(events, header).replace("\n", "\r\n")
    crlf.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    no_sla = write_csv(tmp_path / "no-sla.csv", events, HEADER[:-1])
    for path in (crlf, no_sla):
        merged = load_events(path, refresh_anchor=AS_OF)
        assert outputs(merged) == outputs(serial(monkeypatch, path, refresh_anchor=AS_OF))
    assert parts.results == [True, True]


def test_parts_with_generated_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parts: Spy
) -> None:
    base = tmp_path / "base.csv"
    write_csv(base, random_events(random.Random(8), 1500))
    lines = base.read_text(encoding="utf-8").splitlines()
    # Every row claims 999.00 hours: the first row's check fails after the parts merged.
    path = tmp_path / "derived.csv"
    path.write_text(
        "\n".join([lines[0] + ",ack_latency_hours,breached"]
                  + [line + ",999.00,t" for line in lines[1:]]) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    assert error_of(path) == serial_error(monkeypatch, path)
    assert parts.results == [True]


@pytest.mark.parametrize("where", [0.0, 0.5, 1.0])
def test_a_bad_row_in_any_part_is_named_as_one_process_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parts: Spy, where: float
) -> None:
    events = random_events(random.Random(11), 3000)
    path = write_csv(tmp_path / "e.csv", events)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    index = 1 + min(int(where * 3000), 2999)
    lines[index] = lines[index].replace(",publish_gate,", ",publish-gate,").replace(
        ",faq_rewrite,", ",faq-rewrite,").replace(",freeze_bypass,", ",freeze-bypass,").replace(
        ",exec_readback,", ",exec-readback,")  # fmt: skip
    path.write_text("".join(lines), encoding="utf-8")
    message, at = error_of(path)
    assert at == f"row {index + 1}, column owner_route"
    assert (message, at) == serial_error(monkeypatch, path)
    assert parts.results == [False]  # the parts were abandoned; one process named the row


def test_a_record_over_two_lines_in_a_later_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parts: Spy
) -> None:
    events = random_events(random.Random(13), 3000)
    events[2500] = Event("x", "al\nex", AS_OF - timedelta(hours=2))
    path = write_csv(tmp_path / "e.csv", events)
    assert named_as_one_process_names_it(monkeypatch, path) == "row 2502, column signer_id"
    assert parts.results == [False, False]


@pytest.mark.parametrize("ordered", [True, False])
def test_a_duplicate_id_across_parts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parts: Spy, ordered: bool
) -> None:
    rng = random.Random(3)
    events = random_events(rng, 3000)
    ids = [f"ae-{i:06d}" for i in range(3000)]
    if not ordered:
        rng.shuffle(ids)
    ids[2990] = ids[7]  # the first part's id again, in the last part
    path = write_csv(
        tmp_path / "e.csv",
        [Event(i, e.signer_id, e.request, e.ack, e.outcome, e.owner_route, e.cert_window_id,
               e.sla) for i, e in zip(ids, events, strict=True)],
    )  # fmt: skip
    message, at = error_of(path)
    assert (message, at) == (f"duplicate ack_event_id {ids[7]!r}: rows 9 and 2992",
                             "row 2992, column ack_event_id")  # fmt: skip
    assert (message, at) == serial_error(monkeypatch, path)
    assert parts.results == [True]  # the parts merged; the check over all ids found it


def test_a_duplicate_id_where_two_ordered_parts_meet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parts: Spy
) -> None:
    monkeypatch.setenv("GOVGATE_JOBS", "2")
    events = [Event(f"ae-{i:06d}", "alex", AS_OF - timedelta(hours=1)) for i in range(4000)]
    path = write_csv(tmp_path / "e.csv", events)
    with path.open("rb") as handle:
        (cut,) = workers.record_starts(handle, len(",".join(HEADER)) + 1, path.stat().st_size, 2)
    text = path.read_bytes()
    first_of_second = text[cut:].split(b",", 1)[0].decode()
    row = text[:cut].count(b"\n")  # the last row of the first part, as a line number
    number = int(first_of_second.removeprefix("ae-"))
    path.write_bytes(text.replace(f"ae-{number - 1:06d},".encode(), f"{first_of_second},".encode()))
    assert error_of(path) == (f"duplicate ack_event_id {first_of_second!r}: rows {row} and "
                              f"{row + 1}", f"row {row + 1}, column ack_event_id")  # fmt: skip
    assert parts.results == [True]


def test_a_worker_that_dies_or_garbles_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parts: Spy
) -> None:
    path = write_csv(tmp_path / "e.csv", random_events(random.Random(4), 2000))
    expected = outputs(serial(monkeypatch, path, refresh_anchor=AS_OF))

    def dies(make: object, unused: int, fd: int) -> None:
        os._exit(3)

    def garbles(make: object, unused: int, fd: int) -> None:
        os.write(fd, b"not a pickle")
        os._exit(0)

    for broken in (dies, garbles):
        with monkeypatch.context() as patch:
            patch.setattr(workers, "_work", broken)
            assert outputs(load_events(path, refresh_anchor=AS_OF)) == expected

    def fails_to_start(*args: object) -> None:
        raise RuntimeError("in the worker, before its scan")

    # The worker must exit, not carry on with the rest of this test run.
    monkeypatch.setattr(workers, "_scan_part", fails_to_start)
    assert outputs(load_events(path, refresh_anchor=AS_OF)) == expected
    assert parts.results == [False, False, False]
    assert _children() == []  # every worker was waited for


def _children() -> list[int]:
    try:
        text = Path(f"/proc/self/task/{os.getpid()}/children").read_text()
    except OSError:  # pragma: no cover - kernels without the file
        return []
    return [int(pid) for pid in text.split()]


def test_one_process_when_asked_or_when_other_threads_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parts: Spy
) -> None:
    path = write_csv(tmp_path / "e.csv", random_events(random.Random(6), 1000))
    monkeypatch.setenv("GOVGATE_JOBS", "1")
    load_events(path)
    assert parts.calls == [("1", False)]
    monkeypatch.setenv("GOVGATE_JOBS", "auto")
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        load_events(path)  # a library caller's thread could hold a lock a child inherits
    finally:
        stop.set()
        thread.join()
    load_events(path)
    assert parts.results == [False, len(os.sched_getaffinity(0)) > 1]


def test_small_files_stay_in_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Spy(monkeypatch)
    monkeypatch.setenv("GOVGATE_JOBS", "8")
    path = write_csv(tmp_path / "e.csv", random_events(random.Random(2), 500))
    assert path.stat().st_size < 2 * workers.MIN_PART_BYTES
    load_events(path)
    assert spy.results == [False]


@pytest.mark.parametrize("value", ["0", "-1", "two", "65", "1.5"])
def test_a_bad_jobs_setting_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    path = write_csv(tmp_path / "e.csv", random_events(random.Random(1), 10))
    monkeypatch.setenv("GOVGATE_JOBS", value)
    with pytest.raises(UsageError) as caught:
        load_events(path)
    assert caught.value.where == "environment variable GOVGATE_JOBS"
    out, err = io.StringIO(), io.StringIO()
    code = main(["heatmap", "--events", str(path), "--as-of", "2026-11-20T00:00:00Z"],
                out=out, err=err, cwd=tmp_path)  # fmt: skip
    assert code == 2
    assert "GOVGATE_JOBS" in err.getvalue() and "from 1 to 64, or auto" in err.getvalue()
    assert "Traceback" not in err.getvalue()


@pytest.mark.parametrize(("value", "expected"), [("", None), ("auto", None), (" 4 ", 4),
                                                 ("1", 1), ("64", 64)])  # fmt: skip
def test_jobs_setting(value: str, expected: int | None) -> None:
    assert workers.jobs({"GOVGATE_JOBS": value}) == expected
    assert workers.jobs({}) is None


# -- where the file is cut -----------------------------------------------------------------


def cuts(data: bytes, count: int, start: int = 0) -> list[int] | None:
    return workers.record_starts(io.BytesIO(data), start, len(data), count)


def test_cuts_fall_just_after_newlines_into_parts_of_about_equal_size() -> None:
    rng = random.Random(9)
    lines = [f"r{i},{'x' * rng.randrange(0, 300)},end\n" for i in range(400)]
    data = "".join(lines).encode()
    starts = {0}
    for line in lines:
        starts.add(max(starts) + len(line))
    for count in (2, 3, 5, 16):
        found = cuts(data, count)
        assert found is not None and len(found) == count - 1
        assert set(found) <= starts  # every cut starts a line
        assert found == sorted(set(found))
        sizes = [b - a for a, b in itertools.pairwise([0, *found, len(data)])]
        assert max(sizes) < 2 * len(data) / count  # about equal parts


def test_cuts_honour_the_start_offset_and_give_up_without_lines() -> None:
    data = b"header\n" + b"x,1\n" * 100
    found = cuts(data, 2, start=7)
    assert found == [7 + 4 * 51]  # the line holding the middle byte ends the first part
    assert cuts(b"x,1\nx,22\n", 2) is None  # no line starts after the middle byte
    assert cuts(b"x,1\nx,2", 2) == [4]  # the last line may lack its newline
    assert cuts(b"x" * 5000 + b"\n", 4) is None


@pytest.mark.parametrize("at", [1495, 1500, 1505])
def test_a_quoted_line_break_where_the_file_is_cut(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parts: Spy, at: int
) -> None:
    """A cut inside a quoted field makes the first part fail; one process then names the row."""
    monkeypatch.setenv("GOVGATE_JOBS", "2")
    events = [Event(f"ae-{i:06d}", "alex", AS_OF - timedelta(hours=1)) for i in range(3000)]
    events[at] = Event(f"ae-{at:06d}", "al\n" * 400 + "ex", AS_OF - timedelta(hours=1))
    path = write_csv(tmp_path / "e.csv", events)
    with path.open("rb") as handle:
        found = workers.record_starts(handle, len(",".join(HEADER)) + 1, path.stat().st_size, 2)
    text = path.read_bytes()
    quoted = text.index(b'"al')
    assert found is not None and quoted < found[0] < text.index(b'ex"')  # inside the quotes
    assert named_as_one_process_names_it(monkeypatch, path) == f"row {at + 2}, column signer_id"
    assert parts.results == [False, False]


def test_a_long_quoted_field_in_the_middle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parts: Spy
) -> None:
    events = random_events(random.Random(12), 2000)
    events[1000] = Event("x", "a,b", AS_OF - timedelta(hours=2))
    path = write_csv(tmp_path / "e.csv", events)
    long_quoted = '"' + "a," * 3000 + '"'  # the commas keep it quoted
    path.write_text(path.read_text(encoding="utf-8").replace('"a,b"', long_quoted, 1))
    log = load_events(path, refresh_anchor=AS_OF)
    assert outputs(log) == outputs(serial(monkeypatch, path, refresh_anchor=AS_OF))
    assert parts.results == [True]
