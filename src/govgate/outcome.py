"""The exit code, decided in one place, and the console streams that cannot lie about it.

A command returns its verdict (the gate's decision, or 0 for a command that decides nothing).
Writing to stdout or stderr never raises into the command: a :class:`Channel` records the
failure (a reader that went away, a full disk, a closed terminal) and the command goes on to
finish its files, so what is on disk is whole. :func:`exit_code` then combines the verdict with
every failure to write or deliver: a blocked gate stays blocked, a pass whose output did not
arrive is :attr:`ExitCode.OUTPUT_ERROR`, never 0.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from typing import TextIO

from .errors import ExitCode

__all__ = ["Channel", "Terminated", "exit_code", "silence"]


def exit_code(verdict: ExitCode, *, output_failed: bool) -> ExitCode:
    """The process's exit code from the verdict and whether any output failed.

    Only a pass can be spoiled: a failure after a blocked gate, a refusal or an interruption
    leaves that code as it is (it is non-zero already and says more).
    """
    if verdict is ExitCode.OK and output_failed:
        return ExitCode.OUTPUT_ERROR
    return verdict


class Terminated(BaseException):
    """Raised by the SIGTERM handler, so that ``finally`` blocks remove temporary files."""


class Channel(io.TextIOBase):
    """A text stream that records a failed write instead of raising it.

    Text the stream's encoding cannot hold (an ASCII or cp1252 console) is written with
    backslash escapes rather than failing: a verdict must not be lost to a locale.
    """

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream
        #: Why the first write failed (``None`` while every write arrived).
        self.failure: str | None = None

    @property
    def failed(self) -> bool:
        return self.failure is not None

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        # The terminal report colours only a terminal: ask the stream underneath.
        try:
            return bool(self.stream.isatty())
        except (AttributeError, OSError, ValueError):
            return False

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.stream, "encoding", None) or "utf-8"

    def write(self, text: str) -> int:
        if self.failure is None:
            try:
                try:
                    self.stream.write(text)
                except UnicodeEncodeError:
                    self.stream.write(_encodable(text, self.encoding))
            except (OSError, ValueError, UnicodeError) as exc:  # ValueError: a closed stream
                self._fail(exc)
        return len(text)

    def flush(self) -> None:
        if self.failure is None:
            try:
                self.stream.flush()
            except (OSError, ValueError, UnicodeError) as exc:
                self._fail(exc)

    def _fail(self, exc: BaseException) -> None:
        self.failure = (exc.strerror if isinstance(exc, OSError) and exc.strerror
                        else type(exc).__name__)
        silence(self.stream)


def _encodable(text: str, encoding: str) -> str:
    try:
        return text.encode(encoding, "backslashreplace").decode(encoding, "replace")
    except LookupError:
        return text.encode("ascii", "backslashreplace").decode("ascii")


def silence(stream: TextIO) -> None:
    """Point the process's own stdout or stderr at the null device after it failed.

    Python flushes ``sys.stdout`` once more at exit; on a broken pipe that flush would print a
    traceback and turn the exit code into 120 (the recipe of the ``signal`` module's docs).
    Other streams (a test's StringIO) are left alone.
    """
    if stream not in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        return
    try:
        fd = stream.fileno()
    except (OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def tolerant_console() -> None:
    """Let the process's stdout and stderr escape what their encoding cannot hold.

    ``LC_ALL=C`` without UTF-8 mode, or a Windows console, gives an ASCII or cp1252 stream whose
    strict errors would fail on the first ``→`` or ``é`` of a report. Also covers what argparse
    prints itself (``--version``, usage errors).
    """
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(OSError, ValueError):  # a closed or exotic stream
                reconfigure(errors="backslashreplace")
