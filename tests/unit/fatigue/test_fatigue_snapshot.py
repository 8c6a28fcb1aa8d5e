"""The snapshot hash: its canonical form, its independence of row order, and the renderers."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.fatigue.factories import AS_OF, Event, csv_text, random_events

from govgate.fatigue.events import load_events
from govgate.fatigue.heatmap import heatmap
from govgate.fatigue.model import HeatmapRow, Refresh
from govgate.fatigue.snapshot import (
    canonical_form,
    escape_signer,
    fixed4,
    render_json,
    rows_to_csv,
    rows_to_json,
    snapshot_hash,
)

ROWS = (
    HeatmapRow("zoe", 3, 1, 3, Decimal("0.50500000000000000000"), Decimal("1.01"), 0, "red"),
    HeatmapRow("a,b\\c\nd", 1, 0, 0, None, None, 1, "green"),
    HeatmapRow("émile", 2, 0, 1, Decimal("0.12344999"), Decimal("0.00005"), 0, "recovering"),
)


def partner_hash(as_of: str, rows: list[dict[str, object]]) -> str:
    """The recipe of docs/heatmap.md, written independently of govgate."""

    def avg(value: object) -> str:
        if value is None:
            return ""
        return str(Decimal(str(value)).quantize(Decimal("0.0001"), rounding="ROUND_HALF_UP"))

    def esc(s: str) -> str:
        return s.replace("\\", "\\\\").replace(",", "\\,").replace("\n", "\\n").replace("\r", "\\r")

    lines = [f"signer_fatigue_heatmap_14d@{as_of}\n"]
    for r in sorted(rows, key=lambda r: str(r["signer_id"]).encode("utf-8")):
        fields = [
            esc(str(r["signer_id"])),
            r["ack_count_14d"],
            r["breached_count_14d"],
            r["concurrent_window_count_14d"],
            avg(r["avg_latency_hours_14d"]),
            avg(r["avg_latency_ratio_14d"]),
            r["pending_acks_now"],
            r["classification"],
        ]
        lines.append(",".join(map(str, fields)) + "\n")  # fmt: skip
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()


def test_canonical_form_is_exactly_this() -> None:
    assert canonical_form(AS_OF, ROWS) == (
        "signer_fatigue_heatmap_14d@2026-11-20T00:00:00Z\n"
        "a\\,b\\\\c\\nd,1,0,0,,,1,green\n"
        "zoe,3,1,3,0.5050,1.0100,0,red\n"
        "émile,2,0,1,0.1234,0.0001,0,recovering\n"
    )


def test_escaping_keeps_fields_apart() -> None:
    assert escape_signer("a,b") == "a\\,b"
    assert escape_signer("a\\,b") == "a\\\\\\,b"  # a backslash then a comma: both escaped
    assert escape_signer("x\ny\rz") == "x\\ny\\rz"
    assert escape_signer("a\\") != escape_signer("a") + "\\"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("0.00005"), "0.0001"),
        (Decimal("0.00004999999"), "0.0000"),
        (Decimal("0.12345"), "0.1235"),
        (Decimal("2"), "2.0000"),
        (Decimal("999999.99"), "999999.9900"),
        (None, ""),
    ],
)
def test_averages_have_four_decimals_rounded_half_away_from_zero(
    value: Decimal | None, text: str
) -> None:
    assert fixed4(value) == text


def test_a_partner_recomputes_the_hash_from_the_json_export() -> None:
    refresh = Refresh(AS_OF, ROWS, {}, snapshot_hash(AS_OF, ROWS))
    exported = json.loads(render_json(refresh))
    assert partner_hash(exported["as_of"], exported["rows"]) == refresh.snapshot_hash


def test_one_changed_value_changes_the_hash() -> None:
    base = snapshot_hash(AS_OF, ROWS)
    variants = [
        (replace(ROWS[0], pending_acks_now=1), *ROWS[1:]),
        (replace(ROWS[0], avg_latency_hours_14d=Decimal("0.5051")), *ROWS[1:]),
        (replace(ROWS[0], classification="amber"), *ROWS[1:]),
        ROWS[:2],
    ]
    assert all(snapshot_hash(AS_OF, rows) != base for rows in variants)
    assert snapshot_hash(AS_OF + timedelta(days=1), ROWS) != base
    # Rounded away at four decimals: the same snapshot.
    same = (replace(ROWS[0], avg_latency_hours_14d=Decimal("0.505000001")), *ROWS[1:])
    assert snapshot_hash(AS_OF, same) == base


def test_hash_does_not_depend_on_input_row_order(tmp_path: Path) -> None:
    events = random_events(random.Random(7), 300)
    hashes = set()
    for seed in range(3):
        shuffled = events[:]
        random.Random(seed).shuffle(shuffled)
        path = tmp_path / f"e{seed}.csv"
        path.write_text(csv_text(shuffled), encoding="utf-8")
        hashes.add(heatmap(load_events(path, refresh_anchor=AS_OF), AS_OF).snapshot_hash)
    assert len(hashes) == 1


@settings(max_examples=25, deadline=None)
@given(st.randoms(use_true_random=False), st.randoms(use_true_random=False))
def test_hash_is_order_independent_property(
    tmp_path_factory: pytest.TempPathFactory, data: random.Random, order: random.Random
) -> None:
    events = random_events(data, data.randrange(1, 60), days=20)
    shuffled = events[:]
    order.shuffle(shuffled)
    folder = tmp_path_factory.mktemp("order")
    results = []
    for name, rows in (("a.csv", events), ("b.csv", shuffled)):
        (folder / name).write_text(csv_text(rows), encoding="utf-8")
        results.append(heatmap(load_events(folder / name, refresh_anchor=AS_OF), AS_OF))
    assert results[0].snapshot_hash == results[1].snapshot_hash
    assert results[0] == results[1]


def test_json_and_csv_renderings_are_deterministic() -> None:
    refresh = Refresh(AS_OF, ROWS[::-1], {"zoe": "red", "x": "green"}, snapshot_hash(AS_OF, ROWS))
    data = rows_to_json(refresh)
    assert [r["signer_id"] for r in data["rows"]] == ["a,b\\c\nd", "zoe", "émile"]
    assert data["rows"][1]["avg_latency_hours_14d"] == 0.505
    assert data["rows"][0]["avg_latency_ratio_14d"] is None
    assert data["classification_counts"] == {"red": 1, "amber": 0, "recovering": 0, "green": 1}
    assert data["as_of"] == "2026-11-20T00:00:00Z"
    assert render_json(refresh) == render_json(refresh)
    assert '"avg_latency_ratio_14d": 1.01' in render_json(refresh)
    text = rows_to_csv(refresh)
    assert text.splitlines()[0] == (
        "signer_id,ack_count_14d,breached_count_14d,concurrent_window_count_14d,"
        "avg_latency_hours_14d,avg_latency_ratio_14d,pending_acks_now,classification"
    )
    assert '"a,b\\c\nd",1,0,0,,,1,green\n' in text
    assert "zoe,3,1,3,0.5050,1.0100,0,red\n" in text


def test_heatmap_rows_equal_their_event_file(tmp_path: Path) -> None:
    events = [Event("a", "a,b", AS_OF - timedelta(hours=2), AS_OF - timedelta(hours=1))]
    (tmp_path / "e.csv").write_text(csv_text(events), encoding="utf-8")
    refresh = heatmap(load_events(tmp_path / "e.csv", refresh_anchor=AS_OF), AS_OF)
    assert canonical_form(refresh.at, refresh.rows).splitlines()[1] == (
        "a\\,b,1,1,1,1.0000,2.0000,0,amber"
    )


def test_csv_cells_never_start_a_spreadsheet_formula() -> None:
    hostile = ['=HYPERLINK("http://x")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3", "plain"]
    rows = tuple(HeatmapRow(s, 1, 0, 0, None, None, 0, "green") for s in hostile)
    text = rows_to_csv(Refresh(AS_OF, rows, {}, snapshot_hash(AS_OF, rows)))
    cells = [row[0] for row in csv.reader(io.StringIO(text))][1:]
    assert sorted(cells) == sorted(["'" + s for s in hostile[:4]] + ["plain"])
    assert json.loads(render_json(Refresh(AS_OF, rows, {}, "h")))["rows"][0]["signer_id"] in hostile
