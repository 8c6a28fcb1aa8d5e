"""The state of one evaluation: inputs in, findings and side-effect plans out.

Evaluation hooks compute from ``Evaluation.inputs`` and ``Evaluation.as_of`` only; what they
want written (artifacts, ledger records, pages) is recorded here and performed at the edge by
the command, after the gate decided.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .model import Episode, GovernanceState, LedgerRecord, Page

if TYPE_CHECKING:
    import pluggy

    from .config import Config


@dataclass
class Inputs:
    """Loaded inputs by domain name (``reconciliation``, ``fatigue``, ...).

    A plugin stores its own domain's inputs under its own key; the built-ins use typed accessors
    in their modules.
    """

    domains: dict[str, Any] = field(default_factory=dict)

    def get(self, name: str) -> Any:
        return self.domains.get(name)

    def put(self, name: str, value: Any) -> None:
        self.domains[name] = value


@dataclass
class Evaluation:
    """One evaluation at one instant."""

    as_of: datetime
    config: Config
    hook: pluggy.HookRelay
    inputs: Inputs = field(default_factory=Inputs)
    state: GovernanceState = GovernanceState.GREEN
    pages: list[Page] = field(default_factory=list)
    records: list[LedgerRecord] = field(default_factory=list)
    #: Spells of paged conditions (opened, and closed if by as-of), to resolve their pages.
    episodes: list[Episode] = field(default_factory=list)
    #: Files to write under the output folder: relative name -> bytes (content-addressed names).
    artifacts: dict[str, bytes] = field(default_factory=dict)
    #: Structured data for reporters (readback, review, job summary), by section name.
    sections: dict[str, Any] = field(default_factory=dict)
    #: Values computed once per evaluation and shared between plugins (e.g. the heat-map
    #: history, which both the fatigue and the promote plugins need).
    cache: dict[str, Any] = field(default_factory=dict)
    #: Whether the reconciliation renders each window's diff artifacts (JSON and CSV, named by
    #: their content). ``check`` and ``readback`` name them in their outputs; ``promote`` and
    #: ``review`` name none, and rendering every window's diff was a fifth of their work.
    diff_artifacts: bool = True

    def add_artifact(self, name: str, data: bytes) -> str:
        existing = self.artifacts.get(name)
        if existing is not None and existing != data:
            raise ValueError(f"artifact {name} produced twice with different content")
        self.artifacts[name] = data
        return name
