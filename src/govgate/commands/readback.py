"""``govgate readback``: the partner readback packet for a quarter or an explicit window."""

from __future__ import annotations

import argparse
import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING

from ..errors import ExitCode, GovgateError, UsageError

if TYPE_CHECKING:
    from ..config import Config
    from ..documents.snapshots import Snapshot
    from . import Session

NAME = "readback"
HELP = ("write the partner readback packet (lesson 174 fatigue section, lesson 166 "
        "reconciliation) for a quarter or a window")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quarter", metavar="YYYY-QN", help="reporting quarter, e.g. 2026-Q4")
    parser.add_argument("--from", dest="start", metavar="INSTANT",
                        help="window start (inclusive), with --to instead of --quarter")
    parser.add_argument("--to", dest="end", metavar="INSTANT", help="window end (exclusive)")
    parser.add_argument("--no-deliver", action="store_true",
                        help="write the packet, but do not record its issue in the ledger")
    from ..documents.output import add_output_option

    add_output_option(parser)


def opening(config: Config, session: Session, start: datetime, closed: Snapshot) -> Snapshot:
    """The window's open, for the policy version in force then (all the readback reads of it).

    That version is the highest approved at or before the open, which the close's policy
    versions answer: with the built-in loaders (whose inputs depend on the instant only through
    the as-of view) nothing needs evaluating again. A third-party loader may not be, so the
    project is then loaded and evaluated afresh at the open; when that fails (no
    reconciliation policy was approved yet, say), the close's versions answer as well.
    """
    from ..documents.snapshots import evaluate_at
    from ..plugins import DEFAULT_PLUGINS, implemented_only_by

    if implemented_only_by(session.pm.hook.govgate_load_inputs, DEFAULT_PLUGINS.values()):
        return _version_at(start, closed)
    try:
        return evaluate_at(config, session.pm, start)
    except GovgateError:
        return _version_at(start, closed)


def _version_at(start: datetime, closed: Snapshot) -> Snapshot:
    """The close's snapshot at ``start`` with only the policy version in force then."""
    from ..documents.snapshots import Snapshot
    from ..promote.policy import active_policy

    loaded = closed.evaluation.inputs.get("promote")
    policy = active_policy(loaded.policies, start) if loaded is not None else None
    sections = {"promote": {"policy_version": policy.version}} if policy else {}
    result = dataclasses.replace(closed.result, as_of=start, sections=sections)
    return Snapshot(start, result, closed.evaluation)


def snapshot_rows(closed: Snapshot) -> str | None:
    """The canonical text of the close refresh's heat-map rows: what its snapshot hash covers."""
    from ..fatigue.snapshot import canonical_form

    history = closed.history
    if not history:
        return None
    refresh = history[-1]
    return canonical_form(refresh.at, refresh.rows)


def run(args: argparse.Namespace, session: Session) -> int:
    from ..documents import periods
    from ..documents.issue import publish
    from ..documents.output import output_dir, relative_link
    from ..documents.readback import build_readback, render_readback
    from ..documents.snapshots import evaluate_at

    if args.quarter and (args.start or args.end):
        raise UsageError("give --quarter or --from/--to, not both", source="command line")
    if args.quarter:
        period = periods.quarter(args.quarter)
    elif args.start and args.end:
        period = periods.window(args.start, args.end)
    else:
        raise UsageError("name the reporting window: --quarter 2026-Q4 or --from X --to Y",
                         source="command line")
    if session.as_of < period.start:
        raise UsageError(f"the window {period.label} has not opened at as-of", source="--as-of")
    config = session.config()
    output = output_dir(args, config, session.cwd)  # checked before anything is evaluated
    closed = evaluate_at(config, session.pm, period.close(session.as_of))
    opened = opening(config, session, period.start, closed)
    from ..ledger_store import PG_SCHEMES, ledger_reference

    # A file ledger is linked from the document when both live in the project (the link then
    # works in the repository); a PostgreSQL ledger has no file to link, and a link out of an
    # output folder elsewhere would only spell out this machine's folders: the record key names
    # the record then.
    ledger_link = (None if ledger_reference(config).startswith(PG_SCHEMES)
                   or not output.resolve().is_relative_to(config.base.resolve())
                   else relative_link(config.ledger_path, output))
    data = build_readback(period, opened, closed, ledger_link)
    from ..weakened import of_session, with_note

    disabled = of_session(session.pm, config)
    if disabled:
        data["disabled_plugins"] = disabled
    rows = snapshot_rows(closed)
    if rows is not None:
        data["fatigue"]["snapshot_canonical_form"] = rows
    text = publish(session, config, output, command=NAME, name=f"readback-{period.slug}",
                   data=data, markdown=with_note(render_readback(data), disabled), period=period,
                   snapshot=closed, canonical_rows=rows, deliver=not args.no_deliver)
    session.out.write(text)
    return ExitCode.OK
