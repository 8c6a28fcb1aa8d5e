"""The files ``govgate init`` writes: a small, commented project that passes at once.

Why the dates are computed, not fixed: the schedule (anchor, period, run_offset) makes a window
due every week up to as-of, and a due window without a scheduler row is a *missed* window. A
sample with fixed dates would therefore turn amber one week later and red the week after,
purely because time passed. So the sample is written *relative to the as-of instant of the
``init`` run* (default: now): its two weekly runs are the two most recent windows due at that
instant, its ack events lie in the 14 days before the last nightly refresh. Written at the same
as-of it is byte-identical; ``govgate check --as-of`` that instant replays it forever, and with
the default as-of (now) it shows what the gate does when the job stops delivering rows (amber
after one missed week, red and blocked after two) -- the point at which a team replaces the
sample rows with its own job's.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from .recon.loader import ingest_hash
from .simulation import job_run_id
from .timeutil import format_instant

#: The schedule the sample's reconciliation policy declares.
PERIOD = timedelta(days=7)
RUN_OFFSET = timedelta(hours=6)
#: How long a sample job runs (its completion is never after as-of).
RUN_TIME = timedelta(minutes=20)

#: The sample's weekly metrics: (metric_id, owner_route, description, abs_tol, rel_tol, value).
METRICS = (
    ("build_upload_success", "build-eng", "successful store build uploads, percent",
     "0.01", "0.001", "99.20"),
    ("crash_free_sessions", "live-ops", "crash-free sessions, percent", "0.01", "0.001",
     "99.61"),
    ("tickets_p95", "support-ops",
     "95th percentile first-response time on player tickets, minutes", "0.5", "0.01", "42.5"),
)

#: A team of four on the lesson's four routes: each person is primary on one route and backup
#: on another, the overlap the policy acknowledges in ``accepted_overlaps``.
ROUTES = (
    ("publish_gate", "alex", "pat", "0.50"),
    ("faq_rewrite", "dana", "alex", "4.00"),
    ("freeze_bypass", "morgan", "dana", "2.00"),
    ("exec_readback", "pat", "morgan", "24.00"),
)


def last_window_end(as_of: datetime) -> datetime:
    """The end of the most recent weekly window (Monday 00:00 UTC) whose run is due by as-of."""
    day = as_of.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    monday = day - timedelta(days=day.weekday())
    return monday if monday + RUN_OFFSET <= as_of else monday - PERIOD


def _json(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def project_files(as_of: datetime) -> dict[str, str]:
    """Every file of the sample project, by relative POSIX path, computed from ``as_of``."""
    end = last_window_end(as_of)
    anchor = end - 2 * PERIOD
    approved = anchor - PERIOD
    refresh = as_of.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    files: dict[str, str] = {}
    files["govgate.yaml"] = CONFIG.format(as_of=format_instant(as_of))
    files.update(_policies(anchor, approved, as_of))
    runs = []
    for index in range(2):
        start = anchor + index * PERIOD
        run_id = job_run_id(start)
        scheduled = start + PERIOD + RUN_OFFSET
        completed = min(scheduled + RUN_TIME, as_of)
        runs.append((run_id, scheduled, completed))
        files.update(_job(run_id, start, start + PERIOD))
    files["governance/reconciliation/scheduler_runs.csv"] = (
        "job_run_id,scheduled_at,started_at,completed_at,skip_reason,artifact_uri,status\n"
        + "".join(f"{r},{format_instant(s)},{format_instant(s)},{format_instant(c)},,"
                  f"diff/{r}.json,PASS\n" for r, s, c in runs))
    files["governance/reconciliation/bootstrap.yaml"] = BOOTSTRAP.format(
        run=runs[0][0], at=format_instant(anchor))
    files["governance/reconciliation/run_acks.csv"] = (
        "ack_id,job_run_id,signer_id,ack_dt_utc\n"
        f"ack-0001,{runs[0][0]},alex,{format_instant(runs[0][2] + timedelta(hours=2))}\n")
    files["governance/fatigue/cert_windows.yaml"] = CERT_WINDOWS.format(
        opens=format_instant(refresh - timedelta(days=28)),
        closes=format_instant(refresh + timedelta(days=28)))
    files["governance/fatigue/signer_ack_event.csv"] = _events(refresh)
    files[".github/workflows/govgate.yml"] = WORKFLOW
    files[".pre-commit-config.yaml"] = PRECOMMIT
    files[".gitignore"] = GITIGNORE
    return files


def _policies(anchor: datetime, approved: datetime, as_of: datetime) -> dict[str, str]:
    at = format_instant(approved)
    dictionary = "".join(
        f"  - metric_id: {m}\n    owner_route: {route}\n    description: {text}\n"
        for m, route, text, _, _, _ in METRICS)
    tolerances = "".join(f"  {m}: {{abs_tol: {a}, rel_tol: {r}}}\n"
                         for m, _, _, a, r, _ in METRICS)
    routes = "".join(
        f"  - owner_route: {route}\n    primary_signer: {primary}\n"
        f"    backup_signer: {backup}\n"
        "    promote_trigger: [heatmap_red, pending_acks_aged, manual_invocation]\n"
        "    revert_condition: green_7d\n"
        for route, primary, backup, _ in ROUTES)
    until = format_instant(approved + timedelta(days=180))
    overlaps = "".join(
        f"  - signer_id: {person}\n    accepted_by: sam\n"
        "    reason: a team of four covers four routes; each of us is primary on one and "
        "backup on another\n"
        f"    until: {until}\n"
        for person in sorted({p for _, p, _, _ in ROUTES}))
    return {
        "policies/reconciliation-policy-1.0.0.yaml": RECON_POLICY.format(
            at=at, anchor=format_instant(anchor)),
        "policies/metric-dictionary-1.0.0.yaml": DICTIONARY.format(at=at, metrics=dictionary),
        "policies/epsilon-policy-1.0.0.yaml": EPSILON.format(at=at, metrics=tolerances),
        "policies/backup-owner-policy-1.0.0.yaml": BACKUP_POLICY.format(
            at=at, routes=routes, overlaps=overlaps),
    }


def _job(run_id: str, start: datetime, end: datetime) -> dict[str, str]:
    folder = f"governance/reconciliation/jobs/{run_id}"
    values = {m: Decimal(v) for m, _, _, _, _, v in METRICS}
    tuple_hash = f"tuple-{run_id}"
    window = {"window_tz_policy": "UTC", "start_inclusive": format_instant(start),
              "end_exclusive": format_instant(end)}
    rows = [{"metric_id": m, "value": str(values[m])} for m in sorted(values)]
    return {
        f"{folder}/manifest.yaml": MANIFEST.format(
            run=run_id, tuple_hash=tuple_hash, start=window["start_inclusive"],
            end=window["end_exclusive"]),
        f"{folder}/leadership.json": _json({
            "leadership_rollup_query_id": f"lr-{run_id}", "tuple_revision_hash": tuple_hash,
            **window, "ingest_hash": ingest_hash(values), "rows": rows}),
        f"{folder}/partner_annex.json": _json({
            "partner_annex_export_id": f"annex-{run_id}", "tuple_revision_hash": tuple_hash,
            **window,
            "footer": {"footer_schema_semver": "1.0.0", "ingest_hash": ingest_hash(values)},
            "rows": rows}),
    }


def _events(refresh: datetime) -> str:
    """Three quick acks per signer on the route they are primary on, inside the 14 days the
    nightly refresh at ``refresh`` looks at: everyone green."""
    lines = ["ack_event_id,signer_id,owner_route,cert_window_id,request_dt_utc,ack_dt_utc,"
             "ack_outcome,sla_target_hours"]
    number = 0
    for days in (10, 6, 2):
        for route, primary, _, sla in ROUTES:
            number += 1
            requested = refresh - timedelta(days=days) + timedelta(hours=9, minutes=number)
            answered = requested + timedelta(minutes=int(Decimal(sla) * 12))  # SLA / 5
            window = "steam-next-fest" if route == "publish_gate" else ""
            lines.append(f"ev-{number:04d},{primary},{route},{window},"
                         f"{format_instant(requested)},{format_instant(answered)},approved,{sla}")
    return "\n".join(lines) + "\n"


CONFIG = """\
# govgate configuration (written by `govgate init`; reference: docs/configuration.md).
# Paths are relative to this file's folder and may not leave it; every input may also be an
# https:// or postgresql:// reference (docs/sources.md).
#
# The sample data was written relative to {as_of}:
# its two weekly runs are the two most recent windows due then.
# `govgate check --as-of {as_of}` replays it at that instant; with
# the default as-of (now) the gate shows what happens when the job stops delivering rows: a
# week without a scheduler row is a missed window (amber), two are red and block publish.
# Replace the files under governance/ with your job's exports before that.
policies: policies              # folder of versioned policy documents (kind + semver version)
output: govgate-out             # result.json, reports and content-addressed artifacts
ledger: .govgate/ledger.jsonl   # append-only record of incidents, pages and promotes
# block_states: [red]           # red always blocks; [red, amber] blocks amber too

