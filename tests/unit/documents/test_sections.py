"""The job summary's fatigue picture and promote sections (markdown reporter extension)."""

from __future__ import annotations

from pathlib import Path

from tests.support.results import make_context, make_result
from tests.unit.documents import gfm

from govgate.reporters import markdown

DAYS = ["2026-11-18T00:00:00Z", "2026-11-19T00:00:00Z", "2026-11-20T00:00:00Z"]
FATIGUE = {"refresh": DAYS[-1], "snapshot_hash": "ab" * 32,
           "heatmap": {"classification_counts": {"red": 1, "amber": 0, "recovering": 1,
                                                 "green": 0}},
           "history": {"days": DAYS, "signers": {"al|ex": ["amber", "red", "red"],
                                                 "pat": ["red", "recovering", "recovering"]}}}
PROMOTE = {"policy_version": "1.0.0",
           "rungs": {"rung1_promotes": 1, "rung2_pages": 1, "rung3_freeze_gates": 0},
           "promotes": [{"owner_route": "publish_gate", "trigger_type": "heatmap_red",
                         "promoted_signer": "pat", "primary_signer": "al|ex",
                         "promoted_at_dt_utc": "2026-11-19T00:00:00Z",
                         "reverted_at_dt_utc": None, "duration_days": "1.00"}],
           "pages": [{"dedup_key": "govgate:rung2:x", "at": DAYS[-1], "owner_route":
                      "publish_gate", "backup_signer": "pat", "classification": "amber",
                      "answered": False}],
           "effective_signers": {"publish_gate": {"signer": "pat", "role": "backup"}}}


def test_summary_shows_picture_and_promotes(tmp_path: Path) -> None:
    text = markdown.render(make_result(sections={"fatigue": FATIGUE, "promote": PROMOTE}),
                           make_context(tmp_path))
    assert text.startswith("## ❌ govgate: publish is blocked")
    order = ["### Findings", "### Signer fatigue heat-map", "### Backup promotes",
             "### Artifacts"]
    assert [text.index(x) for x in order] == sorted(text.index(x) for x in order)
    grid = gfm.table_with(text, ["signer", "daily refreshes 2026-11-18 → 2026-11-20 (oldest "
                                 "first)", "red days", "amber days", "promote ▲ / revert ▼"])
    assert grid.rows[0][:4] == ["al|ex", "🔶🟥🟥", "2", "1"] and grid.rows[0][4] == "▲ 11-19"
    counts = gfm.table_with(text, ["red", "amber", "recovering", "green"])
    assert counts.rows == [["1", "0", "1", "0"]]
    promotes = gfm.table_with(text, ["owner_route", "trigger_type", "promoted_signer",
                                     "promoted_at_dt_utc", "reverted_at_dt_utc",
                                     "duration (days)"])
    assert promotes.rows[0][4] == "open"
    assert len(gfm.table_with(text, ["dedup_key", "at", "owner_route", "backup",
                                     "classification"]).rows) == 1
    assert "`heatmap.svg`" in text


def test_sections_are_left_out_without_data(tmp_path: Path) -> None:
    text = markdown.render(make_result(sections={"fatigue": {}}), make_context(tmp_path))
    assert "heat-map" not in text and "Backup promotes" not in text
