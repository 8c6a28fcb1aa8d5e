"""Built-in plugin: the gate passes exactly when no finding blocks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..hookspecs import hookimpl
from ..model import Finding

if TYPE_CHECKING:
    from ..evaluation import Evaluation


@hookimpl(trylast=True)
def govgate_gate_passed(evaluation: Evaluation, findings: Sequence[Finding]) -> bool:
    return not any(f.blocking for f in findings)
