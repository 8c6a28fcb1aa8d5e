"""``sql/schema.sql`` on a throwaway PostgreSQL: it applies, and the database refuses what the
lessons say it must refuse, and computes what govgate computes."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.support.postgres import PostgresCluster

from govgate.fatigue.pgnumeric import MAX_LATENCY_CENTIHOURS, latency_centihours

psycopg = pytest.importorskip("psycopg")
errors = psycopg.errors

pytestmark = pytest.mark.postgres

SCHEMA = Path(__file__).resolve().parents[2] / "sql" / "schema.sql"
T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
SLA = {"publish_gate": Decimal("0.50"), "faq_rewrite": Decimal("4.00"),
       "freeze_bypass": Decimal("2.00"), "exec_readback": Decimal("24.00")}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresCluster]:
    with PostgresCluster.start_in(tmp_path_factory.mktemp("pg")) as pg:
        yield pg


@pytest.fixture(scope="module")
def admin(cluster: PostgresCluster) -> Iterator[Any]:
    with cluster.connect() as conn:
        yield conn


@pytest.fixture
def db(cluster: PostgresCluster, admin: Any) -> Iterator[Any]:
    """The schema applied in a fresh PostgreSQL schema (namespace), on an autocommit connection.

    A namespace per test rather than a database: CREATE DATABASE costs a checkpoint each time.
    """
    name = f"gg_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE SCHEMA "{name}"')
    with psycopg.connect(cluster.conninfo, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{name}"')
        conn.execute(SCHEMA.read_text(encoding="utf-8"))
        yield conn
    admin.execute(f'DROP SCHEMA "{name}" CASCADE')


def insert(conn: Any, table: str, **row: Any) -> None:
    columns = ", ".join(row)
    marks = ", ".join(["%s"] * len(row))
    conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(row.values()))


def refused(conn: Any, error: type[Exception], table: str, **row: Any) -> Any:
    """Insert ``row`` and return the error's diagnostics; the row must be refused."""
    with pytest.raises(error) as info:
        insert(conn, table, **row)
    return info.value.diag


def job(conn: Any, job_run_id: str = "recon-2026-W44", **changes: Any) -> None:
    row = {"job_run_id": job_run_id, "scheduled_at": T0, "started_at": T0,
           "completed_at": T0 + timedelta(minutes=25), "skip_reason": None,
           "artifact_uri": f"tuples/{job_run_id}/diff.json", "status": "PASS"}
    row.update(changes)
    insert(conn, "reconciliation_job_run", **row)


# --- the file ------------------------------------------------------------------------------------


def test_the_whole_file_applies_cleanly_with_psql(cluster: PostgresCluster) -> None:
    cluster.psql(SCHEMA.read_text(encoding="utf-8"))
    relations = cluster.psql(
        "SELECT relname || ':' || relkind::text FROM pg_class"
        " WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'm')"
        " ORDER BY relname").split()
    assert relations == [
        "backup_owner_policy:r", "backup_owner_policy_extended:r",
        "backup_owner_policy_history:r", "backup_promote_event:r", "forced_revert_event:r",
        "govgate_incident:r", "govgate_ledger:r", "govgate_page:r", "govgate_page_delivery:r",
        "reconciliation_job_run:r", "reconciliation_run_ack:r", "signer_ack_event:r",
        "signer_fatigue_heatmap_14d:m",
    ]


def test_the_seed_as_written_is_refused_which_is_why_breached_is_rewritten(db: Any) -> None:
    with pytest.raises(errors.InvalidObjectDefinition, match="cannot use generated column"):
        db.execute("""
            CREATE TABLE seed_signer_ack_event (
                request_dt_utc TIMESTAMPTZ NOT NULL,
                ack_dt_utc TIMESTAMPTZ,
                sla_target_hours NUMERIC(5,2) NOT NULL,
                ack_latency_hours NUMERIC(8,2) GENERATED ALWAYS AS (
                    CASE WHEN ack_dt_utc IS NULL THEN NULL
                    ELSE EXTRACT(EPOCH FROM (ack_dt_utc - request_dt_utc)) / 3600 END) STORED,
                breached BOOLEAN GENERATED ALWAYS AS (
                    ack_latency_hours IS NOT NULL
                    AND ack_latency_hours > sla_target_hours) STORED)""")


# --- lesson 166: scheduler rows and acks ---------------------------------------------------------


