"""The exit channel: what reaches the caller is the verdict, whatever happened to stdout.

Every command runs as a real process whose stdout is a pipe whose reader is already gone (what
``govgate check | head -1`` becomes once ``head`` exits), an ASCII-only console, or a process
that gets SIGINT or SIGTERM at a known point. The promises (docs/security.md, "Promises and the
tests that hold them"):

* a blocked gate exits 1 even when stdout broke; a pass (or any command that decides nothing)
  whose stdout did not arrive exits 4 (``OUTPUT_ERROR``), never 0; no traceback either way;
* a locale that cannot encode the report does not fail the run: the text is escaped;
* Ctrl-C exits 130 and SIGTERM 143, leaving every file whole or absent and no temporary file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from tests.conftest import REPO, Project, Schedule, iso

DEMO_AS_OF = "2026-11-20T00:00:00Z"

#: Every command with every stdout format, run on the shipped demo (a red, blocked gate),
#: with the exit code it must return when stdout is a pipe nobody reads.
DEMO_COMMANDS: list[tuple[tuple[str, ...], int]] = [
    (("check", "--no-deliver"), 1),
    (("check", "--no-deliver", "--format", "json"), 1),
    (("check", "--no-deliver", "--format", "markdown"), 1),
    (("check", "--format", "text"), 1),  # delivering: the ledger and the outbox are written
    (("heatmap",), 4),
    (("heatmap", "--format", "json"), 4),
    (("heatmap", "--format", "csv"), 4),
    (("promote", "--no-deliver"), 4),
    (("promote", "--no-deliver", "--format", "json"), 4),
    (("promote", "--effective"), 4),
    (("readback", "--quarter", "2026-Q4"), 4),
    (("review", "--month", "2026-10"), 4),
    (("checklist",), 4),
    (("faq",), 4),
    (("schema",), 4),
    (("schema", "config"), 4),
    (("validate", "govgate.yaml"), 4),
    (("validate", "fixtures/reconciliation/scheduler_runs.csv", "--kind", "config"), 2),
    (("ledger", "verify"), 4),
    (("simulate", "--out", "simulated", "--weeks", "3"), 4),
    (("--no-deliver",), 1),  # plain `govgate` is `govgate check`
    (("--help",), 4),
    (("--version",), 4),
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the shipped demo project (configuration, policies, fixtures)."""
    root = tmp_path_factory.mktemp("demo")
    shutil.copy(REPO / "govgate.yaml", root / "govgate.yaml")
    shutil.copytree(REPO / "policies", root / "policies")
    shutil.copytree(REPO / "fixtures", root / "fixtures")
    return root


def govgate(args: Sequence[str], cwd: Path, *, stdout: int | None = None,
            env: dict[str, str] | None = None,
            python: Sequence[str] = ()) -> subprocess.CompletedProcess[bytes]:
    """Run ``python -m govgate ARGS`` as a real process."""
    return subprocess.run([sys.executable, *python, "-m", "govgate", *args], cwd=cwd,
                          stdout=subprocess.PIPE if stdout is None else stdout,
                          stderr=subprocess.PIPE, env=env, check=False)


def with_gone_reader(args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """Run with stdout a pipe whose read end is closed: every write there fails (EPIPE)."""
    read, write = os.pipe()
    os.close(read)
    try:
        return govgate(args, cwd, stdout=write)
    finally:
        os.close(write)


def assert_clean(stderr: bytes) -> None:
    text = stderr.decode("utf-8", "replace")
    assert "Traceback" not in text and "Exception ignored" not in text, text
    assert "internal error" not in text, text


@pytest.mark.parametrize(("args", "code"), DEMO_COMMANDS, ids=lambda v: " ".join(v)
                         if isinstance(v, tuple) else str(v))
def test_a_reader_that_went_away_never_makes_a_pass(demo: Path, args: tuple[str, ...],
                                                    code: int) -> None:
    timeless = ("--help", "--version", "schema", "validate", "ledger")
    with_as_of = (*args, "--as-of", DEMO_AS_OF) if args[0] not in timeless else args
    run = with_gone_reader(with_as_of, demo)
    assert run.returncode == code, run.stderr
    assert_clean(run.stderr)


def test_a_blocked_gate_still_writes_its_files_when_stdout_broke(demo: Path) -> None:
    out = demo / "broken-pipe-out"
    run = with_gone_reader(("check", "--no-deliver", "--as-of", DEMO_AS_OF, "-o", str(out)),
                           demo)
    assert run.returncode == 1
    assert (out / "result.json").is_file() and (out / "summary.md").is_file()


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_passed_gate_whose_stdout_broke_exits_4(make_project: Callable[..., Project],
                                                   fmt: str) -> None:
    project = make_project()
    as_of = iso(Schedule.after(6))
    assert govgate(("check", "--as-of", as_of), project.root).returncode == 0
    run = with_gone_reader(("check", "--as-of", as_of, "--format", fmt), project.root)
    assert run.returncode == 4, run.stderr
    assert_clean(run.stderr)
    # The reports were written before stdout, and are the same as the run that printed.
    assert project.result()["gate"] == "pass"


def test_a_pipe_that_reads_the_first_line_only(make_project: Callable[..., Project]) -> None:
    """``govgate check | head -1`` itself: a reader that leaves after one line."""
    project = make_project(weeks=8, skips={7: "maintenance"}, silent=[8])
    as_of = iso(Schedule.after(8))
    for fmt in ("text", "json"):
        pipeline = subprocess.run(
            ["bash", "-c", 'set -o pipefail; "$0" -m govgate check --as-of "$1" --format "$2" '
                           '| head -1 >/dev/null', sys.executable, as_of, fmt],
            cwd=project.root, capture_output=True, check=False)
        assert pipeline.returncode == 1, pipeline.stderr
        assert_clean(pipeline.stderr)


@pytest.mark.parametrize("args", [("check", "--no-deliver"), ("faq",), ("checklist",),
                                  ("heatmap",), ("readback", "--quarter", "2026-Q4")])
def test_an_ascii_console_gets_escapes_not_a_crash(demo: Path, args: tuple[str, ...]) -> None:
    """``LC_ALL=C`` without UTF-8 mode (or a Windows console): the report is escaped."""
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONIOENCODING": "ascii",
           "PYTHONUTF8": "0"}
    env.pop("PYTHONCOERCECLOCALE", None)
    run = govgate((*args, "--as-of", DEMO_AS_OF), demo, env=env, python=("-X", "utf8=0"))
    expected = 1 if args[0] == "check" else 0
    assert run.returncode == expected, run.stderr
    assert_clean(run.stderr)
    run.stdout.decode("ascii")  # nothing but ASCII reached the console


