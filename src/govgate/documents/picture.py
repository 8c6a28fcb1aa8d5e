"""The heat-map picture: signers x daily refreshes, coloured red / amber / recovering / green.

Two renderings of one :class:`Grid` built from an evaluation's report sections
(``sections["fatigue"]["history"]`` for the classes, ``sections["promote"]["promotes"]`` for the
promote and revert days):

* :func:`render_svg` -- a self-contained SVG file: one ``<rect>`` per signer-day carrying
  ``data-signer``, ``data-day`` and ``data-class`` plus a text mark (R, A, r, G), so colour is
  never the only carrier; the Okabe-Ito colour-blind-safe palette; a legend; promote and revert
  days marked above the grid and on the cells of the two signers involved. Under the signers, one
  lane per owner route shows which route each promote (▲ with its trigger's letter: H
  heatmap_red, P pending_acks_aged, M manual_invocation) and revert (▼) belongs to, and the
  rung-3 freeze periods (hatched, F) when a freeze gate held the route. No script, no external
  reference, deterministic bytes.
* :func:`emoji_grid` -- a compact markdown table that shows inside a GitHub job summary, one
  shape-distinct emoji per day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from . import md

__all__ = ["CLASS_STYLE", "TRIGGER_LETTER", "Grid", "RouteMark", "emoji_grid", "grid_from_sections",
           "render_svg"]

#: class -> (fill colour, text mark, emoji, legend text). Okabe & Ito's palette: vermillion,
#: orange, sky blue, bluish green stay distinct under the common colour-vision deficiencies.
CLASS_STYLE: dict[str, tuple[str, str, str, str]] = {
    "red": ("#D55E00", "R", "🟥", "red: promote the backup"),
    "amber": ("#E69F00", "A", "🔶", "amber: at risk"),
    "recovering": ("#56B4E9", "r", "🔷", "recovering: not green yet"),
    "green": ("#009E73", "G", "🟢", "green: healthy"),
}
#: A day before the signer's first event: not classified yet.
NONE_STYLE = ("#EEEEEE", "·", "⬜", "no data yet")
PROMOTE, REVERT = "▲", "▼"

_CELL, _GAP, _TOP, _LEGEND_ROW = 22, 2, 64, 22
_CHAR_W = 7  # approximate width of one 12px sans-serif character, for the label column


#: The letter beside a promote mark: why the backup was promoted (the trigger type).
TRIGGER_LETTER = {"heatmap_red": "H", "pending_acks_aged": "P", "manual_invocation": "M"}
#: Rung-3 freeze periods: a hatch of this Okabe-Ito colour (reddish purple) and the letter F.
FREEZE_FILL, FREEZE_MARK = "#CC79A7", "F"


@dataclass(frozen=True)
class RouteMark:
    """A promote or revert on one owner route's lane of the picture."""

    day: int
    kind: str  # promote | revert
    #: The trigger type of the promote (also kept on its revert, for the tooltip).
    trigger: str
    detail: str

    @property
    def symbol(self) -> str:
        if self.kind == "promote":
            return PROMOTE + TRIGGER_LETTER.get(self.trigger, "?")
        return REVERT