def test_an_ack_without_a_job_is_refused_by_the_database(db: Any) -> None:
    job(db)
    ack = {"ack_id": "ack-1", "signer_id": "alex", "ack_dt_utc": T0 + timedelta(hours=1)}
    diag = refused(db, errors.NotNullViolation, "reconciliation_run_ack", **ack, job_run_id=None)
    assert diag.column_name == "job_run_id"
    diag = refused(db, errors.ForeignKeyViolation, "reconciliation_run_ack", **ack,
                   job_run_id="recon-2026-W99")
    assert diag.constraint_name == "reconciliation_run_ack_job_run_id_fkey"
    insert(db, "reconciliation_run_ack", **ack, job_run_id="recon-2026-W44")
    # ... and a run that was acked cannot be deleted from under its ack.
    with pytest.raises(errors.ForeignKeyViolation):
        db.execute("DELETE FROM reconciliation_job_run WHERE job_run_id = 'recon-2026-W44'")


@pytest.mark.parametrize(("changes", "constraint"), [
    ({"status": "SKIPPED", "started_at": None, "completed_at": None},
     "reconciliation_job_run_skip_reason_iff_skipped"),
    ({"skip_reason": "maintenance"}, "reconciliation_job_run_skip_reason_iff_skipped"),
    ({"status": "SKIPPED", "skip_reason": "holiday"}, "reconciliation_job_run_skip_reason_check"),
    ({"status": "pass"}, "reconciliation_job_run_status_check"),
    ({"started_at": None, "completed_at": None}, "reconciliation_job_run_ran"),
    ({"job_run_id": ""}, "reconciliation_job_run_job_run_id_check"),
])
def test_scheduler_rows_govgate_refuses_are_refused(db: Any, changes: dict[str, Any],
                                                    constraint: str) -> None:
    with pytest.raises(errors.CheckViolation) as info:
        job(db, **changes)
    assert info.value.diag.constraint_name == constraint


def test_valid_scheduler_rows_are_accepted(db: Any) -> None:
    job(db, "recon-2026-W44")
    job(db, "recon-2026-W45", status="SKIPPED", skip_reason="credential_rotation",
        started_at=None, completed_at=None, artifact_uri=None)
    job(db, "recon-2026-W46", status="FAIL", completed_at=None)
    with pytest.raises(errors.NotNullViolation):
        job(db, "recon-2026-W47", scheduled_at=None)
    with pytest.raises(errors.UniqueViolation):
        job(db, "recon-2026-W44")


# --- lesson 174: signer_ack_event, computed as govgate computes it --------------------------------


def ack_event(conn: Any, ack_event_id: str, latency: timedelta | None, route: str = "publish_gate",
              **changes: Any) -> None:
    row = {"ack_event_id": ack_event_id, "signer_id": "alex", "owner_route": route,
           "cert_window_id": "quest-holiday-2026", "request_dt_utc": T0,
           "ack_dt_utc": None if latency is None else T0 + latency,
           "ack_outcome": None if latency is None else "approved",
           "sla_target_hours": SLA[route]}
    row.update(changes)
    insert(conn, "signer_ack_event", **row)


def derived(conn: Any, ack_event_id: str) -> tuple[Decimal | None, bool | None]:
    row = conn.execute("SELECT ack_latency_hours, breached FROM signer_ack_event "
                       "WHERE ack_event_id = %s", (ack_event_id,)).fetchone()
    return row[0], row[1]


def test_thirty_minutes_seventeen_seconds_on_publish_gate(db: Any) -> None:
    ack_event(db, "e1", timedelta(minutes=30, seconds=17))
    # 0.5047 h rounds to 0.50, which is not above the 0.50 SLA: the seed compares rounded values.
    assert derived(db, "e1") == (Decimal("0.50"), False)
    ack_event(db, "e2", timedelta(minutes=30, seconds=18))  # 0.505 h -> 0.51, half away from 0
    assert derived(db, "e2") == (Decimal("0.51"), True)
    ack_event(db, "e3", None)  # pending
    assert derived(db, "e3") == (None, False)


@pytest.mark.parametrize("micros", [
    0, 1, 17_999_999, 18_000_000, 18_000_001, 53_999_999, 54_000_000,
    4 * 3_600_000_000, 4 * 3_600_000_000 + 18_000_000, 86_400_000_000 + 17_999_999,
    -18_000_000, -17_999_999, MAX_LATENCY_CENTIHOURS * 36_000_000 + 17_999_999,
])
def test_latency_and_breach_match_govgate_at_the_rounding_edges(db: Any, micros: int) -> None:
    for route, sla in SLA.items():
        ack_event(db, f"{route}-{micros}", timedelta(microseconds=micros), route)
        centi = latency_centihours(micros)
        assert derived(db, f"{route}-{micros}") == (
            Decimal(centi).scaleb(-2), centi > int(sla * 100))


