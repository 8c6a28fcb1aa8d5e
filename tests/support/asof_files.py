"""The project as its files were at an instant: every row that could not exist then removed.

This is deliberately an independent implementation of "what existed at T", written on the files
(text lines, YAML documents) rather than on govgate's loaded values, so that the as-of property
test compares govgate's in-memory as-of view with the world a reviewer would reconstruct.

What could not exist at T (the instant a row came into being is after T):

* a policy document approved after T;
* a scheduler row scheduled after T, and the job folder of that run;
* the start, the completion and the artifact of a run that completed after T (a run not begun
  at T keeps its row: no file can hold a PASS row without both), and the job folder of a run
  not completed at T (the run writes it when it completes);
* a run ack, remediation evidence, override packet, partner comms row, signer ack event,
  manual invocation, forced revert, escalation decision or trend-board row dated after T;
* the lift of a freeze gate lifted after T (the decision stays, not yet lifted).
"""

from __future__ import annotations

import csv
import io
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

#: Table files of the demo layout (config key path) -> the column that dates a row.
CSV_DATES: dict[tuple[str, str], str] = {
    ("reconciliation", "runs"): "scheduled_at",
    ("reconciliation", "acks"): "ack_dt_utc",
    ("reconciliation", "evidence"): "attached_at",
    ("reconciliation", "partner_comms"): "sent_at",
    ("fatigue", "events"): "request_dt_utc",
    ("fatigue", "deficiency_trend_board"): "as_of",
}
YAML_DATES: dict[tuple[str, str], str] = {
    ("reconciliation", "overrides"): "approved_at",
    ("fatigue", "manual_invocations"): "invoked_at",
    ("fatigue", "forced_reverts"): "reverted_at",
    ("fatigue", "escalation_decisions"): "decided_at",
}


def instant(text: Any) -> datetime:
    if isinstance(text, datetime):
        return text
    return datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))


def _after(value: Any, at: datetime) -> bool:
    return value not in (None, "") and instant(value) > at


def _truncate_csv(path: Path, column: str, at: datetime) -> list[dict[str, str]]:
    """Drop the lines whose ``column`` is after ``at``; other bytes stay as they were."""
    lines = path.read_bytes().decode("utf-8").splitlines(keepends=True)
    header = next(csv.reader([lines[0].lstrip("\ufeff")]))
    index = header.index(column)
    kept, dropped = [lines[0]], []
    for line in lines[1:]:
        fields = next(csv.reader(io.StringIO(line)), [])
        if len(fields) > index and _after(fields[index], at):
            dropped.append(dict(zip(header, fields, strict=False)))
        else:
            kept.append(line)
    path.write_bytes("".join(kept).encode("utf-8"))
    return dropped


def _unfinished(path: Path, at: datetime) -> list[dict[str, str]]:
    """Blank the start and completion after ``at`` of the runs left; return the rows of runs
    not completed at ``at`` (their job folders do not exist yet)."""
    lines = path.read_bytes().decode("utf-8").splitlines(keepends=True)
    header = next(csv.reader([lines[0].lstrip("\ufeff")]))
    out, running = [lines[0]], []
    for line in lines[1:]:
        row = dict(zip(header, next(csv.reader(io.StringIO(line)), []), strict=False))
        changed = False
        if _after(row.get("started_at"), at):
            row["started_at"], changed = "", True
        if _after(row.get("completed_at"), at):
            row["completed_at"], row["artifact_uri"], changed = "", "", True
        if row.get("completed_at") in (None, "") and row.get("status") != "SKIPPED":
            running.append(row)
            if row.get("started_at") in (None, ""):
                # Not begun at T: the row is scheduled, but no file can hold a PASS or FAIL row
                # without a start or a completion; govgate's own view blanks both. Only its job
                # folder goes.
                out.append(line)
                continue
        if changed:
            ending = line[len(line.rstrip("\r\n")):]
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator=ending).writerow([row[h] for h in header])
            line = buffer.getvalue()
        out.append(line)
    path.write_bytes("".join(out).encode("utf-8"))
    return running


def _truncate_yaml(path: Path, column: str, at: datetime) -> None:
    rows = yaml.safe_load(path.read_text()) or []
    kept = []
    for row in rows:
        if _after(row.get(column), at):
            continue
        if _after(row.get("lifted_at"), at):
            row = {k: v for k, v in row.items() if k not in ("lifted_at", "lift_reason")}
        kept.append(row)
    path.write_text(yaml.safe_dump(kept, sort_keys=False, allow_unicode=True))


def truncate_project(src: Path, dst: Path, at: datetime, config: str = "govgate.yaml") -> Path:
    """Copy the project at ``src`` to ``dst`` as its files were at ``at``; returns ``dst``."""
    shutil.copytree(src, dst)
    data = yaml.safe_load((dst / config).read_text())
    policies = dst / str(data.get("policies", "policies"))
    for doc in sorted(policies.rglob("*.y*ml")):
        approved = (yaml.safe_load(doc.read_text()) or {}).get("approved_dt_utc")
        if _after(approved, at):
            doc.unlink()
    for (section, key), column in CSV_DATES.items():
        ref = (data.get(section) or {}).get(key)
        if ref is None:
            continue
        dropped = _truncate_csv(dst / ref, column, at)
        jobs = (data.get(section) or {}).get("jobs")
        if key == "runs" and jobs:
            for row in dropped + _unfinished(dst / ref, at):
                shutil.rmtree(dst / jobs / row["job_run_id"], ignore_errors=True)
    for (section, key), column in YAML_DATES.items():
        ref = (data.get(section) or {}).get(key)
        if ref is not None:
            _truncate_yaml(dst / ref, column, at)
    return dst
