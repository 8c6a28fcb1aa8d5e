"""The PostgreSQL source: the lessons' tables read directly, read-only, as CSV.

A reference names a database the way libpq does, plus the table to read as a ``table`` query
parameter::

    postgresql:///governance?host=/run/postgresql&table=reconciliation_job_run
    postgresql://govgate_ro@db.internal:5432/governance?sslmode=verify-full&table=signer_ack_event

Only the tables of ``sql/schema.sql`` that govgate reads are allowed, and only their input
columns are selected (see :data:`TABLES`), so a reference cannot run a query of its own. The rows
come back as CSV with a header, instants in canonical UTC (``2026-11-02T06:25:00Z``) and NULL as
an empty cell: exactly what the file loaders parse and validate.

Configured by ``sources.postgres`` (every key optional)::

    sources:
      postgres:
        password_env: GOVGATE_PG_PASSWORD   # the variable's NAME; libpq's PGPASSWORD and
                                            # ~/.pgpass work too
        timeout_seconds: 30                 # connect timeout and statement timeout
        max_bytes: 536870912                # default: sources.max_bytes, else 512 MiB

A password written in the reference is refused: references are printed in messages. psycopg is an
optional dependency (``pip install govgate[postgres]``), imported only when a reference needs it.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import unquote, urlsplit

from ..errors import SourceError
from ..hookspecs import hookimpl
from ..timeutil import format_instant
from .files import DEFAULT_MAX_BYTES
from .names import source_name

__all__ = ["TABLES", "PostgresSettings", "Table", "govgate_read_source", "parse_ref",
           "read_only_connection", "read_table_csv"]

SCHEMES = ("postgresql", "postgres")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_KEYS = frozenset({"password_env", "timeout_seconds", "max_bytes"})


@dataclass(frozen=True)
class Table:
    """A table govgate may read: the columns the matching row schema expects, in order."""

    name: str
    columns: tuple[str, ...]
    #: The primary key; rows come out in its order so the CSV is the same on every read.
    key: str


#: The readable tables (``sql/schema.sql``) by name.
TABLES: Mapping[str, Table] = {
    t.name: t
    for t in (
        Table(
            "reconciliation_job_run",
            ("job_run_id", "scheduled_at", "started_at", "completed_at", "skip_reason",
             "artifact_uri", "status"),
            "job_run_id",
        ),
        Table(
            "reconciliation_run_ack",
            ("ack_id", "job_run_id", "signer_id", "ack_dt_utc"),
            "ack_id",
        ),
        # The seed's 8 input columns; the generated ones are recomputed by govgate, exactly.
        Table(
            "signer_ack_event",
            ("ack_event_id", "signer_id", "owner_route", "cert_window_id", "request_dt_utc",
             "ack_dt_utc", "ack_outcome", "sla_target_hours"),
            "ack_event_id",
        ),
    )
}


@dataclass(frozen=True)
class PostgresSettings:
    """The validated ``sources.postgres`` mapping."""

    password_env: str | None = None
    timeout_seconds: float = 30.0
    max_bytes: int = DEFAULT_MAX_BYTES

    @classmethod
    def from_settings(cls, sources: Mapping[str, Any]) -> PostgresSettings:
        """Validate ``sources.postgres``; raise :class:`SourceError` naming the bad key."""
        raw = sources.get("postgres") or {}
        if not isinstance(raw, Mapping):
            raise SourceError("expected a mapping", source="sources", where="postgres")
        unknown = sorted(set(raw) - _KEYS)
        if unknown:
            raise SourceError(f"unknown key (expected one of {sorted(_KEYS)})",
                              source="sources", where=f"postgres.{unknown[0]}")
        env = raw.get("password_env")
        if env is not None and (not isinstance(env, str) or not _ENV_NAME.match(env)):
            raise SourceError(f"expected an environment variable name, got {env!r}",
                              source="sources", where="postgres.password_env")
        timeout = raw.get("timeout_seconds", cls.timeout_seconds)
        if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
            raise SourceError(f"expected a number > 0, got {timeout!r}", source="sources",
                              where="postgres.timeout_seconds")
        limit = raw.get("max_bytes", sources.get("max_bytes", DEFAULT_MAX_BYTES))
        if type(limit) is not int or limit < 1:
            raise SourceError(f"expected an integer >= 1, got {limit!r}", source="sources",
                              where="postgres.max_bytes")
        return cls(password_env=env, timeout_seconds=float(timeout), max_bytes=limit)

    def password(self, ref: str) -> str | None:
        """The password from the variable the settings name (None: libpq's own lookup)."""
        if self.password_env is None:
            return None
        value = os.environ.get(self.password_env)
        if not value:
            raise SourceError(f"environment variable {self.password_env} is not set or empty; "
                              "it must hold the database password", source=source_name(ref),
                              where="sources.postgres.password_env")
        return value


def parse_ref(ref: str) -> tuple[str, Table]:
    """Split ``ref`` into a libpq URI (without ``table``) and the table to read.

    :raises SourceError: For an unknown or missing table, or a password in the reference.
    """
    try:
        parts = urlsplit(ref)
        parts.port  # noqa: B018 - a port that is not a number raises here, not in libpq
    except ValueError:
        raise SourceError("malformed reference", source=source_name(ref)) from None
    if any(ord(c) < 0x20 or c == "\x7f" for c in ref):
        raise SourceError("malformed reference: it contains a control character",
                          source=source_name(ref))
    # The query is split by hand, and all but ``table`` passed on as written: decoding and
    # re-encoding would turn a '+' into a space, which libpq does not do.
    pieces = [p for p in parts.query.split("&") if p]
    params = [(unquote(k), unquote(v)) for k, _, v in (p.partition("=") for p in pieces)]
    # Any spelling of a secret's keyword: password, sslpassword (a client key's passphrase).
    if parts.password is not None or any("password" in k.lower() for k, _ in params):
        # Only the scheme and host are named: the reference itself holds the secret.
        raise SourceError(
            "a password in the reference is refused (references are printed in messages); "
            "name an environment variable in sources.postgres.password_env",
            source=f"{parts.scheme}://{parts.hostname or ''}",
        )
    if parts.fragment:
        raise SourceError("unexpected '#' fragment; name the table with ?table=NAME",
                          source=source_name(ref))
    names = [v for k, v in params if k == "table"]
    if len(names) != 1:
        raise SourceError(f"name exactly one table with ?table=NAME (one of {sorted(TABLES)})",
                          source=source_name(ref))
    table = TABLES.get(names[0])
    if table is None:
        raise SourceError(f"unknown table {names[0]!r}: govgate reads only {sorted(TABLES)}",
                          source=source_name(ref))
    rest = "&".join(p for p, (k, _) in zip(pieces, params, strict=True) if k != "table")
    # Not urlunsplit: it drops the '//' of an empty host (postgresql:///db, a local socket).
    return f"{parts.scheme}://{parts.netloc}{parts.path}" + (f"?{rest}" if rest else ""), table


def _cell(value: object, column: str, ref: str) -> str:
    """One CSV cell in the form the file loaders expect."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            # govgate treats a timestamp without an offset as bad input, not as local time.
            raise SourceError(f"column {column} is a timestamp without time zone; govgate "
                              "needs timestamptz (sql/schema.sql)", source=source_name(ref))
        return format_instant(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _error_text(exc: Exception, password: str | None) -> str:
    """PostgreSQL's primary message, or the first line of libpq's, minus any password."""
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None)
    lines = str(exc).strip().splitlines()
    text = primary or (lines[0] if lines else type(exc).__name__)
    return text.replace(password, "[redacted]") if password else text


@contextmanager
def read_only_connection(conninfo: str, *, password: str | None, timeout: float,
                         snapshot: bool = False, work_mem: str | None = None) -> Iterator[Any]:
    """A psycopg connection inside a read-only transaction that is rolled back at the end.

    The server itself refuses any write in the transaction, whatever is executed; it also runs in
    UTC (so instants come back with a zero offset) and under a statement timeout.

    :param snapshot: ``REPEATABLE READ``: every query of the transaction sees one snapshot.
    :param work_mem: ``work_mem`` for this transaction only.
    """
    import psycopg

    kwargs: dict[str, Any] = {
        # libpq wants whole seconds and treats anything below 2 as 2.
        "connect_timeout": max(2, math.ceil(timeout)),
        "application_name": "govgate",
    }
    if password is not None:
        kwargs["password"] = password
    conn = psycopg.connect(conninfo, autocommit=False, **kwargs)
    try:
        if snapshot:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True  # the transaction begins READ ONLY
        settings = {"TimeZone": "UTC", "statement_timeout": f"{math.ceil(timeout * 1000)}ms"}
        if work_mem is not None:
            settings["work_mem"] = work_mem
        conn.execute("SELECT " + ", ".join("set_config(%s, %s, true)" for _ in settings),
                     [item for pair in settings.items() for item in pair])
        yield conn
    finally:
        try:
            conn.rollback()
        finally:
            conn.close()


def _query(table: Table) -> Any:
    from psycopg import sql

    # Identifiers from the fixed table list, quoted all the same.
    return sql.SQL("SELECT {columns} FROM {table} ORDER BY {key}").format(
        columns=sql.SQL(", ").join(sql.Identifier(c) for c in table.columns),
        table=sql.Identifier(table.name),
        key=sql.Identifier(table.key),
    )


def _to_csv(rows: Iterable[Sequence[object]], table: Table, ref: str, limit: int) -> bytes:
    too_large = SourceError(f"the table is larger than the limit of {limit} bytes "
                            "(sources.postgres.max_bytes)", source=source_name(ref))
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.columns)
    for row in rows:
        writer.writerow([_cell(v, c, ref) for v, c in zip(row, table.columns, strict=True)])
        # Characters never outnumber their UTF-8 bytes: stop reading as soon as either passes.
        if buffer.tell() > limit:
            raise too_large
    data = buffer.getvalue().encode("utf-8")
    if len(data) > limit:
        raise too_large
    return data


def read_table_csv(ref: str, cfg: PostgresSettings) -> bytes:
    """Read the table ``ref`` names and return it as CSV bytes with a header.

    :raises SourceError: When psycopg is missing, the connection or the query fails, or the
        table is larger than ``max_bytes``.
    """
    conninfo, table = parse_ref(ref)
    password = cfg.password(ref)
    try:
        import psycopg
    except ImportError:
        raise SourceError("reading PostgreSQL needs psycopg: install govgate[postgres]",
                          source=source_name(ref)) from None
    try:
        # A server-side cursor: rows arrive in batches, so max_bytes bounds the memory used.
        with (read_only_connection(conninfo, password=password,
                                   timeout=cfg.timeout_seconds) as conn,
              conn.cursor(name="govgate_read") as cur):
            cur.itersize = 2000
            cur.execute(_query(table))
            return _to_csv(cur, table, ref, cfg.max_bytes)
    except psycopg.errors.UndefinedTable:
        raise SourceError(f"table {table.name} does not exist (sql/schema.sql creates it)",
                          source=source_name(ref)) from None
    except psycopg.OperationalError as exc:
        raise SourceError(f"cannot read the database: {_error_text(exc, password)}",
                          source=source_name(ref)) from None
    except psycopg.Error as exc:
        raise SourceError(f"query failed: {_error_text(exc, password)}",
                          source=source_name(ref)) from None


@hookimpl
def govgate_read_source(ref: str, settings: Mapping[str, Any]) -> bytes | None:
    """Read ``postgresql://`` (or ``postgres://``) references; None for anything else."""
    if "://" not in ref or ref.partition("://")[0].lower() not in SCHEMES:
        return None
    return read_table_csv(ref, PostgresSettings.from_settings(settings))
