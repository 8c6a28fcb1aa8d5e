"""Small GitHub-flavoured markdown helpers on top of tabulate's ``github`` table format.

Every value that comes from an input passes through one of the escaping helpers before it lands
in a document: :func:`cell` for table cells (built on :func:`govgate.textsafe.md_cell`, which
keeps ``|`` and line breaks from breaking the table), :func:`text` for prose and list items,
:func:`code` for identifiers shown as code. Markdown that a document builds itself (a link, an
emoji) is wrapped in :class:`Markdown` so the table helper passes it through untouched.

The judge is GitHub's own renderer (cmark-gfm): a table has a header row, a delimiter row and
body rows that never hold more cells than the header; an escaped ``\\|`` is a pipe even inside a
code span in a table cell.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator, Sequence
from urllib.parse import quote

import tabulate as _tabulate

from ..textsafe import md_cell

__all__ = [
    "Markdown",
    "bullets",
    "cell",
    "code",
    "fence",
    "full_hashes",
    "heading",
    "link",
    "short_hash",
    "shorten_hashes",
    "table",
    "text",
]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Inline punctuation CommonMark lets us escape; md_cell already handled \ and |.
_INLINE = re.compile(r"([`*_\[\]<>~&!#])")
_PROSE = re.compile(r"([\\`*_\[\]<>~&!#|])")
_BACKTICKS = re.compile(r"`+")


class Markdown(str):
    """Markdown built by a document (already escaped); table cells keep it as it is."""

    __slots__ = ()


def cell(value: object) -> str:
    """A table cell from an input value: ``md_cell`` plus escaped inline punctuation, so an id
    like ``*urgent*`` or ``<b>`` shows literally instead of as emphasis or HTML."""
    if isinstance(value, Markdown):
        return _guard_pipes(value)
    return _INLINE.sub(r"\\\1", md_cell(value))


def _guard_pipes(markdown: str) -> str:
    """Escape every pipe that is not escaped yet (one preceded by an even run of backslashes),
    so built markdown such as a code span cannot split a table cell either."""
    if "|" not in markdown:
        return markdown  # nothing to guard (most cells: hashes and code spans)
    out: list[str] = []
    backslashes = 0
    for char in markdown:
        if char == "|" and backslashes % 2 == 0:
            out.append("\\")
        out.append(char)
        backslashes = backslashes + 1 if char == "\\" else 0
    return "".join(out)


def text(value: object) -> Markdown:
    """Prose from an input value: one line, every markdown punctuation character escaped."""
    raw = "" if value is None else str(value)
    escaped = _PROSE.sub(r"\\\1", _CONTROL.sub(" ", raw))
    # A leading +, - or = could start a list item or a setext underline at the start of a line.
    if escaped[:1] in ("+", "-", "="):
        escaped = "\\" + escaped
    return Markdown(escaped)


def code(value: object, *, in_table: bool = False) -> Markdown:
    """An inline code span holding ``value`` literally (fence longer than any backtick run).

    :param in_table: Escape ``|`` as ``\\|``: in a GFM table cell the table splitter sees pipes
        before the code span does (the renderer removes the backslash again).
    """
    raw = _CONTROL.sub(" ", "" if value is None else str(value))
    if not raw:
        return Markdown("")
    longest = max((len(m) for m in _BACKTICKS.findall(raw)), default=0)
    fence_ = "`" * (longest + 1)
    pad = " " if raw.startswith("`") or raw.endswith("`") or raw.strip() == "" else ""
    body = raw.replace("|", "\\|") if in_table else raw
    return Markdown(f"{fence_}{pad}{body}{pad}{fence_}")


def link(label: object, target: str) -> Markdown:
    """A relative link; the label is escaped, the target percent-encoded (spaces, parentheses)."""
    return Markdown(f"[{text(label)}]({quote(target, safe='/#.-_~:@')})")


def short_hash(value: object, length: int = 12) -> str:
    """A hash's first ``length`` characters and an ellipsis, for main tables and prose; the
    document's appendix carries the whole value."""
    text = "" if value is None else str(value)
    return text if len(text) <= length + 1 else text[:length] + "…"


