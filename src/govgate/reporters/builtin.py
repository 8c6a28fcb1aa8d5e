"""Built-in plugin: the text and JSON reporters (others register the same way)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..hookspecs import hookimpl
from . import Reporter, jsonreport, text

if TYPE_CHECKING:
    from ..model import GateResult
    from . import ReportContext

TEXT = Reporter("text", "", text.render, "the verdict and every finding, for the terminal")
JSON = Reporter("json", "result.json", jsonreport.render, "the gate result as JSON")


def _html(result: GateResult, context: ReportContext) -> str:
    # Imported when used: the HTML report is not needed to start govgate.
    from . import html

    return html.render(result, context)


HTML = Reporter("html", "report.html", _html,
                "one self-contained HTML page: verdict, findings, weeks, heat-map, promotes")


@hookimpl(trylast=True)
def govgate_reporters() -> Sequence[Reporter]:
    return [TEXT, JSON, HTML]
