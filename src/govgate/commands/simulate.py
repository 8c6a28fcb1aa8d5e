"""``govgate simulate``: write a synthetic weekly schedule with injected failures.

The folder it writes is a ready input folder (its own ``govgate.yaml``, a copy of the project's
policies, scheduler rows and one job folder per run), so a team can rehearse lesson 166's mini
challenges (double skip, drift beyond epsilon) against its own policies.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..errors import UsageError

if TYPE_CHECKING:
    from . import Session

NAME = "simulate"
HELP = "write a synthetic weekly schedule with injected skips and drift as an input folder"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, metavar="DIR", help="folder to write (new)")
    parser.add_argument("--weeks", type=int, default=8, help="scheduled windows (default 8)")
    parser.add_argument("--skip", action="append", default=[], metavar="WEEK[:REASON]",
                        help="SKIPPED row in week WEEK (1-based); REASON maintenance, "
                             "credential_rotation or manual_pause (default maintenance)")
    parser.add_argument("--silent-skip", action="append", default=[], type=int, metavar="WEEK",
                        help="no scheduler row at all in week WEEK (a silent failure)")
    parser.add_argument("--drift", action="append", default=[], metavar="METRIC:WEEK:PERCENT",
                        help="partner value off by PERCENT %% of leadership in week WEEK")
    parser.add_argument("--seed", type=int, default=166, help="seed for metric values")
    parser.add_argument("--no-bootstrap", action="store_true",
                        help="do not document the first run as the bootstrap")


def _parse(args: argparse.Namespace) -> tuple[dict[int, str], set[int], dict[tuple[int, str], str]]:
    from decimal import Decimal, InvalidOperation

    from ..decimals import text_problem

    skips: dict[int, str] = {}
    for item in args.skip:
        week, _, reason = item.partition(":")
        if not week.isdigit() or reason not in ("", "maintenance", "credential_rotation",
                                                "manual_pause"):
            raise UsageError(f"--skip {item!r}: expected WEEK[:REASON]", source="command line")
        skips[int(week)] = reason or "maintenance"
    drifts: dict[tuple[int, str], str] = {}
    for item in args.drift:
        parts = item.split(":")
        try:
            # ASCII digits, a percent small enough that the simulated values stay exact.
            if (len(parts) != 3 or not (parts[1].isascii() and parts[1].isdigit())
                    or text_problem(parts[2]) or abs(Decimal(parts[2])) > 1000
                    or len(Decimal(parts[2]).as_tuple().digits) > 12):
                raise InvalidOperation
        except InvalidOperation:
            raise UsageError(f"--drift {item!r}: expected METRIC:WEEK:PERCENT",
                             source="command line") from None
        drifts[(int(parts[1]), parts[0])] = parts[2]
    weeks = set(skips) | set(args.silent_skip) | {w for w, _ in drifts}
    if any(w < 1 or w > args.weeks for w in weeks):
        raise UsageError(f"weeks must be between 1 and {args.weeks}", source="command line")
    return skips, set(args.silent_skip), drifts


def run(args: argparse.Namespace, session: Session) -> int:
    from ..loaders.policies import load_policies
    from ..recon.loader import load_epsilon_policies, load_recon_policy
    from ..simulation import Scenario, write_scenario

    if args.weeks < 1:
        raise UsageError("--weeks must be at least 1", source="command line")
    skips, silent, drifts = _parse(args)
    config = session.config()
    policies = load_policies(config, session.pm.hook)
    policy = load_recon_policy(policies, session.as_of)
    epsilon = load_epsilon_policies(policies)
    metrics = sorted({m for e in epsilon.values() for m in e.tolerances})
    unknown = sorted({m for _, m in drifts} - set(metrics))
    if unknown:
        raise UsageError(f"--drift names unknown metric_id {unknown[0]!r} "
                         f"(known: {', '.join(metrics)})", source="command line")
    from ..paths import command_line_output

    # No symbolic link on the way below the working folder, nor the folder itself.
    out = command_line_output(args.out, session.cwd, what="--out")
    if out.exists() and any(out.iterdir()):
        raise UsageError(f"{out} exists and is not empty", source="--out")
    scenario = Scenario(weeks=args.weeks, skips=skips, silent=silent, drifts=drifts,
                        seed=args.seed, bootstrap=not args.no_bootstrap)
    latest = max(epsilon.values(), key=lambda e: tuple(int(x) for x in e.version.split(".")))
    write_scenario(out, scenario, policy, latest, [d.source for d in policies.docs], config.base)
    session.out.write(f"wrote {args.weeks} scheduled windows to {out}; run: "
                      f"govgate check -c {out / 'govgate.yaml'}\n")
    return 0
