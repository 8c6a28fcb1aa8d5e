"""How ``govgate check`` grows with the reconciliation schedule: 1 year vs 10 years of DAILY
windows, each with its run, job folder, one signer ack and one partner comm.

Prints the CPU time of ``govgate check`` (a fresh process each, median of several runs) on both
projects and their ratio; target: 10 years under 5 x 1 year (linear, not quadratic: 10 x the
windows may cost 10 x to load, and the evaluation must not add a factor of the schedule).

    python benchmarks/bench_recon_scale.py [--runs N] [--keep DIR]

The projects are generated into a temporary folder (or ``--keep DIR``) with the repository's
epsilon policy 1.1.0 and metric dictionary and a daily reconciliation policy.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from govgate.recon.loader import ingest_hash  # noqa: E402
from govgate.timeutil import format_instant  # noqa: E402

ANCHOR = datetime(2016, 1, 4, tzinfo=UTC)
DAY = timedelta(days=1)
OFFSET = timedelta(hours=1)
TARGET = 5.0
METRICS = ("tickets_p95", "crash_free_sessions", "cert_ack_median_hours",
           "build_upload_success", "incident_mttr_minutes")

POLICY = """kind: reconciliation_policy
version: 1.0.0
approved_by: release-lead
approved_dt_utc: 2015-12-01T00:00:00Z
window_tz_policy: UTC
schedule:
  anchor: {anchor}
  period: P1D
  run_offset: PT1H
