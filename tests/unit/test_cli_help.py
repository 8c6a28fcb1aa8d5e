"""``govgate --help`` is written for users: what govgate does, how to start, the exit codes."""

from __future__ import annotations

import io

from govgate.cli import main
from govgate.errors import ExitCode


def _help(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    from contextlib import redirect_stdout

    with redirect_stdout(out):
        code = main(list(argv), out=out, err=io.StringIO())
    return int(code), out.getvalue()


def test_help_says_what_govgate_does_and_how_to_start() -> None:
    code, text = _help("--help")
    assert code == 0
    assert "govgate decides whether a release may be published" in text
    assert "govgate check" in text and "govgate.yaml" in text
    # Not the module's developer docstring.
    assert "parse arguments, run a sub-command" not in text and "``" not in text


def test_help_lists_every_command_and_every_exit_code() -> None:
    from govgate.commands import COMMANDS

    _, text = _help("--help")
    assert "commands:" in text
    for name in COMMANDS:
        assert f"\n    {name} " in text or f"\n    {name}\n" in text, name
    for code in ExitCode:
        assert f"\n  {int(code)}  " in text, code
    assert "docs/outputs.md" in text