@dataclass(frozen=True)
class Grid:
    """The picture's data: days (oldest first), signers and their class on each day."""

    days: tuple[str, ...]
    signers: tuple[str, ...]
    #: signer -> class per day ("none" before the signer's first event).
    classes: Mapping[str, tuple[str, ...]]
    #: (signer, day index) -> marks ("promote", "revert"), for the signers involved.
    cell_marks: Mapping[tuple[str, int], tuple[str, ...]] = field(default_factory=dict)
    #: day index -> marks of that day, with the route: ("promote", "publish_gate").
    day_marks: Mapping[int, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    #: owner route -> its promotes and reverts on the grid's days, in day order.
    route_marks: Mapping[str, tuple[RouteMark, ...]] = field(default_factory=dict)
    #: owner route -> rung-3 freeze periods as (first day index, last day index, detail).
    freezes: Mapping[str, tuple[tuple[int, int, str], ...]] = field(default_factory=dict)

    @property
    def refresh(self) -> str | None:
        return self.days[-1] if self.days else None


def _date(instant: str | None) -> str | None:
    return instant[:10] if instant else None


def grid_from_sections(fatigue: Mapping[str, Any] | None,
                       promote: Mapping[str, Any] | None) -> Grid:
    """Build the grid from the ``fatigue`` and ``promote`` report sections (either may be None).

    A promote or revert is marked on the day (UTC date) it happened, on the primary's and the
    backup's rows.
    """
    history = (fatigue or {}).get("history") or {}
    days = tuple(history.get("days") or ())
    series = history.get("signers") or {}
    signers = tuple(sorted(series))
    classes = {s: tuple(str(c) for c in series[s]) for s in signers}
    index = {_date(day): i for i, day in enumerate(days)}
    cell_marks: dict[tuple[str, int], list[str]] = {}
    day_marks: dict[int, list[tuple[str, str]]] = {}
    route_marks: dict[str, list[RouteMark]] = {}
    for row in (promote or {}).get("promotes") or ():
        people = [p for p in (row.get("primary_signer"), row.get("promoted_signer")) if p]
        route = str(row.get("owner_route", ""))
        trigger = str(row.get("trigger_type") or "")
        for kind, when in (("promote", row.get("promoted_at_dt_utc")),
                           ("revert", row.get("reverted_at_dt_utc"))):
            position = index.get(_date(when))
            if position is None:
                continue
            day_marks.setdefault(position, []).append((kind, route))
            detail = (f"{kind} {row.get('promote_event_id', '')} on {route} at {when}: "
                      + (f"{row.get('promoted_signer')} for {row.get('primary_signer')}, "
                         f"trigger {trigger}" if kind == "promote"
                         else f"{row.get('revert_kind') or 'reverted'}"))
            route_marks.setdefault(route, []).append(RouteMark(position, kind, trigger, detail))
            for person in people:
                if person in classes:
                    cell_marks.setdefault((person, position), []).append(kind)
    return Grid(days, signers, classes,
                {k: tuple(sorted(set(v))) for k, v in sorted(cell_marks.items())},
                {k: tuple(sorted(v)) for k, v in sorted(day_marks.items())},
                {r: tuple(sorted(v, key=lambda m: (m.day, m.kind != "revert", m.detail)))
                 for r, v in sorted(route_marks.items())},
                _freezes(days, promote))


def _freezes(days: Sequence[str], promote: Mapping[str, Any] | None,
             ) -> dict[str, tuple[tuple[int, int, str], ...]]:
    """Rung-3 freeze periods per route, clipped to the grid's days: from the decision to its
    lift (or the end of its effect; still holding when neither is known)."""
    dates = [_date(d) or "" for d in days]
    if not dates:
        return {}
    out: dict[str, list[tuple[int, int, str]]] = {}
    for d in (promote or {}).get("decisions") or ():
        if d.get("option") != "freeze_gate" or not d.get("decided_at"):
            continue
        start = _date(d["decided_at"]) or ""
        end_at = d.get("lifted_at") or d.get("effective_until")
        end = _date(end_at) or dates[-1]
        if end < dates[0] or start > dates[-1]:
            continue
        first = next(i for i, day in enumerate(dates) if day >= start)
        last = max(i for i, day in enumerate(dates) if day <= end)
        windows = ", ".join(d.get("cert_window_ids") or ()) or "no cert window"
        detail = (f"freeze gate on {d.get('owner_route')} from {d['decided_at']} "
                  f"{'to ' + str(end_at) if end_at else '(not lifted)'}, decided by "
                  f"{d.get('decided_by')}: {windows}")
        out.setdefault(str(d.get("owner_route", "")), []).append((first, last, detail))
    return {r: tuple(sorted(v)) for r, v in sorted(out.items())}


def _style(cls: str) -> tuple[str, str, str, str]:
    return CLASS_STYLE.get(cls, NONE_STYLE)


# -------------------------------------------------------------------------------------------
# SVG
# -------------------------------------------------------------------------------------------


def _label(signer: str, limit: int = 28) -> str:
    return signer if len(signer) <= limit else signer[: limit - 1] + "…"


def render_svg(grid: Grid, *, title: str = "Signer fatigue heat-map") -> str:
    """The grid as a standalone SVG document (UTF-8 text, deterministic)."""
    routes = sorted(set(grid.route_marks) | set(grid.freezes))
    label_w = 16 + _CHAR_W * max((len(_label(s)) for s in (*grid.signers, *routes)), default=8)
    width = max(label_w + len(grid.days) * (_CELL + _GAP) + 16, 620)
    grid_h = len(grid.signers) * (_CELL + _GAP)
    lanes_y = _TOP + grid_h + (36 if routes else 0)
    legend_y = lanes_y + len(routes) * (_CELL + _GAP) + 24
    height = legend_y + 4 * _LEGEND_ROW + 8
    span = (f"{grid.days[0][:10]} to {grid.days[-1][:10]}" if grid.days
            else "no refreshes")
    caption = f"{title}, {len(grid.days)} daily refreshes ({span}), {len(grid.signers)} signers"
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="title desc" '
        'font-family="DejaVu Sans, Verdana, Arial, sans-serif" font-size="12">',
        f'<title id="title">{escape(caption)}</title>',
        '<desc id="desc">One square per signer and day. Each square carries a letter as well as '
        'a colour: R red, A amber, r recovering, G green, · no data yet. ▲ marks a backup '
        'promote and ▼ a revert on that day, outlined on the primary and backup rows. Below, one '
        'lane per owner route: ▲ with the trigger letter (H heatmap_red, P pending_acks_aged, '
        'M manual_invocation), ▼ for a revert, and hatched F squares while a rung-3 freeze gate '
        'held the route.</desc>',
        f'<defs><pattern id="freeze-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" fill="{FREEZE_FILL}"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#000000" stroke-width="2"/></pattern></defs>',
        '<rect x="0" y="0" width="100%" height="100%" fill="#FFFFFF"/>',
        f'<text x="8" y="18" font-size="14" font-weight="bold">{escape(caption)}</text>',
    ]
    out += _day_axis(grid, label_w)
    for row, signer in enumerate(grid.signers):
        y = _TOP + row * (_CELL + _GAP)
        out.append(f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">'
                   f'<title>{escape(signer)}</title>{escape(_label(signer))}</text>')
        for col, day in enumerate(grid.days):
            out.append(_cell(grid, signer, col, day, label_w + col * (_CELL + _GAP), y))
    if routes:
        out.append(f'<text x="8" y="{lanes_y - 10}" font-weight="bold">Owner routes: promotes '
                   f'{PROMOTE} (trigger letter), reverts {REVERT}, rung-3 freezes '
                   f'{FREEZE_MARK}</text>')
    for row, route in enumerate(routes):
        out += _lane(grid, route, label_w, lanes_y + row * (_CELL + _GAP))
    out += _legend(legend_y)
    out += ("</svg>", "")  # the empty part ends the text with a newline, without a copy
    return "\n".join(out)  # one square per signer-day: at 5,000 signers the text is ~40 MB


