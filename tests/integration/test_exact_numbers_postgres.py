"""PostgreSQL writes the export, and computes the ingest hash with its own NUMERIC arithmetic.

``row_to_json`` writes a NUMERIC as a bare JSON number (``1234567890.123456789``); govgate must
read it exactly, and the ingest hash PostgreSQL computes from the documented canonical form
(``trim_scale(value)::text``, rows ordered byte-wise with ``COLLATE "C"``) must be govgate's to
the byte: an independent implementation agreeing with docs/canonical.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import Project, Schedule
from tests.support.postgres import PostgresCluster

pytestmark = pytest.mark.postgres

WEEK = 6
#: The project's metric_ids with values of 19 to 60 significant digits (NUMERIC literals).
VALUES = {
    "build_upload_success": "1234567890.123456789",
    "cert_ack_median_hours": "1234567890123456789012345678.90",
    "crash_free_sessions": "-98765432109876543210987654321098765.43210987654321000",
    "incident_mttr_minutes": "-0.000",
    "tickets_p95": "123456789012345678901234567890123456789012345678901234567890",
}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresCluster]:
    with PostgresCluster.start_in(tmp_path_factory.mktemp("pg")) as pg:
        yield pg


def values_sql() -> str:
    rows = ", ".join(f"('{m}', {v}::numeric)" for m, v in VALUES.items())
    return f"(VALUES {rows}) AS t(metric_id, value)"


def pg_rows_json(pg: PostgresCluster) -> str:
    """The rows as PostgreSQL writes them: NUMERIC values as bare JSON numbers."""
    return pg.psql(f"SELECT json_agg(row_to_json(t) ORDER BY metric_id) FROM {values_sql()}"
                   ).strip()


def pg_ingest_hash(pg: PostgresCluster) -> str:
    text = pg.psql(
        "SELECT 'sha256:' || encode(sha256(convert_to(string_agg(metric_id || ',' || "
        "trim_scale(value)::text || E'\\n', '' ORDER BY metric_id COLLATE \"C\"), 'UTF8')), "
        f"'hex') FROM {values_sql()}")
    return text.strip()


def test_postgres_numbers_hash_and_compare_exactly(cluster: PostgresCluster,
                                                   project: Project, tmp_path: Path) -> None:
    rows = pg_rows_json(cluster)
    assert '"value":1234567890.123456789' in rows.replace(" ", "")  # a bare number, not text
    digest = pg_ingest_hash(cluster)
    for side in ("leadership", "partner"):
        path = project.root / project.export_path(WEEK, side)
        doc = json.loads(path.read_text(encoding="utf-8"))
        if side == "leadership":
            doc["ingest_hash"] = digest
        else:
            doc["footer"]["ingest_hash"] = digest
            # The partner writes the same values as strings, with their trailing zeros.
            doc["rows"] = [{"metric_id": m, "value": v} for m, v in VALUES.items()]
        doc["rows"] = "@ROWS@" if side == "leadership" else doc["rows"]
        text = json.dumps(doc, indent=2)
        path.write_text(text.replace('"@ROWS@"', rows), encoding="utf-8")
    run = project.check(Schedule.after(WEEK))
    assert (run.code, run.err) == (0, ""), (run.code, run.err, run.out[:1500])
    window = run.json()["sections"]["reconciliation"]["windows"][WEEK - 1]
    assert window["status"] == "PASS"
    assert window["leadership_ingest_hash"] == window["partner_ingest_hash"] == digest
