"""Values of the reconciliation domain, named as lesson 166 and DOMAIN.md name them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cached_property

from ..model import Location
from .cron import CronExpr

RUN_STATUSES = ("PASS", "FAIL", "SKIPPED")
SKIP_REASONS = ("maintenance", "credential_rotation", "manual_pause")


@dataclass(frozen=True, slots=True)
class Tolerance:
    """Epsilon for one ``metric_id``: pass when ``|p - l| <= max(abs_tol, rel_tol * |l|)``."""

    abs_tol: Decimal
    rel_tol: Decimal
    owner_route: str


@dataclass(frozen=True, slots=True)
class EpsilonPolicy:
    version: str
    tolerances: dict[str, Tolerance] = field(hash=False)
    source: str
    #: None for a draft: a draft, or a policy approved after the instant of a decision, cannot
    #: decide a run (see recon.provenance).
    approved_at: datetime | None = None
    approved_by: str | None = None


@dataclass(frozen=True, slots=True)
class ReconPolicy:
    """The schedule and limits of the weekly job (``kind: reconciliation_policy``)."""

    version: str
    source: str
    #: Start of the first scheduled window (a documented first-run bootstrap may cover it).
    anchor: datetime
    period: timedelta
    #: The job for window [start, end) is scheduled at ``end + run_offset``.
    run_offset: timedelta
    contract_max_semver: tuple[int, int, int]
    contract_max_semver_text: str
    #: Page when the gap since the last successful completion exceeds max_gap + grace.
    page_max_gap: timedelta
    page_grace: timedelta
    block_states: frozenset[str]
    #: A calendar instead of ``period``: window bounds are the expression's instants in
    #: ``timezone`` (IANA name), converted to UTC. See docs/schedule.md.
    cron: CronExpr | None = None
    timezone: str | None = None
    #: A due window without a completed run is ``late``, not missed, until ``scheduled_at +
    #: late_grace`` (or ``started_at + max_runtime`` for a run that started within the grace).
    late_grace: timedelta = timedelta(hours=1)
    max_runtime: timedelta = timedelta(hours=2)
    #: Consecutive windows without a PASS run that make the state red.
    red_after_missed: int = 2


@dataclass(frozen=True, slots=True)
class SchedulerRow:
    job_run_id: str
    scheduled_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    skip_reason: str | None
    artifact_uri: str | None
    status: str
    location: Location


@dataclass(frozen=True, slots=True)
class JobManifest:
    job_run_id: str
    leadership_rollup_query_id: str
    partner_annex_export_id: str
    tuple_revision_hash: str
    epsilon_policy_version: str
    window_tz_policy: str
    start_inclusive: datetime
    end_exclusive: datetime
    location: Location


@dataclass(frozen=True, slots=True)
class MetricExport:
    """One side of the comparison: the leadership rollup or the partner annex."""

    side: str  # leadership | partner
    export_id: str
    tuple_revision_hash: str
    window_tz_policy: str
    start_inclusive: datetime
    end_exclusive: datetime
    declared_ingest_hash: str
    computed_ingest_hash: str
    footer_schema_semver: str | None
    values: dict[str, Decimal] = field(hash=False)
    value_lines: dict[str, int | None] = field(hash=False)
    location: Location


@dataclass(frozen=True, slots=True)
class JobInputs:
    manifest: JobManifest
    leadership: MetricExport
    partner: MetricExport
    #: The run these inputs were filed for: the name of their folder under ``jobs``. The
    #: manifest's own ``job_run_id`` must equal it (None: the manifest's, for inputs built in code).
    job_run_id: str | None = None

    @property
    def run_id(self) -> str:
        return self.job_run_id or self.manifest.job_run_id


@dataclass(frozen=True, slots=True)
class RunAck:
    """A signer's acknowledgment of a reconciliation run (lesson 166, step 3)."""

    ack_id: str
    job_run_id: str | None
    signer_id: str
    ack_dt_utc: datetime
    location: Location


@dataclass(frozen=True, slots=True)
class RemediationEvidence:
    evidence_id: str
    job_run_id: str
    attached_at: datetime
    location: Location


@dataclass(frozen=True, slots=True)
class OverridePacket:
    """A manual override with an ``audit_id``; it names what it covers: ``job_run_id`` values,
    or scheduled window starts for windows that have no row at all."""

    audit_id: str
    covers_job_run_ids: frozenset[str]
    covers_window_starts: frozenset[datetime]
    approved_by: str
    approved_at: datetime
    reason: str
    location: Location


@dataclass(frozen=True, slots=True)
class Bootstrap:
    """The documented first-run bootstrap: it covers only the first scheduled window."""

    job_run_id: str
    documented_by: str
    documented_at: datetime
    location: Location


@dataclass(frozen=True, slots=True)
class PartnerComm:
    """Numbers that reached partner communications, and the week they came from."""

    comms_id: str
    sent_at: datetime
    window_start: datetime
    channel: str
    location: Location


@dataclass(frozen=True)
class ReconInputs:
    policy: ReconPolicy
    epsilon_policies: dict[str, EpsilonPolicy]
    runs: tuple[SchedulerRow, ...]
    jobs: dict[str, JobInputs]
    acks: tuple[RunAck, ...] = ()
    evidence: tuple[RemediationEvidence, ...] = ()
    overrides: tuple[OverridePacket, ...] = ()
    bootstrap: Bootstrap | None = None
    comms: tuple[PartnerComm, ...] = ()

    @cached_property
    def run_by_id(self) -> dict[str, SchedulerRow]:
        """Each scheduler row by its ``job_run_id`` (the first, should one repeat), indexed once:
        looking a run up by scanning every row made replaying a schedule quadratic."""
        index: dict[str, SchedulerRow] = {}
        for row in self.runs:
            index.setdefault(row.job_run_id, row)
        return index


@dataclass(frozen=True, slots=True)
class DiffRow:
    """One row of the per-metric diff artifact."""

    metric_id: str
    leadership_value: Decimal | None
    partner_value: Decimal | None
    delta: Decimal | None
    relative_delta: Decimal | None
    tolerance_used: Decimal | None
    result: str  # pass | fail
    owner_route: str | None  # set on fail


@dataclass(frozen=True)
class JobOutcome:
    """govgate's own verdict on a completed job run, from its inputs."""

    job_run_id: str
    status: str  # PASS | FAIL
    rows: tuple[DiffRow, ...]
    problems: tuple[str, ...]
    leadership_ingest_hash: str
    partner_ingest_hash: str
    artifact: str | None = None
    #: The verdict stands from this instant (the approval of the epsilon policy that decided it);
    #: before it the run counts as FAIL. None: from the start.
    decided_from: datetime | None = None


@dataclass(frozen=True)
class WindowOutcome:
    """One scheduled window as of an instant."""

    index: int
    start_inclusive: datetime
    end_exclusive: datetime
    scheduled_at: datetime
    #: PASS | FAIL | SKIPPED | RUNNING | MISSING (no scheduler row: a silent failure is a skip)
    #: | LATE (due, not complete, inside its grace: not counted either way yet)
    status: str
    job_run_id: str | None
    completed_at: datetime | None = None
    skip_reason: str | None = None
    #: For a LATE window: the instant it becomes a miss unless its run completes by then.
    late_until: datetime | None = None

    @property
    def passed(self) -> bool:
        return self.status == "PASS"

    @property
    def ref(self) -> str:
        """How overrides and incidents name this window: its job_run_id, else its start."""
        from ..timeutil import format_instant

        return self.job_run_id or f"window@{format_instant(self.start_inclusive)}"
