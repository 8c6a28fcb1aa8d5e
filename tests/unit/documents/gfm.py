"""Render markdown with GitHub's cmark-gfm (the ``cmarkgfm`` package) and read back its tables.

The documents' tests judge markdown the way GitHub shows it: each intended table must come out
as an HTML table with the intended header cells and body-row count, and no line starting with
``|`` may be left in a paragraph (a table that failed to parse).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

import cmarkgfm  # type: ignore[import-untyped]
from cmarkgfm.cmark import Options  # type: ignore[import-untyped]

_TEXT_BLOCKS = frozenset({"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"})


@dataclass
class Table:
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[Table] = []
        self.blocks: list[str] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._in_head = False
        self._block: list[str] | None = None
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append(Table())
        elif tag == "thead":
            self._in_head = True
        elif tag == "tbody":
            self._in_head = False
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []
        elif tag in _TEXT_BLOCKS and self._block is None:
            self._block = []
            self._depth = 0
        elif tag in _TEXT_BLOCKS:
            self._depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._in_head:
                self.tables[-1].headers = self._row
            else:
                self.tables[-1].rows.append(self._row)
            self._row = None
        elif tag in _TEXT_BLOCKS and self._block is not None:
            if self._depth:
                self._depth -= 1
            else:
                self.blocks.append("".join(self._block))
                self._block = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._block is not None:
            self._block.append(data)


def render(text: str) -> str:
    """HTML as GitHub renders a job summary or a README (GFM extensions, tables on)."""
    html: str = cmarkgfm.github_flavored_markdown_to_html(text, options=Options.CMARK_OPT_UNSAFE)
    return html


def read(text: str) -> tuple[list[Table], list[str]]:
    """The rendered tables and the text of every paragraph, list item and heading."""
    reader = _Reader()
    reader.feed(render(text))
    return reader.tables, reader.blocks


def stray_pipe_lines(text: str) -> list[str]:
    """Lines starting with ``|`` that ended up as text: a pipe table that did not parse."""
    _, blocks = read(text)
    return [line for block in blocks for line in block.splitlines()
            if line.lstrip().startswith("|")]


def _cells(line: str) -> int:
    """GFM's cell split: every pipe not escaped by a backslash separates cells (also inside
    code spans); the outer pipes are optional."""
    count, escaped = 1, False
    body = line.strip()
    for char in body:
        if char == "|" and not escaped:
            count += 1
        escaped = char == "\\" and not escaped
    return count - body.startswith("|") - (len(body) > 1 and body.endswith("|")
                                           and not body.endswith("\\|"))


def dropped_cells(text: str) -> list[str]:
    """Body rows with more cells than their header: cmark-gfm drops the extra ones silently."""
    bad: list[str] = []
    header: int | None = None
    for line in text.splitlines():
        if not line.startswith("|"):
            header = None
        elif header is None:
            header = _cells(line)
        elif _cells(line) > header:
            bad.append(line)
    return bad


def tables(text: str) -> list[Table]:
    """The tables, after asserting that no pipe-table text leaked into a paragraph and that no
    row lost cells."""
    leaked = stray_pipe_lines(text)
    assert not leaked, f"pipe-table text left in a paragraph: {leaked[:3]}"
    dropped = dropped_cells(text)
    assert not dropped, f"rows with more cells than their header: {dropped[:3]}"
    found, _ = read(text)
    return found


def table_with(text: str, headers: list[str]) -> Table:
    """The one table whose header cells are exactly ``headers``."""
    matches = [t for t in tables(text) if t.headers == headers]
    assert len(matches) == 1, (f"expected one table {headers}, found "
                               f"{[t.headers for t in tables(text)]}")
    return matches[0]


def assert_tables(text: str, expected: list[tuple[list[str], int]]) -> None:
    """Exactly these tables, in this order: header cells and body-row counts."""
    found = [(t.headers, len(t.rows)) for t in tables(text)]
    assert found == expected, found
    for table in tables(text):
        for row in table.rows:
            assert len(row) == len(table.headers), row
