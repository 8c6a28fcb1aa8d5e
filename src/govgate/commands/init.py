"""``govgate init [DIR]``: write a small, commented project on which ``govgate check`` passes.

The sample's dates follow the as-of instant (``--as-of``, default now): see
:mod:`govgate.starter` for why. Nothing is ever overwritten: when any of the files exists,
the command writes none of them and exits 2.
"""

from __future__ import annotations

import argparse
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from ..errors import ExitCode, GovgateError

if TYPE_CHECKING:
    from . import Session

NAME = "init"
HELP = "write a small working project (config, policies, sample exports, CI, pre-commit)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", nargs="?", default=".", metavar="DIR",
                        help="folder to write into (default: the current folder; created "
                             "when missing)")


def _target(folder: Path, relative: str) -> Path:
    # The file table uses '/' for readability; the path is built part by part (Windows).
    return folder.joinpath(*PurePosixPath(relative).parts)


def write_project(folder: Path, files: dict[str, str],
                  optional: frozenset[str] = frozenset()) -> list[str]:
    """Write ``files`` under ``folder``; all or nothing, never overwriting. Returns the paths
    written. A file named in ``optional`` that exists is kept as it is and not written.

    :raises GovgateError: When a file already exists (nothing written) or cannot be written
        (what was written is removed again).
    """
    files = {rel: text for rel, text in files.items()
             if not (rel in optional and _target(folder, rel).exists())}
    existing = [rel for rel in sorted(files) if _target(folder, rel).exists()]
    if existing:
        raise GovgateError(
            f"{existing[0]} already exists"
            + (f" (and {len(existing) - 1} more of the files init writes)"
               if len(existing) > 1 else "")
            + "; init never overwrites: run it in an empty folder", source=str(folder))
    written: list[Path] = []
    try:
        for rel in sorted(files):
            path = _target(folder, rel)
            path.parent.mkdir(parents=True, exist_ok=True)
            # "x": fail instead of overwriting a file created since the check above.
            with path.open("x", encoding="utf-8", newline="\n") as handle:
                written.append(path)
                handle.write(files[rel])
    except OSError as exc:
        for path in written:
            path.unlink(missing_ok=True)
        raise GovgateError(f"cannot write {exc.filename}: {exc.strerror or exc}",
                           source=str(folder)) from None
    return sorted(files)


def run(args: argparse.Namespace, session: Session) -> int:
    from ..starter import OPTIONAL, project_files
    from ..timeutil import format_instant

    folder = session.cwd / args.dir
    if folder.exists() and not folder.is_dir():
        raise GovgateError("not a folder", source=args.dir)
    names = write_project(folder, project_files(session.as_of), OPTIONAL)
    for name in names:
        session.out.write(f"wrote {PurePosixPath(args.dir) / name}\n")
    for name in sorted(OPTIONAL - set(names)):
        session.out.write(f"kept your {name}: add govgate-out/ and .govgate/ to it\n")
    at = format_instant(session.as_of)
    session.out.write(
        f"\nA sample project as of {at}. Next:\n"
        + (f"  cd {args.dir}\n" if args.dir != "." else "")
        + "  govgate check                 # the gate: exit 0, publish may proceed\n"
        "  govgate validate governance/fatigue/signer_ack_event.csv   # schema checks\n"
        f"  govgate check --as-of {at}   # replays the sample at any later date\n"
        "Then replace the files under governance/ with your job's exports "
        "(docs/configuration.md).\n")
    return ExitCode.OK