def test_an_error_message_on_an_ascii_console_is_escaped(demo: Path) -> None:
    env = {**os.environ, "LC_ALL": "C", "PYTHONIOENCODING": "ascii", "PYTHONUTF8": "0"}
    run = govgate(("check", "-c", "r\u00e9gles.yaml"), demo, env=env, python=("-X", "utf8=0"))
    assert run.returncode == 2
    assert_clean(run.stderr)
    # In the C locale the argument arrives as undecodable bytes; either way it is escaped.
    run.stderr.decode("ascii")
    assert b"gles.yaml: configuration file not found" in run.stderr, run.stderr


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1", "ascii"])
def test_a_legacy_console_encoding_is_no_failure(demo: Path, encoding: str) -> None:
    """A Windows console (cp1252) or a Latin-1 terminal: what it cannot show is escaped."""
    env = {**os.environ, "PYTHONIOENCODING": encoding}
    for args, code in ((("check", "--no-deliver"), 1), (("review", "--month", "2026-10"), 0)):
        run = govgate((*args, "--as-of", DEMO_AS_OF), demo, env=env)
        assert run.returncode == code, run.stderr
        assert_clean(run.stderr)
        run.stdout.decode(encoding)


def test_an_ascii_console_escapes_what_it_cannot_show(demo: Path) -> None:
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    run = govgate(("faq", "--as-of", DEMO_AS_OF), demo, env=env)
    utf8 = govgate(("faq", "--as-of", DEMO_AS_OF), demo,
                   env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert run.returncode == utf8.returncode == 0
    if any(b > 0x7F for b in utf8.stdout):
        assert b"\\u" in run.stdout or b"\\x" in run.stdout


# -- SIGINT and SIGTERM at a known point ---------------------------------------------------

INTERRUPT = """\
'''A test plugin: sends a signal to its own process at a chosen point of a run.'''
import os
import signal

from govgate import hookimpl

SIGNAL = getattr(signal, os.environ["GOVGATE_TEST_SIGNAL"])
POINT = os.environ["GOVGATE_TEST_POINT"]


@hookimpl
def govgate_evaluate(evaluation):
    if POINT == "evaluate":
        os.kill(os.getpid(), SIGNAL)


if POINT == "rename":
    # Between the first report's rename into place and the next one's (this is a child
    # process of the test: patching os.replace here changes nothing else).
    real = os.replace
    count = [0]

    def replace(src, dst):
        real(src, dst)
        count[0] += 1
        if count[0] == 1:
            os.kill(os.getpid(), SIGNAL)

    os.replace = replace
"""


def _leftovers(root: Path) -> list[str]:
    """Temporary files of an atomic write that was not completed."""
    return sorted(str(p.relative_to(root)) for p in root.rglob(".*.*")
                  if p.is_file() and not p.name.endswith((".lock", ".yaml", ".jsonl")))


@pytest.mark.parametrize(("signal_name", "code"), [("SIGINT", 130), ("SIGTERM", 143)])
@pytest.mark.parametrize("point", ["evaluate", "rename"])
def test_a_signal_exits_128_plus_its_number_and_leaves_nothing_half_written(
        make_project: Callable[..., Project], tmp_path: Path, signal_name: str, code: int,
        point: str) -> None:
    project = make_project(weeks=8, skips={7: "maintenance"}, silent=[8])
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "interrupting.py").write_text(INTERRUPT, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugins), str(REPO / "src")]),
           "GOVGATE_TEST_SIGNAL": signal_name, "GOVGATE_TEST_POINT": point}
    run = govgate(("check", "--as-of", iso(Schedule.after(8)), "-p", "interrupting"),
                  project.root, env=env)
    assert run.returncode == code, run.stderr
    assert_clean(run.stderr)
    assert _leftovers(project.root) == []
    # Interrupted before the ledger step: no record, no page, and the next run completes it.
    assert project.ledger_records() == []
    assert project.jsonl(project.outbox) == []
    if point == "evaluate":
        assert not project.output.exists()
    else:
        # Each report is either absent or whole (the renames happen after all were staged).
        for name, data in project.output_files().items():
            if name.endswith(".json"):
                assert data.endswith(b"}\n"), name
    again = project.check(iso(Schedule.after(8)))
    assert again.code == 1
    assert project.ledger_records("incident")
