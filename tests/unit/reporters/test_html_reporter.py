"""The HTML report: one self-contained page, every input value escaped, anchors between parts."""

from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from tests.support.results import make_context, make_result

from govgate.model import Finding, Location, Severity
from govgate.reporters import html

HOSTILE = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
WEEKS = {"policy_version": "1.0.0", "state": "red", "missed_windows": ["recon-2026-W45"],
         "windows": [
             {"index": 0, "start_inclusive": "2026-11-02T00:00:00Z",
              "end_exclusive": "2026-11-09T00:00:00Z", "job_run_id": "recon-2026-W45",
              "status": "SKIPPED", "skip_reason": "maintenance", "eligibility": None,
              "evidence_ids": [HOSTILE], "override_audit_ids": ["AUD-1"], "acks": [],
              "leadership_ingest_hash": "sha256:" + "a" * 64, "partner_ingest_hash": None}]}
PROMOTE = {"policy_version": "1.1.0", "rungs": {"rung1_promotes": 1},
           "promotes": [{"promote_event_id": "bpe-1", "owner_route": "publish_gate",
                         "primary_signer": "alex", "promoted_signer": HOSTILE,
                         "trigger_type": "heatmap_red",
                         "trigger_evidence_ref": "heatmap:sha256:" + "b" * 64,
                         "promoted_at_dt_utc": "2026-11-03T00:00:00Z",
                         "reverted_at_dt_utc": None, "duration_days": "17.00"}],
           "decisions": [{"option": "freeze_gate", "owner_route": "publish_gate",
                          "decided_at": "2026-11-04T00:00:00Z", "decided_by": "sam",
                          "lifted_at": None, "cert_window_ids": ["quest"]}]}
FATIGUE = {"refresh": "2026-11-20T00:00:00Z", "snapshot_hash": "d" * 64,
           "history": {"days": ["2026-11-19T00:00:00Z", "2026-11-20T00:00:00Z"],
                       "signers": {HOSTILE: ["red", "green"], "alex": ["amber", "green"]}}}
SECTIONS = {"reconciliation": WEEKS, "promote": PROMOTE, "fatigue": FATIGUE}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _page(tmp_path: Path, findings: tuple[Finding, ...] | None = None,
          env: dict[str, str] | None = None) -> tuple[str, list[tuple[str, dict[str, Any]]]]:
    result = make_result(findings) if findings is not None else make_result()
    result = dataclasses.replace(result, sections=SECTIONS)
    context = make_context(tmp_path)
    if env is not None:
        context = dataclasses.replace(context, environ=env)
    text = html.render(result, context)
    parser = _Tags()
    parser.feed(text)
    return text, parser.tags


def test_self_contained_no_script_no_network(tmp_path: Path) -> None:
    text, tags = _page(tmp_path)
    names = {tag for tag, _ in tags}
    assert "script" not in names and "link" not in names and "img" not in names
    assert "iframe" not in names and "object" not in names
    csp = next(a["content"] for t, a in tags if a.get("http-equiv") ==
               "Content-Security-Policy")
    assert "default-src 'none'" in (csp or "") and "script-src 'none'" in (csp or "")
    # No attribute anywhere points off the page (links off GitHub are anchors only).
    for _, attrs in tags:
        for key in ("src", "href"):
            value = attrs.get(key)
            assert value is None or value.startswith("#"), (key, value)
    assert text.startswith("<!DOCTYPE html>") and "<svg" in text


def test_hostile_ids_are_escaped_everywhere(tmp_path: Path) -> None:
    hostile = Finding("reconcile.inputs", HOSTILE, Severity.ERROR, HOSTILE,
                      owner_route=HOSTILE, location=Location(HOSTILE, 1), waived_by=HOSTILE)
    text, tags = _page(tmp_path, (hostile,))
    assert "<script>" not in text and "onerror" not in {k for _, a in tags for k in a}
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert {tag for tag, _ in tags}.isdisjoint({"script", "img"})
    # Anchor ids come from positions, never from the input's ids.
    ids = [a["id"] for _, a in tags if a.get("id")]
    assert all(re.fullmatch(r"[a-z0-9-]+", i or "") for i in ids), ids