def _day_axis(grid: Grid, label_w: int) -> list[str]:
    out = []
    previous_month = None
    for col, day in enumerate(grid.days):
        x = label_w + col * (_CELL + _GAP) + _CELL // 2
        month = day[:7]
        if month != previous_month:
            out.append(f'<text x="{x - _CELL // 2}" y="34" font-size="10">{escape(month)}</text>')
            previous_month = month
        out.append(f'<text x="{x}" y="{_TOP - 6}" font-size="10" text-anchor="middle">'
                   f'{escape(day[8:10])}</text>')
        marks = grid.day_marks.get(col, ())
        if marks:
            symbols = "".join(PROMOTE if kind == "promote" else REVERT
                              for kind in sorted({kind for kind, _ in marks}, reverse=True))
            detail = ", ".join(f"{kind} on {route}" for kind, route in marks)
            out.append(f'<text x="{x}" y="{_TOP - 20}" font-size="11" text-anchor="middle" '
                       f'data-day={quoteattr(day)}><title>{escape(day[:10])}: {escape(detail)}'
                       f'</title>{symbols}</text>')
    return out


def _cell(grid: Grid, signer: str, col: int, day: str, x: int, y: int) -> str:
    cls = grid.classes[signer][col] if col < len(grid.classes[signer]) else "none"
    fill, mark, _, legend = _style(cls)
    marks = grid.cell_marks.get((signer, col), ())
    outline = (' stroke="#000000" stroke-width="3"' if marks
               else ' stroke="#FFFFFF" stroke-width="0.5"')
    extra = f" data-mark={quoteattr(' '.join(marks))}" if marks else ""
    symbol = mark + "".join(PROMOTE if m == "promote" else REVERT for m in marks)
    tip = f"{signer} {day[:10]}: {legend}" + (f" ({', '.join(marks)})" if marks else "")
    return (f'<g><title>{escape(tip)}</title>'
            f'<rect x="{x}" y="{y}" width="{_CELL}" height="{_CELL}" fill="{fill}"{outline} '
            f'data-signer={quoteattr(signer)} data-day={quoteattr(day)} '
            f'data-class={quoteattr(cls)}{extra}/>'
            f'<text x="{x + _CELL // 2}" y="{y + 15}" font-size="{9 if marks else 11}" '
            f'text-anchor="middle" fill="#000000">{escape(symbol)}</text></g>')


