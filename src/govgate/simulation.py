"""Synthetic weekly reconciliation data with injected failures (``govgate simulate``)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from .recon import schedule
from .recon.engine import compare_metric
from .recon.loader import LEADERSHIP_FILE, MANIFEST_FILE, PARTNER_FILE, ingest_hash
from .recon.model import EpsilonPolicy, ReconPolicy
from .timeutil import format_instant

RUN_COLUMNS = ("job_run_id", "scheduled_at", "started_at", "completed_at", "skip_reason",
               "artifact_uri", "status")


@dataclass(frozen=True)
class Scenario:
    weeks: int
    skips: dict[int, str] = field(default_factory=dict)
    silent: set[int] = field(default_factory=set)
    drifts: dict[tuple[int, str], str] = field(default_factory=dict)
    seed: int = 166
    bootstrap: bool = True


def job_run_id(start: datetime) -> str:
    year, week, _ = start.isocalendar()
    return f"recon-{year}-W{week:02d}"


def _yaml(data: dict[str, object]) -> str:
    import yaml

    return str(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def _json(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def write_scenario(out: Path, scenario: Scenario, policy: ReconPolicy, epsilon: EpsilonPolicy,
                   policy_files: list[str], base: Path) -> None:
    """Write the input folder: ``govgate.yaml``, ``policies/``, runs and one folder per job."""
    rng = random.Random(scenario.seed)
    metrics = sorted(epsilon.tolerances)
    (out / "policies").mkdir(parents=True, exist_ok=True)
    for ref in policy_files:
        shutil.copyfile(base / ref, out / "policies" / Path(ref).name)
    runs: list[dict[str, str]] = []
    first_run: str | None = None
    # The policy's own window bounds, so a cron calendar is simulated as it will be checked.
    bounds = schedule.bounds(policy)
    end = next(bounds)
    for week in range(1, scenario.weeks + 1):
        start, end = end, next(bounds)
        scheduled = end + policy.run_offset
        run_id = job_run_id(start)
        if week in scenario.silent:
            continue
        row = {"job_run_id": run_id, "scheduled_at": format_instant(scheduled),
               "started_at": "", "completed_at": "", "skip_reason": "", "artifact_uri": "",
               "status": "SKIPPED"}
        if week in scenario.skips:
            row["skip_reason"] = scenario.skips[week]
            runs.append(row)
            continue
        passed = _write_job(out / "jobs" / run_id, run_id, start, end, week, scenario, rng,
                            metrics, epsilon)
        first_run = first_run or (run_id if week == 1 else None)
        row.update(started_at=format_instant(scheduled + timedelta(minutes=5)),
                   completed_at=format_instant(scheduled + timedelta(minutes=25)),
                   artifact_uri=f"tuples/{run_id}/diff.json",
                   status="PASS" if passed else "FAIL")
        runs.append(row)
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, RUN_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(runs)
    (out / "scheduler_runs.csv").write_text(buffer.getvalue(), encoding="utf-8")
    config: dict[str, object] = {
        "policies": "policies",
        "output": "govgate-out",
        "ledger": ".govgate/ledger.jsonl",
        "reconciliation": {"runs": "scheduler_runs.csv", "jobs": "jobs"},
        "paging": {"outbox": ".govgate/pager-outbox.jsonl"},
    }
    if scenario.bootstrap and first_run:
        (out / "bootstrap.yaml").write_text(_yaml({
            "job_run_id": first_run, "documented_by": "release-lead",
            "documented_at": format_instant(policy.anchor),
            "note": "first scheduled window of the simulated schedule"}), encoding="utf-8")
        config["reconciliation"] = {**config["reconciliation"],  # type: ignore[dict-item]
                                    "bootstrap": "bootstrap.yaml"}
    (out / "govgate.yaml").write_text(_yaml(config), encoding="utf-8")


def _write_job(folder: Path, run_id: str, start: datetime, end: datetime, week: int,
               scenario: Scenario, rng: random.Random, metrics: list[str],
               epsilon: EpsilonPolicy) -> bool:
    folder.mkdir(parents=True, exist_ok=True)
    tuple_hash = "tuple-" + hashlib.sha256(run_id.encode()).hexdigest()[:12]
    leadership: dict[str, Decimal] = {}
    partner: dict[str, Decimal] = {}
    for metric in metrics:
        value = Decimal(rng.randint(5_000, 99_999)) / 100
        leadership[metric] = value
        percent = Decimal(scenario.drifts.get((week, metric), "0"))
        partner[metric] = (value * (1 + percent / 100)).quantize(Decimal("0.01"))
    window = {"window_tz_policy": "UTC", "start_inclusive": format_instant(start),
              "end_exclusive": format_instant(end)}
    query_id, annex_id = f"lr-{run_id}", f"annex-{run_id}"
    (folder / MANIFEST_FILE).write_text(_yaml({
        "job_run_id": run_id, "leadership_rollup_query_id": query_id,
        "partner_annex_export_id": annex_id, "tuple_revision_hash": tuple_hash,
        "epsilon_policy_version": epsilon.version, **window}), encoding="utf-8")
    rows = [{"metric_id": m, "value": str(leadership[m])} for m in metrics]
    (folder / LEADERSHIP_FILE).write_text(_json({
        "leadership_rollup_query_id": query_id, "tuple_revision_hash": tuple_hash, **window,
        "ingest_hash": ingest_hash(leadership), "rows": rows}), encoding="utf-8")
    (folder / PARTNER_FILE).write_text(_json({
        "partner_annex_export_id": annex_id, "tuple_revision_hash": tuple_hash, **window,
        "footer": {"footer_schema_semver": "1.0.0", "ingest_hash": ingest_hash(partner)},
        "rows": [{"metric_id": m, "value": str(partner[m])} for m in metrics]}),
        encoding="utf-8")
    return all(compare_metric(m, leadership[m], partner[m], epsilon.tolerances[m]).result == "pass"
               for m in metrics)