def test_links_between_findings_weeks_and_promotes(tmp_path: Path) -> None:
    about_week = Finding("reconcile.state", "governance", Severity.ERROR, "red",
                         evidence={"missed_windows": ["recon-2026-W45"]})
    about_promote = Finding("promote.active", "bpe-1", Severity.INFO, "active")
    text, tags = _page(tmp_path, (about_week, about_promote))
    ids = {a["id"] for _, a in tags if a.get("id")}
    hrefs = {a["href"] for t, a in tags if t == "a" and a.get("href")}
    assert {"#week-0", "#promote-0", "#finding-0", "#finding-1", "#hashes"} <= hrefs
    assert {h[1:] for h in hrefs if h.startswith("#")} <= ids  # every anchor lands
    assert "evidence <code>&quot;&gt;&lt;script&gt;" in text and "override <code>AUD-1" in text
    assert "skip_reason <code>maintenance</code>" in text
    assert "Freeze gate on publish_gate" in text


def test_full_hashes_in_the_appendix_short_elsewhere(tmp_path: Path) -> None:
    text, _ = _page(tmp_path)
    body = text.split('<h2 id="hashes">', 1)
    assert "a" * 64 not in body[0].replace("<wbr>", "")
    assert "a" * 64 in body[1].replace("<wbr>", "")
    assert "b" * 64 in body[1].replace("<wbr>", "")
    assert "d" * 64 in body[1].replace("<wbr>", "")


def test_source_links_on_github_and_deterministic(tmp_path: Path) -> None:
    env = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/gate",
           "GITHUB_SHA": "c" * 40}
    text, tags = _page(tmp_path, env=env)
    hrefs = [a["href"] for t, a in tags if t == "a" and (a.get("href") or "").startswith("http")]
    assert f"https://github.com/acme/gate/blob/{'c' * 40}/scheduler_runs.csv#L8" in hrefs
    assert _page(tmp_path, env=env)[0] == text


def test_a_late_week_and_a_resolve_read_as_what_they_are(tmp_path: Path) -> None:
    """A run in progress is named beside the verdict with its deadline, and in its week; a
    resolve is badged as one, not with a severity as if it were a new alarm."""
    late = {"index": 1, "start_inclusive": "2026-10-26T00:00:00Z",
            "end_exclusive": "2026-11-02T00:00:00Z", "job_run_id": "recon-2026-W44",
            "status": "LATE", "scheduled_at": "2026-11-02T06:00:00Z",
            "late_until": "2026-11-02T08:05:00Z", "eligibility": None, "acks": []}
    weeks = {**WEEKS, "windows": [*WEEKS["windows"], late]}
    result = make_result()
    trigger = result.pages[0]
    resolve = dataclasses.replace(trigger, action="resolve", severity="info",
                                  summary="Resolved at 2026-11-20T00:00:00Z: run passed")
    result = dataclasses.replace(result, sections={**SECTIONS, "reconciliation": weeks},
                                 pages=(trigger, resolve))
    text = html.render(result, make_context(tmp_path))
    verdict = text[text.index('aria-label="verdict"'):text.index("</section>")]
    assert ("Late, not counted yet: <code>recon-2026-W44</code> due <code>2026-11-02T06:00:00Z"
            "</code>, missed at <code>2026-11-02T08:05:00Z</code> unless it completes") in verdict
    assert "<dt>Late</dt><dd>due <code>2026-11-02T06:00:00Z</code>, missed at" in text
    pages = text[text.index('id="pages"'):]
    assert '<span class="badge note">trigger · critical</span>' in pages
    assert '<span class="badge pass">resolve</span>' in pages
    assert "1 page triggered, 1 resolved (none still open)" in pages
