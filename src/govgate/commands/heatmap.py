"""``govgate heatmap``: the 14-day signer fatigue heat-map of lesson 174 at ``--as-of``.

Reads a ``signer_ack_event`` export (``--events``, any reference the configuration accepts,
else the configuration's ``fatigue.events``), replays the daily refreshes (``recovering`` needs
the history) and prints the nightly refresh in force at as-of (the last 00:00 UTC at or before
it) with its snapshot hash, as a table, JSON or CSV. The thresholds are those of the backup
owner policy in force at each refresh, exactly as ``govgate check`` uses them, so both give the
same classification and hash for the same instant. It decides nothing: the exit code is 0
unless the input is bad.

    govgate heatmap --events signer_ack_event.csv --as-of 2026-11-20T09:30:00Z --format json
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ExitCode, UsageError

if TYPE_CHECKING:
    from ..config import Config
    from ..fatigue.events import EventLog
    from ..fatigue.heatmap import Classifier, ThresholdsAt
    from ..fatigue.model import Refresh
    from ..fatigue.reduction import Reduction
    from ..loaders.policies import PolicySet
    from . import Session

NAME = "heatmap"
HELP = "print the 14-day signer fatigue heat-map at --as-of, with its snapshot hash"

#: File names written by ``--output``.
OUTPUT_JSON = "signer_fatigue_heatmap_14d.json"
OUTPUT_CSV = "signer_fatigue_heatmap_14d.csv"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--events``, ``--format`` and ``--output``."""
    parser.add_argument(
        "--events",
        metavar="REF",
        help="signer_ack_event export: a path (CSV as PostgreSQL's COPY ... CSV HEADER writes "
        "it, or JSON), https://..., postgresql://...?table=signer_ack_event, like the "
        "configuration's references (default: the configuration's fatigue.events; required "
        "without a configuration)",
    )
    parser.add_argument(
        "--engine",
        metavar="NAME",
        help="heat-map engine: python (default), duckdb (pip install 'govgate[duckdb]'), "
        "postgresql (push-down, the default for postgresql:// events), or a plugin's "
        "(default: the configuration's fatigue.engine)",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json", "csv"),
        default="text",
        help="output on stdout (default: text, a table)",
    )
    parser.add_argument(
        "--output",
        metavar="DIR",
        type=Path,
        help=f"also write {OUTPUT_JSON} and {OUTPUT_CSV} into DIR (atomically)",
    )


def run(args: argparse.Namespace, session: Session) -> int:
    """Compute the refresh at ``session.as_of`` and print it; write files for ``--output``."""
    from ..checks.fatigue import nightly
    from ..fatigue.heatmap import heatmap
    from ..fatigue.model import Refresh
    from ..fatigue.snapshot import render_json, rows_to_csv

    output = None
    if args.output is not None:
        from ..paths import command_line_output, ensure_writable

        # Checked before the export is read: no symbolic link on the way, writable.
        output = command_line_output(str(args.output), session.cwd, what="--output")
        ensure_writable(output, what="--output")
    at = nightly(session.as_of)  # the refresh in force at as-of, as check and promote see it
    policies = _project_policies(session)  # read once: the routes and the thresholds
    refresh = _recent(args, session, policies, at)
    if refresh is None or refresh is _STEPPED_ASIDE:
        # After the push-down stepped aside, the rows are read the ordinary way at once.
        log = _load(args, session, policies, stepped_aside=refresh is _STEPPED_ASIDE)
        try:
            refresh = heatmap(log, at, _thresholds(policies), classify=_classifier(session))
        except ValueError as exc:  # an as-of off the log's refresh grid
            raise UsageError(str(exc), where="--as-of") from None
    assert isinstance(refresh, Refresh)
    if output is not None:
        from ..fsutil import write_all_atomic
        from ..preflight import after_decision

        # Relative to the command's working folder, like every other command's -o (main() may
        # run in-process for another folder than the process's own); both files or neither.
        with after_decision(ExitCode.OK, "the heat-map files"):
            write_all_atomic({output / OUTPUT_JSON: render_json(refresh).encode("utf-8"),
                              output / OUTPUT_CSV: rows_to_csv(refresh).encode("utf-8")})
    # Printed last: a reader that went away cannot cost the files (govgate.outcome).
    if args.format == "json":
        session.out.write(render_json(refresh))
    elif args.format == "csv":
        session.out.write(rows_to_csv(refresh))
    else:
        session.out.write(render_text(refresh))
    return int(ExitCode.OK)


