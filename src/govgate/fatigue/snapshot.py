"""The heat-map snapshot hash, and the heat-map as JSON and CSV.

The hash is SHA-256 over a canonical text a partner can rebuild from the rows alone::

    signer_fatigue_heatmap_14d@2026-11-20T00:00:00Z
    <signer_id>,<ack_count_14d>,<breached_count_14d>,<concurrent_window_count_14d>,<avg_latency_hours_14d>,<avg_latency_ratio_14d>,<pending_acks_now>,<classification>

one line per row, sorted by ``signer_id`` (UTF-8 byte order), every line ending in ``\\n``, the
whole text UTF-8. Averages are fixed-point with exactly four decimals, rounded half away from
zero, and empty for NULL. In ``signer_id`` a backslash is written ``\\\\``, a comma ``\\,``, a
line feed ``\\n`` and a carriage return ``\\r``, so a line splits back into its fields
unambiguously.
The hash does not depend on the order of the input rows: the rows are sorted, and their values
are aggregates. ``docs/heatmap.md`` has a ten-line reference implementation.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable
from datetime import datetime
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

from ..timeutil import format_instant
from .model import CLASSIFICATIONS, HeatmapRow, Refresh

__all__ = [
    "COLUMNS",
    "VIEW_NAME",
    "canonical_form",
    "escape_signer",
    "fixed4",
    "render_json",
    "rows_to_csv",
    "rows_to_json",
    "snapshot_hash",
    "spreadsheet_safe",
]

VIEW_NAME = "signer_fatigue_heatmap_14d"
#: The view's columns plus ``classification``, in the order the canonical form and CSV use.
COLUMNS: tuple[str, ...] = (
    "signer_id",
    "ack_count_14d",
    "breached_count_14d",
    "concurrent_window_count_14d",
    "avg_latency_hours_14d",
    "avg_latency_ratio_14d",
    "pending_acks_now",
    "classification",
)

_FOUR_PLACES = Decimal("0.0001")
# Wide enough for any average the view can hold; ROUND_HALF_UP is "half away from zero".
_CONTEXT = Context(prec=60, rounding=ROUND_HALF_UP)
_ESCAPES = str.maketrans({"\\": "\\\\", ",": "\\,", "\n": "\\n", "\r": "\\r"})


def escape_signer(signer_id: str) -> str:
    """A ``signer_id`` as the canonical form writes it (backslash escapes for \\ , LF CR)."""
    return signer_id.translate(_ESCAPES)


def fixed4(value: Decimal | None) -> str:
    """An average as the canonical form writes it: ``0.5047`` (4 decimals), ``""`` for NULL."""
    if value is None:
        return ""
    return format(value.quantize(_FOUR_PLACES, context=_CONTEXT), "f")


def _line(row: HeatmapRow) -> str:
    return (
        f"{escape_signer(row.signer_id)},{row.ack_count_14d},{row.breached_count_14d},"
        f"{row.concurrent_window_count_14d},{fixed4(row.avg_latency_hours_14d)},"
        f"{fixed4(row.avg_latency_ratio_14d)},{row.pending_acks_now},{row.classification}\n"
    )


def canonical_form(at: datetime, rows: Iterable[HeatmapRow]) -> str:
    """The text the snapshot hash is taken of (see the module docstring)."""
    ordered = sorted(rows, key=lambda row: row.signer_id)  # code points sort as UTF-8 bytes do
    return f"{VIEW_NAME}@{format_instant(at)}\n" + "".join(map(_line, ordered))


def snapshot_hash(at: datetime, rows: Iterable[HeatmapRow]) -> str:
    """SHA-256 hex digest of :func:`canonical_form`."""
    return hashlib.sha256(canonical_form(at, rows).encode("utf-8")).hexdigest()


def classification_counts(refresh: Refresh) -> dict[str, int]:
    """How many signers are red, amber, recovering and green at the refresh.

    Every signer known at the refresh counts, also one with no row in the window (still
    recovering, or green): that is the four-row table of the partner readback.
    """
    counts = dict.fromkeys(CLASSIFICATIONS, 0)
    for state in refresh.classification.values():
        counts[state] = counts.get(state, 0) + 1
    return counts


def _json_number(value: Decimal | None) -> float | None:
    # The 4-decimal value as a float: its repr is exactly those digits (trailing zeros aside).
    return None if value is None else float(fixed4(value))


def rows_to_json(refresh: Refresh) -> dict[str, Any]:
    """The refresh as a JSON-ready dict: as-of, snapshot hash, counts and the rows.

    Averages are numbers rounded to 4 decimals (half away from zero), null for NULL.
    """
    return {
        "view": VIEW_NAME,
        "as_of": format_instant(refresh.at),
        "snapshot_hash": refresh.snapshot_hash,
        "classification_counts": classification_counts(refresh),
        "rows": [
            {
                "signer_id": row.signer_id,
                "ack_count_14d": row.ack_count_14d,
                "breached_count_14d": row.breached_count_14d,
                "concurrent_window_count_14d": row.concurrent_window_count_14d,
                "avg_latency_hours_14d": _json_number(row.avg_latency_hours_14d),
                "avg_latency_ratio_14d": _json_number(row.avg_latency_ratio_14d),
                "pending_acks_now": row.pending_acks_now,
                "classification": row.classification,
            }
            for row in sorted(refresh.rows, key=lambda row: row.signer_id)
        ],
    }


def render_json(refresh: Refresh) -> str:
    """:func:`rows_to_json` as deterministic text (2-space indent, trailing newline)."""
    return json.dumps(rows_to_json(refresh), indent=2, ensure_ascii=False) + "\n"


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """``text``, with a ``'`` in front when a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def row_values(row: HeatmapRow) -> tuple[str | int, ...]:
    """A row's values in :data:`COLUMNS` order, averages as fixed-point text (CSV, tables)."""
    return (
        row.signer_id,
        row.ack_count_14d,
        row.breached_count_14d,
        row.concurrent_window_count_14d,
        fixed4(row.avg_latency_hours_14d),
        fixed4(row.avg_latency_ratio_14d),
        row.pending_acks_now,
        row.classification,
    )


def rows_to_csv(refresh: Refresh) -> str:
    """The rows as CSV with a header, averages with 4 decimals, NULL as an empty field.

    The CSV is for spreadsheets: a ``signer_id`` that would start a formula (``=``, ``+``,
    ``-``, ``@``) is written with a leading ``'``. The JSON carries the values unchanged, and
    the snapshot hash is computed from the values, not from this file.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in sorted(refresh.rows, key=lambda row: row.signer_id):
        signer, *rest = row_values(row)
        writer.writerow((spreadsheet_safe(str(signer)), *rest))
    return buffer.getvalue()
