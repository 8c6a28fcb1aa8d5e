"""The ledger in PostgreSQL: the same hash-chained records, and the seed's tables kept beside it.

``ledger: postgresql://user@host/db`` (or ``env:NAME``, see :mod:`govgate.ledger_store`) keeps the
records in ``govgate_ledger``, one row per record whose ``line`` is byte for byte the line the
JSON Lines backend would write (same ``seq``, same ``prev``), so both backends verify with the
same code and a partner recomputes the chain the same way. The tables come from
``sql/schema.sql``; govgate never creates or alters them.

Each append is one transaction that first takes a transaction-scoped advisory lock, so eight
runners appending at once take turns: the chain cannot fork (``prev`` is also UNIQUE) and a key
is written once (``key`` is UNIQUE). In the same transaction the records are projected into the
seed's own tables (``backup_promote_event``, ``forced_revert_event``) and govgate's
(``govgate_incident``, ``govgate_page``, ``govgate_page_delivery``), so a reader of those tables
sees exactly what the ledger says, never a half. Sending pages is serialised by a session-level
advisory lock, released by the server when a killed runner's connection drops.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from .errors import GovgateError, UsageError
from .ledger import ZERO_HASH, VerifyReport, _encode, _scan
from .model import LedgerRecord

__all__ = ["PostgresLedger", "parse_dsn"]

# Advisory lock ids: "gg" + a purpose, fixed so every govgate version agrees.
_APPEND_LOCK = 0x6767_0001
_DELIVERY_LOCK = 0x6767_0002
_TIMEOUT = 30


def parse_dsn(ref: str, *, shown: str) -> str:
    """Check a ``postgresql://`` reference; return it unchanged.

    A password in a reference written in the configuration is refused (configurations are
    committed and references are printed); one that came from an environment variable is
    accepted and never printed.
    """
    try:
        parts = urlsplit(ref)
        parts.port  # noqa: B018 - a bad port raises only when read
    except ValueError:
        raise UsageError("expected a well-formed postgresql:// reference",
                         source=shown) from None
    if any(ord(c) < 32 or ord(c) == 127 for c in ref):
        raise UsageError("expected a reference without control characters", source=shown)
    has_password = parts.password is not None or any(
        "password" in key for key in _query_keywords(parts.query))
    if has_password and not shown.startswith("env:"):
        raise UsageError("a password in the ledger reference is refused (the configuration is "
                         "committed and printed): use PGPASSWORD, ~/.pgpass, or ledger: env:NAME",
                         source="ledger")
    return ref


def _query_keywords(query: str) -> list[str]:
    """The query's keywords as libpq reads them: percent-decoded (``pass%77ord`` is
    ``password``), lower-cased here so that no spelling of a secret's keyword gets through."""
    from urllib.parse import unquote

    return [unquote(p.partition("=")[0]).lower() for p in query.split("&") if p]


def _origin(ref: str) -> str:
    parts = urlsplit(ref)
    host = parts.hostname or "local socket"
    return f"{parts.scheme}://{host}{parts.path}"


