"""Plain tables are written exactly as tabulate writes them, or left to tabulate.

``md.table`` lays out tables of plain one-line cells itself (long schedules have thousands of
rows); every table must still be tabulate's ``github`` layout byte for byte. Generated tables
mix plain text with everything tabulate treats specially (blanks at the ends, line breaks,
terminal escapes, wide characters, numbers, its separating-line marker, non-printable
characters): either the shortcut declines or it writes tabulate's text.
"""

from __future__ import annotations

import tabulate
from hypothesis import given, settings
from hypothesis import strategies as st

from govgate.documents import md

_PIECES = ["a", "b", " ", "|", "\\|", "`", "é", "中", "x" * 30, "\t", "\x1b[1m", "\n", "\r",
           "0", "1.5", "-2", "1e5", "True", "None", "  pad", "pad  ", "\u200b", "\xa0", "\x01",
           "\u2028", "nan", " 3 ", "*b*", "<i>", "sha256:" + "ab" * 32]
_CELLS = st.lists(st.sampled_from(_PIECES), max_size=3).map("".join)


def _tabulate(headers: list[str], body: list[list[str]]) -> str:
    with md._narrow_widths():
        text: str = tabulate.tabulate(body, headers=headers, tablefmt="github",
                                      disable_numparse=True)
    return text


@settings(max_examples=3000, deadline=None)
@given(st.integers(1, 4).flatmap(lambda n: st.tuples(
    st.lists(st.sampled_from(["What", "SHA-256", "A", "Route name", "x"]), min_size=n,
             max_size=n),
    st.lists(st.lists(_CELLS, min_size=n, max_size=n), min_size=1, max_size=5))))
def test_plain_tables_are_tabulates(table: tuple[list[str], list[list[str]]]) -> None:
    headers, rows = table
    body = [[md.cell(value) for value in row] for row in rows]
    fast = md._plain_table(headers, body)
    if fast is not None:
        assert fast == _tabulate(headers, body)
    assert md.table(headers, rows) == _tabulate(headers, body)


def test_a_hash_appendix_takes_the_shortcut() -> None:
    rows = [(f"recon-{i:05d} leadership ingest_hash", md.code("sha256:" + "ab" * 32,
                                                              in_table=True))
            for i in range(3)]
    body = [[md.cell(v) for v in row] for row in rows]
    assert md._plain_table(["What", "SHA-256"], body) is not None
    assert md.table(["What", "SHA-256"], rows) == _tabulate(["What", "SHA-256"], body)
