"""A job's verdict from its manifest and both exports, and the diff artifact it leaves."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from govgate.model import Location
from govgate.recon import artifacts, engine
from govgate.recon.loader import ingest_hash
from govgate.recon.model import (
    EpsilonPolicy,
    JobInputs,
    JobManifest,
    MetricExport,
    ReconInputs,
    ReconPolicy,
    Tolerance,
)

D = Decimal
START = datetime(2026, 10, 5, tzinfo=UTC)
END = START + timedelta(days=7)
POLICY = ReconPolicy(
    version="1.0.0", source="policies/reconciliation-policy-1.0.0.yaml",
    anchor=datetime(2026, 9, 21, tzinfo=UTC), period=timedelta(days=7),
    run_offset=timedelta(hours=6), contract_max_semver=(1, 2, 0),
    contract_max_semver_text="1.2.0", page_max_gap=timedelta(days=7),
    page_grace=timedelta(hours=12), block_states=frozenset({"red"}))
EPS = EpsilonPolicy("1.1.0", {
    "tickets_p95": Tolerance(D("0.05"), D("0.0025"), "support-ops"),
    "crash_free_sessions": Tolerance(D("0.01"), D("0.001"), "live-ops"),
}, "policies/epsilon-policy-1.1.0.yaml")
INPUTS = ReconInputs(policy=POLICY, epsilon_policies={"1.1.0": EPS}, runs=(), jobs={})
LEAD = {"tickets_p95": D("611.01"), "crash_free_sessions": D("99.5")}


def hash_of(values: dict[str, Decimal]) -> str:
    text = "".join(f"{k},{format(v.normalize(), 'f')}\n" for k, v in sorted(values.items()))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def export(side: str, values: dict[str, Decimal], **changes: object) -> MetricExport:
    base = MetricExport(
        side=side, export_id="lr-1" if side == "leadership" else "annex-1",
        tuple_revision_hash="tuple-1", window_tz_policy="UTC", start_inclusive=START,
        end_exclusive=END, declared_ingest_hash=hash_of(values),
        computed_ingest_hash=ingest_hash(values),
        footer_schema_semver=None if side == "leadership" else "1.0.0", values=dict(values),
        value_lines={m: i + 2 for i, m in enumerate(sorted(values))},
        location=Location(f"jobs/run-1/{side}.json", 1))
    return replace(base, **changes)  # type: ignore[arg-type]


def job(lead: MetricExport | None = None, part: MetricExport | None = None) -> JobInputs:
    manifest = JobManifest("run-1", "lr-1", "annex-1", "tuple-1", "1.1.0", "UTC", START, END,
                           Location("jobs/run-1/manifest.yaml", 1))
    return JobInputs(manifest, lead or export("leadership", LEAD),
                     part or export("partner", LEAD))


def verdict(j: JobInputs) -> engine.JobOutcome:
    return engine.evaluate_job(j, INPUTS, engine.compare_metric)


def test_identical_exports_pass() -> None:
    outcome = verdict(job())
    assert outcome.status == "PASS"
    assert outcome.problems == ()
    assert [r.metric_id for r in outcome.rows] == ["crash_free_sessions", "tickets_p95"]


def test_ingest_hash_is_the_documented_canonical_form() -> None:
    values = {"b": D("12.50"), "a": D("0.000"), "c": D("-3"), "d": D("1E+2")}
    text = "a,0\nb,12.5\nc,-3\nd,100\n"
    assert ingest_hash(values) == "sha256:" + hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize("side", ["leadership", "partner"])
@pytest.mark.parametrize("field", ["start_inclusive", "end_exclusive"])
def test_window_parity_failure_fails_the_run(side: str, field: str) -> None:
    shifted = export(side, LEAD, **{field: (START if field == "start_inclusive" else END)
                                    + timedelta(days=1)})
    outcome = verdict(job(**{"lead" if side == "leadership" else "part": shifted}))
    assert outcome.status == "FAIL"
    assert len(outcome.problems) == 1
    assert outcome.problems[0].startswith("window parity")
    assert side in outcome.problems[0]
    # The rows are still compared and pass: the window alone failed the run.
    assert all(r.result == "pass" for r in outcome.rows)


def test_window_parity_is_exact_to_the_microsecond() -> None:
    shifted = export("partner", LEAD, end_exclusive=END - timedelta(microseconds=1))
    assert verdict(job(part=shifted)).status == "FAIL"


def test_tuple_revision_and_export_ids_must_match_the_manifest() -> None:
    assert verdict(job(part=export("partner", LEAD, tuple_revision_hash="other"))).status == "FAIL"
    assert verdict(job(part=export("partner", LEAD, export_id="annex-2"))).status == "FAIL"
    assert verdict(job(lead=export("leadership", LEAD, export_id="lr-2"))).status == "FAIL"


@pytest.mark.parametrize(("semver", "accepted"), [
    ("1.2.0", True), ("1.1.99", True), ("0.9.0", True),
    ("1.2.1", False), ("1.3.0", False), ("2.0.0", False), ("1.10.0", False),
])
def test_annex_footer_semver_against_the_parser_ceiling(semver: str, accepted: bool) -> None:
    outcome = verdict(job(part=export("partner", LEAD, footer_schema_semver=semver)))
    assert (outcome.status == "PASS") is accepted
    if not accepted:
        assert any(p.startswith("annex rejected") for p in outcome.problems)
        assert semver in outcome.problems[0]
        assert "1.2.0" in outcome.problems[0]
        assert outcome.rows == ()  # a rejected annex is never compared


def test_ingest_hash_mismatch_fails_and_keeps_both_computed_hashes() -> None:
    part = export("partner", LEAD, declared_ingest_hash="sha256:" + "a" * 64)
    outcome = verdict(job(part=part))
    assert outcome.status == "FAIL"
    assert any("ingest_hash of the partner export" in p for p in outcome.problems)
    assert outcome.leadership_ingest_hash == hash_of(LEAD)
    assert outcome.partner_ingest_hash == hash_of(LEAD)


def test_a_metric_on_one_side_only_fails_the_run() -> None:
    part_values = {"tickets_p95": LEAD["tickets_p95"]}
    outcome = verdict(job(part=export("partner", part_values)))
    assert outcome.status == "FAIL"
    failing = [r for r in outcome.rows if r.result == "fail"]
    assert [(r.metric_id, r.partner_value) for r in failing] == [("crash_free_sessions", None)]


def test_tolerances_come_from_the_manifest_epsilon_policy_version() -> None:
    drifted = {**LEAD, "tickets_p95": D("614.07")}  # 0.5 % above 611.01; 1.1.0 allows 0.25 %
    outcome = verdict(job(part=export("partner", drifted)))
    assert outcome.status == "FAIL"
    loose = EpsilonPolicy("1.0.0", {**EPS.tolerances, "tickets_p95": Tolerance(
        D("0.5"), D("0.01"), "support-ops")}, "policies/epsilon-policy-1.0.0.yaml")
    inputs = replace(INPUTS, epsilon_policies={"1.0.0": loose, "1.1.0": EPS})
    j = job(part=export("partner", drifted))
    j = replace(j, manifest=replace(j.manifest, epsilon_policy_version="1.0.0"))
    assert engine.evaluate_job(j, inputs, engine.compare_metric).status == "PASS"


# -- the diff artifact ----------------------------------------------------------------------


def test_diff_document_carries_both_ingest_hashes_and_the_rows() -> None:
    drifted = {**LEAD, "tickets_p95": D("614.07")}
    j = job(part=export("partner", drifted))
    outcome = verdict(j)
    doc = artifacts.diff_document(j, outcome)
    assert doc["leadership"]["ingest_hash"] == hash_of(LEAD)
    assert doc["partner"]["ingest_hash"] == hash_of(drifted)
    assert doc["partner"]["footer_schema_semver"] == "1.0.0"
    assert doc["status"] == "FAIL"
    assert doc["epsilon_policy_version"] == "1.1.0"
    assert (doc["start_inclusive"], doc["end_exclusive"]) == ("2026-10-05T00:00:00Z",
                                                              "2026-10-12T00:00:00Z")
    rows = {r["metric_id"]: r for r in doc["rows"]}
    assert rows["tickets_p95"] == {
        "metric_id": "tickets_p95", "leadership_value": "611.01", "partner_value": "614.07",
        "delta": "3.06", "relative_delta": "0.0050081013", "tolerance_used": "1.527525",
        "result": "fail", "owner_route": "support-ops"}
    assert rows["crash_free_sessions"]["result"] == "pass"
    assert rows["crash_free_sessions"]["owner_route"] is None


def test_diff_artifacts_are_deterministic_and_content_addressed() -> None:
    j = job()
    first = artifacts.render_json(artifacts.diff_document(j, verdict(j)))
    again = artifacts.render_json(artifacts.diff_document(j, verdict(j)))
    assert first == again
    json.loads(first)
    name = artifacts.content_name("run-1", first, "json")
    assert name == f"diff/run-1-{hashlib.sha256(first).hexdigest()[:16]}.json"
    assert artifacts.content_name("run-1", first + b" ", "json") != name


def test_diff_csv_has_the_documented_columns() -> None:
    j = job(part=export("partner", {**LEAD, "tickets_p95": D("614.07")}))
    rows = list(csv.DictReader(io.StringIO(artifacts.render_csv(verdict(j)).decode())))
    assert list(rows[0]) == ["metric_id", "leadership_value", "partner_value", "delta",
                             "relative_delta", "tolerance_used", "result", "owner_route"]
    assert [(r["metric_id"], r["result"], r["owner_route"]) for r in rows] == [
        ("crash_free_sessions", "pass", ""), ("tickets_p95", "fail", "support-ops")]