def test_latency_and_breach_match_govgate_on_random_latencies(db: Any) -> None:
    rng = random.Random(174)
    cases = [rng.choice([rng.randrange(0, 10**8), rng.randrange(0, 10**11),
                         rng.randrange(1, 100) * 18_000_000 + rng.choice((-1, 0, 1))])
             for _ in range(300)]
    with db.cursor() as cur:
        cur.executemany(
            "INSERT INTO signer_ack_event (ack_event_id, signer_id, owner_route, request_dt_utc,"
            " ack_dt_utc, sla_target_hours) VALUES (%s, 's', %s, %s, %s, %s)",
            [(f"r{i}", route, T0, T0 + timedelta(microseconds=m), SLA[route])
             for i, m in enumerate(cases) for route in (rng.choice(list(SLA)),)])
    rows = db.execute("SELECT ack_event_id, ack_latency_hours, breached, sla_target_hours "
                      "FROM signer_ack_event").fetchall()
    assert len(rows) == len(cases)
    for ack_event_id, latency, breached, sla in rows:
        centi = latency_centihours(cases[int(ack_event_id[1:])])
        assert (latency, breached) == (Decimal(centi).scaleb(-2), centi > int(sla * 100))


def test_a_latency_beyond_numeric_8_2_is_refused(db: Any) -> None:
    # govgate refuses the same row: MAX_LATENCY_CENTIHOURS is NUMERIC(8,2)'s largest value.
    micros = MAX_LATENCY_CENTIHOURS * 36_000_000 + 18_000_000
    with pytest.raises(errors.NumericValueOutOfRange):
        ack_event(db, "huge", timedelta(microseconds=micros))


@pytest.mark.parametrize(("changes", "constraint"), [
    ({"owner_route": "release_gate"}, "signer_ack_event_owner_route_check"),
    ({"ack_outcome": "maybe"}, "signer_ack_event_ack_outcome_check"),
    ({"sla_target_hours": Decimal("0")}, "signer_ack_event_sla_positive"),
])
def test_ack_events_outside_the_seed_value_sets_are_refused(db: Any, changes: dict[str, Any],
                                                             constraint: str) -> None:
    with pytest.raises(errors.CheckViolation) as info:
        ack_event(db, "bad", timedelta(minutes=5), **changes)
    assert info.value.diag.constraint_name == constraint


def test_the_heatmap_refreshes_concurrently(db: Any) -> None:
    now = db.execute("SELECT now()").fetchone()[0]
    rows = [
        ("a1", "alex", "publish_gate", "cw-steam", timedelta(minutes=45)),   # 1.50 breached
        ("a2", "alex", "faq_rewrite", "cw-quest", timedelta(hours=1)),       # 0.25
        ("a3", "alex", "freeze_bypass", None, None),                         # pending
        ("p1", "pat", "exec_readback", "cw-xbox", timedelta(hours=6)),       # 0.25
        ("old", "pat", "publish_gate", "cw-ps", timedelta(minutes=5)),       # outside 14 days
    ]
    for ack_event_id, signer, route, window, latency in rows:
        request = now - (timedelta(days=20) if ack_event_id == "old" else timedelta(days=1))
        ack_event(db, ack_event_id, latency, route, signer_id=signer, cert_window_id=window,
                  request_dt_utc=request,
                  ack_dt_utc=None if latency is None else request + latency)
    db.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY signer_fatigue_heatmap_14d")
    heat = {r[0]: r[1:] for r in db.execute(
        "SELECT signer_id, ack_count_14d, breached_count_14d, concurrent_window_count_14d,"
        " avg_latency_hours_14d, avg_latency_ratio_14d, pending_acks_now"
        " FROM signer_fatigue_heatmap_14d").fetchall()}
    assert heat["alex"] == (3, 1, 2, Decimal("0.875"), Decimal("0.875"), 1)
    assert heat["pat"] == (1, 0, 1, Decimal("6.00"), Decimal("0.25"), 0)


