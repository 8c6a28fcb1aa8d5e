"""Bad inputs: exit 2, one line naming the file and the field or row, and nothing written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

AS_OF = "2026-11-02T07:25:00Z"  # week 6 (recon-2026-W44) completed an hour earlier

Breaker = Callable[[Any], list[str] | None]


def text_edit(project, rel: str, old: str, new: str) -> None:
    path = project.root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, (rel, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(project, rel: str, needle: str) -> int:
    lines = (project.root / rel).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if needle in line)


MANIFEST = "jobs/recon-2026-W41/manifest.yaml"
LEADERSHIP = "jobs/recon-2026-W41/leadership.json"
EPSILON = "policies/epsilon-policy-1.1.0.yaml"


# Each breaker damages a clean project and returns the texts the one-line error must contain.

def malformed_config_yaml(project) -> list[str]:
    project.config_path.write_text("policies: [policies\nreconciliation: {}\n", encoding="utf-8")
    return ["govgate.yaml: line ", "invalid YAML"]


def malformed_manifest_yaml(project) -> list[str]:
    text_edit(project, MANIFEST, "job_run_id: recon-2026-W41", "job_run_id: [recon-2026-W41")
    return [f"{MANIFEST}: line ", "invalid YAML"]


def malformed_export_json(project) -> list[str]:
    text_edit(project, LEADERSHIP, '"rows": [', '"rows": [,')
    return [f"{LEADERSHIP}: line ", "invalid JSON"]


def naive_scheduled_at(project) -> list[str]:
    project.edit_run(3, scheduled_at="2026-10-12T06:00:00")
    return ["scheduler_runs.csv: row 4, column scheduled_at", "offset"]


def naive_completed_at(project) -> list[str]:
    project.edit_run(3, completed_at="2026-10-12T06:25:00")
    return ["scheduler_runs.csv: row 4, column completed_at", "offset"]


def unknown_metric_in_epsilon_policy(project) -> list[str]:
    path = project.root / EPSILON
    path.write_text(path.read_text(encoding="utf-8")
                    + "  bogus_metric: {abs_tol: 1, rel_tol: 0.1}\n", encoding="utf-8")
    line = line_of(project, EPSILON, "bogus_metric")
    return [f"{EPSILON}: line {line}, /metrics/bogus_metric", "unknown metric_id"]


def manifest_window_not_utc(project) -> list[str]:
    text_edit(project, MANIFEST, "end_exclusive: '2026-10-12T00:00:00Z'",
              "end_exclusive: '2026-10-12T02:00:00+02:00'")
    return [f"{MANIFEST}: /end_exclusive", "not UTC"]


def manifest_window_tz_policy_berlin(project) -> list[str]:
    text_edit(project, MANIFEST, "window_tz_policy: UTC", "window_tz_policy: Europe/Berlin")
    line = line_of(project, MANIFEST, "window_tz_policy")
    return [f"{MANIFEST}: line {line}, /window_tz_policy", "Europe/Berlin"]


def duplicate_job_run_id(project) -> list[str]:
    rows = project.runs()
    project.write_runs([*rows, dict(rows[1])])
    return ["scheduler_runs.csv: row 8, column job_run_id", "duplicate job_run_id",
            "recon-2026-W40", "row 3"]


def missing_runs_file(project) -> list[str]:
    project.set_recon(runs="exports/scheduler_runs.csv")
    return ["exports/scheduler_runs.csv: file not found"]


def missing_jobs_folder(project) -> list[str]:
    project.set_recon(jobs="no-jobs-here")
    return ["no-jobs-here: jobs folder not found"]


def yaml_nan_tolerance(project) -> list[str]:
    text_edit(project, EPSILON, "tickets_p95: {abs_tol: 0.05", "tickets_p95: {abs_tol: .nan")
    line = line_of(project, EPSILON, ".nan")
    return [f"{EPSILON}: line {line}", "not a finite number"]


def json_nan_metric_value(project) -> list[str]:
    doc = (project.root / LEADERSHIP).read_text(encoding="utf-8")
    first_value = doc.split('"value": ', 1)[1].split("\n", 1)[0]
    text_edit(project, LEADERSHIP, f'"value": {first_value}', '"value": NaN')
    return [LEADERSHIP, "NaN"]


def json_nan_string_metric_value(project) -> list[str]:
    doc = (project.root / LEADERSHIP).read_text(encoding="utf-8")
    first_value = doc.split('"value": ', 1)[1].split("\n", 1)[0]
    text_edit(project, LEADERSHIP, f'"value": {first_value}', '"value": "NaN"')
    return [f"{LEADERSHIP}: ", "/rows/0/value", "NaN"]


def skipped_without_reason(project) -> list[str]:
    project.edit_run(3, status="SKIPPED", skip_reason=None, started_at=None, completed_at=None,
                     artifact_uri=None)
    return ["scheduler_runs.csv: row 4, column skip_reason", "skip_reason"]


def skip_reason_on_a_pass(project) -> list[str]:
    project.edit_run(3, skip_reason="maintenance")
    return ["scheduler_runs.csv: row 4, column skip_reason"]


def unknown_skip_reason(project) -> list[str]:
    # A quoted cell may hold a line break; the error must still be ONE line.
    project.edit_run(3, status="SKIPPED", skip_reason="vacation\nFORGED LINE")
    return ["scheduler_runs.csv: row ", "column skip_reason", "vacation"]


def short_csv_row(project) -> list[str]:
    path = project.runs_path
    path.write_text(path.read_text(encoding="utf-8") + "recon-2026-W45,2026-11-09T06:00:00Z\n",
                    encoding="utf-8")
    return ["scheduler_runs.csv: row 8", "cells"]


def metric_not_in_epsilon_policy(project) -> list[str]:
    for side in ("leadership", "partner"):
        rel = project.export_path(3, side)

        def rename(doc: dict[str, Any]) -> None:
            doc["rows"][0]["metric_id"] = "player_sentiment"

        project.edit_doc(rel, rename)
    return [f"{LEADERSHIP}: ", "player_sentiment", "metric_id"]


def duplicate_metric_in_export(project) -> list[str]:
    def dup(doc: dict[str, Any]) -> None:
        doc["rows"].append(dict(doc["rows"][0]))

    project.edit_doc(LEADERSHIP, dup)
    # JSON documents carry no line numbers: the message must not invent one ("line None").
    return [f"{LEADERSHIP}: ", "/rows/5", "duplicate metric_id"]


def unknown_epsilon_version(project) -> list[str]:
    text_edit(project, MANIFEST, "epsilon_policy_version: 1.1.0", "epsilon_policy_version: 9.9.9")
    return [f"{MANIFEST}: /epsilon_policy_version", "9.9.9"]


def job_without_scheduler_row(project) -> list[str]:
    project.write_runs(r for r in project.runs() if r["job_run_id"] != "recon-2026-W41")
    return [f"{MANIFEST}: /job_run_id", "no scheduler row"]


def ack_without_offset(project) -> list[str]:
    project.add_acks({"ack_id": "A1", "job_run_id": "recon-2026-W41", "signer_id": "s",
                      "ack_dt_utc": "2026-10-13T09:00:00"})
    return ["acks.csv: row 2, column ack_dt_utc", "offset"]


def override_window_not_utc(project) -> list[str]:
    project.add_overrides({"audit_id": "AUD-1", "covers": ["window@2026-10-26T02:00:00+02:00"],
                           "approved_by": "vp", "approved_at": "2026-11-02T00:00:00Z",
                           "reason": "r"})
    return ["overrides.yaml: row 1, column covers", "not UTC"]


def evidence_for_nothing_named(project) -> list[str]:
    project.add_evidence({"evidence_id": "EV-1", "job_run_id": None,
                          "attached_at": "2026-11-02T00:00:00Z"})
    return ["evidence.csv: row 2, column job_run_id"]


def unknown_config_key(project) -> list[str]:
    project.update_config(reconcilation={"runs": "scheduler_runs.csv"})
    return ["govgate.yaml", "unexpected field", "reconcilation"]


def unknown_reconciliation_key(project) -> list[str]:
    project.set_recon(acks_file="acks.csv")
    return ["govgate.yaml", "/reconciliation", "acks_file"]


def policy_without_kind(project) -> list[str]:
    (project.root / "policies" / "stray.yaml").write_text("version: 1.0.0\n", encoding="utf-8")
    return ["policies/stray.yaml", "kind"]


def duplicate_policy_version(project) -> list[str]:
    src = project.root / EPSILON
    (project.root / "policies" / "copy-of-epsilon.yaml").write_bytes(src.read_bytes())
    return ["version 1.1.0", "epsilon-policy-1.1.0.yaml", "copy-of-epsilon.yaml"]


BREAKERS: list[Breaker] = [
    malformed_config_yaml, malformed_manifest_yaml, malformed_export_json, naive_scheduled_at,
    naive_completed_at, unknown_metric_in_epsilon_policy, manifest_window_not_utc,
    manifest_window_tz_policy_berlin, duplicate_job_run_id, missing_runs_file,
    missing_jobs_folder, yaml_nan_tolerance, json_nan_metric_value, json_nan_string_metric_value,
    skipped_without_reason, skip_reason_on_a_pass, unknown_skip_reason, short_csv_row,
    metric_not_in_epsilon_policy, duplicate_metric_in_export, unknown_epsilon_version,
    job_without_scheduler_row,
    ack_without_offset, override_window_not_utc, evidence_for_nothing_named, unknown_config_key,
    unknown_reconciliation_key, policy_without_kind, duplicate_policy_version,
]


def assert_usage_error(run, needles: list[str]) -> None:
    assert run.code == 2, (run.code, run.out, run.err)
    assert "Traceback" not in run.err
    assert run.out == ""
    assert run.err.startswith("govgate: error: ")
    assert run.err.endswith("\n")
    assert run.err.count("\n") == 1, run.err  # ONE line, even for hostile input
    assert "\r" not in run.err
    assert "line None" not in run.err
    for needle in needles:
        assert needle in run.err, (needle, run.err)


@pytest.mark.parametrize("breaker", BREAKERS, ids=[b.__name__ for b in BREAKERS])
@pytest.mark.parametrize("fmt", ["json"])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(project, breaker: Breaker,
                                                            fmt: str) -> None:
    needles = breaker(project) or []
    run = project.check(AS_OF, fmt=fmt)
    assert_usage_error(run, needles)
    assert not project.output.exists()
    assert not project.ledger.exists()
    assert not project.outbox.exists()


def test_an_export_error_does_not_invent_line_one(project) -> None:
    # The unknown metric sits on the first row of "rows", far below line 1 of the JSON file.
    metric_not_in_epsilon_policy(project)
    run = project.check(AS_OF)
    assert run.code == 2
    assert "line 1," not in run.err, run.err


@pytest.mark.parametrize("breaker", [naive_scheduled_at, json_nan_string_metric_value,
                                     missing_runs_file], ids=lambda b: b.__name__)
def test_bad_input_leaves_earlier_outputs_untouched(make_project, breaker: Breaker) -> None:
    # Red, so the first run writes the ledger and the outbox too.
    project = make_project(skips={5: "maintenance", 6: "maintenance"})
    assert project.check(AS_OF).code == 1
    before = (project.output_files(), project.ledger.read_bytes(), project.outbox.read_bytes())
    needles = breaker(project) or []
    run = project.check("2026-11-03T07:25:00Z")
    assert_usage_error(run, needles)
    after = (project.output_files(), project.ledger.read_bytes(), project.outbox.read_bytes())
    assert after == before


@pytest.mark.parametrize(("args", "needles"), [
    (["check", "--as-of", AS_OF, "--format", "xml"], ["--format", "'xml'"]),
    (["check", "--as-of", AS_OF, "--format", "json,yaml"], ["--format", "'yaml'"]),
    (["check", "--as-of", AS_OF, "--format", ","], ["--format"]),
    (["check", "--as-of", "2026-11-02T07:25:00"], ["--as-of", "offset"]),
    (["check", "--as-of", "next tuesday"], ["--as-of", "next tuesday"]),
    (["check", "--as-of", AS_OF, "--no-such-option"], ["--no-such-option"]),
    (["check", "-c", "missing.yaml", "--as-of", AS_OF], ["missing.yaml", "not found"]),
    (["frobnicate"], ["frobnicate"]),
])
def test_bad_usage_exits_2(project, args: list[str], needles: list[str]) -> None:
    run = project.run(*args)
    assert_usage_error(run, needles)
    assert not project.output.exists()
    assert not project.ledger.exists()


def test_no_configuration_at_all(tmp_path, run_cli) -> None:
    run = run_cli(["check", "--as-of", AS_OF], tmp_path)
    assert_usage_error(run, ["no configuration found"])