class PostgresLedger:
    """A :class:`~govgate.ledger_store.LedgerStore` in a PostgreSQL database."""

    def __init__(self, ref: str, *, shown: str = "ledger") -> None:
        # First: a refused reference raises below, and __del__ still runs on the half-built
        # object (it would print "Exception ignored" with a traceback after the one-line error).
        self._conn: Any = None
        self._ref = parse_dsn(ref, shown=shown)
        # Messages name the host and database only; from env: not even that.
        self._shown = shown if shown.startswith("env:") else _origin(ref)

    def __repr__(self) -> str:
        return f"PostgresLedger({self._shown!r})"

    def describe(self) -> str:
        return self._shown

    # -- connection ------------------------------------------------------------------------

    def _fail(self, exc: Exception, doing: str) -> GovgateError:
        diag = getattr(exc, "diag", None)
        text = getattr(diag, "message_primary", None) or type(exc).__name__
        if getattr(exc, "sqlstate", None) == "42P01":
            text += " (apply sql/schema.sql to the ledger database)"
        password = urlsplit(self._ref).password
        if password:
            text = text.replace(password, "[redacted]")
        return GovgateError(f"cannot {doing} the ledger: {text}", source=self._shown)

    def _connection(self) -> Any:
        if self._conn is None:
            try:
                import psycopg
            except ImportError:
                raise UsageError("a postgresql:// ledger needs psycopg: "
                                 "pip install 'govgate[postgres]'", source="ledger") from None
            try:
                self._conn = psycopg.connect(self._ref, autocommit=True, connect_timeout=_TIMEOUT,
                                             application_name="govgate")
                self._conn.execute("SET TimeZone TO 'UTC'")
            except psycopg.Error as exc:
                raise self._fail(exc, "connect to") from None
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None

    def __del__(self) -> None:
        self.close()

    # -- reading ---------------------------------------------------------------------------

    def _blob(self) -> bytes:
        import psycopg

        try:
            rows = self._connection().execute(
                "SELECT seq, line, hash FROM govgate_ledger ORDER BY seq").fetchall()
        except psycopg.Error as exc:
            raise self._fail(exc, "read") from None
        # The chain is checked on the lines themselves (the hash column is an index for the
        # UNIQUE constraint): _scan then names an edited row by its broken link, like a file's.
        return b"".join(line.encode("utf-8") + b"\n" for _seq, line, _hash in rows)

    def raw(self) -> bytes:
        """The rows' lines, each ending in a line feed: byte for byte the file backend's."""
        return self._blob()

    def records(self) -> list[LedgerRecord]:
        scan = _scan(self._blob())
        if scan.problem is not None:
            raise GovgateError(f"the ledger is broken: {scan.problem}", source=self._shown,
                               where=f"seq {scan.bad_line}")
        return list(scan.records)

    def keys(self) -> set[str]:
        return {record.key for record in self.records()}

    def has(self, key: str) -> bool:
        import psycopg

        try:
            row = self._connection().execute(
                "SELECT 1 FROM govgate_ledger WHERE key = %s", (key,)).fetchone()
        except psycopg.Error as exc:
            raise self._fail(exc, "read") from None
        return row is not None

    def verify(self) -> VerifyReport:
        scan = _scan(self._blob())
        return VerifyReport(ok=scan.bad_line is None, count=len(scan.records),
                            first_bad_line=scan.bad_line, problem=scan.problem,
                            torn_tail=False, head=scan.head)

    # -- writing ---------------------------------------------------------------------------

    def append(self, records: Iterable[LedgerRecord]) -> list[LedgerRecord]:
        import psycopg

        batch = list(records)
        if not batch:
            return []
        conn = self._connection()
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_APPEND_LOCK,))
                return self._append_locked(conn, batch)
        except psycopg.Error as exc:
            raise self._fail(exc, "append to") from None

    def _append_locked(self, conn: Any, batch: list[LedgerRecord]) -> list[LedgerRecord]:
        head = conn.execute(
            "SELECT seq, hash FROM govgate_ledger ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (int(head[0]), str(head[1])) if head else (0, ZERO_HASH)
        keys = [r.key for r in batch]
        seen = {row[0] for row in conn.execute(
            "SELECT key FROM govgate_ledger WHERE key = ANY(%s)", (keys,)).fetchall()}
        written: list[LedgerRecord] = []
        for record in batch:
            if record.key in seen:
                continue
            seen.add(record.key)
            seq += 1
            line = _encode(seq, record, prev)
            digest = hashlib.sha256(line).hexdigest()
            conn.execute(
                "INSERT INTO govgate_ledger (seq, kind, key, at, line, hash, prev) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (seq, record.kind, record.key, record.at, line.decode("utf-8"), digest, prev))
            _project(conn, record)
            prev = digest
            written.append(record)
        return written

    @contextlib.contextmanager
    def delivery_lock(self) -> Iterator[None]:
        import psycopg

        conn = self._connection()
        try:
            conn.execute("SELECT pg_advisory_lock(%s)", (_DELIVERY_LOCK,))
        except psycopg.Error as exc:
            raise self._fail(exc, "lock") from None
        try:
            yield
        finally:
            with contextlib.suppress(psycopg.Error):
                conn.execute("SELECT pg_advisory_unlock(%s)", (_DELIVERY_LOCK,))


def _project(conn: Any, record: LedgerRecord) -> None:
    """Write ``record`` into the table a reader of the seed's schema looks at."""
    data, kind = record.data, record.kind
    if kind == "promote":
        route = data.get("owner_route")
        if conn.execute("SELECT 1 FROM backup_owner_policy WHERE owner_route = %s",
                        (route,)).fetchone() is None:
            # The seed's foreign key: refuse loudly rather than keep a fact out of its table.
            raise GovgateError(
                f"the ledger database has no backup_owner_policy row for owner_route {route!r} "
                "(backup_promote_event references it): load the policy rows first",
                source="ledger")
        conn.execute(
            "INSERT INTO backup_promote_event (promote_event_id, owner_route, promoted_signer, "
            "trigger_type, trigger_evidence_ref, promoted_at_dt_utc, reverted_at_dt_utc, "
            "policy_version_at_time) VALUES (%s, %s, %s, %s, %s, %s, NULL, %s)",
            (data["promote_event_id"], route, data["promoted_signer"], data["trigger_type"],
             data["trigger_evidence_ref"], data["promoted_at_dt_utc"],
             data["policy_version_at_time"]))
    elif kind in ("revert", "forced_revert"):
        conn.execute("UPDATE backup_promote_event SET reverted_at_dt_utc = %s "
                     "WHERE promote_event_id = %s", (record.at, data.get("promote_event_id")))
        if kind == "forced_revert":
            conn.execute(
                "INSERT INTO forced_revert_event (forced_revert_event_id, promote_event_id, "
                "reverted_at_dt_utc, reason, forced_by, policy_version_at_time) "
                "SELECT %s, promote_event_id, %s, %s, %s, policy_version_at_time "
                "FROM backup_promote_event WHERE promote_event_id = %s",
                (data.get("forced_revert_event_id"), record.at, data.get("reason"),
                 data.get("by"), data.get("promote_event_id")))
    elif kind == "incident":
        conn.execute("INSERT INTO govgate_incident (incident_key, opened_at, data) "
                     "VALUES (%s, %s, %s)", (record.key, record.at, json.dumps(data)))
    elif kind == "incident_close":
        conn.execute("UPDATE govgate_incident SET closed_at = %s WHERE incident_key = %s",
                     (record.at, data.get("incident_key")))
    elif kind == "page":
        _project_page(conn, record)


def _project_page(conn: Any, record: LedgerRecord) -> None:
    data = record.data
    action, dedup_key = data.get("event_action"), data.get("dedup_key")
    prefix = "page" if action == "trigger" else "resolve"
    raw = data.get("payload")
    payload: dict[str, Any] = raw if isinstance(raw, dict) else {}
    if record.key == f"{prefix}:{dedup_key}":
        conn.execute(
            "INSERT INTO govgate_page (dedup_key, event_action, at, summary, body) "
            "VALUES (%s, %s, %s, %s, %s)",
            (dedup_key, action, record.at, payload.get("summary", ""), json.dumps(data)))
    else:  # a receipt: page:<sink>:<dedup_key>
        sink = record.key[len(prefix) + 1:-len(str(dedup_key)) - 1]
        conn.execute("INSERT INTO govgate_page_delivery (sink, dedup_key, event_action, at) "
                     "VALUES (%s, %s, %s, %s)", (sink, dedup_key, action, record.at))
