"""Built-in plugin ``documents``: the deficiency trend board input and the heat-map SVG report.

Registered as ``documents`` in :data:`govgate.plugins.DEFAULT_PLUGINS`; ``-p no:documents``
turns both off (the review then has no trend board to cross-reference, ``govgate check`` writes
no ``heatmap.svg``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..hookspecs import hookimpl
from ..reporters import Reporter

if TYPE_CHECKING:
    from ..config import Config
    from ..evaluation import Inputs
    from ..model import GateResult
    from ..reporters import ReportContext

__all__ = ["SVG", "TREND_BOARD", "govgate_load_inputs", "govgate_reporters", "render_svg_report"]

#: Key of the parsed trend board rows in :class:`~govgate.evaluation.Inputs`.
TREND_BOARD = "deficiency_trend_board"


@hookimpl
def govgate_load_inputs(config: Config, inputs: Inputs) -> None:
    """Read ``fatigue.deficiency_trend_board`` (lesson 173's export) when configured."""
    ref = config.section("fatigue").get("deficiency_trend_board")
    if ref is None:
        return
    from ..loaders.io import read_ref
    from .trendboard import parse_trend_board

    data = read_ref(config, inputs.get("hook"), str(ref))
    inputs.put(TREND_BOARD, parse_trend_board(data, str(ref)))


def render_svg_report(result: GateResult, context: ReportContext) -> str:
    """The heat-map picture of the result's last 28 refreshes, promote and revert days marked."""
    from .picture import grid_from_sections, render_svg

    grid = grid_from_sections(result.sections.get("fatigue"), result.sections.get("promote"))
    return render_svg(grid)


SVG = Reporter("svg", "heatmap.svg", render_svg_report,
               "the fatigue heat-map picture: signers x the last 28 daily refreshes (SVG)")


@hookimpl(trylast=True)
def govgate_reporters() -> Sequence[Reporter]:
    return [SVG]
