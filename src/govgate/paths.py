"""Where govgate may write: checked before anything is evaluated or written.

The configuration's ``output``, ``ledger`` and ``paging.outbox`` stay inside the configuration's
folder, and no folder on the way there below it (nor the file itself) may be a symbolic link: a
checked-out repository could otherwise point ``govgate-out`` at ``~/.ssh``. ``-o DIR`` on the
command line is the caller's own choice and resolves against the working folder; it may not pass
through a symbolic link below that folder either, nor be one itself.

What already exists must be of the right type (a folder, a regular file) and the nearest existing
folder writable, so a run that could not write its outputs is refused with exit code 2 before it
appends a ledger record or sends a page.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from .errors import GovgateError

__all__ = ["check_targets", "command_line_output", "config_output", "ensure_writable"]


def _plain(ref: str, what: str) -> None:
    if "\x00" in ref:
        raise GovgateError("contains a NUL byte", source=what)
    if not ref.strip():
        raise GovgateError("is empty", source=what)


def config_output(ref: str, base: Path, *, what: str, folder: bool) -> Path:
    """``ref`` (a key of the configuration) as an absolute path inside ``base``.

    :param what: The configuration key, for messages (``output``, ``ledger``, ...).
    :param folder: Whether the path names a folder (else a file).
    :raises GovgateError: When it escapes ``base``, passes a symbolic link or a file that is not
        a folder, or is of the wrong type.
    """
    _plain(ref, what)
    path = Path(os.path.normpath(base / ref))
    if not path.is_relative_to(base):
        raise GovgateError("path escapes the configuration's folder (outputs are written "
                           "inside it only)", source=ref, where=what)
    _walk(base, path, ref, what, folder=folder)
    return path


def command_line_output(ref: str, cwd: Path, *, what: str) -> Path:
    """``-o DIR``: relative to ``cwd``; no symbolic link below ``cwd``, nor the folder itself."""
    _plain(ref, what)
    path = Path(os.path.normpath(cwd / ref))
    _walk(cwd if path.is_relative_to(cwd) else path.parent, path, ref, what, folder=True)
    return path


def _walk(start: Path, path: Path, ref: str, what: str, *, folder: bool) -> None:
    """Check every existing component of ``path`` after ``start``; stop at the first missing."""
    parts = path.relative_to(start).parts
    current = start
    for index, part in enumerate(parts):
        current = current / part
        last = index == len(parts) - 1
        # Messages name the component as the reference does, not as the machine's full path.
        shown = "/".join(parts[:index + 1])
        try:
            mode = os.lstat(current).st_mode
        except FileNotFoundError:
            return
        except OSError as exc:  # a name too long, no permission to look
            raise GovgateError(f"cannot check {shown}: {exc.strerror or 'I/O error'}",
                               source=ref, where=what) from None
        if stat.S_ISLNK(mode):
            raise GovgateError(f"{shown} is a symbolic link (outputs are never written "
                               "through one)", source=ref, where=what)
        if (not last or folder) and not stat.S_ISDIR(mode):
            raise GovgateError(f"{shown} exists and is not a folder", source=ref, where=what)
        if last and not folder and not stat.S_ISREG(mode):
            raise GovgateError(f"{shown} exists and is not a regular file", source=ref,
                               where=what)


def check_targets(folder: Path, names: Iterable[str], *, what: str) -> None:
    """Files about to be replaced in ``folder`` must be regular files (or not exist yet)."""
    for name in names:
        target = folder / name
        try:
            mode = os.lstat(target).st_mode
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as exc:
            raise GovgateError(f"cannot check: {exc.strerror or 'I/O error'}",
                               source=name, where=what) from None
        if stat.S_ISLNK(mode) or not stat.S_ISREG(mode):
            kind = "a symbolic link" if stat.S_ISLNK(mode) else "not a regular file"
            raise GovgateError(f"exists and is {kind}; it would be replaced by an output",
                               source=name, where=what)


def ensure_writable(path: Path, *, what: str) -> None:
    """The nearest existing folder at or above ``path`` must let this process create files."""
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise GovgateError(f"{probe} is not a folder", source=str(path), where=what)
    if not os.access(probe, os.W_OK | os.X_OK):
        raise GovgateError(f"folder {probe} is not writable", source=str(path), where=what)
