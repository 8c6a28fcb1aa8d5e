"""The PostgreSQL ledger on a throwaway cluster: same lines as the file, append-only, one chain.

Eight ``govgate check`` / ``govgate promote`` processes write the shipped demo's records to one
database at once, delivering pages to a webhook on 127.0.0.1: the ledger verifies, holds each
record of a single run exactly once, and every page event reached the webhook exactly once.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.support.httpserver import HTTPTestServer, Response
from tests.support.postgres import PostgresCluster

from govgate.ledger import Ledger
from govgate.ledger_pg import PostgresLedger
from govgate.model import LedgerRecord

psycopg = pytest.importorskip("psycopg")

pytestmark = pytest.mark.postgres

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO / "sql" / "schema.sql"
AS_OF = "2026-11-20T00:00:00Z"
ENV = "GOVGATE_TEST_ROUTING_KEY"
ROUTES = ("publish_gate", "faq_rewrite", "freeze_bypass", "exec_readback")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresCluster]:
    with PostgresCluster.start_in(tmp_path_factory.mktemp("pg")) as pg:
        yield pg


@pytest.fixture
def dsn(cluster: PostgresCluster) -> Iterator[str]:
    """A fresh database with sql/schema.sql applied and the demo's routes in backup_owner_policy.

    A database per test (not a schema): the ledger's tables live in the default search path.
    """
    name = f"gg_{uuid.uuid4().hex[:12]}"
    with cluster.connect() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    ref = f"postgresql://{cluster.user}@/{name}?host={cluster.socket_dir}&port={cluster.port}"
    with psycopg.connect(ref, autocommit=True) as conn:
        conn.execute(SCHEMA.read_text(encoding="utf-8"))
        for route in ROUTES:
            conn.execute(
                "INSERT INTO backup_owner_policy VALUES (%s, 'p', 'b', 'heatmap_red', "
                "'7 green refreshes', '1.0.0', 'lead', '2026-09-01T00:00:00Z')", (route,))
    yield ref
    with cluster.connect() as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def rec(key: str, minutes: int = 0, **data: Any) -> LedgerRecord:
    at = datetime(2026, 11, 20, tzinfo=UTC) + timedelta(minutes=minutes)
    return LedgerRecord("note", key, at, {"n": minutes, **data})


def lines(dsn: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        return [r[0] for r in conn.execute("SELECT line FROM govgate_ledger ORDER BY seq")]


# -- the backend ---------------------------------------------------------------------------------


def test_lines_are_the_file_backends_lines_and_appends_are_idempotent(dsn: str,
                                                                      tmp_path: Path) -> None:
    batch = [rec(f"k{i}", i) for i in range(5)]
    store, file = PostgresLedger(dsn), Ledger(tmp_path / "ledger.jsonl")
    assert [r.key for r in store.append(batch)] == [r.key for r in file.append(batch)]
    assert store.append([*batch, rec("k5", 5)]) == [rec("k5", 5)]
    file.append([rec("k5", 5)])
    assert "\n".join(lines(dsn)) + "\n" == file.path.read_text(encoding="utf-8")
    report = store.verify()
    assert report.ok and report.count == 6 and report.head == file.verify().head
    assert store.has("k3") and not store.has("k9") and store.keys() == file.keys()


def test_the_database_refuses_to_change_history(dsn: str) -> None:
    PostgresLedger(dsn).append([rec("a"), rec("b", 1)])
    with psycopg.connect(dsn, autocommit=True) as conn:
        for sql in ("UPDATE govgate_ledger SET kind = 'x'", "DELETE FROM govgate_ledger",
                    "TRUNCATE govgate_ledger"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)
        # A fork: a second record naming the same predecessor.
        prev = conn.execute("SELECT prev FROM govgate_ledger WHERE seq = 2").fetchone()[0]
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("INSERT INTO govgate_ledger VALUES (3, 'x', 'c', now(), '{}', %s, %s)",
                         ("f" * 64, prev))


def test_a_tampered_row_is_reported_by_verify(dsn: str, tmp_path: Path) -> None:
    PostgresLedger(dsn).append([rec(f"k{i}", i) for i in range(4)])
    with psycopg.connect(dsn, autocommit=True) as conn:  # a superuser going around the trigger
        conn.execute("ALTER TABLE govgate_ledger DISABLE TRIGGER govgate_ledger_append_only")
        conn.execute("UPDATE govgate_ledger SET line = replace(line, '\"n\":2', '\"n\":7') "
                     "WHERE seq = 3")
    report = PostgresLedger(dsn).verify()
    assert not report.ok and report.first_bad_line == 3 and report.count == 2
    run = subprocess.run([sys.executable, "-m", "govgate", "ledger", "verify", dsn],
                         capture_output=True, text=True, check=False, cwd=tmp_path)
    assert run.returncode == 2 and run.stdout.startswith("ledger BROKEN at line 3")


def test_a_promote_without_its_policy_row_is_refused_whole(dsn: str) -> None:
    from govgate.errors import GovgateError

    promote = LedgerRecord("promote", "promote:x", datetime(2026, 11, 20, tzinfo=UTC), {
        "promote_event_id": "x", "owner_route": "no_such_route", "promoted_signer": "b",
        "trigger_type": "heatmap_red", "trigger_evidence_ref": "heatmap:sha256:0@t",
        "promoted_at_dt_utc": "2026-11-20T00:00:00Z", "policy_version_at_time": "1.0.0"})
    store = PostgresLedger(dsn)
    with pytest.raises(GovgateError, match="no backup_owner_policy row"):
        store.append([rec("before"), promote])
    assert lines(dsn) == []  # the batch is one transaction: nothing of it was written


def test_a_password_in_the_configured_reference_is_refused(tmp_path: Path) -> None:
    (tmp_path / "govgate.yaml").write_text(
        "ledger: postgresql://u:hunter2@db.invalid/x\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "govgate", "ledger", "verify"],
                         capture_output=True, text=True, check=False, cwd=tmp_path)
    assert run.returncode == 2 and "hunter2" not in run.stderr + run.stdout
    assert "password" in run.stderr


def test_a_missing_table_is_a_clear_error(cluster: PostgresCluster, tmp_path: Path) -> None:
    ref = f"postgresql://{cluster.user}@/postgres?host={cluster.socket_dir}&port={cluster.port}"
    run = subprocess.run([sys.executable, "-m", "govgate", "ledger", "verify", ref],
                         capture_output=True, text=True, check=False, cwd=tmp_path)
    assert run.returncode == 2 and "sql/schema.sql" in run.stderr, run.stderr


# -- eight runners at once -----------------------------------------------------------------------


def demo(root: Path, ledger: str, server: HTTPTestServer) -> Path:
    for name in ("policies", "fixtures"):
        shutil.copytree(REPO / name, root / name)
    text = (REPO / "govgate.yaml").read_text(encoding="utf-8")
    text = text.replace("ledger: .govgate/ledger.jsonl", f"ledger: {json.dumps(ledger)}")
    hook = {"url": server.url("/v2/enqueue"), "routing_key_env": ENV, "allow_http": True}
    text = text.replace("paging:\n  outbox: .govgate/pager-outbox.jsonl",
                        "paging:\n  outbox: .govgate/pager-outbox.jsonl\n"
                        f"  webhook: {json.dumps(hook)}")
    (root / "govgate.yaml").write_text(text, encoding="utf-8")
    return root


def test_eight_concurrent_runs_write_one_chain_and_page_once(dsn: str, tmp_path: Path) -> None:
    env = {**os.environ, ENV: "routing-key", "GOVGATE_LEDGER_DSN": dsn}
    with HTTPTestServer(default=Response.json({"status": "success"}, status=202)) as server:
        # What one run writes, with the file ledger: the records to expect, and the events.
        single = demo(tmp_path / "single", ".govgate/ledger.jsonl", server)
        for command in ("check", "promote"):
            subprocess.run([sys.executable, "-m", "govgate", command, "--as-of", AS_OF],
                           cwd=single, env=env, capture_output=True, check=False)
        want = Counter((r.key, r.kind) for r in Ledger(single / ".govgate/ledger.jsonl").records())
        expected_events = Counter((r.json()["dedup_key"], r.json()["event_action"])
                                  for r in server.requests)
        assert expected_events and set(expected_events.values()) == {1}
        start = len(server.requests)

        shared = demo(tmp_path / "shared", "env:GOVGATE_LEDGER_DSN", server)
        runners = []
        for i in range(8):
            # Each runner has its own working copy (its own outbox), as CI runners would.
            root = shutil.copytree(shared, tmp_path / f"runner{i}")
            command = "promote" if i % 2 else "check"
            runners.append(subprocess.Popen(
                [sys.executable, "-m", "govgate", command, "--as-of", AS_OF, "--format", "json"],
                cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
        results = [(p.wait(timeout=600), p.stderr.read() if p.stderr else "") for p in runners]
        assert all(code in (0, 1) for code, _ in results), results
        assert not [err for _, err in results if "Traceback" in err or "delivery" in err]
        got_events = Counter((r.json()["dedup_key"], r.json()["event_action"])
                             for r in server.requests[start:])
    assert got_events == expected_events  # every page event delivered exactly once

    store = PostgresLedger(dsn)
    report = store.verify()
    assert report.ok, report.problem
    got = Counter((r.key, r.kind) for r in store.records())
    # The file run has one outbox receipt per event; the eight runners' outboxes are their own
    # files, and the shared ledger records each sink's receipt once.
    assert got == want, (len(got), len(want))
    verify = subprocess.run([sys.executable, "-m", "govgate", "ledger", "verify"],
                            cwd=tmp_path / "runner0", env=env, capture_output=True, text=True,
                            check=False)
    assert verify.returncode == 0 and verify.stdout.startswith("ledger OK:"), verify

    with psycopg.connect(dsn) as conn:
        promotes = conn.execute("SELECT count(*) FROM backup_promote_event").fetchone()[0]
        pages = conn.execute("SELECT count(*) FROM govgate_page").fetchone()[0]
        deliveries = conn.execute(
            "SELECT count(*) FROM govgate_page_delivery WHERE sink = 'webhook'").fetchone()[0]
        incidents = conn.execute(
            "SELECT count(*), count(closed_at) FROM govgate_incident").fetchone()
        forced = conn.execute("SELECT count(*) FROM forced_revert_event").fetchone()[0]
        reverted = conn.execute("SELECT count(*) FROM backup_promote_event "
                                "WHERE reverted_at_dt_utc IS NOT NULL").fetchone()[0]
    assert promotes == sum(1 for key, kind in want if kind == "promote") > 0
    assert forced == sum(1 for key, kind in want if kind == "forced_revert") > 0
    assert reverted == sum(1 for key, kind in want if kind in ("revert", "forced_revert"))
    assert pages == deliveries == len(expected_events)
    assert incidents[0] == sum(1 for key, kind in want if kind == "incident")


# -- govgate verify on a PostgreSQL ledger --------------------------------------------------------


@pytest.mark.parametrize("ledger", ["env:GOVGATE_LEDGER_DSN", "direct"])
def test_verify_proves_a_run_whose_ledger_is_in_postgresql(dsn: str, tmp_path: Path,
                                                           ledger: str) -> None:
    """A run recorded in a PostgreSQL ledger verifies (the head is looked up where the project's
    configuration keeps it, never as a file path); a head the ledger no longer holds fails."""
    env = {**os.environ, ENV: "routing-key", "GOVGATE_LEDGER_DSN": dsn}
    with HTTPTestServer(default=Response.json({"status": "success"}, status=202)) as server:
        root = demo(tmp_path / "p", dsn if ledger == "direct" else ledger, server)
        first = subprocess.run([sys.executable, "-m", "govgate", "--as-of", AS_OF, "check",
                                "-o", "out"], cwd=root, env=env, capture_output=True,
                               text=True, check=False)
        assert first.returncode == 1, first.stderr
        manifest = json.loads((root / "out" / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["ledger"]["seq"] > 0
        assert "password" not in json.dumps(manifest["ledger"])
        run = subprocess.run([sys.executable, "-m", "govgate", "verify", "out"], cwd=root,
                             env=env, capture_output=True, text=True, check=False)
        assert run.returncode == 0, run.stdout + run.stderr
        assert "Traceback" not in run.stderr
        # Another database under the same name holds another chain: the head is not there.
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("ALTER TABLE govgate_ledger DISABLE TRIGGER USER")
            conn.execute("DELETE FROM govgate_ledger")
        run = subprocess.run([sys.executable, "-m", "govgate", "verify", "out"], cwd=root,
                             env=env, capture_output=True, text=True, check=False)
        assert run.returncode == 1 and "ledger" in run.stdout, run.stdout + run.stderr
