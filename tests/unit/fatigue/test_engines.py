"""Heat-map engines behind ``govgate_reduce_events``: DuckDB equals the Python scanner on random
exports (heat-map, history, snapshot hashes, promotes), steps aside for rows it cannot vouch
for, and the hook chooses the engine (docs/engines.md)."""

from __future__ import annotations

import csv
import io
import json
import random
import re
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.unit.fatigue.engine_checks import assert_same_everything, need_duckdb, reduced
from tests.unit.fatigue.factories import (
    AS_OF,
    HEADER,
    SLA,
    Event,
    csv_text,
    random_events,
    write_csv,
)

from govgate.cli import main
from govgate.engines import load_with_engines
from govgate.errors import GovgateError, UsageError
from govgate.fatigue import pgnumeric
from govgate.fatigue.events import EventLog, load_events
from govgate.plugins import get_plugin_manager

US = timedelta(microseconds=1)


def duck(path: Path, anchor: datetime | None = AS_OF, *, pending: bool = True) -> EventLog:
    log = load_with_engines(get_plugin_manager(load_entrypoints=False).hook, str(path),
                            path=path, engine="duckdb", refresh_anchor=anchor, pending=pending)
    assert log is not None
    return log


def python(path: Path, anchor: datetime | None = AS_OF) -> EventLog:
    return load_events(path, refresh_anchor=anchor, source=str(path))


@pytest.fixture(autouse=True)
def _duckdb() -> None:
    need_duckdb()


