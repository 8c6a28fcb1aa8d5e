"""The PostgreSQL source against a throwaway cluster: tables read as CSV, read-only, and
``govgate check`` deciding from scheduler rows kept in the database."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from tests.conftest import RUN_COLUMNS, Project, Schedule
from tests.support.postgres import PostgresCluster

from govgate.errors import SourceError
from govgate.sources import postgres
from govgate.sources.names import source_name
from govgate.sources.postgres import read_only_connection

psycopg = pytest.importorskip("psycopg")

pytestmark = pytest.mark.postgres

SCHEMA = Path(__file__).resolve().parents[2] / "sql" / "schema.sql"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresCluster]:
    with PostgresCluster.start_in(tmp_path_factory.mktemp("pg")) as pg:
        yield pg


class Db:
    """A namespace with the schema applied, and references that read from it."""

    def __init__(self, cluster: PostgresCluster, conn: Any, namespace: str) -> None:
        self.cluster = cluster
        self.conn = conn
        self.namespace = namespace

    def ref(self, table: str, *, dbname: str = "postgres", socket: Path | None = None) -> str:
        # The namespace is chosen through libpq's own options parameter, passed through as is.
        options = quote(f"-c search_path={self.namespace}", safe="")
        return (f"postgresql:///{dbname}?host={socket or self.cluster.socket_dir}"
                f"&port={self.cluster.port}&user={self.cluster.user}&options={options}"
                f"&table={table}")

    def insert(self, table: str, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            values = {k: (None if v == "" else v) for k, v in row.items()}
            columns = ", ".join(values)
            marks = ", ".join(["%s"] * len(values))
            self.conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                              list(values.values()))


@pytest.fixture
def db(cluster: PostgresCluster) -> Iterator[Db]:
    """A fresh namespace with ``sql/schema.sql`` applied (a namespace is cheaper than a
    database: CREATE DATABASE costs a checkpoint)."""
    namespace = f"gg_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(cluster.conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{namespace}"')
        conn.execute(f'SET search_path TO "{namespace}"')
        conn.execute(SCHEMA.read_text(encoding="utf-8"))
        yield Db(cluster, conn, namespace)
        conn.execute(f'DROP SCHEMA "{namespace}" CASCADE')


def read(ref: str, **settings: Any) -> bytes:
    data = postgres.govgate_read_source(ref=ref, settings=settings)
    assert data is not None
    return data


def fails(ref: str, **settings: Any) -> str:
    with pytest.raises(SourceError) as info:
        read(ref, **settings)
    return str(info.value)


# --- reading tables ------------------------------------------------------------------------------


def test_scheduler_rows_come_back_as_the_csv_the_loader_reads(db: Db) -> None:
    db.insert("reconciliation_job_run", [
        {"job_run_id": "recon-2026-W45", "scheduled_at": "2026-11-09T06:00:00Z",
         "skip_reason": "maintenance", "status": "SKIPPED"},
        {"job_run_id": "recon-2026-W44", "scheduled_at": "2026-11-02T06:00:00Z",
         "started_at": "2026-11-02T11:35:00+05:30",
         "completed_at": "2026-11-02T06:25:00.000250Z",
         "artifact_uri": "tuples/recon-2026-W44/diff.json", "status": "PASS"},
    ])
    assert read(db.ref("reconciliation_job_run")).decode() == (
        "job_run_id,scheduled_at,started_at,completed_at,skip_reason,artifact_uri,status\n"
        "recon-2026-W44,2026-11-02T06:00:00Z,2026-11-02T06:05:00Z,2026-11-02T06:25:00.000250Z,"
        ",tuples/recon-2026-W44/diff.json,PASS\n"
        "recon-2026-W45,2026-11-09T06:00:00Z,,,maintenance,,SKIPPED\n"
    )


def test_instants_are_utc_whatever_the_database_time_zone(db: Db) -> None:
    db.insert("reconciliation_job_run", [
        {"job_run_id": "r1", "scheduled_at": "2026-11-02T06:00:00Z", "completed_at":
         "2026-11-02T06:25:00Z", "status": "PASS"}])
    db.conn.execute("ALTER DATABASE postgres SET TimeZone = 'Asia/Kolkata'")
    try:
        with psycopg.connect(db.cluster.conninfo) as other:
            assert other.execute("SHOW TimeZone").fetchone()[0] == "Asia/Kolkata"
        assert b"2026-11-02T06:00:00Z,,2026-11-02T06:25:00Z" in read(
            db.ref("reconciliation_job_run"))
    finally:
        db.conn.execute("ALTER DATABASE postgres RESET TimeZone")


def test_signer_ack_events_are_the_seed_input_columns(db: Db) -> None:
    db.insert("signer_ack_event", [
        {"ack_event_id": "e2", "signer_id": "pat", "owner_route": "faq_rewrite",
         "request_dt_utc": "2026-11-01T09:00:00Z", "sla_target_hours": Decimal("4")},
        {"ack_event_id": "e1", "signer_id": "alex", "owner_route": "publish_gate",
         "cert_window_id": "quest-holiday-2026", "request_dt_utc": "2026-11-01T09:00:00Z",
         "ack_dt_utc": "2026-11-01T09:30:17Z", "ack_outcome": "approved",
         "sla_target_hours": Decimal("0.5")},
    ])
    # The generated ack_latency_hours and breached stay behind: govgate recomputes them exactly.
    assert read(db.ref("signer_ack_event")).decode() == (
        "ack_event_id,signer_id,owner_route,cert_window_id,request_dt_utc,ack_dt_utc,"
        "ack_outcome,sla_target_hours\n"
        "e1,alex,publish_gate,quest-holiday-2026,2026-11-01T09:00:00Z,2026-11-01T09:30:17Z,"
        "approved,0.50\n"
        "e2,pat,faq_rewrite,,2026-11-01T09:00:00Z,,,4.00\n"
    )


def test_acks_are_read_from_the_ack_table(db: Db) -> None:
    db.insert("reconciliation_job_run", [
        {"job_run_id": "r1", "scheduled_at": "2026-11-02T06:00:00Z",
         "completed_at": "2026-11-02T06:25:00Z", "status": "PASS"}])
    db.insert("reconciliation_run_ack", [
        {"ack_id": "ack-1", "job_run_id": "r1", "signer_id": "alex, jr.",
         "ack_dt_utc": "2026-11-02T08:00:00Z"}])
    assert read(db.ref("reconciliation_run_ack")) == (
        b'ack_id,job_run_id,signer_id,ack_dt_utc\nack-1,r1,"alex, jr.",2026-11-02T08:00:00Z\n')


def test_an_empty_table_is_a_header_only(db: Db) -> None:
    assert read(db.ref("reconciliation_run_ack")) == b"ack_id,job_run_id,signer_id,ack_dt_utc\n"


def test_the_transaction_is_read_only(db: Db) -> None:
    conninfo, _ = postgres.parse_ref(db.ref("reconciliation_job_run"))
    with read_only_connection(conninfo, password=None, timeout=5) as conn:
        assert conn.execute("SHOW transaction_read_only").fetchone()[0] == "on"
        assert conn.execute("SHOW TimeZone").fetchone()[0] == "UTC"
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("INSERT INTO reconciliation_job_run (job_run_id, scheduled_at, status,"
                         " completed_at) VALUES ('x', now(), 'PASS', now())")
    assert db.conn.execute("SELECT count(*) FROM reconciliation_job_run").fetchone()[0] == 0


def test_the_statement_timeout_applies(db: Db) -> None:
    conninfo, _ = postgres.parse_ref(db.ref("reconciliation_job_run"))
    with (read_only_connection(conninfo, password=None, timeout=0.2) as conn,
          pytest.raises(psycopg.errors.QueryCanceled)):
        conn.execute("SELECT pg_sleep(5)")


# --- failures ------------------------------------------------------------------------------------


def test_a_missing_table_is_named(db: Db) -> None:
    db.conn.execute("DROP TABLE reconciliation_run_ack")
    ref = db.ref("reconciliation_run_ack")
    assert fails(ref) == (f"{source_name(ref)}: table reconciliation_run_ack does not exist "
                          "(sql/schema.sql creates it)")


def test_a_missing_column_is_a_query_error(db: Db) -> None:
    db.conn.execute("ALTER TABLE reconciliation_run_ack DROP COLUMN signer_id")
    ref = db.ref("reconciliation_run_ack")
    assert fails(ref) == f'{source_name(ref)}: query failed: column "signer_id" does not exist'


def test_a_timestamp_without_time_zone_is_refused(db: Db) -> None:
    db.conn.execute("DROP TABLE reconciliation_run_ack")
    db.conn.execute("CREATE TABLE reconciliation_run_ack (ack_id TEXT PRIMARY KEY, job_run_id"
                    " TEXT, signer_id TEXT, ack_dt_utc TIMESTAMP)")
    db.insert("reconciliation_run_ack", [{"ack_id": "a", "job_run_id": "r", "signer_id": "s",
                                          "ack_dt_utc": "2026-11-02 08:00"}])
    assert "column ack_dt_utc is a timestamp without time zone" in fails(
        db.ref("reconciliation_run_ack"))


def test_an_unknown_database_is_named(db: Db) -> None:
    ref = db.ref("reconciliation_job_run", dbname="no_such_db")
    text = fails(ref)
    assert text.startswith(f"{source_name(ref)}: cannot read the database: ")
    assert 'database "no_such_db" does not exist' in text


def test_a_server_that_is_not_there(db: Db, tmp_path: Path) -> None:
    ref = db.ref("reconciliation_job_run", socket=tmp_path)
    assert fails(ref, postgres={"timeout_seconds": 2}).startswith(
        f"{source_name(ref)}: cannot read the database: ")


def test_the_size_cap(db: Db) -> None:
    db.insert("reconciliation_job_run", [
        {"job_run_id": f"r{i}", "scheduled_at": "2026-11-02T06:00:00Z",
         "completed_at": "2026-11-02T06:25:00Z", "status": "PASS"} for i in range(50)])
    ref = db.ref("reconciliation_job_run")
    assert "larger than the limit of 500 bytes" in fails(ref, postgres={"max_bytes": 500})
    assert "larger than the limit of 400 bytes" in fails(ref, max_bytes=400)
    assert len(read(ref, max_bytes=500, postgres={"max_bytes": 10_000})) > 500


def test_the_password_comes_from_the_named_variable(db: Db, monkeypatch: pytest.MonkeyPatch
                                                    ) -> None:
    # The throwaway cluster trusts local connections, so any password connects; what is
    # checked is that the variable is required and its value never printed.
    settings = {"postgres": {"password_env": "GOVGATE_TEST_PGPASSWORD"}}
    ref = db.ref("reconciliation_run_ack")
    monkeypatch.delenv("GOVGATE_TEST_PGPASSWORD", raising=False)
    assert "environment variable GOVGATE_TEST_PGPASSWORD is not set" in fails(ref, **settings)
    monkeypatch.setenv("GOVGATE_TEST_PGPASSWORD", "pg-pass-w0rd")
    assert read(ref, **settings).startswith(b"ack_id,")
    bad = db.ref("reconciliation_run_ack", dbname="no_such_db")
    assert "pg-pass-w0rd" not in fails(bad, **settings)


# --- govgate check on scheduler rows kept in the database -----------------------------------------


@pytest.fixture
def from_database(db: Db) -> Callable[[Project], str]:
    """Move a project's scheduler rows into the database and point the config at them."""

    def move(project: Project) -> str:
        db.insert("reconciliation_job_run",
                  [{c: row[c] for c in RUN_COLUMNS} for row in project.runs()])
        ref = db.ref("reconciliation_job_run")
        project.set_recon(runs=ref)
        project.runs_path.unlink()  # no local copy to fall back on
        return ref

    return move


