"""Built-in plugin: the gate passes exactly when no finding blocks; a red state always blocks.

Red blocks publish (lesson 166); ``block_states`` (the configuration's, ``--block-on``, the
reconciliation policy's) only decides whether amber blocks too. The only way past a red is the
domain's own: an override packet with an ``audit_id`` covering the missed windows, or a PASS run,
both of which change the state itself. No configuration, waiver or plugin can turn a red state
into a pass: :func:`decide` is applied after the ``govgate_gate_passed`` hook, whatever it says.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from ..hookspecs import hookimpl
from ..model import Finding, GovernanceState, Severity

if TYPE_CHECKING:
    from ..evaluation import Evaluation

#: Governance states that block whatever ``block_states`` says.
ALWAYS_BLOCKS: frozenset[str] = frozenset({GovernanceState.RED.value})

#: The rule whose finding states the governance state.
STATE_RULE = "reconcile.state"


def blocking_states(configured: Iterable[str] | None, policy: Iterable[str]) -> frozenset[str]:
    """The states that block: the configuration's ``block_states`` (else the policy's), plus red.

    ``block_states: []`` or ``[amber]`` therefore means "red only" or "amber and red".
    """
    chosen = configured if configured is not None else policy
    return frozenset(chosen) | ALWAYS_BLOCKS


def states_red(finding: Finding) -> bool:
    """Whether ``finding`` is the one stating a red governance state (it cannot be waived)."""
    return (finding.rule == STATE_RULE
            and finding.evidence.get("state") == GovernanceState.RED.value)


def decide(evaluation: Evaluation, answer: object) -> bool:
    """The verdict from the ``govgate_gate_passed`` answer, under the floors nothing lowers.

    Only ``True`` passes (no answer, or a truthy non-bool from a plugin, is no pass), and a red
    governance state never passes.
    """
    return answer is True and evaluation.state is not GovernanceState.RED


def floor_findings(evaluation: Evaluation, findings: Sequence[Finding]) -> list[Finding]:
    """The finding that says why a red gate blocks when no blocking finding says it any more
    (a plugin removed or downgraded it): a blocked report always names its reason."""
    if evaluation.state is not GovernanceState.RED or any(f.blocking for f in findings):
        return []
    return [Finding("gate.red", "governance", Severity.ERROR,
                    "the governance state is red, and red always blocks publish (whatever "
                    "block_states, waivers or plugins say)", owner_route="publish_gate")]


@hookimpl(trylast=True)
def govgate_gate_passed(evaluation: Evaluation, findings: Sequence[Finding]) -> bool:
    return not any(f.blocking for f in findings)
