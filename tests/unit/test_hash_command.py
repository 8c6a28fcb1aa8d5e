"""``govgate hash``: the ingest_hash of an export, and signer_ack_event as a validate kind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.conftest import run_cli, sha256_lines

ROWS = [{"metric_id": "tickets_p95", "value": "273.90"},
        {"metric_id": "crash_free_sessions", "value": 99.5},
        {"metric_id": "zero", "value": "0.000"}]


def write(folder: Path, name: str, data: object) -> Path:
    path = folder / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_hash_is_the_documented_canonical_form(tmp_path: Path) -> None:
    write(tmp_path, "leadership.json", {"rows": ROWS})
    run = run_cli(["hash", "leadership.json"], tmp_path)
    expected = sha256_lines({"tickets_p95": "273.90", "crash_free_sessions": "99.5",
                             "zero": "0.000"})
    assert (run.code, run.out, run.err) == (0, expected + "\n", "")


def test_row_order_and_a_stale_declared_hash_do_not_matter(tmp_path: Path) -> None:
    write(tmp_path, "a.json", {"rows": ROWS, "ingest_hash": "sha256:" + "0" * 64})
    write(tmp_path, "b.json", {"footer": {"ingest_hash": "x"}, "rows": ROWS[::-1]})
    run = run_cli(["hash", "a.json", "b.json"], tmp_path)
    first, second = run.out.splitlines()
    assert first.endswith("  a.json") and second.endswith("  b.json")
    assert first.split()[0] == second.split()[0]


def test_the_demo_exports_hash_to_what_they_declare() -> None:
    repo = Path(__file__).resolve().parents[2]
    job = repo / "fixtures/reconciliation/jobs/recon-2026-W41"
    for name, key in (("leadership.json", None), ("partner_annex.json", "footer")):
        doc = json.loads((job / name).read_text(encoding="utf-8"))
        declared = (doc[key] if key else doc)["ingest_hash"]
        assert run_cli(["hash", str(job / name)], repo).out == declared + "\n"


@pytest.mark.parametrize(("data", "message"), [
    ({"rows": [{"metric_id": "a", "value": "1"}, {"metric_id": "a", "value": "2"}]},
     "/rows/1: duplicate metric_id 'a'"),
    ({"rows": [{"metric_id": "a", "value": "NaN"}]}, "/rows/0/value: expected a finite"),
    ({"rows": [{"value": "1"}]}, "/rows/0: expected an object with metric_id"),
    ({"values": []}, "/rows: expected a mapping with a 'rows' list"),
])
def test_a_bad_export_is_exit_2_naming_the_place_and_prints_nothing(
        tmp_path: Path, data: object, message: str) -> None:
    write(tmp_path, "good.json", {"rows": ROWS})
    write(tmp_path, "bad.json", data)
    run = run_cli(["hash", "good.json", "bad.json"], tmp_path)
    assert run.code == 2 and run.out == ""
    assert run.err.startswith("govgate: error: bad.json: ") and message in run.err, run.err


def test_a_missing_file_is_exit_2(tmp_path: Path) -> None:
    run = run_cli(["hash", "nope.json"], tmp_path)
    assert run.code == 2 and "nope.json: file not found" in run.err


# -- signer_ack_event is a kind like every other table --------------------------------------

EVENTS = ("ack_event_id,signer_id,owner_route,cert_window_id,request_dt_utc,ack_dt_utc,"
          "ack_outcome,sla_target_hours\n"
          "e1,alex,publish_gate,,2026-10-01 09:00:00+00,2026-10-01 09:10:00+00,approved,0.50\n")


def test_schema_lists_signer_ack_event() -> None:
    run = run_cli(["schema"], Path.cwd())
    assert any(line.startswith("signer_ack_event ") for line in run.out.splitlines())
    schema = json.loads(run_cli(["schema", "signer_ack_event"], Path.cwd()).out)
    assert "ack_event_id" in schema["properties"]


def test_validate_infers_and_checks_signer_ack_event(tmp_path: Path) -> None:
    (tmp_path / "export.csv").write_text(EVENTS, encoding="utf-8")
    run = run_cli(["validate", "export.csv"], tmp_path)
    assert run.code == 0 and "ok    export.csv: signer_ack_event, 1 row" in run.out, run.out
    bad = EVENTS + "e1,pat,publish_gate,,2026-10-01 10:00:00+00,,,0.50\n"
    (tmp_path / "export.csv").write_text(bad, encoding="utf-8")
    run = run_cli(["validate", "--kind", "signer_ack_event", "export.csv"], tmp_path)
    assert run.code == 2 and "row 3, column ack_event_id: duplicate ack_event_id" in run.out


def test_validate_checks_what_only_the_event_loader_knows(tmp_path: Path) -> None:
    early = EVENTS.replace("2026-10-01 09:10:00+00", "2026-10-01 08:00:00+00")
    (tmp_path / "signer_ack_event.csv").write_text(early, encoding="utf-8")
    run = run_cli(["validate", "signer_ack_event.csv"], tmp_path)
    assert run.code == 2 and "is before request_dt_utc" in run.out
