"""Records have a bounded length, so loading stays linear in the file's size.

The class: however a long record is made (one bare line, one quoted field, a quoted field with
line breaks, a header line, with or without worker processes), a record longer than
``MAX_RECORD_BYTES`` is refused naming its row, after reading at most about that many bytes
past its start; one exactly at the bound loads. The time it takes is measured by
``benchmarks/bench_long_lines.py``, not here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from govgate.errors import GovgateError
from govgate.fatigue.csvrows import MAX_RECORD_BYTES
from govgate.fatigue.events import load_events

HEADER = ("ack_event_id,signer_id,owner_route,cert_window_id,request_dt_utc,ack_dt_utc,"
          "ack_outcome,sla_target_hours\n")
ROW = ("ae-{n},{signer},publish_gate,cw-1,2026-11-16 10:00:00+00,2026-11-16 10:15:00+00,"
       "approved,0.50\n")


def row(n: int, signer: str = "alex") -> str:
    return ROW.format(n=n, signer=signer)


def with_length(n: int, length: int, *, quoted: bool = False) -> str:
    """A valid row whose text (without its line break) is ``length`` bytes long."""
    base = len(row(n, "")) - 1 + (2 if quoted else 0)
    signer = "s" * (length - base)
    return row(n, f'"{signer}"' if quoted else signer)


@pytest.fixture(params=["1", "2"], ids=["one-process", "workers"])
def jobs(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("GOVGATE_JOBS", request.param)
    if request.param != "1":  # parts of at least 4 MiB: make the file large enough for two
        monkeypatch.setattr("govgate.fatigue.workers.MIN_PART_BYTES", 1 << 16)
    return str(request.param)


def write(tmp_path: Path, *rows: str, filler: int = 0) -> Path:
    path = tmp_path / "events.csv"
    body = "".join(row(1000 + i) for i in range(filler))
    path.write_text(HEADER + body + "".join(rows), encoding="utf-8", newline="")
    return path


@pytest.mark.parametrize("quoted", [False, True], ids=["bare", "quoted"])
def test_a_record_at_the_bound_loads(tmp_path: Path, jobs: str, quoted: bool) -> None:
    text = with_length(2, MAX_RECORD_BYTES, quoted=quoted)
    assert len(text.encode()) == MAX_RECORD_BYTES + 1
    log = load_events(write(tmp_path, row(1), text, row(3), filler=3000))
    assert log.event_count == 3003


@pytest.mark.parametrize("shape", ["bare", "quoted", "quoted-with-line-breaks", "no-newline"])
@pytest.mark.parametrize("excess", [1, 10 << 20])
def test_a_longer_record_is_refused_naming_its_row(tmp_path: Path, jobs: str, shape: str,
                                                   excess: int) -> None:
    length = MAX_RECORD_BYTES + excess
    if shape == "bare":
        bad = with_length(2, length)
    elif shape == "quoted":
        bad = with_length(2, length, quoted=True)
    elif shape == "no-newline":
        bad = "x" * length
    else:
        bad = row(2, '"' + ("y" * 999 + "\n") * (length // 1000 + 1) + '"')
    path = write(tmp_path, row(1), bad, *([] if shape == "no-newline" else [row(3)]),
                 filler=3000)
    with pytest.raises(GovgateError) as info:
        load_events(path, source="events.csv")
    assert str(info.value) == (
        f"events.csv: row 3003: a record longer than {MAX_RECORD_BYTES} bytes (a "
        "signer_ack_event row is a few hundred; an unterminated quote or the wrong file?)")


def test_a_header_longer_than_the_bound_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text("x" * (MAX_RECORD_BYTES + 1) + "," + HEADER, encoding="utf-8")
    with pytest.raises(GovgateError, match=r"^events\.csv: row 1: a record longer than"):
        load_events(path, source="events.csv")
