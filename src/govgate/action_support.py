"""The GitHub Action's step: ``python -m govgate.action_support``, configured by environment.

``action.yml`` maps its inputs to ``GOVGATE_*`` variables (never pasting expressions into the
shell) and runs this module, which runs ``govgate check`` and then speaks the runner's
protocol: the job summary goes to ``$GITHUB_STEP_SUMMARY``, annotations for the most important
findings to stdout, and the outputs to ``$GITHUB_OUTPUT``. The exit code is govgate's: 0 when
the gate passes, 1 when it is blocked, 2 when the inputs cannot be read (a gate that cannot
decide never passes), 3 on an internal error, 4 when the gate passed but a report or an output
of the step could not be written (a blocked gate stays 1).

Inputs (environment variables):

``GOVGATE_CONFIG``    configuration file (default: found from the workspace, as ``govgate`` does)
``GOVGATE_AS_OF``     as-of instant (default: now)
``GOVGATE_BLOCK_ON``  ``red`` or ``amber`` (amber blocks too); default: the configuration's;
                      red blocks whatever it says
``GOVGATE_PLUGINS``   extra plugin modules, separated by spaces, commas or new lines
``GOVGATE_FORMATS``   extra report formats for the output folder
``GOVGATE_OUTPUT``    output folder (default: the configuration's ``output``)
``GOVGATE_DELIVER``   ``true`` to page and append to the ledger (default ``false``: a pull
                      request check must not page anyone)
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import os
import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from .errors import ExitCode, GovgateError, OutputError, UsageError
from .hookspecs import hookimpl
from .outcome import exit_code
from .preflight import after_decision

if TYPE_CHECKING:
    from .commands import Session
    from .config import Config
    from .model import GateResult

#: Formats the action always writes: the log, the machine result, code scanning, the summary.
REQUIRED_FORMATS = ("text", "json", "sarif", "markdown", "html")
#: Written too when a plugin provides it (the executive readback of a later release).
OPTIONAL_FORMATS = ("readback",)
BLOCK_ON = {"red": ["red"], "amber": ["red", "amber"]}
#: GitHub truncates a step summary above 1 MiB.
SUMMARY_LIMIT = 1024 * 1024 - 4096


@dataclasses.dataclass(frozen=True)
class Settings:
    """The action's inputs, read from the environment."""

    config: Path | None
    as_of: str | None
    block_on: str | None
    plugins: tuple[str, ...]
    formats: tuple[str, ...]
    output: Path | None
    deliver: bool
    workspace: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        def get(name: str) -> str:
            return env.get(name, "").strip()

        workspace = Path(get("GITHUB_WORKSPACE") or os.getcwd())
        block_on = get("GOVGATE_BLOCK_ON").lower() or None
        if block_on is not None and block_on not in BLOCK_ON:
            raise UsageError(f"block-on must be 'red' or 'amber', got {block_on!r}",
                             source="GOVGATE_BLOCK_ON")
        deliver = get("GOVGATE_DELIVER").lower()
        if deliver not in ("", "true", "false"):
            raise UsageError(f"deliver must be 'true' or 'false', got {deliver!r}",
                             source="GOVGATE_DELIVER")
        config = get("GOVGATE_CONFIG")
        output = get("GOVGATE_OUTPUT")
        return cls(
            config=workspace / config if config else None,
            as_of=get("GOVGATE_AS_OF") or None,
            block_on=block_on,
            plugins=tuple(_words(get("GOVGATE_PLUGINS"))),
            formats=tuple(_words(get("GOVGATE_FORMATS"))),
            output=workspace / output if output else None,
            deliver=deliver == "true",
            workspace=workspace,
        )


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[\s,]+", text) if w]


class _Capture:
    """A plugin object that keeps the final result (after delivery) for the outputs."""

    def __init__(self) -> None:
        self.result: GateResult | None = None
        self.config: Config | None = None

    @hookimpl
    def govgate_finish(self, result: GateResult, config: Config) -> None:
        self.result = result
        self.config = config


def _repo_relative(path: Path, workspace: Path) -> str:
    """A path as the workflow should see it: relative to the workspace when inside it."""
    resolved, root = path.resolve(), workspace.resolve()
    return resolved.relative_to(root).as_posix() if resolved.is_relative_to(root) else str(path)


