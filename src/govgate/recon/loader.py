"""Read the reconciliation inputs named in the ``reconciliation:`` section of the config."""

from __future__ import annotations

import hashlib
import os
from datetime import datetime
from decimal import Decimal
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from ..decimals import canonical_text, parse_decimal
from ..errors import GovgateError
from ..loaders.documents import Document, parse_document, validate
from ..loaders.io import read_ref
from ..loaders.policies import PolicySet
from ..loaders.tables import Row, read_table, unique
from ..model import Location
from ..semver import parse_semver
from ..timeutil import format_instant, parse_duration, parse_instant
from . import schedule
from .model import (
    Bootstrap,
    EpsilonPolicy,
    JobInputs,
    JobManifest,
    MetricExport,
    OverridePacket,
    PartnerComm,
    ReconInputs,
    ReconPolicy,
    RemediationEvidence,
    RunAck,
    SchedulerRow,
    Tolerance,
)
from .schedule import schedule_settings

if TYPE_CHECKING:
    import pluggy

    from ..config import Config

LEADERSHIP_FILE = "leadership.json"
PARTNER_FILE = "partner_annex.json"
MANIFEST_FILE = "manifest.yaml"
MAX_WINDOWS = schedule.MAX_WINDOWS


def canonical_value(value: Decimal) -> str:
    """The text of a metric value in the ingest-hash canonical form (``12.50`` -> ``12.5``,
    ``-0.00`` -> ``0``, ``1E+3`` -> ``1000``); exact at any number of digits."""
    return canonical_text(value)


def ingest_hash(values: dict[str, Decimal]) -> str:
    """``sha256:`` of the lines ``metric_id,value\\n`` sorted by metric_id (UTF-8), as
    docs/canonical.md writes it down."""
    text = "".join(f"{m},{canonical_value(values[m])}\n" for m in sorted(values))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def to_decimal(value: Any, source: str, where: str, text: str | None = None) -> Decimal:
    """An input number, exact and bounded (see :mod:`govgate.decimals`)."""
    return parse_decimal(value, source=source, where=where, text=text)


def _utc_window(value: Any, source: str, where: str) -> datetime:
    """A window boundary must be written in UTC itself, not merely carry some offset."""
    instant = parse_instant(value, source=source, where=where)
    text = str(value)
    if not (text.endswith("Z") or text.endswith("+00:00") or text.endswith("+00")):
        raise GovgateError(
            f"window boundary {text!r} is not UTC (window_tz_policy is UTC: write ...Z)",
            source=source, where=where,
        )
    return instant


def _line_prefix(line: int | None) -> str:
    return f"line {line}, " if line else ""


def _opt_instant(row: Row, column: str) -> datetime | None:
    value = row.get(column)
    return None if value is None else parse_instant(value, source=row.source,
                                                    where=row.where(column))


def load_recon_policy(policies: PolicySet, as_of: datetime) -> ReconPolicy:
    doc = policies.active("reconciliation_policy", as_of)
    if doc is None:
        raise GovgateError("no reconciliation_policy approved at or before the as-of instant",
                           source="policies")
    data, src = doc.data, doc.source
    sched = data["schedule"]
    paging = data.get("paging", {})
    anchor = _utc_window(sched["anchor"], src, "/schedule/anchor")
    return ReconPolicy(
        version=doc.version,
        source=src,
        anchor=anchor,
        run_offset=parse_duration(sched.get("run_offset", "PT0S"), source=src,
                                  where="/schedule/run_offset"),
        contract_max_semver=parse_semver(data["contract_max_semver"], source=src),
        contract_max_semver_text=data["contract_max_semver"],
        page_max_gap=parse_duration(paging.get("max_gap", "P7D"), source=src,
                                    where="/paging/max_gap"),
        page_grace=parse_duration(paging.get("grace", "PT0S"), source=src,
                                  where="/paging/grace"),
        block_states=frozenset(data.get("block_states", ["red"])),
        **schedule_settings(doc.document, anchor),
    )


