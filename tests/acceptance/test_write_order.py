"""Validate everything, then evaluate, then write the outputs, then the ledger and the pages.

The classes held here (docs/security.md, "Promises and the tests that hold them"):

* a place to write that escapes the configuration's folder (``../``, an absolute path, a
  symbolic link to a folder or a file, a symbolic link among the parents) is refused with
  exit 2 and nothing is written anywhere, for ``output``, ``ledger`` and ``paging.outbox``;
* an output folder that cannot take the reports (a file in the way, a report name that is a
  folder, a folder the process may not write) is exit 2 before any ledger record or page;
* a sink that could not deliver (an unset routing key variable, a malformed URL) and a broken
  ledger are exit 2 before the evaluation, with nothing written;
* a failure to write after the decision keeps a blocked gate at 1, turns a pass into 4, and
  leaves the ledger and the outbox untouched (they come after the reports).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import Project, Schedule, iso

BLOCKED_AT = iso(Schedule.after(8))
PASSED_AT = iso(Schedule.after(6))


@pytest.fixture
def red(make_project: Callable[..., Project]) -> Project:
    """The last two windows have no PASS run: red, an incident and a page to deliver."""
    return make_project(weeks=8, skips={7: "maintenance"}, silent=[8])


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


def nothing_written(project: Project, elsewhere: Path) -> None:
    assert not project.output.exists()
    assert project.ledger_records() == []
    assert project.jsonl(project.outbox) == []
    assert list(elsewhere.rglob("*")) == []


def set_key(project: Project, key: str, ref: str) -> None:
    if key == "paging.outbox":
        project.update_config(paging={"outbox": ref})
    else:
        project.update_config(**{key: ref})


# -- places that escape the configuration's folder ------------------------------------------

def _dotdot(project: Project, elsewhere: Path, key: str) -> str:
    return f"../{elsewhere.name}/x" + ("" if key == "output" else ".jsonl")


def _absolute(project: Project, elsewhere: Path, key: str) -> str:
    return str(elsewhere / ("x" if key == "output" else "x.jsonl"))


def _symlink_itself(project: Project, elsewhere: Path, key: str) -> str:
    if key == "output":
        (project.root / "linked").symlink_to(elsewhere, target_is_directory=True)
        return "linked"
    (project.root / "linked.jsonl").symlink_to(elsewhere / "x.jsonl")
    return "linked.jsonl"


def _symlinked_parent(project: Project, elsewhere: Path, key: str) -> str:
    (project.root / "linked").symlink_to(elsewhere, target_is_directory=True)
    return "linked/deeper/x" + ("" if key == "output" else ".jsonl")


def _symlinked_grandparent_inside(project: Project, elsewhere: Path, key: str) -> str:
    # A link that stays inside the project is refused too: no link is followed at all.
    (project.root / "real").mkdir()
    (project.root / "linked").symlink_to(project.root / "real", target_is_directory=True)
    return "linked/x" + ("" if key == "output" else ".jsonl")


def _dotdot_back_in(project: Project, elsewhere: Path, key: str) -> str:
    return f"../{elsewhere.name}/../{project.root.name}/../{elsewhere.name}/y"


ESCAPES: dict[str, Callable[[Project, Path, str], str]] = {
    "dotdot": _dotdot, "absolute": _absolute, "symlink": _symlink_itself,
    "symlinked-parent": _symlinked_parent, "symlink-inside": _symlinked_grandparent_inside,
    "dotdot-back-and-out": _dotdot_back_in,
}


@pytest.mark.parametrize("key", ["output", "ledger", "paging.outbox"])
@pytest.mark.parametrize("case", sorted(ESCAPES))
def test_a_place_to_write_outside_the_project_is_refused(red: Project, elsewhere: Path,
                                                          key: str, case: str) -> None:
    set_key(red, key, ESCAPES[case](red, elsewhere, key))
    run = red.check(BLOCKED_AT)
    assert run.code == 2, run.err
    assert run.err.startswith("govgate: error: ") and run.err.count("\n") == 1
    assert key in run.err
    assert "escapes the configuration's folder" in run.err or "symbolic link" in run.err
    nothing_written(red, elsewhere)


def test_an_absolute_path_inside_the_project_is_fine(red: Project) -> None:
    red.update_config(output=str(red.root / "reports"))
    assert red.check(BLOCKED_AT).code == 1
    assert (red.root / "reports" / "result.json").is_file()


def test_a_symlinked_output_folder_given_with_o_is_refused(red: Project,
                                                            elsewhere: Path) -> None:
    (red.root / "linked").symlink_to(elsewhere, target_is_directory=True)
    for ref in ("linked", "linked/sub"):
        run = red.check(BLOCKED_AT, "-o", ref)
        assert run.code == 2 and "symbolic link" in run.err
    nothing_written(red, elsewhere)


@pytest.mark.parametrize("command", [("readback", "--quarter", "2026-Q4"),
                                     ("review", "--month", "2026-10"), ("checklist",),
                                     ("faq",)])
def test_document_commands_refuse_a_symlinked_output_before_evaluating(
        red: Project, elsewhere: Path, command: tuple[str, ...]) -> None:
    (red.root / "linked").symlink_to(elsewhere, target_is_directory=True)
    red.update_config(output="linked")
    run = red.run(*command, "--as-of", BLOCKED_AT)
    assert run.code == 2 and "symbolic link" in run.err
    assert list(elsewhere.iterdir()) == []


# -- an output folder that cannot take the reports -----------------------------------------

def _file_in_the_way(project: Project) -> None:
    (project.root / "blocker").write_text("not a folder\n", encoding="utf-8")
    project.update_config(output="blocker/out")


def _report_name_is_a_folder(project: Project) -> None:
    (project.output / "result.json").mkdir(parents=True)


def _artifacts_is_a_file(project: Project) -> None:
    project.output.mkdir()
    (project.output / "artifacts").write_text("x", encoding="utf-8")


def _report_is_a_symlink(project: Project) -> None:
    project.output.mkdir()
    (project.output / "summary.md").symlink_to(project.root / "govgate.yaml")


UNWRITABLE = {"file-in-the-way": _file_in_the_way, "result.json-is-a-folder":
              _report_name_is_a_folder, "artifacts-is-a-file": _artifacts_is_a_file,
              "report-is-a-symlink": _report_is_a_symlink}


@pytest.mark.parametrize("case", sorted(UNWRITABLE))
def test_an_output_folder_that_cannot_take_the_reports_is_exit_2_before_the_ledger(
        red: Project, case: str) -> None:
    UNWRITABLE[case](red)
    config_before = red.config_path.read_bytes()
    run = red.check(BLOCKED_AT)
    assert run.code == 2, run.err
    assert red.ledger_records() == [] and red.jsonl(red.outbox) == []
    assert not (red.output / "result.json").is_file()
    assert red.config_path.read_bytes() == config_before


def test_a_folder_this_process_may_not_write_is_exit_2(red: Project,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Root may write anywhere, so the permission answer is injected where it is asked."""
    import govgate.paths

    real = os.access
    monkeypatch.setattr(govgate.paths.os, "access",
                        lambda path, mode: False if Path(path) == red.root else real(path, mode))
    run = red.check(BLOCKED_AT)
    assert run.code == 2 and "not writable" in run.err, run.err
    assert red.ledger_records() == [] and not red.output.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write a read-only folder")
