"""The pytest plugin, run with pytester: checks as items, the gate as a status item, parity
with ``govgate check``'s exit code."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from tests.conftest import Project, Schedule, run_cli

pytest_plugins = ["pytester"]

AS_OF = "2026-11-20T00:00:00Z"


@pytest.fixture
def demo(pytester: pytest.Pytester, make_project: Callable[..., Project]) -> Project:
    """The demo scenario (red) written into pytester's folder."""
    return make_project(pytester.path, weeks=8, skips={7: "maintenance"}, silent=[8],
                        drifts={(3, "tickets_p95"): "0.5"})


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("-p", "no:cacheprovider", "-v", "-rs", *args)


def test_checks_are_items_with_readable_ids(pytester: pytest.Pytester, demo: Project) -> None:
    result = run(pytester, "--govgate", "--govgate-as-of", AS_OF)
    result.stdout.fnmatch_lines([
        "govgate::reconcile::completion-gap[[]recon-2026-W44[]] PASSED*",
        "govgate::reconcile::state[[]governance[]] FAILED*",
        "govgate::gate FAILED*",
    ])
    result.assert_outcomes(passed=1, failed=2)
    # The failure text is the finding, not a traceback.
    result.stdout.fnmatch_lines([
        "*_ govgate::reconcile::state[[]governance[]] _*",
        "reconcile.state [[]BLOCKS[]] governance: red: the 2 most recent scheduled windows*",
        "  owner_route: publish_gate",
    ])
    result.stdout.no_fnmatch_line("*Traceback*")
    result.stdout.no_fnmatch_line("*pytest_plugin.py*")


def _waive_red(project: Project) -> None:
    (project.root / "waivers.yaml").write_text(yaml.safe_dump([{
        "audit_id": "AUD-7", "rule": "reconcile.state", "subject": "governance",
        "owner": "release-lead", "reason": "rerun booked",
        "expires_at": "2026-12-01T00:00:00Z"}]), encoding="utf-8")
    project.update_config(waivers="waivers.yaml")


SCENARIOS: dict[str, dict[str, object]] = {
    "green": {"weeks": 6},
    "amber": {"weeks": 8, "skips": {8: "maintenance"}},
    "red": {"weeks": 8, "skips": {7: "maintenance"}, "silent": [8]},
    "red-waived": {"weeks": 8, "skips": {7: "maintenance"}, "silent": [8]},
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_pytest_fails_exactly_when_govgate_check_exits_1(
        pytester: pytest.Pytester, make_project: Callable[..., Project],
        sched: type[Schedule], name: str) -> None:
    project = make_project(pytester.path, **SCENARIOS[name])
    if name == "red-waived":
        _waive_red(project)
    as_of = sched.iso(sched.after(6)) if name == "green" else AS_OF
    check = run_cli(["check", "--as-of", as_of, "--no-deliver"], project.root)
    assert check.code in (0, 1), check.err
    result = run(pytester, "--govgate", "--govgate-as-of", as_of)
    assert (result.ret == pytest.ExitCode.TESTS_FAILED) == (check.code == 1)
    assert result.ret in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)
    result.stdout.fnmatch_lines([f"govgate::gate {'FAILED' if check.code else 'PASSED'}*"])


def test_waived_findings_are_skipped_with_the_waiver(pytester: pytest.Pytester,
                                                     make_project: Callable[..., Project]
                                                     ) -> None:
    # An amber that blocks (block_states: [amber]) may be waived; a red may not.
    project = make_project(pytester.path, weeks=8, skips={8: "maintenance"})
    project.update_config(block_states=["amber"])
    _waive_red(project)
    result = run(pytester, "--govgate", "--govgate-as-of", AS_OF)
    result.stdout.fnmatch_lines([
        "govgate::reconcile::state[[]governance[]] SKIPPED*",
        "SKIPPED [[]1[]] *: reconcile.state [[]waived by AUD-7[]] governance: amber*",
    ])
    assert result.ret == pytest.ExitCode.OK


def test_a_waiver_of_a_red_state_fails_the_gate(pytester: pytest.Pytester,
                                                demo: Project) -> None:
    _waive_red(demo)
    result = run(pytester, "--govgate", "--govgate-as-of", AS_OF)
    result.stdout.fnmatch_lines(["govgate::reconcile::state[[]governance[]] FAILED*",
                                 "govgate::gate FAILED*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_not_opted_in_means_no_items(pytester: pytest.Pytester, demo: Project) -> None:
    result = run(pytester)
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    result.stdout.no_fnmatch_line("*govgate::*")


def test_ini_opt_in_and_config_path(pytester: pytest.Pytester,
                                    make_project: Callable[..., Project]) -> None:
    make_project(pytester.path / "governance", weeks=8, skips={7: "maintenance"}, silent=[8])
    pytester.makeini(f"[pytest]\ngovgate = governance/govgate.yaml\ngovgate_as_of = {AS_OF}\n")
    result = run(pytester)
    result.stdout.fnmatch_lines(["govgate::gate FAILED*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_explicit_config_on_the_command_line(pytester: pytest.Pytester,
                                             make_project: Callable[..., Project]) -> None:
    make_project(pytester.path / "gov", weeks=8, skips={7: "maintenance"}, silent=[8])
    result = run(pytester, "--govgate=gov/govgate.yaml", "--govgate-as-of", AS_OF)
    result.stdout.fnmatch_lines(["govgate::reconcile::state[[]governance[]] FAILED*"])


def test_selection_with_k_and_m(pytester: pytest.Pytester, demo: Project) -> None:
    result = run(pytester, "--govgate", "--govgate-as-of", AS_OF, "-k", "completion")
    result.assert_outcomes(passed=1, deselected=2)
    result = run(pytester, "--govgate", "--govgate-as-of", AS_OF, "-k", "not reconcile")
    result.assert_outcomes(failed=1, deselected=2)
    result = run(pytester, "--govgate", "--govgate-as-of", AS_OF, "-m", "govgate",
                 "--collect-only", "-qq")
    result.stdout.fnmatch_lines(["govgate::reconcile::state[[]governance[]]", "govgate::gate"])


def test_bad_inputs_are_a_clean_collection_error(pytester: pytest.Pytester,
                                                 demo: Project) -> None:
    demo.runs_path.write_text("job_run_id,status\nx,MAYBE\n", encoding="utf-8")
    result = run(pytester, "--govgate", "--govgate-as-of", AS_OF)
    assert result.ret == pytest.ExitCode.INTERRUPTED  # 2, like govgate's bad-input exit code
    result.stdout.fnmatch_lines(["*ERROR collecting govgate*",
                                 "govgate: error: scheduler_runs.csv: row 2*"])
    result.stdout.no_fnmatch_line("*Traceback*")


def test_the_plugin_is_light_until_opted_in(tmp_path: Path) -> None:
    code = ("import sys, govgate.pytest_plugin; "
            "print(sorted(m for m in sys.modules if m.startswith(('govgate', 'yaml', "
            "'jsonschema', 'tabulate'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=tmp_path).stdout
    assert set(eval(out.strip())) <= {"govgate", "govgate.errors", "govgate.pytest_plugin"}