def _lane(grid: Grid, route: str, label_w: int, y: int) -> list[str]:
    """One owner route's row: freeze periods as hatched squares, promote and revert marks."""
    out = [f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" font-style="italic">'
           f'<title>owner route {escape(route)}</title>{escape(_label(route))}</text>']
    frozen: dict[int, str] = {}
    for first, last, detail in grid.freezes.get(route, ()):
        for col in range(first, last + 1):
            frozen.setdefault(col, detail)
    marks: dict[int, list[RouteMark]] = {}
    for mark in grid.route_marks.get(route, ()):
        marks.setdefault(mark.day, []).append(mark)
    for col, day in enumerate(grid.days):
        x = label_w + col * (_CELL + _GAP)
        here = marks.get(col, [])
        freeze = frozen.get(col)
        if not here and freeze is None:
            out.append(f'<rect x="{x}" y="{y}" width="{_CELL}" height="{_CELL}" fill="#F6F6F6" '
                       'stroke="#FFFFFF" stroke-width="0.5"/>')
            continue
        tips = [m.detail for m in here] + ([freeze] if freeze else [])
        fill = 'url(#freeze-hatch)' if freeze else "#F6F6F6"
        symbol = "".join(m.symbol for m in here) or FREEZE_MARK
        attrs = (f' data-route={quoteattr(route)} data-day={quoteattr(day)}'
                 + (f" data-lane-mark={quoteattr(' '.join(m.kind for m in here))}" if here else "")
                 + (' data-freeze="yes"' if freeze else ""))
        label = (f'<rect x="{x + 2}" y="{y + 5}" width="{_CELL - 4}" height="13" '
                 'fill="#FFFFFF" opacity="0.85"/>' if freeze else "")
        out.append(f'<g><title>{escape("; ".join(tips))}</title>'
                   f'<rect x="{x}" y="{y}" width="{_CELL}" height="{_CELL}" fill="{fill}" '
                   f'stroke="#000000" stroke-width="{1 if freeze else 0.5}"{attrs}/>{label}'
                   f'<text x="{x + _CELL // 2}" y="{y + 15}" '
                   f'font-size="{9 if len(symbol) > 2 else 11}" text-anchor="middle" '
                   f'fill="#000000">{escape(symbol)}</text></g>')
    return out