def load_epsilon_policies(policies: PolicySet) -> dict[str, EpsilonPolicy]:
    dictionaries = policies.of_kind("metric_dictionary")
    if not dictionaries:
        raise GovgateError("no metric_dictionary policy found", source="policies")
    routes: dict[str, str] = {}
    for d in dictionaries:
        for m in d.data["metrics"]:
            routes[m["metric_id"]] = m["owner_route"]
    result: dict[str, EpsilonPolicy] = {}
    for doc in policies.of_kind("epsilon_policy"):
        tolerances: dict[str, Tolerance] = {}
        for metric_id, tol in sorted(doc.data["metrics"].items()):
            where = f"/metrics/{metric_id}"
            line = doc.document.line_of(where)
            if metric_id not in routes:
                raise GovgateError(
                    f"unknown metric_id {metric_id!r}: not in the metric dictionary",
                    source=doc.source, where=f"line {line}, {where}" if line else where,
                )
            # A YAML float is read back from its text: 0.10000000000000000001 stays itself.
            tolerances[metric_id] = Tolerance(
                abs_tol=to_decimal(tol["abs_tol"], doc.source, where + "/abs_tol",
                                   doc.document.number_text(where + "/abs_tol")),
                rel_tol=to_decimal(tol["rel_tol"], doc.source, where + "/rel_tol",
                                   doc.document.number_text(where + "/rel_tol")),
                owner_route=routes[metric_id],
            )
        result[doc.version] = EpsilonPolicy(doc.version, tolerances, doc.source,
                                            doc.approved_dt_utc, doc.data.get("approved_by"))
    return result


def _rows(config: Config, hook: pluggy.HookRelay, key: str, kind: str) -> list[Row]:
    ref = config.section("reconciliation").get(key)
    return [] if ref is None else read_table(read_ref(config, hook, ref), ref, kind)


def load_runs(config: Config, hook: pluggy.HookRelay) -> tuple[SchedulerRow, ...]:
    rows = _rows(config, hook, "runs", "scheduler_run")
    unique(rows, "job_run_id")
    runs = []
    # In file order, each table row released once it is a SchedulerRow: a large export is then
    # never held twice (memory, benchmarks/bench_table_memory.py).
    rows.reverse()
    while rows:
        row = rows.pop()
        v = row.values
        status, skip = v["status"], v.get("skip_reason")
        if status == "SKIPPED" and skip is None:
            raise GovgateError("a SKIPPED row needs a skip_reason", source=row.source,
                               where=row.where("skip_reason"))
        if status != "SKIPPED" and skip is not None:
            raise GovgateError(f"skip_reason is set but status is {status}", source=row.source,
                               where=row.where("skip_reason"))
        if status != "SKIPPED" and v.get("completed_at") is None and v.get("started_at") is None:
            raise GovgateError(f"a {status} row needs started_at or completed_at",
                               source=row.source, where=row.where("completed_at"))
        scheduled = parse_instant(v["scheduled_at"], source=row.source,
                                  where=row.where("scheduled_at"))
        started, completed = _opt_instant(row, "started_at"), _opt_instant(row, "completed_at")
        _check_time_order(row, scheduled, started, completed)
        runs.append(SchedulerRow(
            job_run_id=v["job_run_id"],
            scheduled_at=scheduled,
            started_at=started,
            completed_at=completed,
            skip_reason=skip,
            artifact_uri=v.get("artifact_uri"),
            status=status,
            location=Location(row.source, row.number),
        ))
    return tuple(sorted(runs, key=lambda r: (r.scheduled_at, r.job_run_id)))


def _check_time_order(row: Row, scheduled: datetime, started: datetime | None,
                      completed: datetime | None) -> None:
    """A row's own timestamps in the order a run lives them: scheduled, started, completed.

    A row that contradicts itself (completed before it started, or before it was scheduled,
    which is after its window closed) describes no run that happened: bad input, naming the
    row, rather than a verdict drawn from it.
    """
    order = [("scheduled_at", scheduled), ("started_at", started), ("completed_at", completed)]
    present = [(name, at) for name, at in order if at is not None]
    for index, (name, at) in enumerate(present):
        for earlier_name, earlier in present[:index]:
            if at < earlier:
                raise GovgateError(
                    f"{name} {format_instant(at)} is before {earlier_name} "
                    f"{format_instant(earlier)}: a run is scheduled, then starts, then completes",
                    source=row.source, where=row.where(name))