@pytest.mark.parametrize("seed", range(6))
def test_duckdb_equals_python_on_random_exports(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    events = random_events(rng, rng.choice([50, 400, 3000]), days=rng.choice([20, 40, 400]))
    path = write_csv(tmp_path / "e.csv", events)
    for anchor, as_of in ((AS_OF, AS_OF), (AS_OF - timedelta(days=5), AS_OF - timedelta(days=5)),
                          (None, AS_OF - timedelta(days=2))):
        assert_same_everything(duck(path, anchor), python(path, anchor), as_of)


def _answered(i: int, centi: int, sla: str, signer: str = "s1") -> Event:
    request = AS_OF - timedelta(days=3) + i * timedelta(minutes=7)
    return Event(f"r{i}", signer, request, request + timedelta(seconds=36 * centi), sla=sla)


def test_every_ratio_scale_boundary_equals_postgresql_rounding(tmp_path: Path) -> None:
    # The engine's integer select_div_scale: weights change at 100 and 1,000,000 hundredths,
    # first digits compare equal or not; SLAs from the smallest to the largest.
    centis = [0, 1, 7, 99, 100, 101, 9999, 10000, 10001, 999_999, 1_000_000, 1_000_001, 3_333,
              66_667, 12_345_678, 99_999_999]
    slas = ["0.01", "0.07", "0.5", "0.99", "1", "1.00", "1.01", "3.00", "24.00", "99.99",
            "100.00", "333.33", "999.99"]
    events = [_answered(i * len(slas) + j, c, s, signer=f"s{j}")
              for i, c in enumerate(centis) for j, s in enumerate(slas)]
    # Far in the past so that the huge latencies' answers land before as-of, too.
    events = [replace(e, request=e.request - timedelta(days=12_000),
                      ack=(e.ack or e.request) - timedelta(days=12_000)) for e in events]
    path = write_csv(tmp_path / "e.csv", events)
    assert_same_everything(duck(path), python(path), AS_OF)


def test_an_instant_answer_on_the_grid_far_from_the_origin_has_delay_one(tmp_path: Path) -> None:
    # The Python scanner keeps refresh ends ready for 2048 days around the origin; beyond them a
    # request exactly on a refresh instant, answered at once, must still get delay 1 (the key
    # every engine computes), not 0.
    far = AS_OF - timedelta(days=3000)
    events = [Event("far", "s1", far, far), Event("near", "s1", AS_OF - timedelta(days=1),
                                                  AS_OF - timedelta(days=1))]
    path = write_csv(tmp_path / "e.csv", events)
    keys = sorted(python(path).signers[0].cells)
    assert [(k // 41_671, k % 41_671) for k in keys] == [(-2745, 1), (254, 1)]
    assert_same_everything(duck(path), python(path), AS_OF)


def test_hostile_values_and_export_variants(tmp_path: Path) -> None:
    rng = random.Random(7)
    base = random_events(rng, 500)
    signers = ['o"neil, jr', "zoë 🙂", "semi;colon", "en–dash", " lead"]
    events = [replace(e, signer_id=signers[i % len(signers)]) if i % 3 == 0 else e
              for i, e in enumerate(base)]
    events += [Event("ünïcode-id", "s1", AS_OF - timedelta(hours=5))]  # DuckDB steps aside
    path = write_csv(tmp_path / "e.csv", events)
    assert_same_everything(duck(path), python(path), AS_OF)
    # Without the sla_target_hours column (each route's default), and with ISO 8601 "T...Z".
    header = [c for c in HEADER if c != "sla_target_hours"]
    no_sla = write_csv(tmp_path / "no-sla.csv", base, header)
    assert_same_everything(duck(no_sla), python(no_sla), AS_OF)
    reordered = write_csv(tmp_path / "reordered.csv", base, list(reversed(HEADER)))
    assert_same_everything(duck(reordered), python(reordered), AS_OF)
    text = (tmp_path / "e.csv").read_text(encoding="utf-8")
    iso = tmp_path / "iso.csv"
    iso.write_text(text.replace("+00", "Z").replace(" 0", "T0").replace(" 1", "T1")
                   .replace(" 2", "T2"), encoding="utf-8")
    assert_same_everything(duck(iso), python(iso), AS_OF)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("request_dt_utc", "2026-11-10 10:00:00"),  # no offset
        ("request_dt_utc", "2026-02-30 10:00:00+00"),
        ("ack_dt_utc", "2026-11-01 00:00:00+00"),  # before the request
        ("ack_dt_utc", "2026-11-10 10:00:00.1234567+00"),  # 7 digits: Python reads it
        ("owner_route", "legal_review"),
        ("ack_outcome", "maybe"),
        ("sla_target_hours", "0"),
        ("sla_target_hours", "1.234"),
        ("sla_target_hours", "5E-1"),  # Python reads it
        ("signer_id", "bad\x07bell"),
        ("ack_event_id", "rtl\u202eid"),
        ("cert_window_id", '""'),  # an empty string, not NULL
        ("ack_event_id", "e0"),  # a duplicate
    ],
)
def test_rows_duckdb_cannot_vouch_for_are_read_by_python(
    tmp_path: Path, column: str, value: str
) -> None:
    events = random_events(random.Random(3), 200)
    path = write_csv(tmp_path / "e.csv", events)
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    row = rows[150]
    row[HEADER.index(column)] = "QUOTED-EMPTY" if value == '""' else value
    if column == "ack_dt_utc" and not row[HEADER.index("ack_outcome")]:
        row[HEADER.index("ack_outcome")] = "approved"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue().replace("QUOTED-EMPTY", '""'), encoding="utf-8")
    try:
        expected: EventLog | str = python(path)
    except GovgateError as exc:
        expected = str(exc)
    try:
        ours: EventLog | str = duck(path)
    except GovgateError as exc:
        ours = str(exc)
    if isinstance(expected, str):
        assert ours == expected
        assert "row 151" in expected  # the line, as for any CSV
    else:
        assert isinstance(ours, EventLog)
        assert_same_everything(ours, expected, AS_OF)


_NOISE = ['"', ",", "\n", "\r", " ", "\t", "Z", "T", "+", "-", ":", ".", "0", "9", "\x00", "é",
          '""', ",,", "\\", "E", "_", "2026", "+05:30", "24:00", "\n\n"]


@pytest.mark.parametrize("seed", range(40))
def test_a_damaged_export_gives_the_python_result_or_error(tmp_path: Path, seed: int) -> None:
    # Whatever the damage, DuckDB never accepts what the Python loader refuses nor reads a
    # value differently: the same reduction, or the same message naming the same row.
    rng = random.Random(seed)
    text = csv_text(random_events(random.Random(1), 30))
    for _ in range(rng.choice([1, 1, 2, 3])):
        pos = rng.randrange(len(text))
        op = rng.random()
        cut = pos + (rng.randrange(1, 4) if op < 0.3 else 1 if op < 0.6 else 0)
        text = text[:pos] + ("" if op < 0.3 else rng.choice(_NOISE)) + text[cut:]
    path = tmp_path / "e.csv"
    path.write_text(text, encoding="utf-8", newline="")

    def outcome(load: Any) -> object:
        try:
            return reduced(load())
        except GovgateError as exc:
            return str(exc)

    assert outcome(lambda: duck(path)) == outcome(lambda: python(path))