def render_text(refresh: Refresh) -> str:
    """A table of the rows, then the classification counts and the snapshot hash."""
    from tabulate import tabulate

    from ..fatigue.snapshot import COLUMNS, VIEW_NAME, classification_counts, row_values
    from ..timeutil import format_instant

    table = [row_values(row) for row in sorted(refresh.rows, key=lambda row: row.signer_id)]
    counts = classification_counts(refresh)
    lines = [
        f"{VIEW_NAME} at {format_instant(refresh.at)}",
        "",
        tabulate(table, headers=COLUMNS, disable_numparse=True) if table else "(no rows)",
        "",
        "signers: " + ", ".join(f"{counts[state]} {state}" for state in counts),
        f"snapshot sha256: {refresh.snapshot_hash}",
    ]
    return "\n".join(lines) + "\n"


#: Days of refreshes the push-down reads exactly; a signer they do not settle (between the
#: quiet and amber ratios for weeks, say) gets its whole history read too.
LOOKBACK_DAYS = 16


#: What :func:`_recent` returns when the push-down stepped aside.
_STEPPED_ASIDE = object()


def _recent(args: argparse.Namespace, session: Session, policies: PolicySet | None,
            at: datetime) -> Refresh | object | None:
    """The refresh at ``at`` from the rows PostgreSQL push-down reads since a recent instant
    (``fatigue/lookback.py``: the same refresh as from every row), or None when that does not
    apply (another engine or reference, a plugin's classifier), :data:`_STEPPED_ASIDE` when the
    push-down stepped aside."""
    config, ref = _events_ref(args, session)
    if "://" not in ref:
        return None  # a file (and nothing more is imported for it)
    from ..engines import check_engine
    from ..engines.postgres_engine import NAME, is_events_table
    from ..errors import GovgateError
    from ..fatigue.heatmap import classify

    asked = getattr(args, "engine", None) or config.section("fatigue").get("engine")
    engine = check_engine(asked, "--engine" if getattr(args, "engine", None) else
                          "fatigue.engine")
    if engine not in (None, NAME) or not is_events_table(ref):
        return None
    if _classifier(session) is not classify:
        return None
    try:
        thresholds = _thresholds(policies)
    except GovgateError:
        return None  # reported where the ordinary path reports it, after the events
    from ..checks.fatigue import declared_route_slas
    from ..engines import reduce_with_engines
    from ..evaluation import Inputs
    from ..fatigue.events import event_log
    from ..fatigue.heatmap import heatmap
    from ..fatigue.lookback import exact_refresh, requested_since, unsettled
    from ..sources.names import source_name

    inputs = Inputs()
    if policies is not None:
        inputs.put("policies", policies)
    slas = declared_route_slas(config, inputs)
    source = source_name(ref)
    since: datetime | None = None
    try:
        first = at - timedelta(days=LOOKBACK_DAYS)
        since = requested_since(thresholds, first, at)
    except OverflowError:
        pass  # back to year 1: every row

    def whole_history(recent: Reduction) -> set[str]:
        return unsettled(event_log(recent, source), at, thresholds, first, recent.unread_signers)

    for _ in range(2):  # the recent rows (and the signers' that need it, whole); every row
        reduction = reduce_with_engines(
            session.pm.hook, ref, path=None, engine=engine, settings=config.section("sources"),
            default_sla=slas, refresh_anchor=at, pending=False, requested_since=since,
            whole_history=whole_history)
        if reduction is None:
            return _STEPPED_ASIDE  # read (and name a bad row) the ordinary way
        log = event_log(reduction, source)
        if reduction.requested_since is None:  # every row was read
            return heatmap(log, at, thresholds, classify=classify)
        refresh = exact_refresh(log, at, thresholds, first, reduction.unread_signers)
        if refresh is not None:
            return refresh
        since = None  # pragma: no cover - an engine that did not read the whole histories
    raise AssertionError("unreachable: the last attempt reads every row")  # pragma: no cover


