"""``govgate check``: evaluate every rule, decide the gate, write the result, deliver pages."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..errors import ExitCode, UsageError

if TYPE_CHECKING:
    from . import Session

#: Reports written to the output folder on every run (beside result.json), if registered.
ALWAYS_WRITTEN = ("markdown", "svg")

NAME = "check"
HELP = "evaluate the governance data and decide whether publish may proceed"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", default="text", metavar="FMT[,FMT...]",
                        help="report formats, comma-separated; the first is printed on stdout "
                             "and every one is written to the output folder (default: text); "
                             "result.json, summary.md and heatmap.svg are always written")
    parser.add_argument("-o", "--output", metavar="DIR",
                        help="output folder (default: the config's 'output', govgate-out)")
    parser.add_argument("--block-on", choices=["red", "amber"],
                        help="override block_states for this run: red (only red blocks) or "
                             "amber (amber and red block)")
    parser.add_argument("--no-deliver", action="store_true",
                        help="decide and write reports, but do not page or append to the ledger")


def run(args: argparse.Namespace, session: Session) -> int:
    from pathlib import Path

    from ..delivery import deliver
    from ..evaluate import evaluate
    from ..reporters import ReportContext, available, select_reporters
    from ..writing import write_outputs

    config = session.config()
    block_on = getattr(args, "block_on", None)
    if block_on is not None:
        import dataclasses

        states = ["red"] if block_on == "red" else ["red", "amber"]
        config = dataclasses.replace(config, data={**config.data, "block_states": states})
    pm = session.pm
    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    if not formats:
        raise UsageError("--format needs at least one format", source="command line")
    reporters = select_reporters(pm, formats)  # unknown formats fail before any work
    result, evaluation = evaluate(config, pm, session.as_of)
    if not args.no_deliver:
        result = deliver(result, config, pm)
    output = Path(args.output).resolve() if args.output else config.output_dir
    context = ReportContext(config=config, output=output)
    # The job summary and the heat-map picture are written on every run, whatever --format says.
    always = [r for name, r in available(pm).items() if name in ALWAYS_WRITTEN
              and r.filename not in {chosen.filename for chosen in reporters}]
    write_outputs(result, evaluation, output, [*reporters, *always], context)
    if reporters:
        session.out.write(reporters[0].render(result, context))
    from ..manifest import write_check_manifest

    write_check_manifest(session, config, output, result, evaluation, reporters, always, context)
    pm.hook.govgate_finish(result=result, config=config)
    return ExitCode.OK if result.passed else ExitCode.GATE_BLOCKED