reconciliation:                 # lesson 166: the weekly SLA snapshot reconciliation
  runs: governance/reconciliation/scheduler_runs.csv     # one row per scheduled window
  jobs: governance/reconciliation/jobs                   # one folder per job_run_id
  bootstrap: governance/reconciliation/bootstrap.yaml    # documents the first window's run
  acks: governance/reconciliation/run_acks.csv           # signer acks of runs
  # evidence: governance/reconciliation/remediation_evidence.csv  # turns an amber run green
  # overrides: governance/reconciliation/override_packets.yaml    # audit_id overrides
  # partner_comms: governance/reconciliation/partner_comms.csv    # numbers sent to partners

fatigue:                        # lesson 174: the signer fatigue heat-map
  events: governance/fatigue/signer_ack_event.csv        # every ack request and answer
  cert_windows: governance/fatigue/cert_windows.yaml     # platform cert windows
  # manual_invocations: governance/fatigue/manual_invocations.yaml
  # forced_reverts: governance/fatigue/forced_reverts.yaml
  # escalation_decisions: governance/fatigue/escalation_decisions.yaml

paging:
  outbox: .govgate/pager-outbox.jsonl   # pages are appended here (add a webhook: docs/ci.md)

# waivers: waivers.yaml         # time-boxed waivers of single findings (docs/ci.md)
"""

RECON_POLICY = """\
# The weekly reconciliation job (lesson 166): its schedule, the annex parser ceiling, paging.
kind: reconciliation_policy
version: 1.0.0
approved_by: release-lead
approved_dt_utc: {at}
window_tz_policy: UTC
schedule:
  # Window k covers [anchor + k*period, anchor + (k+1)*period), in UTC. Its job is due
  # run_offset after the window closes (scheduled_at = window end + run_offset): a run
  # belongs to the window whose end + run_offset is its scheduled_at. A window is due once
  # that instant is at or before as-of; a due window with no scheduler row is a missed one.
  anchor: {anchor}
  period: P7D
  run_offset: PT6H
