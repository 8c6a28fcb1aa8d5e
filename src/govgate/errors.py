"""The one error type users see, and the exit codes govgate returns."""

from __future__ import annotations

import enum
import re


class ExitCode(enum.IntEnum):
    """Exit codes of the ``govgate`` command, in the spirit of ``pytest.ExitCode``."""

    #: The gate passed: publish may proceed.
    OK = 0
    #: The gate is blocked: at least one blocking finding (red state, refused ack, ...).
    GATE_BLOCKED = 1
    #: Bad input, usage or environment: a file is missing, malformed or fails its schema, a
    #: path leaves the project, an output folder is not writable, a sink's secret is unset.
    #: Nothing was decided and nothing was written.
    USAGE_ERROR = 2
    #: An internal error: a bug in govgate or in a plugin. Please report it.
    INTERNAL_ERROR = 3
    #: The gate passed, but an output could not be written or delivered (a report file, the
    #: ledger, stdout closed early by ``| head``): nothing downstream may treat it as a pass.
    #: A blocked gate stays ``GATE_BLOCKED`` whatever failed after the decision.
    OUTPUT_ERROR = 4
    #: Interrupted by Ctrl-C (SIGINT), 128 + 2 as shells report it. Files are written whole or
    #: not at all, and the next run completes the ledger and the pages.
    INTERRUPTED = 130
    #: Stopped by SIGTERM (128 + 15), with the same guarantees as ``INTERRUPTED``.
    TERMINATED = 143


class GovgateError(Exception):
    """An error the user can fix: it names the source, the place in it and what was expected.

    Raised by loaders and sources; only the command-line entry point turns it into an exit code,
    so library callers can catch it.
    """

    exit_code: ExitCode = ExitCode.USAGE_ERROR

    def __init__(self, message: str, *, source: str | None = None, where: str | None = None):
        if source is not None and "://" in source:
            # A reference is named by its source name: a signed URL's query string or a URL's
            # user-info never reaches a message, whoever raised it (a third-party plugin too).
            from .sources.names import source_name

            source = source_name(source)
        super().__init__(message)
        self.message = message
        self.source = source
        self.where = where

    def __str__(self) -> str:
        parts = [p for p in (self.source, self.where) if p]
        parts.append(self.message)
        text = ": ".join(parts)
        if "://" in text:  # a message that quotes a reference names it the same way
            from .sources.names import redact_refs

            text = redact_refs(text)
        # One line, always: control characters from hostile input must neither forge extra
        # lines nor reach the terminal (an ESC sequence can recolour or retitle it).
        return _CONTROL.sub(_escape, text)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NAMED = {"\r": "\\r", "\n": "\\n", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED.get(char) or f"\\x{ord(char):02x}"


class UsageError(GovgateError):
    """The command line itself is wrong (unknown option, bad --as-of, ...)."""


class OutputError(GovgateError):
    """An output could not be written or delivered after the gate decided.

    ``verdict`` is the decision reached before the failure; :func:`govgate.outcome.exit_code`
    turns the pair into the exit code (a blocked gate stays blocked, a pass becomes
    ``OUTPUT_ERROR``).
    """

    exit_code = ExitCode.OUTPUT_ERROR

    def __init__(self, message: str, *, verdict: ExitCode, source: str | None = None,
                 where: str | None = None):
        super().__init__(message, source=source, where=where)
        self.verdict = verdict


class SourceError(GovgateError):
    """A source (file, URL, database) could not be read. A failed load is never a pass."""
