"""Dangling references are findings naming both ends; config typos get "did you mean"."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.conftest import Project, Schedule, iso, run_cli

AS_OF = datetime(2026, 12, 2, 6, 40, 52, tzinfo=UTC)


def findings(run: Any, rule: str) -> list[dict[str, Any]]:
    return [f for f in json.loads(run.out)["findings"] if f["rule"] == rule]


@pytest.fixture
def project(make_project: Callable[..., Project]) -> Project:
    return make_project(weeks=3)


def test_a_bootstrap_naming_a_run_that_does_not_exist(project: Project,
                                                     sched: type[Schedule]) -> None:
    project.edit_doc("bootstrap.yaml", lambda d: {**d, "job_run_id": "recon-2026-W01"})
    run = project.check(sched.after(3))
    [found] = findings(run, "reconcile.dangling-bootstrap")
    assert found["subject"] == "recon-2026-W01" and found["severity"] == "warning"
    assert "bootstrap.yaml" in found["message"] and "scheduler_runs.csv" in found["message"]
    assert found["location"]["path"] == "bootstrap.yaml"


def test_a_bootstrap_naming_an_existing_run_is_no_finding(project: Project,
                                                         sched: type[Schedule]) -> None:
    run = project.check(sched.after(3))
    assert not [f for f in json.loads(run.out)["findings"] if "dangling" in f["rule"]]


def test_remediation_evidence_naming_an_unknown_run(project: Project,
                                                   sched: type[Schedule]) -> None:
    project.add_evidence({"evidence_id": "EV-1", "job_run_id": sched.run_id(2),
                          "attached_at": sched.after(2)},
                         {"evidence_id": "EV-2", "job_run_id": "recon-typo",
                          "attached_at": sched.after(2)})
    run = project.check(sched.after(3))
    [found] = findings(run, "reconcile.dangling-evidence")
    assert found["subject"] == "EV-2"
    assert "evidence.csv row 3" in found["message"] and "'recon-typo'" in found["message"]
    assert "scheduler_runs.csv" in found["message"]


def test_an_override_naming_an_unknown_run_or_an_off_schedule_window(
        project: Project, sched: type[Schedule]) -> None:
    project.add_overrides(
        {"audit_id": "AUD-1", "covers": [sched.run_id(1), sched.window_ref(2)],
         "approved_by": "lead", "approved_at": sched.after(3), "reason": "fine"},
        {"audit_id": "AUD-2", "covers": ["recon-nope",
                                         f"window@{iso(sched.start(2) + timedelta(hours=1))}"],
         "approved_by": "lead", "approved_at": sched.after(3), "reason": "typos"})
    run = project.check(sched.after(3))
    [found] = findings(run, "reconcile.dangling-override")
    assert found["subject"] == "AUD-2"
    assert "'recon-nope'" in found["message"]
    assert f"window@{iso(sched.start(2) + timedelta(hours=1))}" in found["message"]
    assert "overrides.yaml row 2" in found["message"]


def _init(folder: Path) -> None:
    run = run_cli(["init", str(folder), "--as-of", iso(AS_OF)], folder.parent)
    assert run.code == 0, run.err


def test_events_naming_a_cert_window_the_windows_file_does_not_list(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    _init(folder)
    windows = folder / "governance/fatigue/cert_windows.yaml"
    windows.write_text(windows.read_text(encoding="utf-8").replace(
        "steam-next-fest", "steam-next-fest-2026"), encoding="utf-8")
    run = run_cli(["check", "--as-of", iso(AS_OF), "--format", "json"], folder)
    [found] = findings(run, "fatigue.unknown-cert-window")
    assert found["subject"] == "steam-next-fest"
    assert "signer_ack_event.csv" in found["message"]
    assert "cert_windows.yaml" in found["message"] and "alex" in found["message"]


def test_without_a_cert_windows_file_no_window_is_unknown(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    _init(folder)
    config = folder / "govgate.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "  cert_windows:", "  # cert_windows:"), encoding="utf-8")
    run = run_cli(["check", "--as-of", iso(AS_OF), "--format", "json"], folder)
    assert run.code == 0 and not findings(run, "fatigue.unknown-cert-window")


# -- did you mean -------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("reconcilation:\n  runs: r.csv\n  jobs: jobs\n",
     "line 1, /: unexpected field: 'reconcilation' (did you mean 'reconciliation'?)"),
    ("reconciliation:\n  runs: r.csv\n  jobs: jobs\n  bootstrp: b.yaml\n",
     "line 4, /reconciliation: unexpected field: 'bootstrp' (did you mean 'bootstrap'?)"),
    ("paging:\n  webhook: {url: x, routing_key_env: K, timeout_secs: 3}\n",
     "/paging/webhook: unexpected field: 'timeout_secs' (did you mean 'timeout_seconds'?)"),
    ("sources:\n  alow_outside: true\n",
     "/sources: unexpected field: 'alow_outside' (did you mean 'allow_outside'?)"),
    ("sources:\n  https: {allowed_host: [a]}\n",
     "unexpected field: 'allowed_host' (did you mean 'allowed_hosts'?)"),
    ("zzz: 1\n", "line 1, /: unexpected field: 'zzz'"),
])
def test_unknown_config_keys_suggest_the_closest_known_key(tmp_path: Path, text: str,
                                                            expected: str) -> None:
    (tmp_path / "govgate.yaml").write_text(text, encoding="utf-8")
    run = run_cli(["check"], tmp_path)
    assert run.code == 2
    assert expected in run.err, run.err
    if "did you mean" not in expected:
        assert "did you mean" not in run.err


def test_policies_and_table_rows_suggest_too(tmp_path: Path) -> None:
    policy = {"kind": "epsilon_policy", "version": "1.0.0", "approved_by": "x",
              "approved_dt_utc": "2026-01-01T00:00:00Z", "metrics": {},
              "aproved_by": "typo"}
    (tmp_path / "eps.yaml").write_text(yaml.safe_dump(policy), encoding="utf-8")
    (tmp_path / "acks.csv").write_text("ack_id,job_run_id,signer,ack_dt_utc\n",
                                       encoding="utf-8")
    run = run_cli(["validate", "eps.yaml"], tmp_path)
    assert "unexpected field: 'aproved_by' (did you mean 'approved_by'?)" in run.out
    run = run_cli(["validate", "--kind", "run_ack", "acks.csv"], tmp_path)
    assert run.code == 0  # a header-only table has no row to complain about
    (tmp_path / "acks.csv").write_text(
        "ack_id,job_run_id,signer_id,ack_dt_utc,signed_by\n"
        "a,r,s,2026-01-01T00:00:00Z,x\n", encoding="utf-8")
    run = run_cli(["validate", "--kind", "run_ack", "acks.csv"], tmp_path)
    assert "unexpected field: 'signed_by' (did you mean 'signer_id'?)" in run.out, run.out
