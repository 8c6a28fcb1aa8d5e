"""Writing documents: all rendered first, then each file written atomically.

Same inputs and the same ``--as-of`` give byte-identical files: documents carry the evaluation
instant, never the time they were written.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from ..fsutil import write_all_atomic
from ..jsontext import pretty

if TYPE_CHECKING:
    import argparse

    from ..config import Config

__all__ = ["add_output_option", "output_dir", "relative_link", "to_json", "write_documents"]


def add_output_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", metavar="DIR",
                        help="output folder (default: the config's 'output', govgate-out)")


def output_dir(args: argparse.Namespace, config: Config, cwd: Path) -> Path:
    """``-o DIR`` (relative to the command's working folder) or the config's ``output``,
    checked (inside the project, no symbolic link, writable) before anything is evaluated."""
    from ..preflight import check_output, output_folder

    given = getattr(args, "output", None)
    folder = output_folder(str(given) if given else None, config, cwd)
    check_output(folder, [])
    return folder


def to_json(data: Any) -> bytes:
    """Deterministic JSON: sorted keys, 2-space indent, UTF-8, trailing newline."""
    return (pretty(data, sort_keys=True) + "\n").encode()


def write_documents(output: Path, files: Mapping[str, str | bytes]) -> list[Path]:
    """Write every file under ``output`` (names are relative) as one set, atomically.

    A file in the way (a folder, a symbolic link) is refused before any is written (exit 2);
    a write that fails keeps every earlier file as it was (exit 4, ``OUTPUT_ERROR``).
    """
    from ..errors import ExitCode
    from ..paths import check_targets
    from ..preflight import after_decision

    check_targets(output, files, what="output")
    paths = {output / name: (data.encode() if isinstance(data, str) else data)
             for name, data in files.items()}
    with after_decision(ExitCode.OK, "the documents"):
        write_all_atomic(paths)
    return sorted(paths)


def relative_link(target: Path, output: Path) -> str:
    """``target`` as a relative link from a document in ``output`` (forward slashes)."""
    rel = os.path.relpath(target, output)
    return str(PurePosixPath(*Path(rel).parts))
