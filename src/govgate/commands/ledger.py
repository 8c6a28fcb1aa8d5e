"""``govgate ledger verify [PATH]``: check the hash chain and report the first bad record."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import Session

NAME = "ledger"
HELP = "verify the append-only ledger (hash chain, order, torn tail)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["verify"], help="what to do with the ledger")
    parser.add_argument("path", nargs="?",
                        help="ledger file (default: the config's 'ledger', and its pager outbox)")


def run(args: argparse.Namespace, session: Session) -> int:
    from pathlib import Path

    from ..ledger import main_verify

    if args.path:
        return main_verify(Path(args.path), session.out)
    config = session.config()
    paths = [config.ledger_path]
    outbox = config.section("paging").get("outbox")
    if outbox:
        paths.append(config.path_of(str(outbox)))
    return max(main_verify(path, session.out) for path in paths)
