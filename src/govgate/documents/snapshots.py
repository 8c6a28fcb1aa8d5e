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
                inputs: Inputs | None = None, *, diff_artifacts: bool = True) -> Snapshot:
    """Evaluate every rule at ``at`` (loading the inputs unless given; ``diff_artifacts`` as
    :func:`govgate.evaluate.evaluate`)."""
    from ..evaluate import evaluate

    result, evaluation = evaluate(config, pm, at, inputs, diff_artifacts=diff_artifacts)
    return Snapshot(at, result, evaluation)


def inputs_at(inputs: Inputs, at: datetime) -> Inputs:
    """The inputs loaded for a later instant, as a load at the earlier instant ``at`` gives them.

    Loading is what costs (the event export, every job folder); what depends on the instant is
    the as-of view (rows, folders and policies that did not exist yet are cut, see
    :mod:`govgate.asof`) and the reconciliation policy in force, both applied again here, so a
    document that evaluates several instants loads once and still states no later fact.

    :raises GovgateError: When no reconciliation policy was approved at ``at``, exactly as a
        fresh load at ``at`` would.
    """
    import dataclasses

    from ..asof import apply_as_of_view, policies_at
    from ..evaluation import Inputs
    from ..recon.loader import load_recon_policy

    loaded_for = inputs.get("as_of")
    if loaded_for is not None and at > loaded_for:
        raise ValueError("inputs cut at one instant cannot be viewed at a later one")
    out = Inputs(dict(inputs.domains))
    out.put("as_of", at)
    policies = inputs.get("policies")
    if policies is not None:
        policies = policies_at(policies, at)
        out.put("policies", policies)
    recon = inputs.get("reconciliation")
    if recon is not None and policies is not None:
        out.put("reconciliation",
                dataclasses.replace(recon, policy=load_recon_policy(policies, at)))
    apply_as_of_view(out, at)
    return out