def _export(doc: Document, side: str) -> MetricExport:
    data, src = doc.data, doc.source
    values: dict[str, Decimal] = {}
    lines: dict[str, int | None] = {}
    for index, item in enumerate(data["rows"]):
        where = f"/rows/{index}"
        metric_id = item["metric_id"]
        line = doc.line_of(where)
        if metric_id in values:
            raise GovgateError(f"duplicate metric_id {metric_id!r}", source=src,
                               where=f"line {line}, {where}" if line else where)
        values[metric_id] = to_decimal(item["value"], src, where + "/value",
                                       doc.number_text(where + "/value"))
        lines[metric_id] = line
    footer = data.get("footer")
    declared = footer["ingest_hash"] if footer else data["ingest_hash"]
    return MetricExport(
        side=side,
        export_id=data["leadership_rollup_query_id" if side == "leadership"
                       else "partner_annex_export_id"],
        tuple_revision_hash=data["tuple_revision_hash"],
        window_tz_policy=data["window_tz_policy"],
        start_inclusive=_utc_window(data["start_inclusive"], src, "/start_inclusive"),
        end_exclusive=_utc_window(data["end_exclusive"], src, "/end_exclusive"),
        declared_ingest_hash=declared,
        computed_ingest_hash=ingest_hash(values),
        footer_schema_semver=footer["footer_schema_semver"] if footer else None,
        values=values,
        value_lines=lines,
        location=Location(src, 1),
    )


def _document(config: Config, hook: pluggy.HookRelay, ref: str, kind: str) -> Document:
    doc = parse_document(read_ref(config, hook, ref), ref)
    validate(doc.data, kind, ref, doc)
    return doc


def load_jobs(config: Config, hook: pluggy.HookRelay) -> dict[str, JobInputs]:
    from ..sources.files import kind_of, resolve_path

    ref = config.section("reconciliation")["jobs"]
    # Refused before it is listed: the names of folders outside the project are not printed.
    folder = resolve_path(ref, config.base, config.section("sources"))
    if kind_of(folder, ref) != "folder":
        raise GovgateError("jobs folder not found", source=ref)
    # Keyed by the folder's name: the folder is the run the inputs were filed for. A manifest
    # naming another job_run_id is a finding on this run (recon.provenance), not a second run.
    jobs: dict[str, JobInputs] = {}
    # '/' on every platform: these references name files in findings and reports, which
    # must be the same bytes on Windows as on Linux. Built as text (a Path per file cost a
    # tenth of loading a long schedule); the folders in Path order (case-blind on Windows).
    prefix = str(PurePosixPath(ref))
    with os.scandir(folder) as entries:
        names = [entry.name for entry in entries if entry.is_dir()]
    names.sort(key=str.lower if os.name == "nt" else None)
    for name in names:
        base = name if prefix == "." else f"{prefix}/{name}"
        mref = f"{base}/{MANIFEST_FILE}"
        mdoc = _document(config, hook, mref, "job_manifest")
        m = mdoc.data
        manifest = JobManifest(
            job_run_id=m["job_run_id"],
            leadership_rollup_query_id=m["leadership_rollup_query_id"],
            partner_annex_export_id=m["partner_annex_export_id"],
            tuple_revision_hash=m["tuple_revision_hash"],
            epsilon_policy_version=m["epsilon_policy_version"],
            window_tz_policy=m["window_tz_policy"],
            start_inclusive=_utc_window(m["start_inclusive"], mref, "/start_inclusive"),
            end_exclusive=_utc_window(m["end_exclusive"], mref, "/end_exclusive"),
            location=Location(mref, 1),
        )
        leadership = _export(_document(config, hook, f"{base}/{LEADERSHIP_FILE}",
                                       "leadership_rollup"), "leadership")
        partner = _export(_document(config, hook, f"{base}/{PARTNER_FILE}", "partner_annex"),
                          "partner")
        jobs[name] = JobInputs(manifest, leadership, partner, name)
    return jobs


def load_recon_inputs(config: Config, hook: pluggy.HookRelay, policies: PolicySet,
                      as_of: datetime) -> ReconInputs:
    """Load and cross-check everything the reconciliation rules need."""
    policy = load_recon_policy(policies, as_of)
    epsilon = load_epsilon_policies(policies)
    runs = load_runs(config, hook)
    from ..sources.files import resolving_once

    with resolving_once():
        jobs = load_jobs(config, hook)
    run_ids = {r.job_run_id for r in runs}
    scheduled = {r.job_run_id: r.scheduled_at for r in runs}
    for job_id, job in jobs.items():
        if job_id not in run_ids:
            raise GovgateError(f"job folder {job_id!r} has no scheduler row (a job folder is "
                               "named by its run's job_run_id)",
                               source=job.manifest.location.path, where="/job_run_id")
        if scheduled[job_id] > as_of:
            continue  # not run yet at as-of: the as-of view drops it (govgate.asof)
        eps = epsilon.get(job.manifest.epsilon_policy_version)
        if eps is None:
            raise GovgateError(
                f"epsilon_policy_version {job.manifest.epsilon_policy_version} is not in the "
                f"policies folder (have: {', '.join(sorted(epsilon)) or 'none'})",
                source=job.manifest.location.path, where="/epsilon_policy_version")
        for export in (job.leadership, job.partner):
            for metric_id in sorted(export.values):
                if metric_id not in eps.tolerances:
                    raise GovgateError(
                        f"metric_id {metric_id!r} has no tolerance in epsilon_policy "
                        f"{eps.version} ({eps.source})",
                        source=export.location.path,
                        where=_line_prefix(export.value_lines[metric_id]) + "metric_id")
    return ReconInputs(
        policy=policy,
        epsilon_policies=epsilon,
        runs=runs,
        jobs=jobs,
        acks=_acks(config, hook),
        evidence=_evidence(config, hook),
        overrides=_overrides(config, hook),
        bootstrap=_bootstrap(config, hook),
        comms=_comms(config, hook),
    )


