"""GitHub workflow-command annotations: escaped, located, only the most important ones."""

from __future__ import annotations

from pathlib import Path

from tests.support.results import make_context, make_result

from govgate.model import Finding, Location, Severity
from govgate.reporters import github


def test_blocking_findings_become_errors_at_their_file_and_line(tmp_path: Path) -> None:
    lines = github.annotation_lines(make_result().findings, make_context(tmp_path))
    assert ("::error file=scheduler_runs.csv,line=8,title=govgate reconcile.state (governance)"
            "::red: windows") in "\n".join(lines)
    kinds = [line.split(" ", 1)[0] for line in lines]
    assert kinds == ["::error", "::error", "::warning", "::notice"]


def test_a_finding_without_a_file_points_at_the_configuration(tmp_path: Path) -> None:
    lines = github.annotation_lines(make_result().findings, make_context(tmp_path))
    signer = next(line for line in lines if "fatigue.signer" in line)
    assert signer.startswith("::error file=govgate.yaml,title=")


def test_waived_findings_are_notices_naming_the_waiver(tmp_path: Path) -> None:
    lines = github.annotation_lines(make_result().findings, make_context(tmp_path))
    assert any(line.startswith("::notice file=acks.csv,line=3,") and
               "::waived by AUD-2026-114: ack ack-7" in line for line in lines)


def test_prefix_places_files_inside_the_repository(tmp_path: Path) -> None:
    lines = github.annotation_lines(make_result().findings, make_context(tmp_path),
                                    prefix="governance/")
    assert any(line.startswith("::error file=governance/scheduler_runs.csv,line=8,")
               for line in lines)
    assert all("file=governance/" in line for line in lines)


def test_messages_and_properties_are_escaped() -> None:
    line = github.command("error", "50% done\nnext::x", file="a,b:c.csv", line=2)
    assert line == "::error file=a%2Cb%3Ac.csv,line=2::50%25 done%0Anext::x"
    assert "\n" not in line


def test_at_most_ten_per_level_and_a_pointer_to_the_rest(tmp_path: Path) -> None:
    many = tuple(Finding("reconcile.ack-refused", f"ack-{i:02d}", Severity.ERROR, "refused",
                         location=Location("acks.csv", i + 2)) for i in range(25))
    lines = github.annotation_lines(many, make_context(tmp_path))
    assert len(lines) == github.MAX_PER_LEVEL
    assert lines[-1] == "::error title=govgate::16 more blocking findings: see the job summary"
    assert "ack-00" in lines[0]  # most important first, stable order


def test_notes_are_not_annotated(tmp_path: Path) -> None:
    note = Finding("reconcile.state", "governance", Severity.INFO, "green")
    assert github.annotation_lines((note,), make_context(tmp_path)) == []


def test_render_ends_with_the_verdict(tmp_path: Path) -> None:
    text = github.render(make_result(), make_context(tmp_path))
    assert text.splitlines()[-1].startswith("govgate: the gate is BLOCKED")
