"""``govgate checklist``: lesson 174's verification checklist and lesson 166's success checks."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..errors import ExitCode

if TYPE_CHECKING:
    from . import Session

NAME = "checklist"
HELP = ("evaluate the verification checklist (lesson 174) and the success checks (lesson 166): "
        "pass / fail / n/a with evidence")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..documents.output import add_output_option

    add_output_option(parser)
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when any item fails (for CI); without it the checklist is "
                             "a document and exits 0 whatever its items say")


def run(args: argparse.Namespace, session: Session) -> int:
    from ..documents.checklist import checklist_json, evaluate_checklist, render_checklist
    from ..documents.output import output_dir, to_json, write_documents
    from ..documents.snapshots import evaluate_at
    from ..timeutil import format_instant

    config = session.config()
    output = output_dir(args, config, session.cwd)  # checked before anything is evaluated
    items = evaluate_checklist(evaluate_at(config, session.pm, session.as_of))
    at = format_instant(session.as_of)
    from ..weakened import of_session, with_note

    disabled = of_session(session.pm, config)
    text = with_note(render_checklist(items, at), disabled)
    data = checklist_json(items, at)
    if disabled:
        data["disabled_plugins"] = disabled
    write_documents(output,
                    {"checklist.md": text, "checklist.json": to_json(data)})
    session.out.write(text)
    # Without --strict a document, not a gate: failing items are content and the exit code
    # stays 0. With --strict a failed item fails the command, as a failed check would.
    if args.strict and any(i.status == "fail" for i in items):
        return ExitCode.GATE_BLOCKED
    return ExitCode.OK
