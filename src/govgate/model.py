"""Frozen values shared by every phase: findings, pages, ledger records and the gate result.

Domain inputs of each lesson live beside their loaders (``govgate.recon.model``,
``govgate.fatigue.model``); this module holds what crosses phases and reaches reporters.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Severity(enum.StrEnum):
    """How much a finding weighs in the gate decision."""

    #: Blocks the gate unless waived.
    ERROR = "error"
    #: Shown and counted; blocks only when the policy says so (``block_states`` includes amber).
    WARNING = "warning"
    #: Evidence for the reader; never blocks.
    INFO = "info"


class GovernanceState(enum.StrEnum):
    """The reconciliation governance state of lesson 166."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"


@dataclass(frozen=True, slots=True)
class Location:
    """Where in an input file a finding comes from (a row, a JSON pointer, a line)."""

    path: str
    line: int | None = None
    pointer: str | None = None

    def __post_init__(self) -> None:
        if "://" in self.path:  # reports name a reference by its source name, never its query
            from .sources.names import source_name

            object.__setattr__(self, "path", source_name(self.path))

    def render(self) -> str:
        out = self.path
        if self.line is not None:
            out += f":{self.line}"
        if self.pointer:
            out += f"#{self.pointer}"
        return out


@dataclass(frozen=True, slots=True)
class Finding:
    """One result of one rule about one subject.

    ``rule`` is a stable dotted id (``reconcile.epsilon``), ``subject`` what it is about
    (a ``job_run_id``, a ``metric_id``, a signer), ``owner_route`` who must act.
    """

    rule: str
    subject: str
    severity: Severity
    message: str
    owner_route: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    location: Location | None = None
    waived_by: str | None = None

    @property
    def blocking(self) -> bool:
        return self.severity is Severity.ERROR and self.waived_by is None

    def sort_key(self) -> tuple[int, str, str, str]:
        order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}[self.severity]
        return (order, self.rule, self.subject, self.message)


@dataclass(frozen=True, slots=True)
class Page:
    """A page for the on-call owner, shaped after the PagerDuty Events API v2.

    ``dedup_key`` is stable for the condition it reports, so a re-run never pages twice.
    ``action`` is the Events API ``event_action``: ``trigger`` when the condition begins,
    ``resolve`` (same ``dedup_key``, ``at`` the instant it ended) when it is over.
    """

    dedup_key: str
    summary: str
    source: str
    severity: str  # critical | error | warning | info (PagerDuty's vocabulary)
    at: datetime
    details: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    action: str = "trigger"  # trigger | resolve


@dataclass(frozen=True, slots=True)
class LedgerRecord:
    """A record govgate appends to its ledger (promote, revert, page, incident, ...).

    ``key`` identifies the fact, so appending it again is a no-op: re-runs never duplicate.
    """

    kind: str
    key: str
    at: datetime
    data: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True, slots=True)
class Episode:
    """One spell of a paged condition, from when it began to when it ended (if by as-of).

    What a pager needs to resolve what it triggered: the trigger's ``key`` (the page's
    ``dedup_key``), and when and why the condition ended. A closed episode never changes when
    evaluated at a later as-of; an open one may still grow (``missed_windows``).
    """

    #: ``reconcile.red`` (a red state) or ``reconcile.gap`` (no PASS for too long).
    kind: str
    #: The ``dedup_key`` of the page that triggered for it.
    key: str
    opened_at: datetime
    #: When the condition ended, None while it holds at as-of.
    closed_at: datetime | None
    #: What ended it: the ``job_run_id`` of the PASS run, or ``override:<audit_id>,...``.
    closed_by: str | None
    #: The windows the trigger named (red: the uncovered missed windows that made it red).
    windows: tuple[str, ...]
    #: Every window missed from the episode's first window until it ended (or until as-of).
    missed: tuple[str, ...]
    #: The ledger key of the incident it opened, if any.
    incident_key: str | None = None

    @property
    def missed_windows(self) -> int:
        return len(self.missed)


@dataclass(frozen=True, slots=True)
class GateResult:
    """The decision of one evaluation: what a reporter renders and the exit code follows."""

    as_of: datetime
    passed: bool
    state: GovernanceState
    findings: tuple[Finding, ...]
    pages: tuple[Page, ...] = ()
    records: tuple[LedgerRecord, ...] = ()
    artifacts: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    sections: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    #: Spells of paged conditions up to as-of, open or closed, in the order they opened.
    episodes: tuple[Episode, ...] = ()

    @property
    def blocking(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.blocking)
