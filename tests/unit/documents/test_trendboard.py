"""The deficiency trend board export: schema-checked rows, the latest snapshot per dimension."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from govgate.documents.trendboard import board_at, parse_trend_board
from govgate.errors import GovgateError
from govgate.loaders.documents import load_schema, schema_kinds

HEADER = "dimension_id,owner_route,trend,as_of,recurrence_count\n"


def test_latest_snapshot_per_dimension() -> None:
    rows = parse_trend_board((HEADER
                              + "d1,publish_gate,warming,2026-09-30T00:00:00Z,2\n"
                              + "d1,publish_gate,hot,2026-10-30T00:00:00Z,4\n"
                              + "d2,faq_rewrite,structural_red,2026-10-30T00:00:00Z,\n"
                              + "d1,publish_gate,cooling,2026-11-30T00:00:00Z,1\n").encode(),
                             "board.csv")
    board = board_at(rows, datetime(2026, 11, 1, tzinfo=UTC))
    assert [(r.dimension_id, r.trend, r.hot) for r in board] == [("d1", "hot", True),
                                                                 ("d2", "structural_red", True)]
    assert board[0].recurrence_count == 4 and board[1].recurrence_count is None
    assert board_at(rows, datetime(2026, 9, 1, tzinfo=UTC)) == ()


def test_yaml_rows_too() -> None:
    rows = parse_trend_board(b"- {dimension_id: d, owner_route: exec_readback, trend: stable, "
                             b"as_of: '2026-10-01T00:00:00Z', recurrence_count: 0}\n", "b.yaml")
    assert rows[0].recurrence_count == 0 and not rows[0].hot


@pytest.mark.parametrize(("line", "where"), [
    ("d1,publish_gate,on_fire,2026-10-30T00:00:00Z,", "row 2, column trend"),
    ("d1,Ops Team,hot,2026-10-30T00:00:00Z,", "row 2, column owner_route"),
    ("d1,publish_gate,hot,2026-10-30T00:00:00,", "row 2, column as_of"),
    ("d1,publish_gate,hot,2026-10-30T00:00:00Z,many", "row 2, column recurrence_count"),
])
def test_bad_rows_name_file_row_and_column(line: str, where: str) -> None:
    with pytest.raises(GovgateError) as info:
        parse_trend_board((HEADER + line + "\n").encode(), "board.csv")
    assert str(info.value).startswith(f"board.csv: {where}")


def test_one_dimension_twice_in_one_snapshot_is_refused() -> None:
    line = "d1,publish_gate,hot,2026-10-30T00:00:00Z,1\n"
    with pytest.raises(GovgateError, match=r"duplicate dimension_id 'd1'.*row 2"):
        parse_trend_board((HEADER + line + line).encode(), "board.csv")


def test_schema_is_shipped() -> None:
    assert "deficiency_trend_board" in schema_kinds()
    schema = load_schema("deficiency_trend_board")
    assert schema["required"] == ["dimension_id", "owner_route", "trend", "as_of"]
