"""What "two heat-map engines agree" means, asserted in one place: the same reduction (the
contract of docs/engines.md, integer for integer), hence the same history, snapshot hashes,
heat-map bytes and promotes."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

import pytest
from tests.unit.promote.factories import inputs, policy, rule

from govgate.fatigue.events import EventLog
from govgate.fatigue.heatmap import history
from govgate.fatigue.snapshot import render_json, rows_to_csv
from govgate.ledger import canonical_json
from govgate.promote import evaluate_promotions

REQUIRE_DUCKDB = "GOVGATE_REQUIRE_DUCKDB"


def need_duckdb() -> None:
    """Skip without DuckDB, or fail when ``GOVGATE_REQUIRE_DUCKDB=1`` (CI installs it)."""
    try:
        import duckdb  # noqa: F401
    except ImportError:
        if os.environ.get(REQUIRE_DUCKDB) == "1":
            pytest.fail(f"duckdb is not installed (and {REQUIRE_DUCKDB}=1 requires it)")
        pytest.skip("duckdb is not installed")


def reduced(log: EventLog) -> dict[str, object]:
    """Everything an engine produced, as plain values (cells as plain dicts)."""
    return {
        "origin": log.grid_origin,
        "count": log.event_count,
        "cert_windows": log.cert_windows,
        "signers": [(s.signer_id, s.first_day, dict(s.cells), dict(s.window_days))
                    for s in log.signers],
    }


def promotes(log: EventLog, as_of: datetime) -> bytes:
    """The promote records, findings and pages of a policy over the export's signers."""
    signers = [s.signer_id for s in log.signers] + ["nobody-1", "nobody-2"]
    routes = ("publish_gate", "faq_rewrite", "freeze_bypass", "exec_readback")
    pol = policy(*(rule(route, signers[2 * i % len(signers)], signers[(2 * i + 1) % len(signers)])
                   for i, route in enumerate(routes)),
                 approved=log.grid_origin - timedelta(days=400))
    result = evaluate_promotions(inputs(pol), history(log, as_of), log.pending, as_of)
    records = [{"kind": r.kind, "key": r.key, "at": r.at.isoformat(), "data": r.data}
               for r in result.records()]
    return canonical_json({"records": records, "section": result.section(),
                           "findings": [[f.rule, f.subject, f.severity.value, f.message]
                                        for f in result.findings],
                           "pages": [[p.dedup_key, p.summary] for p, _ in result.pages]})


def assert_same_everything(ours: EventLog, expected: EventLog, as_of: datetime) -> None:
    """``ours`` (another engine) equals ``expected`` (the Python scanner) at every level."""
    assert reduced(ours) == reduced(expected)
    assert ours.pending == expected.pending
    mine, theirs = history(ours, as_of), history(expected, as_of)
    assert [(r.at, r.rows, dict(r.classification)) for r in mine] == \
        [(r.at, r.rows, dict(r.classification)) for r in theirs]
    assert [r.snapshot_hash for r in mine] == [r.snapshot_hash for r in theirs]
    assert render_json(mine[-1]) == render_json(theirs[-1])
    assert rows_to_csv(mine[-1]) == rows_to_csv(theirs[-1])
    assert promotes(ours, as_of) == promotes(expected, as_of)
