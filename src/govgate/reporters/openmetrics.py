"""A Prometheus textfile (OpenMetrics text, ending ``# EOF``) for dashboards and alerts.

Lesson 166 asks for a dashboard that shows a flat line of job completions, so the file carries
the last successful completion of the reconciliation job beside the gate verdict, the
governance state, the findings and, when those domains ran, the fatigue heat-map counts and the
open promotes. Every family is a gauge, so node_exporter's textfile collector (Prometheus text
format, where ``# EOF`` is a comment) reads the same file. Values come from the result only:
the evaluation's as-of instant, never the clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..errors import GovgateError
from ..timeutil import parse_instant
from .findings import counts

if TYPE_CHECKING:
    from ..model import GateResult
    from . import ReportContext

PREFIX = "govgate"
CLASSIFICATIONS = ("red", "amber", "recovering", "green")
STATES = ("green", "amber", "red")
SEVERITIES = ("error", "warning", "info")
STATUSES = ("PASS", "FAIL", "SKIPPED", "MISSING", "LATE")

Sample = tuple[Mapping[str, str], float | int]


def _label_value(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")


def _number(value: float | int) -> str:
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def _seconds(at: datetime) -> float | int:
    # Whole seconds print as integers; a fraction keeps microsecond precision exactly.
    whole = int(at.timestamp())
    return whole if at.microsecond == 0 else whole + at.microsecond / 1_000_000


def family(name: str, help_text: str, samples: Iterable[Sample]) -> list[str]:
    """One gauge family: ``# HELP``, ``# TYPE`` and its samples in the order given."""
    full = f"{PREFIX}_{name}"
    lines = [f"# HELP {full} {help_text}", f"# TYPE {full} gauge"]
    for labels, value in samples:
        label_text = ",".join(f'{k}="{_label_value(v)}"' for k, v in labels.items())
        lines.append(f"{full}{{{label_text}}} {_number(value)}" if label_text
                     else f"{full} {_number(value)}")
    return lines


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_instant(value)
    except GovgateError:  # a malformed instant in a section leaves the metric out
        return None


def last_successful_completion(section: Any) -> datetime | None:
    """The reconciliation job's last PASS completion, from the ``reconciliation`` section.

    Reads ``last_successful_completion`` when the section has it, else the latest
    ``completed_at`` of a PASS window row.
    """
    if not isinstance(section, Mapping):
        return None
    explicit = _instant(section.get("last_successful_completion"))
    if explicit is not None:
        return explicit
    passes = [_instant(w.get("completed_at")) for w in section.get("windows") or ()
              if isinstance(w, Mapping) and w.get("status") == "PASS"]
    known = [p for p in passes if p is not None]
    return max(known) if known else None


def heatmap_counts(section: Any) -> dict[str, int] | None:
    """Signers per classification at as-of, from the ``fatigue`` section (None without one).

    Accepts a ``classification_counts`` mapping or a list of heat-map rows (``heatmap`` or
    ``rows``) that carry a ``classification``.
    """
    if not isinstance(section, Mapping):
        return None
    out = dict.fromkeys(CLASSIFICATIONS, 0)
    given = section.get("classification_counts")
    if isinstance(given, Mapping):
        for key, value in given.items():
            if isinstance(value, int):
                out[str(key)] = value
        return out
    rows = section.get("heatmap", section.get("rows"))
    if not isinstance(rows, list):
        return None
    for row in rows:
        if isinstance(row, Mapping) and isinstance(row.get("classification"), str):
            out[row["classification"]] = out.get(row["classification"], 0) + 1
    return out


def open_promotes(section: Any) -> dict[str, int] | None:
    """Open (not reverted) promotes per owner route, from the ``promote`` section."""
    if not isinstance(section, Mapping) or not isinstance(section.get("promotes"), list):
        return None
    out: dict[str, int] = {}
    for row in section["promotes"]:
        if not isinstance(row, Mapping):
            continue
        if row.get("reverted") or row.get("reverted_at_dt_utc"):
            continue
        route = str(row.get("owner_route") or "unknown")
        out[route] = out.get(route, 0) + 1
    return out


def _window_counts(section: Any) -> dict[str, int] | None:
    if not isinstance(section, Mapping) or not isinstance(section.get("windows"), list):
        return None
    out = dict.fromkeys(STATUSES, 0)
    for w in section["windows"]:
        if isinstance(w, Mapping):
            status = str(w.get("status") or "MISSING")
            out[status] = out.get(status, 0) + 1
    return out


def render(result: GateResult, context: ReportContext) -> str:
    n = counts(result)
    severity = dict.fromkeys(SEVERITIES, 0)
    for f in result.findings:
        severity[f.severity.value] += 1
    lines = family("gate_passed", "1 when the release gate passed, 0 when it is blocked.",
                   [({}, int(result.passed))])
    lines += family("evaluation_timestamp_seconds",
                    "The as-of instant the gate was evaluated at (Unix seconds).",
                    [({}, _seconds(result.as_of))])
    lines += family("governance_state",
                    "1 for the current reconciliation governance state, 0 for the others.",
                    [({"state": s}, int(result.state.value == s)) for s in STATES])
    lines += family("findings", "Findings by severity (waived findings included).",
                    [({"severity": s}, severity[s]) for s in SEVERITIES])
    lines += family("findings_blocking", "Findings that block the gate.", [({}, n["error"])])
    lines += family("findings_waived", "Findings waived by a waiver (counted, not hidden).",
                    [({}, n["waived"])])
    lines += family("pages", "Pages the evaluation raised (deduplicated by dedup_key).",
                    [({}, len(result.pages))])
    recon = result.sections.get("reconciliation")
    last = last_successful_completion(recon)
    if last is not None:
        lines += family("last_successful_completion_timestamp_seconds",
                        "When the reconciliation job last completed with PASS (Unix seconds).",
                        [({}, _seconds(last))])
    windows = _window_counts(recon)
    if windows is not None:
        lines += family("reconcile_windows",
                        "Scheduled reconciliation windows due at as-of, by run status.",
                        [({"status": s}, v) for s, v in sorted(windows.items())])
        # Its own family so an alert on "late for too long" needs no label filter.
        lines += family("reconcile_late_windows",
                        "Due windows whose run is not complete yet, inside the policy's grace "
                        "(not counted in the governance state until then).",
                        [({}, windows.get("LATE", 0))])
    heat = heatmap_counts(result.sections.get("fatigue"))
    if heat is not None:
        lines += family("fatigue_signers",
                        "Signers per heat-map classification at the as-of refresh.",
                        [({"classification": c}, v) for c, v in sorted(heat.items())])
    promotes = open_promotes(result.sections.get("promote"))
    if promotes is not None:
        lines += family("open_promotes", "Promotes not yet reverted, all routes.",
                        [({}, sum(promotes.values()))])
        lines += family("open_promotes_by_route", "Promotes not yet reverted, per owner route.",
                        [({"owner_route": r}, v) for r, v in sorted(promotes.items())])
    lines.append("# EOF")
    return "\n".join(lines) + "\n"