def test_check_decides_from_database_rows_exactly_like_from_the_file(
    project: Project, from_database: Callable[[Project], str]
) -> None:
    as_of = Schedule.after(6)
    local = project.check(as_of)
    assert local.code == 0, local.err
    ref = from_database(project)
    served = project.check(as_of)
    assert (served.code, served.err) == (0, "")
    # Findings name the table by its source name (no libpq options in any output).
    assert served.out.replace(source_name(ref), "scheduler_runs.csv") == local.out
    assert served.json()["sections"]["reconciliation"]["state"] == "green"


def test_check_blocks_on_a_double_skip_in_the_database(
    project: Project, from_database: Callable[[Project], str]
) -> None:
    project.skip(5, "credential_rotation")
    project.skip(6)
    from_database(project)
    result = project.check(Schedule.after(6))
    assert result.code == 1, result.err
    assert result.json()["sections"]["reconciliation"]["state"] == "red"


def test_check_exits_2_naming_the_database_source_when_it_fails(
    project: Project, from_database: Callable[[Project], str], db: Db
) -> None:
    ref = from_database(project)
    db.conn.execute("DROP TABLE reconciliation_job_run CASCADE")
    result = project.check(Schedule.after(6))
    assert result.code == 2
    assert result.err == (f"govgate: error: {source_name(ref)}: table reconciliation_job_run "
                          "does not exist (sql/schema.sql creates it)\n")
    assert not project.output.exists()