contract_max_semver: 1.2.0
block_states: [red]
"""


def generate(root: Path, days: int) -> datetime:
    """Write a project of ``days`` daily windows, every run PASS; returns an as-of after it."""
    (root / "policies").mkdir(parents=True)
    for name in ("epsilon-policy-1.1.0.yaml", "metric-dictionary-1.0.0.yaml"):
        text = (REPO / "policies" / name).read_text(encoding="utf-8")
        # Approved before the synthetic schedule starts.
        text = text.replace("approved_dt_utc: 2026-", "approved_dt_utc: 2015-")
        (root / "policies" / name).write_text(text, encoding="utf-8")
    (root / "policies" / "reconciliation-policy-1.0.0.yaml").write_text(
        POLICY.format(anchor=format_instant(ANCHOR)), encoding="utf-8")
    runs, acks, comms = [], [], []
    for k in range(days):
        start, end = ANCHOR + k * DAY, ANCHOR + (k + 1) * DAY
        scheduled = end + OFFSET
        run_id = f"recon-{start:%Y-%m-%d}"
        done = scheduled + timedelta(minutes=25)
        runs.append([run_id, format_instant(scheduled),
                     format_instant(scheduled + timedelta(minutes=5)), format_instant(done),
                     "", "", "PASS"])
        acks.append([f"ack-{k}", run_id, "alex", format_instant(done + timedelta(hours=1))])
        comms.append([f"pc-{k}", format_instant(done + timedelta(hours=2)),
                      format_instant(start), "partner annex"])
        folder = root / "jobs" / run_id
        folder.mkdir(parents=True)
        values = {m: Decimal(100 + (k * 7 + i) % 900) / 100 for i, m in enumerate(METRICS)}
        window = {"window_tz_policy": "UTC", "start_inclusive": format_instant(start),
                  "end_exclusive": format_instant(end)}
        rows = [{"metric_id": m, "value": str(v)} for m, v in values.items()]
        tuple_hash = f"tuple-{k:012d}"
        (folder / "manifest.yaml").write_text(json.dumps({
            "job_run_id": run_id, "leadership_rollup_query_id": f"lr-{run_id}",
            "partner_annex_export_id": f"annex-{run_id}", "tuple_revision_hash": tuple_hash,
            "epsilon_policy_version": "1.1.0", **window}), encoding="utf-8")
        (folder / "leadership.json").write_text(json.dumps({
            "leadership_rollup_query_id": f"lr-{run_id}", "tuple_revision_hash": tuple_hash,
            **window, "ingest_hash": ingest_hash(values), "rows": rows}), encoding="utf-8")
        (folder / "partner_annex.json").write_text(json.dumps({
            "partner_annex_export_id": f"annex-{run_id}", "tuple_revision_hash": tuple_hash,
            **window, "footer": {"footer_schema_semver": "1.0.0",
                                 "ingest_hash": ingest_hash(values)},
            "rows": rows}), encoding="utf-8")
    for name, header, table in (
            ("scheduler_runs.csv", ["job_run_id", "scheduled_at", "started_at", "completed_at",
                                    "skip_reason", "artifact_uri", "status"], runs),
            ("run_acks.csv", ["ack_id", "job_run_id", "signer_id", "ack_dt_utc"], acks),
            ("partner_comms.csv", ["comms_id", "sent_at", "window_start", "channel"], comms)):
        with (root / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(table)
    (root / "bootstrap.yaml").write_text(json.dumps({
        "job_run_id": runs[0][0], "documented_by": "release-lead",
        "documented_at": format_instant(ANCHOR)}), encoding="utf-8")
    (root / "govgate.yaml").write_text(json.dumps({
        "policies": "policies", "output": "govgate-out", "ledger": ".govgate/ledger.jsonl",
        "reconciliation": {"runs": "scheduler_runs.csv", "jobs": "jobs",
                           "acks": "run_acks.csv", "partner_comms": "partner_comms.csv",
                           "bootstrap": "bootstrap.yaml"},
        "paging": {"outbox": ".govgate/pager-outbox.jsonl"}}), encoding="utf-8")
    return ANCHOR + days * DAY + timedelta(hours=6)


def govgate_command() -> list[str]:
    script = Path(sys.executable).with_name("govgate")
    return [str(script)] if script.exists() else [sys.executable, "-m", "govgate"]


def cpu_seconds(root: Path, as_of: datetime) -> float:
    """CPU time (user + system) of one fresh ``govgate check`` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = {k: v for k, v in os.environ.items() if k != "GOVGATE_DEBUG"}
    proc = subprocess.run([*govgate_command(), "check", "--as-of", format_instant(as_of),
                           "--format", "json", "--no-deliver"], cwd=root, env=env,
                          capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"govgate check in {root} exited {proc.returncode}:\n"
                 f"{proc.stderr.decode()[:2000]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


#: Run in a child: load every input, then time the evaluation alone (the rules, no reading).
EVALUATE_ONLY = """
import sys, time
from datetime import datetime
from pathlib import Path
from govgate.config import load_config
from govgate.evaluate import evaluate, load_inputs
from govgate.plugins import get_plugin_manager
from govgate.timeutil import parse_instant
pm = get_plugin_manager()
config = load_config(None, cwd=Path.cwd())
pm.hook.govgate_configure.call_historic(kwargs={"config": config})
as_of = parse_instant(sys.argv[1])
inputs = load_inputs(config, pm, as_of)
start = time.process_time()
evaluate(config, pm, as_of, inputs)
print(time.process_time() - start)
"""


def evaluation_seconds(root: Path, as_of: datetime) -> float:
    proc = subprocess.run([sys.executable, "-c", EVALUATE_ONLY, format_instant(as_of)],
                          cwd=root, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"evaluation in {root} failed:\n{proc.stderr[:2000]}")
    return float(proc.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="generate the projects here and keep them")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="govgate-bench-"))
    try:
        projects = {}
        for label, days in (("1 year", 365), ("10 years", 3650)):
            root = base / label.replace(" ", "-")
            if root.exists():
                shutil.rmtree(root)
            projects[label] = (root, generate(root, days), days)
        times: dict[str, list[float]] = {label: [] for label in projects}
        rules: dict[str, list[float]] = {label: [] for label in projects}
        for _ in range(args.runs):  # interleaved, so both see the same machine load
            for label, (root, as_of, _days) in projects.items():
                times[label].append(cpu_seconds(root, as_of))
                rules[label].append(evaluation_seconds(root, as_of))
        for name, table in (("govgate check (whole process)", times),
                            ("evaluation only (inputs loaded)", rules)):
            medians = {label: statistics.median(ts) for label, ts in table.items()}
            print(f"{name}, CPU seconds, median of {args.runs}:")
            for label, (_root, _as_of, days) in projects.items():
                print(f"  {label:>8} of daily windows ({days:>4} windows): "
                      f"{medians[label]:7.3f} s")
            ratio = medians["10 years"] / medians["1 year"]
            print(f"  10 years / 1 year: {ratio:.2f} x (10 x the windows; quadratic would be "
                  f"~100 x; target < {TARGET:g} x: {'ok' if ratio < TARGET else 'over'})")
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