def _events_ref(args: argparse.Namespace, session: Session) -> tuple[Config, str]:
    """The configuration and the events reference: ``--events`` (resolved like a configuration
    reference, relative to the working folder) or the configuration's ``fatigue.events``."""
    from ..sources.options import has_config, option_config

    if args.events is not None:
        config = option_config(session)
        ref = str(args.events)
    elif not has_config(session):
        raise UsageError(
            "--events REF is required (no configuration found to name fatigue.events)",
            where="--events",
        )
    else:
        config = session.config()
        events = config.section("fatigue").get("events")
        if events is None:
            raise UsageError(
                "--events REF is required (no configuration names fatigue.events)",
                where="--events",
            )
        ref = str(events)
    return config, ref


def _load(args: argparse.Namespace, session: Session, policies: PolicySet | None,
          stepped_aside: bool = False) -> EventLog:
    """The events from ``--events`` (resolved like a configuration reference, relative to the
    working folder) or from the configuration's ``fatigue.events``."""
    from ..checks.fatigue import load_event_log
    from ..engines import check_engine
    from ..evaluation import Inputs
    from ..sources.options import is_local

    config, ref = _events_ref(args, session)
    inputs = Inputs()
    if policies is not None:
        inputs.put("policies", policies)  # the owner routes the project declares
    asked = getattr(args, "engine", None) or config.section("fatigue").get("engine")
    engine = check_engine(asked, "--engine" if getattr(args, "engine", None) else
                          "fatigue.engine")
    # The plugin manager costs a few hundred milliseconds: only a non-file reference or an
    # engine other than the built-in scanner needs it.
    builtin = is_local(ref) and engine in (None, "python")
    inputs.put("hook", None if builtin else session.pm.hook)
    if stepped_aside:
        engine = "python"  # the push-down has already stepped aside: not again
    return load_event_log(config, inputs, ref, engine=engine, pending=False)


def _project_policies(session: Session) -> PolicySet | None:
    """The project's policies, or None without a project or a policies folder (a bare heat-map
    project need not have one: the lesson's routes and the seed's thresholds then apply)."""
    from ..sources.options import has_config

    if not has_config(session):
        return None
    config = session.config()
    if "policies" not in config.data and not (config.base / "policies").is_dir():
        return None
    from ..loaders.policies import load_policies

    return load_policies(config, session.pm.hook)


def _thresholds(policies: PolicySet | None) -> ThresholdsAt:
    """The thresholds ``govgate check`` classifies each refresh with: those of the project's
    backup owner policy in force at that refresh (the seed's without a project or a policy)."""
    from ..fatigue.model import Thresholds

    if policies is None:
        return Thresholds()
    import functools

    from ..promote.plugin import thresholds_at
    from ..promote.policy import load_backup_owner_policies

    return functools.partial(thresholds_at, load_backup_owner_policies(policies))


def _classifier(session: Session) -> Classifier:
    """The built-in :func:`classify`, or the ``govgate_classify_signer`` hook when a plugin
    other than the built-in implements it (a hook call per signer and day costs more).

    Building the plugin manager costs a few hundred milliseconds, so it is built only when a
    plugin could be there: ``-p`` or the configuration's ``plugins`` (``session.plugins``), or
    an installed entry point.
    """
    from importlib.metadata import entry_points

    from ..fatigue.heatmap import classify
    from ..plugins import ENTRY_POINT_GROUP

    if not (session.plugins or entry_points(group=ENTRY_POINT_GROUP)):
        return classify
    from ..checks.fatigue import classifier_for

    return classifier_for(session.pm.hook)
