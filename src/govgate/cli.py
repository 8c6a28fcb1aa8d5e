"""The ``govgate`` command: parse arguments, run a sub-command, map errors to exit codes."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from . import __version__
from .errors import ExitCode, GovgateError, UsageError

#: Where argparse's own output (--help, --version) goes during a run: the run's stdout
#: channel, so a failure to print help counts like any other (argparse would swallow it).
_STDOUT: ContextVar[TextIO | None] = ContextVar("govgate_stdout", default=None)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message, source="command line")

    def _print_message(self, message: str, file: Any = None) -> None:
        stream = _STDOUT.get()
        if message and stream is not None and file in (None, sys.stdout):
            stream.write(message)
        else:
            super()._print_message(message, file)


def _as_of(text: str) -> datetime:
    from .timeutil import parse_instant

    return parse_instant(text, source="--as-of")


def _common(*, top: bool) -> _Parser:
    """The options every command takes, accepted before or after the sub-command.

    The sub-command's copy suppresses its defaults, so that ``govgate --as-of X check`` keeps X
    instead of having the sub-parser overwrite it with None.
    """
    common = _Parser(add_help=False,
                     argument_default=None if top else argparse.SUPPRESS)
    common.add_argument("--as-of", metavar="INSTANT",
                        help="evaluate as of this UTC instant (default: now), e.g. "
                             "2026-11-20T00:00:00Z; same inputs + same --as-of = same bytes")
    common.add_argument("-c", "--config", metavar="FILE", type=Path,
                        help="configuration file (default: govgate.yaml or [tool.govgate] in "
                             "pyproject.toml, searched upwards)")
    plugin_help = "load a plugin module, or disable one with no:NAME"
    if top:
        common.add_argument("-p", dest="plugins", action="append", metavar="PLUGIN",
                            help=plugin_help, default=[])
    else:
        common.add_argument("-p", dest="plugins", action="append", metavar="PLUGIN",
                            help=plugin_help)
    return common


def build_parser() -> argparse.ArgumentParser:
    from .helptext import DESCRIPTION, EPILOG

    parser = _Parser(prog="govgate", description=DESCRIPTION, epilog=EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter,
                     parents=[_common(top=True)])
    common = _common(top=False)
    parser.add_argument("--version", action="version", version=f"govgate {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands",
                                       parser_class=_Parser)
    from .commands import COMMANDS

    for name in COMMANDS:
        module = importlib.import_module(f".commands.{name}", __package__)
        sub = subparsers.add_parser(module.NAME, help=module.HELP, description=module.HELP,
                                    parents=[common])
        module.add_arguments(sub)
        sub.set_defaults(_module=module)
    return parser


#: Options that take a value, for plain `govgate OPTIONS` (which means `govgate check OPTIONS`).
_VALUED = frozenset({"--as-of", "-c", "--config", "-p", "--color", "-o", "--output", "--format",
                     "--block-on"})


def _has_command(argv: list[str]) -> bool:
    """Whether argv names a sub-command (or asks for help/version) before its first option."""
    from .commands import COMMANDS

    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ("-h", "--help", "--version") or arg in COMMANDS:
            return True
        elif arg in _VALUED:
            skip = True
        elif not arg.startswith("-"):
            return True  # an unknown word: let argparse say so
    return False


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None,
         err: TextIO | None = None, cwd: Path | None = None) -> ExitCode:
    """Run govgate; only here do exceptions and failed writes become the exit code.

    The command writes its files and delivers first and prints last; the streams are
    :class:`~govgate.outcome.Channel` objects, so a reader that went away (``govgate check |
    head``) cannot stop the command half-way, and :func:`~govgate.outcome.exit_code` turns a
    pass whose output did not arrive into a non-zero code.
    """
    from typing import cast

    from .outcome import Channel, exit_code

    stdout, stderr = Channel(out or sys.stdout), Channel(err or sys.stderr)
    verdict, output_failed = _run(argv, cast(TextIO, stdout), cast(TextIO, stderr), cwd)
    stdout.flush()
    stderr.flush()
    return exit_code(verdict, output_failed=output_failed or stdout.failed or stderr.failed)


def _run(argv: Sequence[str] | None, out: TextIO, err: TextIO,
         cwd: Path | None) -> tuple[ExitCode, bool]:
    """(verdict, whether an output failed after the verdict was reached)."""
    from .commands import Session
    from .errors import OutputError
    from .outcome import Terminated

    argv = list(sys.argv[1:] if argv is None else argv)
    token = _STDOUT.set(out)
    try:
        # A NUL cannot reach a path (the OS refuses it) or a URL (it would be cut there).
        bad = next((arg for arg in argv if "\x00" in arg), None)
        if bad is not None:
            raise UsageError(f"an argument contains a NUL byte: {bad!r}", source="command line")
        if not _has_command(argv):
            argv.insert(0, "check")  # plain `govgate` evaluates the project, like plain `pytest`
        parser = build_parser()
        args = parser.parse_args(argv)
        if getattr(args, "_module", None) is None:
            parser.print_help(out)
            return ExitCode.USAGE_ERROR, False
        # The only clock read in govgate: the default as-of instant, to whole seconds.
        as_of = (_as_of(args.as_of) if args.as_of
                 else datetime.now(UTC).replace(microsecond=0))
        session = Session(as_of=as_of, out=out, err=err, cwd=cwd or Path.cwd(),
                          plugins=list(args.plugins), config_path=args.config,
                          options=vars(args))
        return ExitCode(args._module.run(args, session)), False
    except OutputError as exc:
        print(f"govgate: error: {exc}", file=err)
        return exc.verdict, True
    except GovgateError as exc:
        print(f"govgate: error: {exc}", file=err)
        return exc.exit_code, False
    except SystemExit as exc:  # --help / --version
        return (ExitCode.OK if exc.code in (0, None) else ExitCode.USAGE_ERROR), False
    except KeyboardInterrupt:
        print("govgate: interrupted", file=err)
        return ExitCode.INTERRUPTED, False
    except Terminated:
        print("govgate: terminated", file=err)
        return ExitCode.TERMINATED, False
    except Exception as exc:
        if os.environ.get("GOVGATE_DEBUG"):
            raise
        print(f"govgate: internal error: {type(exc).__name__}: {exc} "
              "(set GOVGATE_DEBUG=1 for the traceback; please report it)", file=err)
        return ExitCode.INTERNAL_ERROR, False
    finally:
        _STDOUT.reset(token)


def _on_sigterm(signum: int, frame: object) -> None:
    from .outcome import Terminated

    raise Terminated


def console_main() -> None:
    """The console-script entry point."""
    import signal

    from .outcome import tolerant_console

    tolerant_console()
    # SIGTERM becomes an exception, so temporary files are removed on the way out (the default
    # action would kill the process between a temporary file and its rename).
    signal.signal(signal.SIGTERM, _on_sigterm)
    sys.exit(int(main()))