def test_a_bad_row_is_named_by_the_loader(
    project: Project, from_database: Callable[[Project], str], db: Db
) -> None:
    # The database accepts job ids the loader refuses (control characters): the loader still
    # names the row, in the CSV the source produced.
    ref = from_database(project)
    db.conn.execute("UPDATE reconciliation_job_run SET job_run_id = 'recon\tW39' "
                    "WHERE job_run_id = %s", (Schedule.run_id(1),))
    result = project.check(Schedule.after(6))
    assert result.code == 2
    assert result.err.startswith(f"govgate: error: {source_name(ref)}: row 2, column job_run_id: ")


def test_settings_pass_the_config_schema(project: Project,
                                         from_database: Callable[[Project], str]) -> None:
    from_database(project)
    project.update_config(sources={"postgres": {"timeout_seconds": 10, "max_bytes": 10**6}})
    assert project.check(Schedule.after(6)).code == 0
    project.update_config(sources={"postgres": {"password": "x"}})
    result = project.check(Schedule.after(6))
    assert result.code == 2 and "/sources/postgres" in result.err



# --- command-line options take the same references as the configuration ---------------------


EVENT_ROWS = [
    {"ack_event_id": "e1", "signer_id": "alex", "owner_route": "publish_gate",
     "cert_window_id": "cw-1", "request_dt_utc": "2026-11-18T09:00:00Z",
     "ack_dt_utc": "2026-11-18T10:30:17Z", "ack_outcome": "approved",
     "sla_target_hours": Decimal("0.5")},
    {"ack_event_id": "e2", "signer_id": "pat", "owner_route": "faq_rewrite",
     "request_dt_utc": "2026-11-19T09:00:00Z", "sla_target_hours": Decimal("4")},
]