def test_generated_columns_and_json_are_read_by_python(tmp_path: Path) -> None:
    events = random_events(random.Random(11), 300)
    path = write_csv(tmp_path / "e.csv", events)
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    rows[0] += ["ack_latency_hours", "breached"]
    for row, e in zip(rows[1:], events, strict=True):
        centi = None if e.ack is None else pgnumeric.latency_centihours((e.ack - e.request) // US)
        sla = int(Decimal(e.sla or SLA[e.owner_route]) * 100)
        row += ["" if centi is None else str(pgnumeric.to_decimal(centi, 2)),
                "t" if centi is not None and centi > sla else "f"]
    derived = tmp_path / "derived.csv"
    with derived.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    assert_same_everything(duck(derived), python(path), AS_OF)
    records = [{"ack_event_id": e.ack_event_id, "signer_id": e.signer_id,
                "owner_route": e.owner_route, "cert_window_id": e.cert_window_id,
                "request_dt_utc": e.request.isoformat(),
                "ack_dt_utc": e.ack.isoformat() if e.ack else None,
                "ack_outcome": e.outcome, "sla_target_hours": e.sla} for e in events]
    as_json = tmp_path / "e.json"
    as_json.write_text(json.dumps(records), encoding="utf-8")
    assert_same_everything(duck(as_json), python(path), AS_OF)


def _parquet(con: Any, csv: Path, target: Path, request_type: str = "TIMESTAMPTZ") -> Path:
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"""COPY (SELECT ack_event_id, signer_id, owner_route, cert_window_id,
        CAST(request_dt_utc AS {request_type}) AS request_dt_utc,
        CAST(ack_dt_utc AS TIMESTAMPTZ) AS ack_dt_utc, ack_outcome,
        CAST(sla_target_hours AS DECIMAL(5,2)) AS sla_target_hours
        FROM read_csv('{csv}', all_varchar = true)) TO '{target}' (FORMAT parquet)""")
    return target


def test_parquet_equals_the_csv(tmp_path: Path) -> None:
    import duckdb

    events = random_events(random.Random(5), 2000)
    csv = write_csv(tmp_path / "e.csv", events)
    parquet = _parquet(duckdb.connect(), csv, tmp_path / "e.parquet")
    for anchor in (AS_OF, None):
        assert_same_everything(duck(parquet, anchor), python(csv, anchor), AS_OF)


def test_a_bad_parquet_row_is_named(tmp_path: Path) -> None:
    import duckdb

    csv = write_csv(tmp_path / "e.csv", random_events(random.Random(5), 50))
    naive = _parquet(duckdb.connect(), csv, tmp_path / "naive.parquet", "TIMESTAMP")
    with pytest.raises(GovgateError, match=r"row 1, column request_dt_utc: .*no UTC offset"):
        duck(naive)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("ack_event_id", "two\nlines", "an ack_event_id is empty or not printable text"),
        ("ack_event_id", "e0", "duplicate ack_event_id 'e0'"),
        ("signer_id", "s\u0007", "signer_id 's\\x07' contains a control character"),
        ("cert_window_id", "w\nx", "cert_window_id 'w\\nx' contains a control character"),
    ],
)
def test_a_bad_parquet_id_is_refused(tmp_path: Path, column: str, value: str,
                                     message: str) -> None:
    import duckdb

    csv = write_csv(tmp_path / "e.csv", random_events(random.Random(5), 50))
    con = duckdb.connect()
    parquet = _parquet(con, csv, tmp_path / "e.parquet")
    con.execute(f"""COPY (SELECT * REPLACE (CASE WHEN ack_event_id = 'e7' THEN ? ELSE {column}
        END AS {column}) FROM '{parquet}') TO '{tmp_path / "bad.parquet"}' (FORMAT parquet)""",
                [value])
    with pytest.raises(GovgateError, match=re.escape(message)):
        duck(tmp_path / "bad.parquet")


