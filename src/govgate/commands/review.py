"""``govgate review``: the monthly fatigue review, its proposed policy bump and what-ifs."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..errors import ExitCode, GovgateError

if TYPE_CHECKING:
    from . import Session

NAME = "review"
HELP = ("write the monthly fatigue review (lesson 174) with a proposed backup_owner_policy bump; "
        "--simulate replays the month under candidate policies")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--month", required=True, metavar="YYYY-MM",
                        help="the calendar month to review, e.g. 2026-10")
    parser.add_argument("--simulate", action="append", default=[], metavar="POLICY.yaml",
                        help="also replay the month under this candidate backup_owner_policy "
                             "(repeatable; a path or a reference like the configuration's); "
                             "shown side by side with the policy in force")
    parser.add_argument("--no-deliver", action="store_true",
                        help="write the review, but do not record its issue in the ledger")
    from ..documents.output import add_output_option

    add_output_option(parser)


def run(args: argparse.Namespace, session: Session) -> int:
    from pathlib import Path

    from ..documents import periods
    from ..documents.issue import publish
    from ..documents.output import output_dir, to_json
    from ..documents.picture import render_svg
    from ..documents.review_flow import run_review

    period = periods.month(args.month)
    if session.as_of < period.start:
        raise GovgateError(f"the month {period.label} has not started at as-of",
                           source="--as-of")
    from urllib.parse import urlsplit

    from ..sources.options import read_option

    candidates = []
    for ref in args.simulate:
        # Resolved like the configuration's references (relative to the working folder).
        raw = read_option(session, ref)
        candidates.append((Path(urlsplit(ref).path if "://" in ref else ref).name, raw))
    config = session.config()
    output = output_dir(args, config, session.cwd)  # checked before anything is evaluated
    review = run_review(config, session.pm, period, session.as_of, candidates)
    from ..weakened import of_session, with_note

    disabled = of_session(session.pm, config)
    markdown = with_note(review.markdown, disabled)
    data = review.data
    if disabled:
        data = {**data, "disabled_plugins": disabled}
    name = f"review-{period.slug}"
    svg_name = f"{name}-heatmap.svg"
    files: dict[str, str | bytes] = {
        svg_name: render_svg(review.grid, title=f"Signer fatigue heat-map {period.label}"),
    }
    proposal = review.proposal
    if proposal is not None:
        files[f"{name}-backup_owner_policy_history.json"] = to_json(
            {"kind": "backup_owner_policy_history", "revisions": list(proposal.history)})
        if proposal.file_name and proposal.yaml_text:
            files[proposal.file_name] = proposal.yaml_text
    assert review.snapshot is not None
    text = publish(session, config, output, command=NAME,
                   name=name, data=data, markdown=markdown, period=period, snapshot=review.snapshot,
                   files=files, deliver=not args.no_deliver,
                   # A candidate read from a URL is named in the command, not re-read.
                   extra_inputs=[("candidate", session.cwd / ref) for ref in args.simulate
                                 if "://" not in ref])
    session.out.write(text)
    return ExitCode.OK
