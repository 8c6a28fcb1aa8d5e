"""How the terminal report is shown: width, colour and verbosity (``-q``/``-v``, ``--color``).

Decided once per run from the options, the environment and the output stream, then carried to
the text reporter in :class:`TerminalOptions`. Colour follows the usual conventions: ``--color
always|never`` wins; ``auto`` colours only a terminal, and never when ``NO_COLOR`` is set (to
anything) or ``TERM`` is ``dumb`` (https://no-color.org).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TextIO

#: Narrower than this and wrapping stops helping; lines may then be longer than the terminal.
MIN_WIDTH = 40
DEFAULT_WIDTH = 80

_SGR = {"bold": "1", "red": "31", "green": "32", "yellow": "33", "blue": "34", "dim": "2",
        "bold red": "1;31", "bold green": "1;32", "bold yellow": "1;33"}


@dataclass(frozen=True)
class TerminalOptions:
    """Width in columns, whether to colour, and verbosity (-1 quiet, 0 normal, 1+ verbose)."""

    width: int = DEFAULT_WIDTH
    color: bool = False
    verbosity: int = 0

    def paint(self, text: str, style: str) -> str:
        """``text`` in an ANSI style when colouring, else unchanged."""
        if not self.color or not text:
            return text
        return f"\x1b[{_SGR[style]}m{text}\x1b[0m"


def add_options(parser: argparse.ArgumentParser) -> None:
    """``-q``, ``-v`` and ``--color`` on a sub-command that prints a terminal report."""
    parser.add_argument("-q", "--quiet", action="count", default=0,
                        help="less output: -q shows only the verdict and the blocking findings, "
                             "-qq only the verdict line")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more output: each finding's input file and line, waivers and the "
                             "files written")
    parser.add_argument("--color", choices=["auto", "always", "never"], default="auto",
                        help="colour the terminal report (default auto: only on a terminal and "
                             "when NO_COLOR is not set)")


def wants_color(choice: str, stream: TextIO, env: Mapping[str, str]) -> bool:
    if choice == "always":
        return True
    if choice == "never" or "NO_COLOR" in env or env.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def terminal_width(env: Mapping[str, str]) -> int:
    """``COLUMNS`` when set (what tests and CI logs use), else the terminal's size."""
    text = env.get("COLUMNS", "")
    if text.isdigit() and int(text) > 0:
        return max(int(text), MIN_WIDTH)
    import shutil

    return max(shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns, MIN_WIDTH)


def from_args(args: argparse.Namespace, stream: TextIO,
              env: Mapping[str, str] | None = None) -> TerminalOptions:
    env = os.environ if env is None else env
    verbosity = int(getattr(args, "verbose", 0) or 0) - int(getattr(args, "quiet", 0) or 0)
    return TerminalOptions(width=terminal_width(env),
                           color=wants_color(getattr(args, "color", None) or "auto", stream,
                                             env),
                           verbosity=verbosity)
