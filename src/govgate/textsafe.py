"""Neutralise text from inputs before it lands in CSV or markdown written for people.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (CSV
injection); markdown tables break on ``|`` and newlines.
"""

from __future__ import annotations

import re

_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """A CSV cell that a spreadsheet shows as text, never evaluates (numbers stay numbers)."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START) and not _NUMBER.match(text):
        return "'" + text
    return text


def md_cell(value: object) -> str:
    """A markdown table cell: pipes escaped, line breaks and control characters removed."""
    text = "" if value is None else str(value)
    text = re.sub(r"[\x00-\x1f\x7f]", " ", text)
    text = text.replace("\\", "\\\\").replace("|", "\\|")
    if text.startswith(_FORMULA_START[:4]) and not _NUMBER.match(text):
        text = "\\" + text
    return text
