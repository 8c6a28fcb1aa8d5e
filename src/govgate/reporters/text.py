"""The terminal report: the verdict and the governance state first, then every finding.

A finding is a heading line (what it is: its mark, rule, subject and owner route) and its
message wrapped under it at the terminal's width. The message is never cut: it is the part that
says what to do. Plain :mod:`textwrap` rather than a layout library: a rich-text library costs
more start-up time than all of govgate's own imports, and pre-commit starts govgate on every
commit (see ``benchmarks/bench_startup.py``).

Verbosity follows pytest: ``-q`` leaves the verdict and the blocking findings, ``-qq`` the
verdict line alone; ``-v`` adds each finding's input file and line, its waiver and the pages'
details.
"""

from __future__ import annotations

import re
import textwrap
from typing import TYPE_CHECKING

from ..timeutil import format_instant
from .findings import STATE_NOT_EVALUATED, counts, level, location_of, page_tally, state_shown
from .terminal import TerminalOptions

if TYPE_CHECKING:
    from ..model import Finding, GateResult
    from . import ReportContext

#: Message lines are indented this far under their finding's heading.
INDENT = 4

_MARK = {"error": ("BLOCKS", "bold red"), "warning": ("warning", "yellow"),
         "waived": ("waived", "blue"), "note": ("note", "dim")}
_STATE = {"red": "bold red", "amber": "bold yellow", "green": "bold green"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _visible(text: object) -> str:
    """Input text made safe for a terminal: an ESC sequence from an id must not recolour or
    retitle it, nor a newline forge a line; control characters are shown as escapes."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def _wrap(text: str, width: int, first: str = "", rest: str = "") -> list[str]:
    # Long words (ids, hashes, paths) are broken rather than allowed past the edge; hyphens
    # are not break points, so a rule id like reconcile.ack-refused stays whole when it fits.
    return textwrap.wrap(text, width=width, initial_indent=first, subsequent_indent=rest,
                         break_long_words=True, break_on_hyphens=False) or [first.rstrip()]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _verdict(result: GateResult, opts: TerminalOptions) -> list[str]:
    verdict = "PASS" if result.passed else "BLOCKED"
    shown = state_shown(result)
    state = shown.upper() if shown else STATE_NOT_EVALUATED
    says = "publish may proceed" if result.passed else "publish is blocked"
    lines = _wrap(f"{verdict}: {says}; governance state {state}", opts.width,
                  rest=" " * INDENT)
    # Colour whole words after wrapping, so escape codes never count toward the width.
    lines[0] = opts.paint(verdict, "bold green" if result.passed else "bold red") + lines[0][
        len(verdict):]
    if shown:
        lines[-1] = re.sub(rf"\b{state}$", opts.paint(state, _STATE[shown]), lines[-1])
    return lines


def _summary(result: GateResult, opts: TerminalOptions) -> list[str]:
    n = counts(result)
    parts = [f"as of {format_instant(result.as_of)}", _plural(n["total"], "finding")]
    detail = [f"{n['error']} blocking"]
    if n["warning"]:
        detail.append(_plural(n["warning"], "warning"))
    if n["waived"]:
        detail.append(f"{n['waived']} waived")
    if n["note"]:
        detail.append(_plural(n["note"], "note"))
    return _wrap(f"{parts[0]}; {parts[1]}: {', '.join(detail)}", opts.width)


def _finding(f: Finding, context: ReportContext, opts: TerminalOptions) -> list[str]:
    key = level(f)
    mark, style = _MARK[key]
    head = f"{mark}  {_visible(f.rule)}  {_visible(f.subject)}"
    if f.owner_route:
        head += f"  (route {_visible(f.owner_route)})"
    lines = _wrap(head, opts.width, rest=" " * INDENT)
    lines[0] = opts.paint(mark, style) + lines[0][len(mark):]
    pad = " " * INDENT
    lines += _wrap(_visible(f.message), opts.width, pad, pad)
    if f.waived_by is not None:
        lines += _wrap(f"waived by {_visible(f.waived_by)}", opts.width, pad, pad)
    if opts.verbosity > 0:
        where = location_of(f, context)
        if where.exact:
            lines += _wrap(f"at {_visible(where.render())}", opts.width, pad, pad)
    return lines


def _late(result: GateResult, opts: TerminalOptions) -> list[str]:
    """Late windows on lines of their own: a run in progress is news, not a finding."""
    recon = result.sections.get("reconciliation")
    windows = recon.get("windows") if isinstance(recon, dict) else None
    late = [w for w in windows or () if isinstance(w, dict) and w.get("status") == "LATE"]
    lines: list[str] = []
    for w in late:
        lines += _wrap(_visible(f"late (not counted yet): "
                                f"{w.get('job_run_id') or w.get('start_inclusive')} due "
                                f"{w.get('scheduled_at')}, missed at {w.get('late_until')} "
                                "unless it completes"), opts.width, rest=" " * INDENT)
    return lines


def render(result: GateResult, context: ReportContext) -> str:
    opts = context.terminal or TerminalOptions()
    lines = _verdict(result, opts)
    if opts.verbosity <= -2:
        return "\n".join(lines) + "\n"
    lines += _summary(result, opts)
    lines += _late(result, opts)
    shown = [f for f in result.findings if opts.verbosity >= 0 or f.blocking]
    for f in shown:
        lines.append("")
        lines += _finding(f, context, opts)
    if not result.findings:
        lines += ["", "No findings."]
    if result.pages and opts.verbosity >= 0:
        lines += ["", *_wrap(f"{page_tally(result.pages)} up to as-of (each delivered once):",
                             opts.width)]
        pad = " " * INDENT
        for p in result.pages:
            if opts.verbosity > 0:
                event = p.action if p.action != "trigger" else f"trigger, {p.severity}"
                lines += _wrap(f"{_visible(p.dedup_key)} ({event}, "
                               f"{format_instant(p.at)})", opts.width, "  ", pad)
                lines += _wrap(_visible(p.summary), opts.width, pad, pad)
            else:
                # A resolve's summary starts "Resolved at T"; a trigger says when it fired the
                # same way, so the two read apart at a glance.
                said = (p.summary if p.action != "trigger"
                        else f"Triggered at {format_instant(p.at)}: {p.summary}")
                lines += _wrap(_visible(said), opts.width, "  ", pad)
    if opts.verbosity >= 0:
        lines += ["", *_wrap(f"Reports in {_visible(context.display_output)} (summary.md, "
                             "result.json, manifest.json, heatmap.svg)", opts.width)]
    return "\n".join(lines) + "\n"
