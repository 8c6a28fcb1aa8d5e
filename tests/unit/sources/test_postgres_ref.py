"""The PostgreSQL source without a server: references, settings, cells and the optional import.

The reads themselves run against a throwaway cluster in
``tests/integration/test_postgres_source.py``.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from govgate.errors import ExitCode, SourceError
from govgate.loaders.tables import is_csv
from govgate.sources import postgres
from govgate.sources.names import source_name
from govgate.sources.postgres import TABLES, PostgresSettings, parse_ref

SOCKET = "/run/pg%20sock"


# --- references --------------------------------------------------------------------------------


def test_the_table_parameter_is_taken_out_of_the_uri() -> None:
    conninfo, table = parse_ref(
        f"postgresql:///governance?host={SOCKET}&table=reconciliation_job_run&port=5433")
    assert table is TABLES["reconciliation_job_run"]
    # libpq reads the rest; the socket folder keeps its slashes and its escaped space.
    assert conninfo == "postgresql:///governance?host=/run/pg%20sock&port=5433"


def test_a_network_reference_keeps_user_host_and_options() -> None:
    conninfo, table = parse_ref(
        "postgres://govgate_ro@db.internal:5432/gov?sslmode=verify-full&table=signer_ack_event")
    assert table.name == "signer_ack_event"
    assert conninfo == "postgres://govgate_ro@db.internal:5432/gov?sslmode=verify-full"


@pytest.mark.parametrize("ref", [
    "postgresql://reader:hunter2-secret@db.internal/gov?table=signer_ack_event",
    "postgresql://db.internal/gov?password=hunter2-secret&table=signer_ack_event",
])
def test_a_password_in_the_reference_is_refused_without_quoting_it(ref: str) -> None:
    with pytest.raises(SourceError) as info:
        parse_ref(ref)
    text = str(info.value)
    assert "hunter2" not in text
    assert text.startswith("postgresql://db.internal: a password in the reference is refused")
    assert "sources.postgres.password_env" in text


@pytest.mark.parametrize(("ref", "message"), [
    ("postgresql:///gov", r"name exactly one table with \?table=NAME"),
    ("postgresql:///gov?table=a&table=b", r"name exactly one table with \?table=NAME"),
    ("postgresql:///gov?table=pg_authid", "unknown table 'pg_authid': govgate reads only"),
    ("postgresql:///gov?table=signer_ack_event;DROP TABLE x", "unknown table"),
    ("postgresql:///gov#signer_ack_event", "unexpected '#' fragment"),
])
def test_only_one_known_table_can_be_named(ref: str, message: str) -> None:
    with pytest.raises(SourceError, match=message) as info:
        parse_ref(ref)
    # Named by its source name: no fragment, no parameter other than the server and table.
    assert info.value.source == source_name(ref)
    assert info.value.exit_code == ExitCode.USAGE_ERROR


def test_the_readable_columns_are_the_row_schemas() -> None:
    from govgate.loaders.documents import load_schema

    assert set(TABLES["reconciliation_job_run"].columns) == set(
        load_schema("scheduler_run")["properties"])
    assert set(TABLES["reconciliation_run_ack"].columns) == set(
        load_schema("run_ack")["properties"])
    assert TABLES["signer_ack_event"].columns == (
        "ack_event_id", "signer_id", "owner_route", "cert_window_id", "request_dt_utc",
        "ack_dt_utc", "ack_outcome", "sla_target_hours")


def test_other_references_are_left_to_other_sources() -> None:
    for ref in ("runs.csv", "https://a.example/runs.csv", "postgresql.csv", "file://x.csv"):
        assert postgres.govgate_read_source(ref=ref, settings={}) is None


@pytest.mark.parametrize(("ref", "csv"), [
    ("runs.csv", True),
    ("runs.json", False),
    ("https://a.example/runs.csv?X-Amz-Signature=abc", True),
    ("https://a.example/runs.json?format=.csv", False),
    ("postgresql:///gov?table=reconciliation_job_run", True),
    ("POSTGRES://h/gov?table=signer_ack_event", True),
])
def test_the_table_loader_reads_database_tables_and_signed_urls_as_csv(ref: str, csv: bool
                                                                        ) -> None:
    assert is_csv(ref) is csv


# --- settings ----------------------------------------------------------------------------------


def test_settings_defaults_and_inheritance() -> None:
    assert PostgresSettings.from_settings({}) == PostgresSettings(None, 30.0, 512 * 1024 * 1024)
    assert PostgresSettings.from_settings({"max_bytes": 10}).max_bytes == 10
    cfg = PostgresSettings.from_settings(
        {"max_bytes": 10, "postgres": {"max_bytes": 20, "password_env": "PGPW",
                                       "timeout_seconds": 5}})
    assert cfg == PostgresSettings("PGPW", 5.0, 20)


@pytest.mark.parametrize(("conf", "where"), [
    ({"password_env": "not a name"}, "postgres.password_env"),
    ({"timeout_seconds": 0}, "postgres.timeout_seconds"),
    ({"timeout_seconds": True}, "postgres.timeout_seconds"),
    ({"max_bytes": 0}, "postgres.max_bytes"),
    ({"password": "x"}, "postgres.password"),
])
def test_bad_settings_name_the_key(conf: dict[str, object], where: str) -> None:
    with pytest.raises(SourceError) as info:
        PostgresSettings.from_settings({"postgres": conf})
    assert (info.value.source, info.value.where) == ("sources", where)


def test_a_missing_password_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOVGATE_TEST_PGPW", raising=False)
    ref = f"postgresql:///gov?host={SOCKET}&table=signer_ack_event"
    with pytest.raises(SourceError) as info:
        postgres.govgate_read_source(ref=ref, settings={"postgres": {
            "password_env": "GOVGATE_TEST_PGPW"}})
    assert str(info.value) == (
        f"{ref}: sources.postgres.password_env: environment variable GOVGATE_TEST_PGPW is not "
        "set or empty; it must hold the database password")


def test_without_psycopg_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg -> ImportError
    ref = f"postgresql:///gov?host={SOCKET}&table=signer_ack_event"
    with pytest.raises(SourceError) as info:
        postgres.govgate_read_source(ref=ref, settings={})
    assert str(info.value) == (
        f"{ref}: reading PostgreSQL needs psycopg: install govgate[postgres]")


# --- cells -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "text"), [
    (None, ""),
    ("", ""),
    ("recon-2026-W45", "recon-2026-W45"),
    (datetime(2026, 11, 2, 6, 25, tzinfo=UTC), "2026-11-02T06:25:00Z"),
    (datetime(2026, 11, 2, 11, 55, 0, 5, tzinfo=timezone(timedelta(hours=5, minutes=30))),
     "2026-11-02T06:25:00.000005Z"),
    (Decimal("0.50"), "0.50"),
    (Decimal("24"), "24"),
    (Decimal("1E+1"), "10"),
    (True, "true"),
    (date(2026, 11, 2), "2026-11-02"),
    (7, "7"),
])
def test_cells_are_written_as_the_file_loaders_expect(value: object, text: str) -> None:
    assert postgres._cell(value, "c", "ref") == text


def test_a_timestamp_without_time_zone_is_refused() -> None:
    with pytest.raises(SourceError, match="column scheduled_at is a timestamp without time "
                                          "zone; govgate needs timestamptz"):
        postgres._cell(datetime(2026, 11, 2, 6, 25), "scheduled_at", "ref")


def test_csv_has_a_header_and_respects_the_cap() -> None:
    table = TABLES["reconciliation_run_ack"]
    rows = [("ack-1", "recon-2026-W44", "alex, jr.", datetime(2026, 11, 3, tzinfo=UTC)),
            ("ack-2", None, "pat", datetime(2026, 11, 4, tzinfo=UTC))]
    data = postgres._to_csv(rows, table, "ref", 10_000)
    assert data == (b"ack_id,job_run_id,signer_id,ack_dt_utc\n"
                    b'ack-1,recon-2026-W44,"alex, jr.",2026-11-03T00:00:00Z\n'
                    b"ack-2,,pat,2026-11-04T00:00:00Z\n")
    assert postgres._to_csv(rows, table, "ref", len(data)) == data
    with pytest.raises(SourceError, match="larger than the limit of 60 bytes"):
        postgres._to_csv(iter(rows), table, "ref", 60)
    # The cap counts UTF-8 bytes, not characters: 79 characters are 109 bytes here.
    wide = [("ack-1", "r", "é" * 30, None)]
    assert len(postgres._to_csv(wide, table, "ref", 109)) == 109
    with pytest.raises(SourceError, match="larger than the limit of 90 bytes"):
        postgres._to_csv(wide, table, "ref", 90)


def test_other_parameters_pass_through_as_written() -> None:
    conninfo, _ = parse_ref("postgresql:///gov?application_name=a+b&table=signer_ack_event"
                            "&options=-c%20search_path%3Dgovernance")
    assert conninfo == ("postgresql:///gov?application_name=a+b"
                        "&options=-c%20search_path%3Dgovernance")
    _, table = parse_ref("postgresql:///gov?table=signer%5Fack%5Fevent")
    assert table.name == "signer_ack_event"