def test_without_its_unique_index_the_heatmap_cannot_refresh_concurrently(db: Any) -> None:
    db.execute("DROP INDEX signer_fatigue_heatmap_14d_signer_id_idx")
    with pytest.raises(errors.ObjectNotInPrerequisiteState, match="concurrently"):
        db.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY signer_fatigue_heatmap_14d")


# --- lesson 174: the backup owner policy and its audit tables -------------------------------------


def policy(conn: Any, route: str = "publish_gate", **changes: Any) -> None:
    row = {"owner_route": route, "primary_signer": "alex", "backup_signer": "pat",
           "promote_trigger": "heatmap_red", "revert_condition": "green_7d",
           "policy_version": "1.2.0", "approved_by": "team-lead", "approved_dt_utc": T0}
    row.update(changes)
    insert(conn, "backup_owner_policy", **row)


def test_a_policy_with_the_same_primary_and_backup_is_refused(db: Any) -> None:
    with pytest.raises(errors.CheckViolation) as info:
        policy(db, backup_signer="alex")
    assert info.value.diag.constraint_name == "backup_owner_policy_check"
    policy(db)


@pytest.mark.parametrize(("changes", "constraint"), [
    ({"owner_route": "release_gate"}, "backup_owner_policy_owner_route_check"),
    ({"policy_version": "1.2"}, "backup_owner_policy_policy_version_semver"),
    ({"policy_version": "01.2.0"}, "backup_owner_policy_policy_version_semver"),
])
def test_policy_rows_outside_the_documented_forms_are_refused(db: Any, changes: dict[str, Any],
                                                               constraint: str) -> None:
    with pytest.raises(errors.CheckViolation) as info:
        policy(db, **changes)
    assert info.value.diag.constraint_name == constraint


def test_promote_revert_extended_and_history_rows(db: Any) -> None:
    policy(db)
    promote = {"promote_event_id": "pe-1", "owner_route": "publish_gate",
               "promoted_signer": "pat", "trigger_type": "heatmap_red",
               "trigger_evidence_ref": "sha256:" + "ab" * 32, "promoted_at_dt_utc": T0,
               "policy_version_at_time": "1.2.0"}
    refused(db, errors.ForeignKeyViolation, "backup_promote_event",
            **{**promote, "owner_route": "faq_rewrite"})
    refused(db, errors.CheckViolation, "backup_promote_event",
            **{**promote, "trigger_type": "tired"})
    refused(db, errors.CheckViolation, "backup_promote_event",
            **{**promote, "reverted_at_dt_utc": T0 - timedelta(seconds=1)})
    insert(db, "backup_promote_event", **promote)

    revert = {"forced_revert_event_id": "fr-1", "promote_event_id": "pe-1",
              "reverted_at_dt_utc": T0 + timedelta(days=2), "reason": "primary back early",
              "forced_by": "team-lead", "policy_version_at_time": "1.2.0"}
    refused(db, errors.CheckViolation, "forced_revert_event", **{**revert, "reason": "  "})
    refused(db, errors.ForeignKeyViolation, "forced_revert_event",
            **{**revert, "promote_event_id": "pe-9"})
    insert(db, "forced_revert_event", **revert)

    tertiary = {"owner_route": "publish_gate", "chain_position": 1, "tertiary_signer": "sam",
                "policy_version": "1.2.0", "approved_by": "team-lead", "approved_dt_utc": T0}
    insert(db, "backup_owner_policy_extended", **tertiary)
    refused(db, errors.UniqueViolation, "backup_owner_policy_extended",
            **{**tertiary, "chain_position": 2})
    refused(db, errors.CheckViolation, "backup_owner_policy_extended",
            **{**tertiary, "chain_position": 0, "tertiary_signer": "kim"})

    version = {"owner_route": "publish_gate", "policy_version": "1.1.0",
               "primary_signer": "alex", "backup_signer": "sam",
               "promote_trigger": "heatmap_red", "revert_condition": "green_7d",
               "approved_by": "team-lead", "approved_dt_utc": T0 - timedelta(days=30),
               "superseded_dt_utc": T0}
    refused(db, errors.CheckViolation, "backup_owner_policy_history",
            **{**version, "backup_signer": "alex"})
    refused(db, errors.CheckViolation, "backup_owner_policy_history",
            **{**version, "diff": psycopg.types.json.Jsonb(["not", "an", "object"])})
    insert(db, "backup_owner_policy_history", **version,
           diff=psycopg.types.json.Jsonb({"backup_signer": ["sam", "pat"]}))
