"""``govgate schema [KIND]``: print the JSON Schema of an input kind (or list the kinds)."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import Session

NAME = "schema"
HELP = "print the JSON Schema of an input kind, or list the kinds"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", nargs="?", help="e.g. job_manifest, scheduler_run, config")


def run(args: argparse.Namespace, session: Session) -> int:
    from ..loaders.documents import load_schema, schema_kinds

    if args.kind is None:
        for kind in schema_kinds():
            title = load_schema(kind).get("title", "")
            session.out.write(f"{kind:28} {title}\n")
        return 0
    session.out.write(json.dumps(load_schema(args.kind), indent=2, ensure_ascii=False) + "\n")
    return 0
