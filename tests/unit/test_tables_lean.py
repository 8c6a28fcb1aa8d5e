"""Tables are held lean (one shared header, slotted rows) and read exactly as before.

The line splitting must cut where ``io.StringIO(newline="")`` cut (``\\r\\n``, ``\\r``, ``\\n``,
quoted line breaks kept inside their field); the memory figures are printed by
``benchmarks/bench_table_memory.py``.
"""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govgate.loaders.tables import Row, _lines, read_table

RUNS = ("job_run_id,scheduled_at,started_at,completed_at,skip_reason,artifact_uri,status\n"
        "recon-1,2026-09-28T06:00:00Z,2026-09-28T06:05:00Z,2026-09-28T06:25:00Z,,,PASS\n"
        "recon-2,2026-10-05T06:00:00Z,,,maintenance,,SKIPPED\n")


def test_rows_share_one_header_and_have_no_per_row_dict() -> None:
    rows = read_table(RUNS.encode(), "runs.csv", "scheduler_run")
    assert rows[0].columns is rows[1].columns
    assert not hasattr(rows[0], "__dict__")
    assert rows[1].values == {
        "job_run_id": "recon-2", "scheduled_at": "2026-10-05T06:00:00Z", "started_at": None,
        "completed_at": None, "skip_reason": "maintenance", "artifact_uri": None,
        "status": "SKIPPED"}
    assert rows[1].get("skip_reason") == "maintenance" and rows[1].get("nope", 7) == 7
    assert rows[1] == Row(rows[1].values, 3, "runs.csv") and rows[0] != rows[1]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_every_line_ending_reads_the_same(newline: str) -> None:
    data = RUNS.replace("\n", newline).encode()
    assert read_table(data, "runs.csv", "scheduler_run") == read_table(
        RUNS.encode(), "runs.csv", "scheduler_run")


@given(st.text(alphabet='ab,"\r\n ', max_size=60))
def test_lines_cut_like_stringio(text: str) -> None:
    assert list(_lines(text)) == list(io.StringIO(text, newline=""))
    try:
        expected = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error:
        with pytest.raises(csv.Error):
            list(csv.reader(_lines(text)))
        return
    assert list(csv.reader(_lines(text))) == expected