def _acks(config: Config, hook: pluggy.HookRelay) -> tuple[RunAck, ...]:
    rows = _rows(config, hook, "acks", "run_ack")
    unique(rows, "ack_id")
    return tuple(RunAck(
        ack_id=r.values["ack_id"],
        job_run_id=(r.values.get("job_run_id") or "").strip() or None,
        signer_id=r.values["signer_id"],
        ack_dt_utc=parse_instant(r.values["ack_dt_utc"], source=r.source,
                                 where=r.where("ack_dt_utc")),
        location=Location(r.source, r.number),
    ) for r in rows)


def _evidence(config: Config, hook: pluggy.HookRelay) -> tuple[RemediationEvidence, ...]:
    rows = _rows(config, hook, "evidence", "remediation_evidence")
    unique(rows, "evidence_id")
    return tuple(RemediationEvidence(
        evidence_id=r.values["evidence_id"],
        job_run_id=r.values["job_run_id"],
        attached_at=parse_instant(r.values["attached_at"], source=r.source,
                                  where=r.where("attached_at")),
        location=Location(r.source, r.number),
    ) for r in rows)


def _overrides(config: Config, hook: pluggy.HookRelay) -> tuple[OverridePacket, ...]:
    rows = _rows(config, hook, "overrides", "override_packet")
    unique(rows, "audit_id")
    packets = []
    for r in rows:
        ids: set[str] = set()
        starts: set[datetime] = set()
        for item in r.values["covers"]:
            if item.startswith("window@"):
                starts.add(_utc_window(item.removeprefix("window@"), r.source, r.where("covers")))
            else:
                ids.add(item)
        packets.append(OverridePacket(
            audit_id=r.values["audit_id"],
            covers_job_run_ids=frozenset(ids),
            covers_window_starts=frozenset(starts),
            approved_by=r.values["approved_by"],
            approved_at=parse_instant(r.values["approved_at"], source=r.source,
                                      where=r.where("approved_at")),
            reason=r.values["reason"],
            location=Location(r.source, r.number),
        ))
    return tuple(packets)


def _bootstrap(config: Config, hook: pluggy.HookRelay) -> Bootstrap | None:
    ref = config.section("reconciliation").get("bootstrap")
    if ref is None:
        return None
    doc = _document(config, hook, ref, "bootstrap")
    return Bootstrap(
        job_run_id=doc.data["job_run_id"],
        documented_by=doc.data["documented_by"],
        documented_at=parse_instant(doc.data["documented_at"], source=ref,
                                    where="/documented_at"),
        location=Location(ref, doc.line_of("/job_run_id")),
    )


def _comms(config: Config, hook: pluggy.HookRelay) -> tuple[PartnerComm, ...]:
    rows = _rows(config, hook, "partner_comms", "partner_comm")
    unique(rows, "comms_id")
    return tuple(PartnerComm(
        comms_id=r.values["comms_id"],
        sent_at=parse_instant(r.values["sent_at"], source=r.source, where=r.where("sent_at")),
        window_start=_utc_window(r.values["window_start"], r.source, r.where("window_start")),
        channel=r.values.get("channel") or "",
        location=Location(r.source, r.number),
    ) for r in rows)


def window_grid(policy: ReconPolicy, as_of: datetime) -> list[tuple[datetime, datetime, datetime]]:
    """Scheduled windows ``(start, end, scheduled_at)`` whose job is due at or before as-of."""
    return schedule.window_grid(policy, as_of)