def _prefix(config: Config, workspace: Path) -> str:
    """The configuration's folder inside the repository ("" at its root)."""
    # Decided on the paths, not on a leading "/": outside the workspace is "D:\\..." on Windows.
    base, root = config.base.resolve(), workspace.resolve()
    rel = base.relative_to(root).as_posix() if base.is_relative_to(root) else ""
    return "" if rel == "." else rel


def rebase_sarif(path: Path, prefix: str) -> None:
    """Make %SRCROOT%-relative URIs relative to the repository root when the configuration
    sits in a sub-folder: code scanning resolves relative URIs against the checkout."""
    import json
    from urllib.parse import quote

    from .fsutil import write_atomic

    if not prefix or not path.is_file():
        return
    log = json.loads(path.read_text(encoding="utf-8"))
    for run in log.get("runs", []):
        for result in run.get("results", []):
            for location in result.get("locations", []):
                artifact = location.get("physicalLocation", {}).get("artifactLocation", {})
                if artifact.get("uriBaseId") == "%SRCROOT%":
                    artifact["uri"] = quote(prefix, safe="/") + "/" + artifact["uri"]
    write_atomic(path, (json.dumps(log, indent=2, sort_keys=True, ensure_ascii=False)
                        + "\n").encode())


def _append(path_text: str, text: str) -> None:
    if not path_text:
        return
    with open(path_text, "a", encoding="utf-8") as handle:
        handle.write(text)


def write_outputs(github_output: str, values: Mapping[str, str]) -> None:
    """Append ``name=value`` lines to ``$GITHUB_OUTPUT`` (values are single lines)."""
    lines = []
    for name, value in values.items():
        if "\n" in value or "\r" in value:
            raise ValueError(f"output {name} must be a single line")
        lines.append(f"{name}={value}\n")
    _append(github_output, "".join(lines))


def _run_check(settings: Settings, out: TextIO, err: TextIO) -> tuple[int, _Capture, Session]:
    from .commands import Session, check
    from .reporters import available
    from .timeutil import parse_instant

    # The one clock read, as in the CLI: the default as-of instant, to whole seconds.
    as_of = (parse_instant(settings.as_of, source="GOVGATE_AS_OF") if settings.as_of
             else datetime.now(UTC).replace(microsecond=0))
    session = Session(as_of=as_of, out=out, err=err, cwd=settings.workspace,
                      plugins=list(settings.plugins), config_path=settings.config)
    session.config()
    capture = _Capture()
    session.pm.register(capture, name="govgate-action-capture")
    known = available(session.pm)
    formats = [*REQUIRED_FORMATS, *(f for f in OPTIONAL_FORMATS if f in known),
               *settings.formats]
    args = argparse.Namespace(
        format=",".join(dict.fromkeys(formats)),
        output=str(settings.output) if settings.output else None,
        no_deliver=not settings.deliver,
        block_on=settings.block_on,
    )
    code = check.run(args, session)
    return code, capture, session


def _open_promotes(result: GateResult) -> int:
    from .reporters.openmetrics import open_promotes

    promotes = open_promotes(result.sections.get("promote"))
    return sum(promotes.values()) if promotes else 0


