"""Reporters render a GateResult; they are plugins chosen by name with ``--format``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UsageError

if TYPE_CHECKING:
    import pluggy

    from ..config import Config
    from ..model import GateResult
    from .terminal import TerminalOptions


@dataclass(frozen=True)
class ReportContext:
    """What a reporter may need beside the result: where inputs and outputs live."""

    config: Config
    output: Path
    #: Width, colour and verbosity of the terminal report (None: 80 columns, plain, normal).
    terminal: TerminalOptions | None = None
    #: The environment that says where the repository lives on GitHub (None: ``os.environ``).
    environ: Mapping[str, str] | None = None

    def env(self) -> Mapping[str, str]:
        import os

        return os.environ if self.environ is None else self.environ

    def relpath(self, path: str) -> str:
        """An input path as the repository sees it (relative to the config's folder)."""
        return path

    @property
    def display_output(self) -> str:
        """The output folder relative to the config's folder when inside it (stable text)."""
        base = self.config.base
        return str(self.output.relative_to(base)) if self.output.is_relative_to(base) else str(
            self.output)


@dataclass(frozen=True)
class Reporter:
    """A named output format."""

    name: str
    #: The file written to the output folder ("" for stdout only).
    filename: str
    render: Callable[[GateResult, ReportContext], str]
    description: str = ""


def available(pm: pluggy.PluginManager) -> dict[str, Reporter]:
    found: dict[str, Reporter] = {}
    # Later registrations come first in pluggy's call order; keep the first name seen so a
    # third-party reporter can replace a built-in one.
    for batch in pm.hook.govgate_reporters():
        for reporter in batch or ():
            found.setdefault(reporter.name, reporter)
    return found


def select_reporters(pm: pluggy.PluginManager, names: list[str]) -> list[Reporter]:
    known = available(pm)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(f"unknown format {unknown[0]!r} (available: {', '.join(sorted(known))})",
                         source="--format")
    return [known[n] for n in names]
