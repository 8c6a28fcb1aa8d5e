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
    from ..reporters.terminal import add_options

    add_options(parser)


def run(args: argparse.Namespace, session: Session) -> int:
    """Validate, evaluate, write the outputs, then append to the ledger and deliver, then print.

    Each step starts only when the one before succeeded; a refusal before the evaluation writes
    nothing (exit 2), a failure after it keeps the verdict (see :mod:`govgate.outcome`).
    """
    from ..delivery import deliver
    from ..evaluate import evaluate
    from ..preflight import after_decision, check_delivery, check_output, output_folder
    from ..reporters import ReportContext, available, select_reporters
    from ..writing import ARTIFACTS, output_names, write_outputs

    config = session.config()
    block_on = getattr(args, "block_on", None)
    if block_on is not None:
        import dataclasses

        # Red blocks either way (govgate.checks.gate); --block-on only decides about amber.
        states = ["red"] if block_on == "red" else ["red", "amber"]
        config = dataclasses.replace(config, data={**config.data, "block_states": states})
    pm = session.pm
    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    if not formats:
        raise UsageError("--format needs at least one format", source="command line")
    reporters = select_reporters(pm, formats)  # unknown formats fail before any work
    output = output_folder(args.output, config, session.cwd)
    # The job summary and the heat-map picture are written on every run, whatever --format says.
    always = [r for name, r in available(pm).items() if name in ALWAYS_WRITTEN
              and r.filename not in {chosen.filename for chosen in reporters}]
    writers = [*reporters, *always]
    check_output(output, output_names(writers), folders=[ARTIFACTS])
    deliver_now = not args.no_deliver
    if deliver_now:
        check_delivery(config, pm)
    result, evaluation = evaluate(config, pm, session.as_of)
    from ..reporters.terminal import from_args

    context = ReportContext(config=config, output=output, terminal=from_args(args, session.out))
    verdict = ExitCode.OK if result.passed else ExitCode.GATE_BLOCKED
    with after_decision(verdict, "the reports"):
        write_outputs(result, evaluation, output, writers, context)
    if deliver_now:
        with after_decision(verdict, "the ledger and pages"):
            delivered = deliver(result, config, pm, settle=True)
        if delivered != result:
            # A page that could not be delivered blocks: the reports must say so too.
            result = delivered
            verdict = ExitCode.OK if result.passed else ExitCode.GATE_BLOCKED
            with after_decision(verdict, "the reports"):
                write_outputs(result, evaluation, output, writers, context)
    from ..manifest import write_check_manifest

    # The evidence manifest digests the files and the ledger head as they now are.
    with after_decision(verdict, "the evidence manifest"):
        write_check_manifest(session, config, output, result, evaluation, reporters, always,
                             context)
    # Printed last: a reader that went away cannot cost the files (govgate.outcome).
    if reporters:
        session.out.write(reporters[0].render(result, context))
    pm.hook.govgate_finish(result=result, config=config)
    return verdict
