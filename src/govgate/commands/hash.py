"""``govgate hash FILE...``: print the ``ingest_hash`` of an export as govgate computes it.

An export declares its own ``ingest_hash`` (the leadership rollup at the top, the partner annex
in its footer) and govgate recomputes it from the ``rows``; writing that value by hand needs
the canonical form (docs/reconciliation.md). This command prints it, so a team producing
exports, or a sample, never has to write that code. Only ``rows`` is read: the declared hash
may be missing or stale, which is exactly when this command is needed.
"""

from __future__ import annotations

import argparse
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ExitCode, GovgateError

if TYPE_CHECKING:
    from . import Session

NAME = "hash"
HELP = "print the ingest_hash of a leadership or partner export (computed from its rows)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", type=Path,
                        help="leadership.json / partner_annex.json (JSON or YAML with 'rows')")


def export_values(data: bytes, source: str) -> dict[str, Decimal]:
    """The ``metric_id -> value`` pairs of an export's ``rows``, checked as the loader does."""
    from ..loaders.documents import parse_document
    from ..recon.loader import to_decimal

    doc = parse_document(data, source)
    rows: Any = doc.data.get("rows") if isinstance(doc.data, dict) else None
    if not isinstance(rows, list):
        raise GovgateError("expected a mapping with a 'rows' list of {metric_id, value}",
                           source=source, where="/rows")
    values: dict[str, Decimal] = {}
    for index, item in enumerate(rows):
        ptr = f"/rows/{index}"
        line = doc.line_of(ptr)
        where = f"line {line}, {ptr}" if line else ptr
        if not isinstance(item, dict) or not isinstance(item.get("metric_id"), str) \
                or "value" not in item:
            raise GovgateError("expected an object with metric_id (text) and value",
                               source=source, where=where)
        metric_id = item["metric_id"]
        if metric_id in values:
            raise GovgateError(f"duplicate metric_id {metric_id!r}", source=source, where=where)
        values[metric_id] = to_decimal(item["value"], source, f"{where}/value")
    return values


def file_hash(path: Path, source: str) -> str:
    """``sha256:...`` of the export at ``path`` (``source`` names it in errors)."""
    from ..recon.loader import ingest_hash

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise GovgateError("file not found", source=source) from None
    except OSError as exc:
        raise GovgateError(f"cannot read: {exc.strerror}", source=source) from None
    return ingest_hash(export_values(data, source))


def run(args: argparse.Namespace, session: Session) -> int:
    # Every file is hashed before anything is printed: a bad one is exit 2 with no output.
    lines = []
    for path in args.files:
        digest = file_hash(session.cwd / path, str(path))
        lines.append(digest if len(args.files) == 1 else f"{digest}  {path}")
    session.out.write("".join(f"{line}\n" for line in lines))
    return ExitCode.OK
