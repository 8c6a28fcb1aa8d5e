"""``govgate validate``: schema-only checks, kind from --kind, ``kind``, the name or the fields."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import CliRun, Project


@pytest.fixture
def files(make_project: Callable[..., Project]) -> Project:
    return make_project(weeks=3)


def validate(project: Project, *args: str | Path) -> CliRun:
    return project.run("validate", *args)


def test_every_input_of_a_project_is_valid(files: Project) -> None:
    job = files.job(1).relative_to(files.root)
    names = ["govgate.yaml", "scheduler_runs.csv", "bootstrap.yaml",
             *(str(p.relative_to(files.root)) for p in sorted((files.root / "policies").iterdir())),
             f"{job}/manifest.yaml", f"{job}/leadership.json", f"{job}/partner_annex.json"]
    run = validate(files, *names)
    assert run.code == 0, run.out
    lines = run.out.splitlines()
    assert all(line.startswith("ok") for line in lines[:-1]), run.out
    assert "scheduler_run, 3 rows" in run.out
    assert "reconciliation_policy 1.0.0" in run.out
    assert f"{job}/partner_annex.json: partner_annex" in run.out


def test_kind_is_inferred_from_fields_when_the_name_says_nothing(files: Project) -> None:
    shutil.copy(files.job(1) / "leadership.json", files.root / "export-a.json")
    shutil.copy(files.runs_path, files.root / "rows.csv")
    run = validate(files, "export-a.json", "rows.csv")
    assert run.code == 0
    assert "export-a.json: leadership_rollup" in run.out
    assert "rows.csv: scheduler_run, 3 rows" in run.out


def test_a_schema_error_names_file_place_and_expectation(files: Project) -> None:
    policy = next((files.root / "policies").glob("reconciliation-policy-*.yaml"))
    policy.write_text(policy.read_text(encoding="utf-8").replace(
        "window_tz_policy: UTC", "window_tz_policy: CET"), encoding="utf-8")
    rows = files.runs_path.read_text(encoding="utf-8").splitlines()
    rows[2] = rows[2].replace("PASS", "DONE")
    files.runs_path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    run = validate(files, policy, "scheduler_runs.csv", "govgate.yaml")
    assert run.code == 2
    fails = [line for line in run.out.splitlines() if line.startswith("FAIL")]
    assert len(fails) == 2
    assert "window_tz_policy" in fails[0] and "line" in fails[0]
    assert fails[1].startswith("FAIL  scheduler_runs.csv: row 3, column status: expected one of")
    assert run.out.splitlines()[-1] == "3 files: 1 valid, 0 skipped, 2 invalid"


def test_unknown_files_are_skipped_unless_strict(files: Project) -> None:
    (files.root / "notes.yaml").write_text("hello: world\n", encoding="utf-8")
    (files.root / "README.md").write_text("# hi\n", encoding="utf-8")
    run = validate(files, "notes.yaml", "README.md")
    assert run.code == 0
    assert [line[:4] for line in run.out.splitlines()[:-1]] == ["skip", "skip"]
    assert run.out.splitlines()[-1] == "2 files: 0 valid, 2 skipped, 0 invalid"
    assert validate(files, "--strict", "notes.yaml").code == 2


def test_explicit_kind(files: Project) -> None:
    (files.root / "w.json").write_text(json.dumps([{"audit_id": "A"}]), encoding="utf-8")
    run = validate(files, "--kind", "waiver", "w.json")
    assert run.code == 2 and "missing required field" in run.out
    assert validate(files, "--kind", "nope", "w.json").code == 2


def test_broken_syntax_and_missing_files(files: Project) -> None:
    (files.root / "broken.yaml").write_text("kind: [unclosed\n", encoding="utf-8")
    run = validate(files, "broken.yaml", "absent.yaml")
    assert run.code == 2
    assert "broken.yaml: line" in run.out and "invalid YAML" in run.out
    assert "absent.yaml: file not found" in run.out


def test_no_configuration_is_needed(files: Project, tmp_path: Path) -> None:
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    shutil.copy(files.runs_path, lonely / "scheduler_runs.csv")
    run = validate(files, lonely / "scheduler_runs.csv")
    assert run.code == 0
