"""The terminal report: verdict first, every message whole, no line wider than the terminal."""

from __future__ import annotations

import argparse
import io
import re
import shutil
from pathlib import Path

import pytest
from tests.support.results import make_context, make_result

from govgate.cli import main
from govgate.model import Finding, Location, Severity
from govgate.reporters import ReportContext, text
from govgate.reporters.terminal import TerminalOptions, from_args

REPO = Path(__file__).resolve().parents[3]
ANSI = re.compile(r"\x1b\[[0-9;]*m")
LONG = Finding("reconcile.ack-refused", "ack-" + "x" * 150, Severity.ERROR,
               "ack ack-0003 by alex refused: names recon-2026-W42, which is amber (amber hold) "
               "at the ack: attach remediation evidence or an override first; "
               + "sha256:" + "f" * 64 + " and a-very-long-hyphenated-identifier-" * 4,
               owner_route="publish_gate", location=Location("fixtures/run_acks.csv", 4))


def _squash(value: str) -> str:
    return re.sub(r"\s+", "", value)


def _assert_fits(output: str, width: int, messages: list[str]) -> None:
    plain = ANSI.sub("", output)
    too_long = [line for line in plain.splitlines() if len(line) > width]
    assert too_long == []
    # Wrapping only moves whitespace: every message is there whole, never cut with an ellipsis.
    joined = _squash(plain)
    for message in messages:
        assert _squash(message) in joined, message


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    for name in ("govgate.yaml", "policies", "fixtures"):
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, root / name)
    return root


@pytest.mark.parametrize("columns", [80, 120])
@pytest.mark.parametrize(("as_of", "state"), [("2026-11-20T00:00:00Z", "RED"),
                                              ("2026-11-02T06:10:00Z", "GREEN")])
def test_demo_fits_the_terminal_and_keeps_every_message(demo: Path, columns: int, as_of: str,
                                                       state: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Red with its pages and resolves, and a Monday morning with the weekly run in progress."""
    import json

    monkeypatch.setenv("COLUMNS", str(columns))
    out = io.StringIO()
    code = main(["check", "--as-of", as_of, "--no-deliver", "-o", str(demo / "out")],
                out=out, err=io.StringIO(), cwd=demo)
    assert code == 1
    result = json.loads((demo / "out" / "result.json").read_text(encoding="utf-8"))
    assert result["findings"]
    pages = [p["summary"] for p in result["pages"]]
    _assert_fits(out.getvalue(), columns, [f["message"] for f in result["findings"]] + pages)
    assert out.getvalue().startswith(f"BLOCKED: publish is blocked; governance state {state}\n")
    plain = _squash(out.getvalue())
    # A resolve reads as the end of a page, a trigger says when it fired.
    for page in result["pages"]:
        said = ("" if page["action"] == "resolve" else f"Triggered at {page['at']}: ")
        assert _squash(said + page["summary"]) in plain
    late = [w for w in result["sections"]["reconciliation"]["windows"] if w["status"] == "LATE"]
    for w in late:  # the instant a late run becomes a miss is on screen
        assert _squash(f"missed at {w['late_until']} unless it completes") in plain
    assert bool(late) == (state == "GREEN")


def test_a_disabled_reconcile_shows_no_state(tmp_path: Path) -> None:
    """Nothing decided a governance state: the default green must not read as a finding."""
    off = make_result(sections={"plugins": {"disabled": [{"name": "reconcile"}]}})
    output = text.render(off, make_context(tmp_path))
    assert output.splitlines()[0].endswith(
        "governance state not evaluated (reconcile disabled)"), output
    assert "GREEN" not in output and "RED" not in output.splitlines()[0]


@pytest.mark.parametrize("columns", [40, 80, 120])
def test_long_words_and_ids_wrap_inside_the_width(tmp_path: Path, columns: int) -> None:
    context = ReportContext(make_context(tmp_path).config, tmp_path,
                            terminal=TerminalOptions(width=columns, verbosity=1))
    output = text.render(make_result((LONG,)), context)
    _assert_fits(output, columns, [LONG.message, LONG.subject, "fixtures/run_acks.csv:4"])


def test_verdict_and_state_come_first_and_quiet_levels(tmp_path: Path) -> None:
    findings = make_result().findings
    normal = text.render(make_result(), make_context(tmp_path))
    assert normal.splitlines()[0] == "BLOCKED: publish is blocked; governance state RED"
    quiet = text.render(make_result(), ReportContext(
        make_context(tmp_path).config, tmp_path, terminal=TerminalOptions(verbosity=-1)))
    shown = [f for f in findings if f.message in _squash(quiet) or _squash(f.message) in
             _squash(quiet)]
    assert shown == [f for f in findings if f.blocking]
    very_quiet = text.render(make_result(), ReportContext(
        make_context(tmp_path).config, tmp_path, terminal=TerminalOptions(verbosity=-2)))
    assert very_quiet == "BLOCKED: publish is blocked; governance state RED\n"
    verbose = text.render(make_result(), ReportContext(
        make_context(tmp_path).config, tmp_path, terminal=TerminalOptions(verbosity=1)))
    assert "at scheduler_runs.csv:8" in verbose and "at scheduler_runs.csv:8" not in normal


def test_colour_only_when_asked_or_on_a_terminal(tmp_path: Path) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    def opts(color: str, stream: io.StringIO, **env: str) -> TerminalOptions:
        return from_args(argparse.Namespace(color=color, quiet=0, verbose=0), stream,
                         {"COLUMNS": "80", **env})

    assert opts("auto", Tty()).color and not opts("auto", io.StringIO()).color
    assert not opts("auto", Tty(), NO_COLOR="").color  # NO_COLOR set, even empty
    assert not opts("auto", Tty(), TERM="dumb").color
    assert opts("always", io.StringIO(), NO_COLOR="1").color
    assert not opts("never", Tty()).color
    context = make_context(tmp_path)
    coloured = text.render(make_result(), ReportContext(
        context.config, context.output, terminal=TerminalOptions(color=True)))
    assert coloured.startswith("\x1b[1;31mBLOCKED\x1b[0m: publish is blocked")
    assert ANSI.sub("", coloured) == text.render(make_result(), context)


def test_control_characters_from_inputs_never_reach_the_terminal(tmp_path: Path) -> None:
    evil = Finding("reconcile.inputs", "id\x1b]0;pwned\x07", Severity.ERROR,
                   "bad \x1b[31mred\x1b[0m\nforged line")
    output = text.render(make_result((evil,)), make_context(tmp_path))
    assert "\x1b" not in output and "\x07" not in output
    assert "forged line" in output and "\nforged line" not in output


def test_plain_govgate_takes_the_terminal_options_before_any_command(demo: Path) -> None:
    out = io.StringIO()
    code = main(["--color", "never", "-qq", "--as-of", "2026-11-20T00:00:00Z", "--no-deliver",
                 "-o", str(demo / "out-q")], out=out, err=io.StringIO(), cwd=demo)
    assert code == 1
    assert out.getvalue() == "BLOCKED: publish is blocked; governance state RED\n"
