"""Evaluations behind the documents: the same :func:`govgate.evaluate.evaluate` as the gate.

A document never recomputes a rule on its own. It evaluates the project at the instants it
reports on (a period's close, its open) and reads the report sections, the findings and, where
it needs whole refreshes, the fatigue history memoised on the evaluation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pluggy

    from ..config import Config
    from ..evaluation import Evaluation, Inputs
    from ..fatigue.model import Refresh
    from ..model import Finding, GateResult

__all__ = ["Snapshot", "evaluate_at", "inputs_at"]


@dataclass(frozen=True)
class Snapshot:
    """One evaluation at one instant and its decision."""

    at: datetime
    result: GateResult
    evaluation: Evaluation

    def section(self, name: str) -> dict[str, Any]:
        """A report section (``reconciliation``, ``fatigue``, ``promote``), {} when absent."""
        value = self.result.sections.get(name)
        return value if isinstance(value, dict) else {}

    def findings(self, rule: str) -> list[Finding]:
        """The findings of one rule id, in the result's order."""
        return [f for f in self.result.findings if f.rule == rule]

    @property
    def history(self) -> Sequence[Refresh]:
        """The daily heat-map refreshes up to this instant (empty without fatigue data)."""
        from ..checks.fatigue import get_history

        return get_history(self.evaluation) or ()


def evaluate_at(config: Config, pm: pluggy.PluginManager, at: datetime,
                inputs: Inputs | None = None) -> Snapshot:
    """Evaluate every rule at ``at`` (loading the inputs unless given)."""
    from ..evaluate import evaluate

    result, evaluation = evaluate(config, pm, at, inputs)
    return Snapshot(at, result, evaluation)


def inputs_at(inputs: Inputs, at: datetime) -> Inputs:
    """The inputs loaded for one instant, re-read for an earlier or later instant ``at``.

    Loading is what costs (the event export, every job folder); what depends on the instant is
    the as-of itself and the reconciliation policy in force, resolved again here. Everything
    else is the same data, so a document that evaluates several instants loads once.

    :raises GovgateError: When no reconciliation policy was approved at ``at``, exactly as a
        fresh load at ``at`` would.
    """
    import dataclasses

    from ..evaluation import Inputs
    from ..recon.loader import load_recon_policy

    out = Inputs(dict(inputs.domains))
    out.put("as_of", at)
    recon = inputs.get("reconciliation")
    if recon is not None:
        out.put("reconciliation",
                dataclasses.replace(recon, policy=load_recon_policy(inputs.get("policies"), at)))
    return out