def test_ids_with_equal_hashes_are_not_duplicates(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import duckdb

    from govgate.engines import duckdb_engine

    # Hashes cut to one bit: every file of more than two rows has ids with equal hashes.
    monkeypatch.setattr(duckdb_engine, "_GROUPS", duckdb_engine._GROUPS.replace(
        "COUNT(DISTINCT hash(id))", "COUNT(DISTINCT hash(id) %% 2)"))
    events = random_events(random.Random(5), 300)
    csv = write_csv(tmp_path / "e.csv", events)
    parquet = _parquet(duckdb.connect(), csv, tmp_path / "e.parquet")
    assert_same_everything(duck(parquet), python(csv), AS_OF)
    assert_same_everything(duck(csv), python(csv), AS_OF)  # read by the Python scanner


def test_a_double_quote_in_a_csv_id_leaves_the_file_to_python(tmp_path: Path) -> None:
    events = random_events(random.Random(8), 300)
    for column in ("ack_event_id", "signer_id", "cert_window_id"):
        quoted = [replace(e, **{column: 'say "hi"'}) if i == 100 else e
                  for i, e in enumerate(events)]
        path = write_csv(tmp_path / f"{column}.csv", quoted)
        assert_same_everything(duck(path), python(path), AS_OF)


def test_a_file_name_duckdb_would_read_as_a_pattern_is_read_by_python(tmp_path: Path) -> None:
    events = random_events(random.Random(6), 300)
    path = write_csv(tmp_path / "e[1].csv", events)
    write_csv(tmp_path / "e1.csv", events[:10])  # what the pattern would match
    assert_same_everything(duck(path), python(path), AS_OF)


def test_duckdb_missing_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_csv(tmp_path / "e.csv", random_events(random.Random(1), 10))
    monkeypatch.setitem(sys.modules, "duckdb", None)
    with pytest.raises(UsageError, match=r"pip install 'govgate\[duckdb\]'"):
        duck(path)


def test_an_engine_that_reads_no_files_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "e.csv", random_events(random.Random(1), 10))
    with pytest.raises(UsageError, match="no heat-map engine named 'postgresql'"):
        load_with_engines(get_plugin_manager(load_entrypoints=False).hook, str(path), path=path,
                          engine="postgresql")


def test_a_plugin_engine_comes_first(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "e.csv", random_events(random.Random(2), 300))
    seen: list[str | None] = []

    class Mine:
        @staticmethod
        def govgate_reduce_events(ref: str, path: Path | None, engine: str | None,
                                  settings: Any, default_sla: Any, refresh_anchor: datetime,
                                  pending: bool) -> Any:
            seen.append(engine)
            if engine != "mine" or path is None:
                return None
            from govgate.fatigue.events import reduce_file

            return reduce_file(path, dict(default_sla), refresh_anchor=refresh_anchor,
                               source=ref, pending=pending)

    from govgate.hookspecs import hookimpl

    hookimpl(Mine.govgate_reduce_events)
    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(Mine, name="mine")
    log = load_with_engines(pm.hook, str(path), path=path, engine="mine", refresh_anchor=AS_OF)
    assert seen == ["mine"]
    assert log is not None and reduced(log) == reduced(python(path))


def test_heatmap_command_engine_option_and_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_csv(tmp_path / "e.csv", random_events(random.Random(4), 800))

    def heatmap(*extra: str) -> str:
        code = main(["heatmap", "--as-of", "2026-11-20T00:00:00Z", "--format", "json",
                     *extra], cwd=tmp_path)
        out = capsys.readouterr()
        assert code == 0, out.err
        return out.out

    plain = heatmap("--events", "e.csv")
    assert heatmap("--events", "e.csv", "--engine", "duckdb") == plain
    (tmp_path / "govgate.yaml").write_text(
        "fatigue:\n  events: e.csv\n  engine: duckdb\n", encoding="utf-8")
    assert heatmap() == plain
    assert main(["heatmap", "--events", "e.csv", "--engine", "postgresql",
                 "--as-of", "2026-11-20T00:00:00Z"], cwd=tmp_path) == 2
    assert "no heat-map engine named 'postgresql'" in capsys.readouterr().err


def test_engines_do_not_import_their_databases_until_used() -> None:
    code = ("import sys, govgate.plugins as p; p.get_plugin_manager(load_entrypoints=False); "
            "print(sorted(m for m in ('duckdb', 'psycopg') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