# Lesson 165 replay-parser ceiling: an annex with a newer footer_schema_semver is rejected.
contract_max_semver: 1.2.0
paging:
  # Page when no job completed successfully for longer than max_gap + grace.
  max_gap: P7D
  grace: PT12H
# Red always blocks; add amber ([red, amber]) for a stricter gate.
block_states: [red]
"""

DICTIONARY = """\
# Lesson 164 metric dictionary: the metrics reconciled weekly and who owns a variance.
kind: metric_dictionary
version: 1.0.0
approved_by: release-lead
approved_dt_utc: {at}
metrics:
{metrics}"""

EPSILON = """\
# Tolerance per metric_id: a metric passes when
# |partner - leadership| <= max(abs_tol, rel_tol * |leadership|). Manifests name this version.
kind: epsilon_policy
version: 1.0.0
approved_by: release-lead
approved_dt_utc: {at}
metrics:
{metrics}"""

BACKUP_POLICY = """\
# Lesson 174 backup owner promote policy: a primary and a different backup per owner route.
# The four routes and their SLAs (publish_gate 0.5 h, faq_rewrite 4 h, freeze_bypass 2 h,
# exec_readback 24 h) are the lesson's defaults; declare more under owner_routes (docs/fatigue.md).
kind: backup_owner_policy
version: 1.0.0
approved_by: team-lead
approved_dt_utc: {at}
signed_ack: ack-tl-0001          # the team lead's signed ack of this approval
team_lead: sam                   # paged at rung 2 of the escalation ladder
thresholds:                      # the lesson's values (also the defaults when left out)
  window_days: 14                # the heat-map looks at the 14 days before each refresh
  red_min_windows: 3             # red: >= 3 concurrent cert windows and >= 1 breach
  red_min_breaches: 1
  amber_min_windows: 3           # amber: >= 3 windows, or an average latency ratio >= 0.75
  amber_ratio: "0.75"
  quiet_ratio: "0.5"             # recovering ends after 7 quiet refreshes (ratio < 0.5)
  recovering_days: 7
  aged_factor: "1.5"             # pending_acks_aged: pending longer than 1.5 x the SLA
  rung2_hours: 48                # rung 2: the backup slips within 48 h of the promote
