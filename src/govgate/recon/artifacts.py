"""The per-metric diff artifact: JSON and CSV, content-addressed and immutable."""

from __future__ import annotations

import csv
import hashlib
import io
from decimal import Decimal
from typing import Any

from ..decimals import canonical_text
from ..jsontext import pretty
from ..textsafe import csv_cell
from ..timeutil import format_instant
from .model import DiffRow, JobInputs, JobOutcome

CSV_COLUMNS = ("metric_id", "leadership_value", "partner_value", "delta", "relative_delta",
               "tolerance_used", "result", "owner_route")


def dec(value: Decimal | None) -> str | None:
    """Decimals are written as strings so no reader rounds them through a float."""
    return None if value is None else canonical_text(value)


def row_dict(row: DiffRow) -> dict[str, Any]:
    return {
        "metric_id": row.metric_id,
        "leadership_value": dec(row.leadership_value),
        "partner_value": dec(row.partner_value),
        "delta": dec(row.delta),
        "relative_delta": dec(row.relative_delta),
        "tolerance_used": dec(row.tolerance_used),
        "result": row.result,
        "owner_route": row.owner_route,
    }


def diff_document(job: JobInputs, outcome: JobOutcome) -> dict[str, Any]:
    m = job.manifest
    return {
        "job_run_id": m.job_run_id,
        "start_inclusive": format_instant(m.start_inclusive),
        "end_exclusive": format_instant(m.end_exclusive),
        "window_tz_policy": m.window_tz_policy,
        "tuple_revision_hash": m.tuple_revision_hash,
        "epsilon_policy_version": m.epsilon_policy_version,
        "leadership": {"leadership_rollup_query_id": m.leadership_rollup_query_id,
                       "ingest_hash": outcome.leadership_ingest_hash},
        "partner": {"partner_annex_export_id": m.partner_annex_export_id,
                    "footer_schema_semver": job.partner.footer_schema_semver,
                    "ingest_hash": outcome.partner_ingest_hash},
        "status": outcome.status,
        "problems": list(outcome.problems),
        "rows": [row_dict(r) for r in outcome.rows],
    }


def render_json(document: dict[str, Any]) -> bytes:
    return (pretty(document, sort_keys=True) + "\n").encode()


def render_csv(outcome: JobOutcome, rows: list[dict[str, Any]] | None = None) -> bytes:
    """The diff as CSV; ``rows`` are the outcome's :func:`row_dict` when already built (the
    JSON document's ``rows``), so that every number is written as text once."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for d in rows if rows is not None else map(row_dict, outcome.rows):
        writer.writerow([csv_cell(d[c]) for c in CSV_COLUMNS])
    return buffer.getvalue().encode()


def content_name(stem: str, data: bytes, suffix: str) -> str:
    """``diff/<stem>-<first 16 hex of sha256>.<suffix>``: the name changes when the bytes do."""
    digest = hashlib.sha256(data).hexdigest()[:16]
    return f"diff/{stem}-{digest}.{suffix}"
