"""Write a result's files: artifacts first (content-addressed), then the reports."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .fsutil import write_all_atomic, write_immutable

if TYPE_CHECKING:
    from .evaluation import Evaluation
    from .model import GateResult
    from .reporters import ReportContext, Reporter

RESULT_FILE = "result.json"
ARTIFACTS = "artifacts"


def write_outputs(result: GateResult, evaluation: Evaluation, output: Path,
                  reporters: list[Reporter], context: ReportContext) -> None:
    """Render everything first, then write: a rendering error leaves no file behind."""
    from .reporters.builtin import JSON

    rendered: dict[str, bytes] = {RESULT_FILE: JSON.render(result, context).encode()}
    for reporter in reporters:
        # --format json names the very reporter result.json comes from: rendered once.
        if reporter.filename and reporter is not JSON:
            rendered[reporter.filename] = reporter.render(result, context).encode()
    artifacts_dir = output / ARTIFACTS
    for name, data in sorted(evaluation.artifacts.items()):
        write_immutable(artifacts_dir / name, data)
    # The reports as one set: a full disk leaves the previous run's reports, not a mix.
    write_all_atomic({output / name: data for name, data in rendered.items()})


def output_names(reporters: list[Reporter]) -> list[str]:
    """The report files :func:`write_outputs` writes under the output folder (besides
    ``artifacts/``)."""
    return [RESULT_FILE, *(r.filename for r in reporters if r.filename)]