def _report(settings: Settings, capture: _Capture, session: Session,
            env: Mapping[str, str], out: TextIO) -> None:
    from .reporters import ReportContext, available
    from .reporters.ci import MARKDOWN, SARIF
    from .reporters.findings import counts
    from .reporters.github import annotation_lines

    result, config = capture.result, capture.config
    assert result is not None and config is not None
    output = settings.output.resolve() if settings.output else config.output_dir
    context = ReportContext(config=config, output=output)
    prefix = _prefix(config, settings.workspace)
    rebase_sarif(output / SARIF.filename, prefix)
    for line in annotation_lines(result.findings, context, prefix):
        out.write(line + "\n")

    summary = (output / MARKDOWN.filename).read_text(encoding="utf-8")
    server, repo, run = (env.get(k, "") for k in
                         ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"))
    if server and repo and run:
        summary += (f"\nThe output folder `{_repo_relative(output, settings.workspace)}` is on "
                    f"the [workflow run]({server}/{repo}/actions/runs/{run}) when the workflow "
                    "uploads it as an artifact.\n")
    if len(summary.encode()) > SUMMARY_LIMIT:
        summary = (summary.encode()[:SUMMARY_LIMIT].decode("utf-8", "ignore")
                   + "\n\n(summary truncated at GitHub's 1 MiB limit; every finding is in "
                     "`result.json`)\n")
    _append(env.get("GITHUB_STEP_SUMMARY", ""), summary + "\n")

    known = available(session.pm)
    readback = known.get("readback")

    def rel(name: str) -> str:
        return _repo_relative(output / name, settings.workspace)

    write_outputs(env.get("GITHUB_OUTPUT", ""), {
        "gate": "pass" if result.passed else "blocked",
        "state": result.state.value,
        "findings": str(counts(result)["total"]),
        "blocking": str(len(result.blocking)),
        "waived": str(counts(result)["waived"]),
        "promotes": str(_open_promotes(result)),
        "result": rel("result.json"),
        "readback": rel(readback.filename) if readback and readback.filename else "",
        "sarif": rel(SARIF.filename),
        "summary": rel(MARKDOWN.filename),
        "output-dir": _repo_relative(output, settings.workspace),
    })


def _fail(env: Mapping[str, str], out: TextIO, message: str, code: ExitCode) -> int:
    from .reporters.github import command

    out.write(command("error", message, title="govgate could not decide the gate") + "\n")
    # Best effort: the code is non-zero already, and the runner's files may be what failed.
    with contextlib.suppress(OSError):
        _append(env.get("GITHUB_STEP_SUMMARY", ""),
                f"## govgate: ⚠️ no decision\n\n{message.replace(chr(10), ' ')}\n\n"
                "A gate that cannot read its inputs never passes.\n")
    with contextlib.suppress(OSError):
        write_outputs(env.get("GITHUB_OUTPUT", ""), {
            "gate": "error", "state": "", "findings": "", "blocking": "", "waived": "",
            "promotes": "", "result": "", "readback": "", "sarif": "", "summary": "",
            "output-dir": ""})
    return int(code)


def main(env: Mapping[str, str] | None = None, out: TextIO | None = None,
         err: TextIO | None = None) -> int:
    """Run the action's step; returns the exit code (decided as ``govgate`` decides it: a
    pass whose log did not arrive is not 0)."""
    from typing import cast

    from .outcome import Channel

    stdout, stderr = Channel(out or sys.stdout), Channel(err or sys.stderr)
    code = _main(os.environ if env is None else env, cast(TextIO, stdout), cast(TextIO, stderr))
    stdout.flush()
    stderr.flush()
    return int(exit_code(ExitCode(code), output_failed=stdout.failed or stderr.failed))


def _main(env: Mapping[str, str], out: TextIO, err: TextIO) -> int:
    try:
        settings = Settings.from_env(env)
        code, capture, session = _run_check(settings, out, err)
        with after_decision(ExitCode(code), "the step's outputs"):
            _report(settings, capture, session, env, out)
        return code
    except OutputError as exc:
        # The verdict stands: a blocked gate stays 1, a pass whose outputs failed is not 0.
        print(f"govgate: error: {exc}", file=err)
        return _fail(env, out, str(exc), exit_code(exc.verdict, output_failed=True))
    except GovgateError as exc:
        print(f"govgate: error: {exc}", file=err)
        return _fail(env, out, str(exc), exc.exit_code)
    except KeyboardInterrupt:
        print("govgate: interrupted", file=err)
        return int(ExitCode.INTERRUPTED)
    except Exception as exc:
        if env.get("GOVGATE_DEBUG"):
            raise
        message = f"internal error: {type(exc).__name__}: {exc}"
        print(f"govgate: {message} (set GOVGATE_DEBUG=1 for the traceback)", file=err)
        return _fail(env, out, message, ExitCode.INTERNAL_ERROR)


def run_captured(env: Mapping[str, str]) -> tuple[int, str, str]:
    """Run with captured streams (for tests and embedding): (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = main(env, out, err)
    return code, out.getvalue(), err.getvalue()


if __name__ == "__main__":
    sys.exit(main())
