"""Markdown helpers: every input-derived cell stays inside its table in GitHub's renderer."""

from __future__ import annotations

import pytest
import tabulate
from tests.unit.documents import gfm

from govgate.documents import md

HOSTILE = ["a|b", "line\nbreak", "`code|x`", "*bold*", "<script>x</script>", "=SUM(A1)",
           "back\\slash|", "-leading", "[link](x)", "~~strike~~", "| starts", "ends |", "\\|"]


def test_hostile_cells_stay_in_their_columns() -> None:
    text = md.table(["value", "again"], [(v, v) for v in HOSTILE])
    (table,) = gfm.tables(text)
    assert table.headers == ["value", "again"]
    assert len(table.rows) == len(HOSTILE)
    rendered = [row[0] for row in table.rows]
    # What a reader sees is the input itself (line breaks become spaces, a formula start is
    # neutralised by a backslash that the renderer removes again).
    assert rendered[0] == "a|b"
    assert rendered[1] == "line break"
    assert rendered[3] == "*bold*"
    assert rendered[4] == "<script>x</script>"
    assert rendered[5] == "=SUM(A1)"
    assert rendered[6] == "back\\slash|"
    assert rendered[8] == "[link](x)"
    assert "<script>" not in gfm.render(text)


def test_built_markdown_passes_through_but_cannot_split_a_cell() -> None:
    text = md.table(["code", "link"], [(md.code("x|y"), md.link("a|b", "../ledger file.jsonl"))])
    html = gfm.render(text)
    (table,) = gfm.tables(text)
    assert table.rows == [["x|y", "a|b"]]
    assert "<code>x|y</code>" in html
    assert 'href="../ledger%20file.jsonl"' in html


def test_empty_table_is_a_sentence() -> None:
    assert md.table(["a"], [], empty="Nothing.") == "Nothing."
    assert gfm.tables("Nothing.") == []


def test_row_width_must_match_the_header() -> None:
    with pytest.raises(ValueError, match="2 cells"):
        md.table(["a"], [("x", "y")])


def test_numbers_are_not_reformatted() -> None:
    (table,) = gfm.tables(md.table(["n"], [("1.10",), ("1e5",), ("007",)]))
    assert [r[0] for r in table.rows] == ["1.10", "1e5", "007"]


def test_padding_does_not_depend_on_wcwidth(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [("🟥🔶", "x")]
    plain = md.table(["a", "b"], rows)
    monkeypatch.setattr(tabulate, "WIDE_CHARS_MODE", True)
    assert md.table(["a", "b"], rows) == plain
    assert tabulate.WIDE_CHARS_MODE is True  # restored


def test_prose_and_code_escape_everything() -> None:
    text = f"{md.text('*a* | <b> _c_ -x')} and {md.code('a``b')}"
    html = gfm.render(text)
    assert "<em>" not in html and "<b>" not in html
    assert "<code>a``b</code>" in html
    assert md.text("-item").startswith("\\-")
    assert gfm.render(f"- {md.text('- nested?')}").count("<li>") == 1


def test_fence_cannot_be_closed_by_its_content() -> None:
    body = "```\nnot the end\n````\n"
    block = md.fence(body, "diff")
    assert block.startswith("`````diff\n") and block.endswith("\n`````")
    assert "not the end" in gfm.render(block).split("</code>")[0]