def test_a_read_only_output_folder_is_exit_2(red: Project) -> None:
    red.output.mkdir()
    red.output.chmod(0o500)
    try:
        run = red.check(BLOCKED_AT)
    finally:
        red.output.chmod(0o700)
    assert run.code == 2 and "not writable" in run.err
    assert red.ledger_records() == []


# -- sinks and the ledger, checked before the evaluation ------------------------------------

WEBHOOK = {"url": "https://127.0.0.1:9/v2/enqueue", "routing_key_env": "GOVGATE_TEST_KEY_UNSET"}


@pytest.mark.parametrize(("change", "expected"), [
    ({}, "GOVGATE_TEST_KEY_UNSET is not set"),
    ({"url": "https://[::1/v2"}, "malformed URL"),
    ({"url": "https://127.0.0.1:port/v2"}, "malformed URL"),
    ({"url": "https://exa mple.com/v2"}, "without spaces or control characters"),
    ({"url": "ftp://127.0.0.1/v2"}, "expected an https:// URL"),
    ({"url": "https:///v2"}, "expected an https:// URL"),
])
def test_a_sink_that_could_not_deliver_is_exit_2_before_anything_is_written(
        red: Project, monkeypatch: pytest.MonkeyPatch, change: dict[str, Any],
        expected: str) -> None:
    monkeypatch.delenv("GOVGATE_TEST_KEY_UNSET", raising=False)
    if change:
        monkeypatch.setenv("GOVGATE_TEST_KEY_UNSET", "a-routing-key")
    red.update_config(paging={"outbox": ".govgate/pager-outbox.jsonl",
                              "webhook": {**WEBHOOK, **change}})
    for command in (("check",), ("promote",)):
        run = red.run(*command, "--as-of", BLOCKED_AT)
        assert run.code == 2, run.err
        assert expected in run.err
        assert "a-routing-key" not in run.err
        assert red.ledger_records() == [] and red.jsonl(red.outbox) == []
        assert not red.output.exists()