# owner_routes:                  # more routes beyond the lesson's four, with their SLA
#   - {{owner_route: store_listing, sla_target_hours: 8}}
routes:
{routes}# One person on several routes is a cross-route finding. A small team accepts it here (who,
# why, until when): it is then reported once as accepted, and as a warning again after until.
accepted_overlaps:
{overlaps}"""

MANIFEST = """\
# The job manifest of {run}: which exports it compared, under which epsilon policy.
job_run_id: {run}
leadership_rollup_query_id: lr-{run}
partner_annex_export_id: annex-{run}
tuple_revision_hash: {tuple_hash}
epsilon_policy_version: 1.0.0
window_tz_policy: UTC
start_inclusive: '{start}'
end_exclusive: '{end}'
# leadership.json and partner_annex.json carry an ingest_hash: print it with
#   govgate hash leadership.json
"""

BOOTSTRAP = """\
# The documented first-run bootstrap: the first scheduled window's run is green without a
# previous window (a first PASS without this record is amber).
job_run_id: {run}
documented_by: release-lead
documented_at: '{at}'
"""

CERT_WINDOWS = """\
# Platform cert windows. Events name them in cert_window_id; an unknown id is a finding.
- cert_window_id: steam-next-fest
  platform: steam
  opens_at: '{opens}'
  closes_at: '{closes}'
  critical_routes: [publish_gate]
"""

WORKFLOW = """\
# Block publish merges on the release gate. Replace `your-org/govgate@v1` with the repository
# that hosts govgate's action and a pinned version (docs/ci.md).
name: govgate

on:
  pull_request:
    paths:
      - govgate.yaml
      - policies/**
      - governance/**
      - .github/workflows/govgate.yml

permissions:
  contents: read

jobs:
  gate:
    runs-on: ubuntu-latest
    timeout-minutes: 10
    steps:
      - uses: actions/checkout@v5
        with:
          persist-credentials: false
      - uses: actions/setup-python@v6
        with:
          python-version: "3.12"
      - name: govgate release gate
        id: govgate
        uses: your-org/govgate@v1
        with:
          config: govgate.yaml
          block-on: red
"""

#: Files a project may already have: ``init`` keeps an existing one instead of refusing.
OPTIONAL = frozenset({".gitignore"})

GITIGNORE = """\
# What govgate writes when it runs: reports and artifacts, the local ledger and pager outbox.
# (A commit must not pick them up: the pre-commit hook would see files change under it.)
govgate-out/
.govgate/
"""

PRECOMMIT = """\
# pre-commit hooks for the governance files (https://pre-commit.com). They run the govgate
# installed where you commit; to pin a version instead, use the hooks govgate ships:
#   - repo: https://github.com/your-org/govgate
#     rev: v1.0.0
#     hooks: [{id: govgate-check}, {id: govgate-validate}]
repos:
  - repo: local
    hooks:
      - id: govgate-validate
        name: govgate validate
        entry: govgate validate
        language: system
        types_or: [yaml, json, csv, toml]
        files: ^(govgate\\.yaml|policies/|governance/)
      - id: govgate-check
        name: govgate check
        entry: govgate check --no-deliver
        language: system
        pass_filenames: false
        files: ^(govgate\\.yaml|policies/|governance/)
"""