@pytest.mark.parametrize("with_config", [False, True], ids=["bare", "in-a-project"])
def test_heatmap_events_option_reads_a_postgresql_reference(db: Db, tmp_path: Path,
                                                            with_config: bool) -> None:
    from tests.conftest import run_cli

    db.insert("signer_ack_event", EVENT_ROWS)
    ref = db.ref("signer_ack_event")
    (tmp_path / "events.csv").write_bytes(read(ref))
    if with_config:
        (tmp_path / "govgate.yaml").write_text("sources:\n  postgres:\n    timeout_seconds: 5\n",
                                               encoding="utf-8")
        (tmp_path / "policies").mkdir()
    args = ["heatmap", "--as-of", "2026-11-20T08:00:00Z", "--format", "json", "--events"]
    from_db = run_cli([*args, ref], tmp_path)
    from_file = run_cli([*args, "events.csv"], tmp_path)
    assert (from_db.code, from_db.err) == (0, "")
    assert from_db.out == from_file.out
    assert [r["signer_id"] for r in from_db.json()["rows"]] == ["alex", "pat"]


def test_validate_reads_a_postgresql_reference(db: Db, tmp_path: Path) -> None:
    from tests.conftest import run_cli

    db.insert("signer_ack_event", EVENT_ROWS)
    result = run_cli(["validate", "--kind", "scheduler_run", db.ref("reconciliation_job_run")],
                     tmp_path)
    assert result.code == 0, result.out
    assert f"ok    {source_name(db.ref('reconciliation_job_run'))}: scheduler_run, 0 rows" in (
        result.out)


def test_a_failing_option_reference_exits_2_naming_it(db: Db, tmp_path: Path) -> None:
    from tests.conftest import run_cli

    ref = db.ref("signer_ack_event", dbname="no_such_db")
    result = run_cli(["heatmap", "--events", ref], tmp_path)
    assert result.code == 2
    assert result.err.startswith(f"govgate: error: {source_name(ref)}: cannot read the database")