_LONG_HEX = re.compile(r"(?<![0-9a-fA-F])([0-9a-fA-F]{12})[0-9a-fA-F]{20,}(?![0-9a-fA-F])")
_FULL_HEX = re.compile(r"(?<![0-9a-fA-F])[0-9a-fA-F]{32,}(?![0-9a-fA-F])")


def shorten_hashes(value: object) -> str:
    """Every long hex run (a SHA-256) in ``value`` cut to 12 characters and an ellipsis."""
    return _LONG_HEX.sub(lambda m: m.group(1) + "…", "" if value is None else str(value))


def full_hashes(value: object) -> list[str]:
    """The long hex runs :func:`shorten_hashes` would cut, whole, for an appendix."""
    return _FULL_HEX.findall("" if value is None else str(value))


def heading(level: int, title: str) -> str:
    """An ATX heading; ``title`` is trusted document text (escape input parts with text())."""
    return f"{'#' * level} {title}"


def bullets(items: Iterable[str]) -> list[str]:
    """List items; each item is trusted document text."""
    return [f"- {item}" for item in items]


def fence(body: str, info: str = "") -> str:
    """A fenced code block that no backtick run inside ``body`` can close early."""
    longest = max((len(m) for m in _BACKTICKS.findall(body)), default=0)
    marker = "`" * max(3, longest + 1)
    content = body if body.endswith("\n") or not body else body + "\n"
    return f"{marker}{info}\n{content}{marker}"


@contextlib.contextmanager
def _narrow_widths() -> Iterator[None]:
    # tabulate pads cells by display width when the optional wcwidth package happens to be
    # installed; pinning the plain-length mode keeps the bytes identical on every machine.
    saved = _tabulate.WIDE_CHARS_MODE
    _tabulate.WIDE_CHARS_MODE = False
    try:
        yield
    finally:
        _tabulate.WIDE_CHARS_MODE = saved


def table(headers: Sequence[str], rows: Iterable[Sequence[object]],
          *, empty: str = "None.") -> str:
    """A GFM pipe table; every cell is escaped with :func:`cell` (Markdown passes through).

    Header names are trusted document text. With no rows the table is replaced by ``empty``,
    so a document never shows a header with nothing under it.
    """
    body = [[cell(value) for value in row] for row in rows]
    for row in body:
        if len(row) != len(headers):
            raise ValueError(f"row has {len(row)} cells, the header {len(headers)}")
    if not body:
        return empty
    fast = _plain_table(headers, body)
    if fast is not None:
        return fast
    with _narrow_widths():
        rendered: str = _tabulate.tabulate(body, headers=list(headers), tablefmt="github",
                                           disable_numparse=True)
    return rendered


def _plain_table(headers: Sequence[str], body: list[list[str]]) -> str | None:
    """What tabulate's ``github`` format writes for cells of plain one-line text, or None.

    A long schedule's tables have thousands of rows (a hash per window), and tabulate works
    through each cell generically. For cells without what tabulate treats specially (leading
    or trailing blanks, which it strips; line breaks, which make a row multi-line; terminal
    escapes, which it does not count; any other character that is not printable) the layout
    is simple: each column as wide as its widest cell and at least its header plus two, cells
    left-aligned between ``| `` and `` |``. Anything else goes to tabulate
    (tests/unit/documents/test_md_plain_table.py holds the two equal on generated tables).
    """
    columns = len(headers)
    widths = [len(h) + _tabulate.MIN_PADDING for h in headers]
    for text in (*headers, *(c for row in body for c in row)):
        if type(text) is not str and not isinstance(text, Markdown):
            return None
        if text != text.strip() or not text.isprintable():
            return None
    for row in body:
        for index in range(columns):
            size = len(row[index])
            if size > widths[index]:
                widths[index] = size

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), rule, *(line(row) for row in body)])
