"""``govgate init``: a project that passes at once, at any as-of, written all or nothing."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.conftest import iso, run_cli

from govgate.starter import RUN_OFFSET, last_window_end

AS_OF = datetime(2026, 12, 2, 6, 40, 52, tzinfo=UTC)  # a Wednesday


def init(folder: Path, as_of: datetime = AS_OF, *extra: str) -> list[str]:
    run = run_cli(["init", str(folder), "--as-of", iso(as_of), *extra], folder.parent)
    assert run.code == 0, run.err
    return sorted(str(p.relative_to(folder)).replace("\\", "/")
                  for p in folder.rglob("*") if p.is_file())


def tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_init_writes_a_project_whose_check_passes_and_every_input_validates(
        tmp_path: Path) -> None:
    folder = tmp_path / "studio"
    files = init(folder)
    assert {"govgate.yaml", ".pre-commit-config.yaml", ".github/workflows/govgate.yml",
            "governance/fatigue/signer_ack_event.csv",
            "policies/backup-owner-policy-1.0.0.yaml"} <= set(files)
    assert sum(f.endswith("/manifest.yaml") for f in files) == 2
    check = run_cli(["check", "--as-of", iso(AS_OF), "--format", "json"], folder)
    assert check.code == 0, check.out + check.err
    result = json.loads(check.out)
    assert (result["gate"], result["state"]) == ("pass", "green")
    assert result["counts"]["warning"] == 0 and result["counts"]["error"] == 0
    assert result["sections"]["reconciliation"]["accepted_acks"]
    validate = run_cli(["validate", *files], folder)
    assert validate.code == 0, validate.out
    skipped = [line for line in validate.out.splitlines() if line.startswith("skip")]
    # Only the files that are not govgate inputs are skipped.
    assert [s.split()[1] for s in skipped] == [".github/workflows/govgate.yml:", ".gitignore:",
                                               ".pre-commit-config.yaml:"], validate.out


def test_the_ingest_hashes_it_writes_are_the_ones_govgate_hash_prints(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    files = init(folder)
    exports = [f for f in files if f.endswith((".json",)) and "/jobs/" in f]
    assert len(exports) == 4
    for name in exports:
        doc = json.loads((folder / name).read_text(encoding="utf-8"))
        declared = doc.get("ingest_hash") or doc["footer"]["ingest_hash"]
        run = run_cli(["hash", name], folder)
        assert (run.code, run.out) == (0, declared + "\n")


# The as-of instants around the weekly boundary: the run of the window ending Monday 00:00 is
# due at Monday 06:00 (run_offset); before it the previous window is the latest.
@pytest.mark.parametrize("as_of", [
    datetime(2026, 11, 30, 5, 59, 59, tzinfo=UTC),   # Monday, just before the run is due
    datetime(2026, 11, 30, 6, 0, 0, tzinfo=UTC),     # due: completes at as-of itself
    datetime(2026, 11, 30, 6, 10, 0, tzinfo=UTC),    # while the sample's run would be running
    datetime(2026, 11, 30, 0, 0, 0, tzinfo=UTC),     # midnight: the nightly refresh itself
    datetime(2026, 12, 6, 23, 59, 59, tzinfo=UTC),   # Sunday night
    datetime(2027, 1, 4, 12, 0, 0, tzinfo=UTC),      # across the ISO year boundary
])
def test_the_sample_passes_at_any_as_of_it_was_written_for(tmp_path: Path,
                                                           as_of: datetime) -> None:
    folder = tmp_path / "p"
    init(folder, as_of)
    check = run_cli(["check", "--as-of", iso(as_of), "--format", "json"], folder)
    assert check.code == 0, check.out + check.err
    result = json.loads(check.out)
    assert result["state"] == "green" and result["counts"]["warning"] == 0, check.out


def test_last_window_end_is_the_latest_window_whose_run_is_due() -> None:
    monday = datetime(2026, 11, 30, tzinfo=UTC)
    assert last_window_end(monday + RUN_OFFSET) == monday
    assert last_window_end(monday + RUN_OFFSET - timedelta(microseconds=1)) == \
        monday - timedelta(days=7)


def test_the_same_as_of_writes_the_same_bytes(tmp_path: Path) -> None:
    init(tmp_path / "a")
    init(tmp_path / "b")
    assert tree(tmp_path / "a") == tree(tmp_path / "b")


def test_time_passing_without_new_rows_turns_the_sample_amber_then_red(tmp_path: Path) -> None:
    """What the config's comment promises: the sample is dated, the schedule moves on."""
    folder = tmp_path / "p"
    init(folder)
    week = run_cli(["check", "--as-of", iso(AS_OF + timedelta(days=7)), "--format", "json"],
                   folder)
    assert week.code == 0 and json.loads(week.out)["state"] == "amber"
    two = run_cli(["check", "--as-of", iso(AS_OF + timedelta(days=14)), "--format", "json",
                   "--no-deliver"], folder)
    assert two.code == 1 and json.loads(two.out)["state"] == "red"


