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
                        help="ledger file or postgresql:// reference (default: the config's "
                             "'ledger', and its pager outbox)")


def run(args: argparse.Namespace, session: Session) -> int:
    from pathlib import Path

    from ..ledger import main_verify, print_verify
    from ..ledger_store import PG_SCHEMES, ledger_reference, open_ledger

    if args.path:
        if args.path.startswith(PG_SCHEMES):
            from ..ledger_pg import PostgresLedger

            return print_verify(PostgresLedger(args.path).verify(), session.out)
        return main_verify(Path(args.path), session.out)
    config = session.config()
    codes = []
    if ledger_reference(config).startswith(PG_SCHEMES):
        codes.append(print_verify(open_ledger(config).verify(), session.out))
    else:
        codes.append(main_verify(config.ledger_path, session.out))
    outbox = config.section("paging").get("outbox")
    if outbox:
        codes.append(main_verify(config.path_of(str(outbox)), session.out))
    return max(codes)
