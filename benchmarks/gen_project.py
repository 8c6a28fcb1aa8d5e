"""Write a whole generated govgate project for the scaling benchmarks (``bench_scale.py``).

A project follows the documented formats exactly: policies, a scheduler export with one job
folder per run (leadership rollup, partner annex, manifest, correct ingest hashes), a bootstrap,
a ``signer_ack_event`` export from ``gen_events.py`` and a backup owner policy naming its
busiest signers. The output is a pure function of the arguments.

    python benchmarks/gen_project.py --out benchmarks/data/studio \\
        --years 3 --period-days 7 --metrics 50 --events 300000 --signers 50
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import random
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

from gen_events import generate  # noqa: E402

from govgate.recon.loader import ingest_hash  # noqa: E402

ROUTES = ("publish_gate", "faq_rewrite", "freeze_bypass", "exec_readback")


def _instant(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _json(data: object) -> str:
    return json.dumps(data, indent=1) + "\n"


def write_project(out: Path, *, end: datetime, years: float, period_days: int, metrics: int,
                  events: int, signers: int, seed: int) -> None:
    """Write the project into ``out`` (created; must not hold a project already)."""
    rng = random.Random(seed)
    days = int(365 * years)
    period = timedelta(days=period_days)
    windows = days // period_days
    anchor = (end - windows * period).replace(hour=0, minute=0, second=0, microsecond=0)
    metric_ids = [f"metric_{i:03d}" for i in range(metrics)]
    (out / "policies").mkdir(parents=True)
    (out / "policies" / "reconciliation-policy-1.0.0.yaml").write_text(
        "kind: reconciliation_policy\nversion: 1.0.0\napproved_by: release-lead\n"
        f"approved_dt_utc: {_instant(anchor - timedelta(days=30))}\nwindow_tz_policy: UTC\n"
        f"schedule: {{anchor: {_instant(anchor)}, period: P{period_days}D, run_offset: PT6H}}\n"
        "contract_max_semver: 1.2.0\npaging: {max_gap: P7D, grace: PT12H}\n"
        "block_states: [red]\n", encoding="utf-8")
    (out / "policies" / "epsilon-policy-1.0.0.yaml").write_text(
        "kind: epsilon_policy\nversion: 1.0.0\napproved_by: release-lead\n"
        f"approved_dt_utc: {_instant(anchor - timedelta(days=30))}\nmetrics:\n"
        + "".join(f"  {m}: {{abs_tol: 0.01, rel_tol: 0.001}}\n" for m in metric_ids),
        encoding="utf-8")
    (out / "policies" / "metric-dictionary-1.0.0.yaml").write_text(
        "kind: metric_dictionary\nversion: 1.0.0\nmetrics:\n"
        + "".join(f"  - {{metric_id: {m}, owner_route: ops-{i % 5}}}\n"
                  for i, m in enumerate(metric_ids)), encoding="utf-8")
    runs = io.StringIO(newline="")
    writer = csv.writer(runs, lineterminator="\n")
    writer.writerow(("job_run_id", "scheduled_at", "started_at", "completed_at", "skip_reason",
                     "artifact_uri", "status"))
    for k in range(windows):
        start = anchor + k * period
        stop = start + period
        scheduled = stop + timedelta(hours=6)
        if scheduled + timedelta(minutes=25) > end:
            break
        run_id = f"recon-{k:05d}"
        folder = out / "jobs" / run_id
        folder.mkdir(parents=True)
        values = {m: Decimal(rng.randint(5_000, 99_999)) / 100 for m in metric_ids}
        window = {"window_tz_policy": "UTC", "start_inclusive": _instant(start),
                  "end_exclusive": _instant(stop)}
        tuple_hash = "tuple-" + hashlib.sha256(run_id.encode()).hexdigest()[:12]
        (folder / "manifest.yaml").write_text(
            f"job_run_id: {run_id}\nleadership_rollup_query_id: lr-{run_id}\n"
            f"partner_annex_export_id: annex-{run_id}\ntuple_revision_hash: {tuple_hash}\n"
            "epsilon_policy_version: 1.0.0\nwindow_tz_policy: UTC\n"
            f"start_inclusive: '{window['start_inclusive']}'\n"
            f"end_exclusive: '{window['end_exclusive']}'\n", encoding="utf-8")
        rows = [{"metric_id": m, "value": str(v)} for m, v in values.items()]
        (folder / "leadership.json").write_text(_json({
            "leadership_rollup_query_id": f"lr-{run_id}", "tuple_revision_hash": tuple_hash,
            **window, "ingest_hash": ingest_hash(values), "rows": rows}), encoding="utf-8")
        (folder / "partner_annex.json").write_text(_json({
            "partner_annex_export_id": f"annex-{run_id}", "tuple_revision_hash": tuple_hash,
            **window, "footer": {"footer_schema_semver": "1.0.0",
                                 "ingest_hash": ingest_hash(values)},
            "rows": rows}), encoding="utf-8")
        writer.writerow((run_id, _instant(scheduled), _instant(scheduled + timedelta(minutes=5)),
                         _instant(scheduled + timedelta(minutes=25)), "",
                         f"tuples/{run_id}/diff.json", "PASS"))
    (out / "scheduler_runs.csv").write_text(runs.getvalue(), encoding="utf-8")
    (out / "bootstrap.yaml").write_text(
        f"job_run_id: recon-00000\ndocumented_by: release-lead\n"
        f"documented_at: {_instant(anchor)}\nnote: first window\n", encoding="utf-8")
    events_path = out / "signer_ack_event.csv"
    load: Counter[str] = Counter()
    with events_path.open("w", encoding="utf-8", newline="") as handle:
        for i, line in enumerate(generate(events, seed=seed, end=end, days=days,
                                          signers=signers)):
            handle.write(line)
            if i:
                load[line.split(",", 2)[1]] += 1
    busiest = [s for s, _ in load.most_common()]
    routes = "".join(
        f"  - {{owner_route: {route}, primary_signer: {busiest[i % len(busiest)]}, "
        f"backup_signer: {busiest[(i + 4) % len(busiest)]}, "
        "promote_trigger: [heatmap_red, pending_acks_aged], revert_condition: green_7d}\n"
        for i, route in enumerate(ROUTES))
    (out / "policies" / "backup-owner-policy-1.0.0.yaml").write_text(
        "kind: backup_owner_policy\nversion: 1.0.0\napproved_by: team-lead\n"
        f"approved_dt_utc: {_instant(anchor - timedelta(days=30))}\nsigned_ack: ack-tl-1\n"
        f"team_lead: lead\nroutes:\n{routes}", encoding="utf-8")
    (out / "govgate.yaml").write_text(
        "policies: policies\noutput: govgate-out\nledger: .govgate/ledger.jsonl\n"
        "reconciliation:\n  runs: scheduler_runs.csv\n  jobs: jobs\n  bootstrap: bootstrap.yaml\n"
        "paging:\n  outbox: .govgate/pager-outbox.jsonl\n"
        "fatigue:\n  events: signer_ack_event.csv\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--end", default="2026-11-20T00:00:00+00:00")
    parser.add_argument("--years", type=float, default=3)
    parser.add_argument("--period-days", type=int, default=7)
    parser.add_argument("--metrics", type=int, default=50)
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--signers", type=int, default=50)
    parser.add_argument("--seed", type=int, default=174)
    args = parser.parse_args(argv)
    if args.out.exists():
        parser.error(f"{args.out} exists")
    write_project(args.out, end=datetime.fromisoformat(args.end).astimezone(UTC),
                  years=args.years, period_days=args.period_days, metrics=args.metrics,
                  events=args.events, signers=args.signers, seed=args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