def test_init_refuses_to_overwrite_and_writes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    (folder / "policies").mkdir(parents=True)
    (folder / "policies" / "epsilon-policy-1.0.0.yaml").write_text("mine\n", encoding="utf-8")
    (folder / "notes.txt").write_text("unrelated\n", encoding="utf-8")
    before = tree(folder)
    run = run_cli(["init", str(folder), "--as-of", iso(AS_OF)], tmp_path)
    assert run.code == 2 and run.out == ""
    assert "policies/epsilon-policy-1.0.0.yaml already exists" in run.err
    assert tree(folder) == before


def test_a_second_init_in_the_same_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    init(folder)
    before = tree(folder)
    run = run_cli(["init", str(folder), "--as-of", iso(AS_OF + timedelta(days=1))], tmp_path)
    assert run.code == 2 and "already exists (and" in run.err
    assert tree(folder) == before


def test_an_existing_gitignore_is_kept_and_the_rest_written(tmp_path: Path) -> None:
    folder = tmp_path / "repo"
    folder.mkdir()
    (folder / ".gitignore").write_text("*.pyc\n", encoding="utf-8")
    run = run_cli(["init", str(folder), "--as-of", iso(AS_OF)], tmp_path)
    assert run.code == 0, run.err
    assert (folder / ".gitignore").read_text(encoding="utf-8") == "*.pyc\n"
    assert "kept your .gitignore: add govgate-out/ and .govgate/ to it" in run.out
    assert (folder / "govgate.yaml").is_file()


def test_init_into_a_file_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x", encoding="utf-8")
    run = run_cli(["init", "f"], tmp_path)
    assert run.code == 2 and "not a folder" in run.err


def test_init_in_the_current_folder(tmp_path: Path) -> None:
    run = run_cli(["init", "--as-of", iso(AS_OF)], tmp_path)
    assert run.code == 0 and "wrote govgate.yaml" in run.out
    assert (tmp_path / "govgate.yaml").is_file()


def test_the_sample_policies_carry_the_lessons_defaults(tmp_path: Path) -> None:
    from govgate.fatigue.model import DEFAULT_SLA_TARGET_HOURS, Thresholds
    from govgate.loaders.policies import parse_policy
    from govgate.promote.policy import policy_from_doc

    folder = tmp_path / "p"
    init(folder)
    path = folder / "policies/backup-owner-policy-1.0.0.yaml"
    policy = policy_from_doc(parse_policy(path.read_bytes(), str(path)))
    assert policy.thresholds == Thresholds()
    assert sorted(r.owner_route for r in policy.routes) == sorted(DEFAULT_SLA_TARGET_HOURS)
    assert all(r.revert_green_days == 7 for r in policy.routes)
    recon = (folder / "policies/reconciliation-policy-1.0.0.yaml").read_text(encoding="utf-8")
    assert "period: P7D" in recon and "max_gap: P7D" in recon
