"""``govgate faq``: the one-page signer FAQ generated from the policies in force."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..errors import ExitCode

if TYPE_CHECKING:
    from . import Session

NAME = "faq"
HELP = "write the one-page signer FAQ (amber versus red) from the thresholds in force"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..documents.output import add_output_option

    add_output_option(parser)


def run(args: argparse.Namespace, session: Session) -> int:
    from ..documents.faq import faq_data, render_faq
    from ..documents.output import output_dir, write_documents
    from ..documents.snapshots import evaluate_at

    config = session.config()
    output = output_dir(args, config, session.cwd)  # checked before anything is evaluated
    from ..weakened import of_session, with_note

    text = with_note(render_faq(faq_data(evaluate_at(config, session.pm, session.as_of))),
                     of_session(session.pm, config))
    write_documents(output, {"signer-faq.md": text})
    session.out.write(text)
    return ExitCode.OK