def _legend(y: int) -> list[str]:
    out = [f'<text x="8" y="{y}" font-weight="bold">Legend</text>']
    entries = [*((c, *CLASS_STYLE[c]) for c in CLASS_STYLE), ("none", *NONE_STYLE)]
    for i, (cls, fill, mark, _, text) in enumerate(entries):
        x, row_y = 8 + (i % 3) * 200, y + 8 + (i // 3) * _LEGEND_ROW
        out.append(f'<rect x="{x}" y="{row_y}" width="16" height="16" fill="{fill}" '
                   f'stroke="#000000" stroke-width="0.5" data-legend={quoteattr(cls)}/>')
        out.append(f'<text x="{x + 8}" y="{row_y + 12}" font-size="10" text-anchor="middle">'
                   f'{escape(mark)}</text>')
        out.append(f'<text x="{x + 22}" y="{row_y + 13}">{escape(text)}</text>')
    row_y = y + 8 + 2 * _LEGEND_ROW
    out.append(f'<text x="8" y="{row_y + 13}">{PROMOTE} backup promoted that day   '
               f'{REVERT} promote reverted that day (outlined cells: the primary and the '
               'backup)</text>')
    row_y += _LEGEND_ROW
    out.append(f'<rect x="8" y="{row_y}" width="16" height="16" fill="url(#freeze-hatch)" '
               'stroke="#000000" stroke-width="0.5" data-legend="freeze"/>')
    triggers = ", ".join(f"{letter} {name}" for name, letter in TRIGGER_LETTER.items())
    out.append(f'<text x="30" y="{row_y + 13}">{FREEZE_MARK} a rung-3 freeze gate holds the '
               f'route   ·   promote triggers: {escape(triggers)}</text>')
    return out


# -------------------------------------------------------------------------------------------
# Markdown
# -------------------------------------------------------------------------------------------


def _events(grid: Grid, signer: str) -> str:
    parts = []
    for (person, col), marks in grid.cell_marks.items():
        if person == signer:
            symbols = "".join(PROMOTE if m == "promote" else REVERT for m in marks)
            parts.append(f"{symbols} {grid.days[col][5:10]}")
    return ", ".join(parts)


def emoji_grid(grid: Grid) -> str:
    """A markdown table: one row per signer, one emoji per day (a space between weeks), days
    red/amber, and the promote (▲) and revert (▼) days; a legend line follows."""
    if not grid.days or not grid.signers:
        return "No heat-map refreshes to show."
    span = f"{grid.days[0][:10]} → {grid.days[-1][:10]}"
    rows = []
    for signer in grid.signers:
        series = grid.classes[signer]
        cells = [_style(c)[2] for c in series]
        weeks = " ".join("".join(cells[i:i + 7]) for i in range(0, len(cells), 7))
        rows.append((signer, md.Markdown(weeks), sum(c == "red" for c in series),
                     sum(c == "amber" for c in series), _events(grid, signer)))
    legend = " · ".join(f"{style[2]} {md.text(style[3])}" for style in CLASS_STYLE.values())
    return "\n".join([
        md.table(["signer", f"daily refreshes {span} (oldest first)", "red days", "amber days",
                  f"promote {PROMOTE} / revert {REVERT}"], rows),
        "",
        f"{legend} · {NONE_STYLE[2]} no data yet",
    ])


def class_counts(series: Sequence[str]) -> dict[str, int]:
    """Days per class in a signer's series (the four classes, zeros included)."""
    return {c: sum(1 for s in series if s == c) for c in CLASS_STYLE}