def test_no_deliver_does_not_need_the_sink(red: Project,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOVGATE_TEST_KEY_UNSET", raising=False)
    red.update_config(paging={"webhook": WEBHOOK})
    assert red.check(BLOCKED_AT, "--no-deliver").code == 1


def test_a_broken_ledger_is_refused_before_the_reports(red: Project) -> None:
    assert red.check(BLOCKED_AT).code == 1
    reports = red.output_files()
    lines = red.ledger.read_text(encoding="utf-8").splitlines(keepends=True)
    red.ledger.write_text("".join(lines[1:]), encoding="utf-8")  # the first record deleted
    red.update_config(output="second")
    run = red.check(BLOCKED_AT)
    assert run.code == 2 and "ledger is broken" in run.err
    assert not (red.root / "second").exists()
    assert red.output_files() == reports


# -- a failure after the decision -----------------------------------------------------------

def _full_disk(files: Any) -> None:
    raise OSError(28, "No space left on device")


@pytest.mark.parametrize(("scenario", "at", "code"), [("red", BLOCKED_AT, 1),
                                                      ("clean", PASSED_AT, 4)])
def test_reports_that_cannot_be_written_keep_the_verdict_and_precede_the_ledger(
        make_project: Callable[..., Project], monkeypatch: pytest.MonkeyPatch,
        scenario: str, at: str, code: int) -> None:
    import govgate.writing

    project = (make_project(weeks=8, skips={7: "maintenance"}, silent=[8]) if scenario == "red"
               else make_project())
    monkeypatch.setattr(govgate.writing, "write_all_atomic", _full_disk)
    run = project.check(at)
    assert run.code == code, run.err
    assert "cannot write the reports: No space left on device" in run.err
    assert run.out == ""  # the verdict is not printed as if all went well
    assert project.ledger_records() == [] and project.jsonl(project.outbox) == []
    monkeypatch.undo()
    assert project.check(at).code == (1 if scenario == "red" else 0)
    if scenario == "red":
        assert project.ledger_records("incident")


def test_a_ledger_that_cannot_be_appended_keeps_a_blocked_gate_at_1(
        red: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    import govgate.delivery

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise OSError(5, "Input/output error")

    # check.run imports deliver when it runs, so it gets this one.
    monkeypatch.setattr(govgate.delivery, "deliver", failing)
    run = red.check(BLOCKED_AT)
    assert run.code == 1
    assert "cannot write the ledger and pages: Input/output error" in run.err
    assert red.result()["gate"] == "blocked"  # the reports came first


# -- a page that did not arrive --------------------------------------------------------------

def test_a_page_that_did_not_arrive_blocks_check_and_fails_promote(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``check``: the gate blocks and the reports, written before delivery, are written again
    to say so. ``promote`` decides nothing, so a rung-2 page that did not arrive is exit 4."""
    import shutil

    from tests.conftest import REPO, run_cli
    from tests.support.httpserver import HTTPTestServer, Response

    root = tmp_path / "demo"
    root.mkdir()
    shutil.copy(REPO / "govgate.yaml", root / "govgate.yaml")
    shutil.copytree(REPO / "policies", root / "policies")
    shutil.copytree(REPO / "fixtures", root / "fixtures")
    monkeypatch.setenv("GOVGATE_TEST_ROUTING_KEY", "rk-test")
    with HTTPTestServer(default=Response.json({"status": "invalid"}, status=400)) as server:
        project = Project(root)
        project.update_config(paging={"webhook": {
            "url": server.url("/v2/enqueue"), "routing_key_env": "GOVGATE_TEST_ROUTING_KEY",
            "max_attempts": 1, "allow_http": True}})
        promote = run_cli(["promote", "--as-of", "2026-11-20T00:00:00Z"], root)
        assert promote.code == 4, promote.err
        assert "not delivered" in promote.err
        assert "effective signer" in promote.out  # the answer is printed, the code says more
        check = run_cli(["check", "--as-of", "2026-11-20T00:00:00Z", "--format", "json"], root)
        assert check.code == 1
        rules = {f["rule"] for f in project.result()["findings"]}
        assert "delivery.page-failed" in rules
        assert project.result() == check.json()


@pytest.mark.parametrize(("scenario", "at", "code"), [("red", BLOCKED_AT, 1),
                                                      ("clean", PASSED_AT, 4)])
def test_the_action_step_whose_runner_files_cannot_be_written_is_not_a_pass(
        make_project: Callable[..., Project], scenario: str, at: str, code: int) -> None:
    from govgate.action_support import run_captured

    project = (make_project(weeks=8, skips={7: "maintenance"}, silent=[8]) if scenario == "red"
               else make_project())
    (project.root / "blocker").write_text("a file, not a folder\n", encoding="utf-8")
    env = {"GITHUB_WORKSPACE": str(project.root), "GOVGATE_AS_OF": at,
           "GITHUB_OUTPUT": str(project.root / "blocker" / "output"),
           "GITHUB_STEP_SUMMARY": str(project.root / "summary.md")}
    result, _, err = run_captured(env)
    assert result == code, err
    assert "internal error" not in err and "Traceback" not in err
