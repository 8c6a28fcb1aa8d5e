"""``govgate promote``: replay the promote policy, record promotes and reverts, ask who signs.

It evaluates exactly what ``govgate check`` evaluates (the promote records are a pure function of
the events, the policy versions, the manual invocations and the as-of instant), appends the new
records to the ledger and delivers rung-2 pages; a re-run appends and pages nothing.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..errors import ExitCode, GovgateError, OutputError

if TYPE_CHECKING:
    from . import Session

NAME = "promote"
HELP = "apply the backup owner promote policy: promotes, reverts, rung-2 pages, effective signers"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--effective", action="store_true",
                        help="only print the effective signer per owner route at --as-of")
    parser.add_argument("--route", metavar="OWNER_ROUTE",
                        help="with --effective: one route only (publish_gate, faq_rewrite, ...)")
    parser.add_argument("--format", choices=["text", "json"], default="text")
    parser.add_argument("--no-deliver", action="store_true",
                        help="do not append to the ledger or page")


def run(args: argparse.Namespace, session: Session) -> int:
    import dataclasses
    import json

    from ..delivery import deliver
    from ..evaluate import evaluate
    from ..preflight import after_decision, check_delivery
    from ..promote.plugin import get_promote_result

    config = session.config()
    deliver_now = not args.effective and not args.no_deliver
    if deliver_now:
        check_delivery(config, session.pm)  # before anything is evaluated or written
    # This command writes the promote records and prints the signers: no diff artifact.
    result, evaluation = evaluate(config, session.pm, session.as_of, diff_artifacts=False)
    promotes = get_promote_result(evaluation)
    if promotes is None:
        raise GovgateError("no backup_owner_policy and signer_ack_event export configured "
                           "(policies folder and fatigue.events)", source=config.source_name)
    section = promotes.section()
    signers = section["effective_signers"]
    if args.route is not None:
        if args.route not in signers:
            raise GovgateError(f"no route {args.route!r} in the active backup_owner_policy "
                               f"(routes: {', '.join(sorted(signers))})", source="--route")
        signers = {args.route: signers[args.route]}
    if deliver_now:
        # Only the promote domain's records and pages: this command does not act on the
        # reconciliation gate.
        own = {"promote", "revert", "forced_revert", "page", "escalation_decision",
               "freeze_gate", "freeze_lift"}
        pages = tuple(p for p in result.pages if p.dedup_key.startswith("govgate:rung2:"))
        records = tuple(r for r in result.records if r.kind in own)
        mine = dataclasses.replace(result, pages=pages, records=records)
        with after_decision(ExitCode.OK, "the ledger and pages"):
            delivered = deliver(mine, config, session.pm)
        before = set(mine.findings)
        failed = [f for f in delivered.findings if f not in before]
    else:
        failed = []
    from ..weakened import of_session

    disabled = of_session(session.pm, config)
    if args.format == "json":
        payload = {"effective_signers": signers} if args.effective else section
        if disabled:
            payload = {**payload, "disabled_plugins": disabled}
        session.out.write(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    else:
        session.out.write(_text(section, signers, only_signers=args.effective))
        for d in disabled:
            session.out.write(f"weakened: built-in plugin {d['name']} not evaluated"
                              f" ({d['reason'] or 'command line only'})\n")
    if failed:
        # A rung-2 page that did not arrive is not a success of this command (exit 4).
        raise OutputError(f"{len(failed)} page(s) not delivered; first: {failed[0].message}",
                          verdict=ExitCode.OK, source=failed[0].subject)
    return 0


def _text(section: dict[str, object], signers: dict[str, dict[str, str]], *,
          only_signers: bool) -> str:
    from tabulate import tabulate

    lines = [tabulate([[route, s["signer"], s["role"], s.get("promote_event_id") or ""]
                       for route, s in sorted(signers.items())],
                      headers=["owner_route", "effective signer", "role", "promote_event_id"])]
    if only_signers:
        return "\n".join(lines) + "\n"
    rows = section.get("promotes") or []
    assert isinstance(rows, list)
    lines += ["", tabulate(
        [[p["promote_event_id"], p["owner_route"], p["promoted_signer"], p["trigger_type"],
          p["promoted_at_dt_utc"], p.get("reverted_at_dt_utc") or "", p["policy_version_at_time"]]
         for p in rows],
        headers=["promote_event_id", "owner_route", "promoted_signer", "trigger_type",
                 "promoted_at_dt_utc", "reverted_at_dt_utc", "policy_version_at_time"])
        if rows else "no promotes"]
    return "\n".join(lines) + "\n"
