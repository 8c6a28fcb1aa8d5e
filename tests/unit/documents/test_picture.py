"""The heat-map picture: one SVG cell per signer-day whose colour and mark follow its class."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from tests.unit.documents import gfm

from govgate.documents.picture import CLASS_STYLE, NONE_STYLE, emoji_grid, grid_from_sections
from govgate.documents.picture import render_svg as svg_of

SVG = "{http://www.w3.org/2000/svg}"
DAYS = [f"2026-10-{d:02d}T00:00:00Z" for d in range(1, 29)]
LETTERS = {"r": "red", "a": "amber", "c": "recovering", "g": "green", "-": "none"}


def sections(**series: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A fatigue section from one letter per day per signer, and a promote section with one
    promote (alex -> pat on 10-05) reverted on 10-12."""
    fatigue = {"history": {"days": DAYS, "signers": {
        s: [LETTERS[c] for c in letters] for s, letters in series.items()}}}
    promote = {"promotes": [{
        "owner_route": "publish_gate", "primary_signer": "alex", "promoted_signer": "pat",
        "trigger_type": "pending_acks_aged", "promote_event_id": "bpe-1",
        "promoted_at_dt_utc": "2026-10-05T00:00:00Z",
        "reverted_at_dt_utc": "2026-10-12T09:30:00Z"}],
        "decisions": [{"option": "freeze_gate", "owner_route": "publish_gate",
                       "decided_at": "2026-10-07T08:00:00Z", "lifted_at": "2026-10-09T10:00:00Z",
                       "decided_by": "sam", "cert_window_ids": ["quest-holiday-2026"]},
                      {"option": "tertiary_backup", "owner_route": "faq_rewrite",
                       "decided_at": "2026-10-08T08:00:00Z"}]}
    return fatigue, promote


SERIES = {
    "alex": "ggggarrrrrrrccccccgggggggggg",
    "pat": "--gggggaaaaggggggggggggggggg",
    "a&b <x>": "cccccccggggggggggggggggggggg",
}


def cells(svg: str) -> list[ET.Element]:
    root = ET.fromstring(svg)
    return [r for r in root.iter(f"{SVG}rect") if r.get("data-signer") is not None]


def test_one_cell_per_signer_day_coloured_by_its_class() -> None:
    grid = grid_from_sections(*sections(**SERIES))
    rects = cells(svg_of(grid))
    assert len(rects) == len(SERIES) * len(DAYS)
    fills = {cls: style[0] for cls, style in CLASS_STYLE.items()} | {"none": NONE_STYLE[0]}
    for rect in rects:
        signer, day = rect.get("data-signer"), rect.get("data-day")
        assert signer is not None and day is not None
        expected = LETTERS[SERIES[signer][DAYS.index(day)]]
        assert rect.get("data-class") == expected
        assert rect.get("fill") == fills[expected]


def test_colour_is_never_the_only_carrier() -> None:
    root = ET.fromstring(svg_of(grid_from_sections(*sections(**SERIES))))
    marks = {cls: style[1] for cls, style in CLASS_STYLE.items()} | {"none": NONE_STYLE[1]}
    for group in root.iter(f"{SVG}g"):
        rect, text = group.find(f"{SVG}rect"), group.find(f"{SVG}text")
        if rect is not None and rect.get("data-signer") is None:
            continue  # an owner route's lane (tested below)
        assert rect is not None and text is not None and text.text
        assert text.text.startswith(marks[rect.get("data-class") or ""])
        assert group.find(f"{SVG}title") is not None  # a tooltip names signer, day, class
    assert len(set(marks.values())) == len(marks)


def test_palette_legend_no_script_and_promote_marks() -> None:
    svg = svg_of(grid_from_sections(*sections(**SERIES)))
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert not list(root.iter(f"{SVG}script")) and "javascript" not in svg.lower()
    assert "href" not in svg  # self-contained
    legend = {r.get("data-legend"): r.get("fill") for r in root.iter(f"{SVG}rect")
              if r.get("data-legend")}
    assert legend == {"red": "#D55E00", "amber": "#E69F00", "recovering": "#56B4E9",
                      "green": "#009E73", "none": "#EEEEEE",  # Okabe-Ito
                      "freeze": "url(#freeze-hatch)"}
    marked = {(r.get("data-signer"), r.get("data-day")[:10], r.get("data-mark"))  # type: ignore[index]
              for r in cells(svg) if r.get("data-mark")}
    assert marked == {("alex", "2026-10-05", "promote"), ("pat", "2026-10-05", "promote"),
                      ("alex", "2026-10-12", "revert"), ("pat", "2026-10-12", "revert")}
    assert "a&amp;b &lt;x&gt;" in svg


def test_bytes_are_deterministic() -> None:
    one = svg_of(grid_from_sections(*sections(**SERIES)))
    two = svg_of(grid_from_sections(*sections(**dict(reversed(SERIES.items())))))
    assert one == two


def test_empty_history_is_still_a_valid_svg() -> None:
    svg = svg_of(grid_from_sections(None, None))
    assert cells(svg) == []
    assert "0 daily refreshes" in svg


def test_emoji_grid_is_one_table_row_per_signer() -> None:
    text = emoji_grid(grid_from_sections(*sections(**SERIES)))
    table = gfm.table_with(text, [
        "signer", "daily refreshes 2026-10-01 → 2026-10-28 (oldest first)", "red days",
        "amber days", "promote ▲ / revert ▼"])
    by_signer = {row[0]: row for row in table.rows}
    assert set(by_signer) == set(SERIES)
    alex = by_signer["alex"]
    assert alex[1].replace(" ", "").startswith("🟢🟢🟢🟢🔶🟥")
    assert (alex[2], alex[3], alex[4]) == ("7", "1", "▲ 10-05, ▼ 10-12")
    assert by_signer["pat"][1].startswith("⬜⬜")


def test_each_mark_names_its_route_the_promote_its_trigger_and_freezes_show() -> None:
    svg = svg_of(grid_from_sections(*sections(**SERIES)))
    root = ET.fromstring(svg)
    lane = {(r.get("data-route"), r.get("data-day", "")[:10]): r for r in root.iter(f"{SVG}rect")
            if r.get("data-route")}
    # Only the route that had a promote, a revert or a freeze gets a lane.
    assert {route for route, _ in lane} == {"publish_gate"}
    assert lane[("publish_gate", "2026-10-05")].get("data-lane-mark") == "promote"
    assert lane[("publish_gate", "2026-10-12")].get("data-lane-mark") == "revert"
    frozen = sorted(day for (_, day), r in lane.items() if r.get("data-freeze") == "yes")
    assert frozen == ["2026-10-07", "2026-10-08", "2026-10-09"]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "▲P" in texts and "▼" in texts and texts.count("F") == 3  # letters, not colour only
    assert "trigger pending_acks_aged" in svg and "quest-holiday-2026" in svg


def test_a_freeze_still_holding_runs_to_the_last_day() -> None:
    fatigue, promote = sections(**SERIES)
    promote["decisions"][0]["lifted_at"] = None
    grid = grid_from_sections(fatigue, promote)
    ((first, last, detail),) = grid.freezes["publish_gate"]
    assert (first, last) == (6, len(DAYS) - 1) and "not lifted" in detail
