"""The gate result as JSON: the stable, documented machine interface."""

from __future__ import annotations

import dataclasses
import enum
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..jsontext import pretty
from ..timeutil import format_instant

if TYPE_CHECKING:
    from ..model import Finding, GateResult
    from . import ReportContext

SCHEMA_VERSION = 1


def plain(value: Any) -> Any:
    """Convert values to JSON types deterministically (decimals as exact strings)."""
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(plain(v) for v in value)
    return value


def finding_dict(f: Finding) -> dict[str, Any]:
    return {
        "rule": f.rule,
        "subject": f.subject,
        "severity": f.severity.value,
        "blocking": f.blocking,
        "message": f.message,
        "owner_route": f.owner_route,
        "location": None if f.location is None else {
            "path": f.location.path, "line": f.location.line, "pointer": f.location.pointer},
        "waived_by": f.waived_by,
        "evidence": plain(f.evidence),
    }


def result_dict(result: GateResult) -> dict[str, Any]:
    counts = {s: 0 for s in ("error", "warning", "info")}
    for f in result.findings:
        counts[f.severity.value] += 1
    return {
        "schema_version": SCHEMA_VERSION,
        "as_of": format_instant(result.as_of),
        "gate": "pass" if result.passed else "blocked",
        "state": result.state.value,
        "counts": {**counts, "blocking": len(result.blocking),
                   "waived": sum(1 for f in result.findings if f.waived_by)},
        "findings": [finding_dict(f) for f in result.findings],
        "pages": [plain(p) for p in result.pages],
        "records": [plain(r) for r in result.records],
        "artifacts": sorted(result.artifacts),
        "sections": plain(result.sections),
        "episodes": [{**plain(e), "missed_windows": e.missed_windows} for e in result.episodes],
    }


#: The last result rendered and its text: ``check --format json`` writes the same result as
#: result.json, as the json report and on stdout; a large result is rendered once.
_LAST: list[tuple[GateResult, str]] = []


def render(result: GateResult, context: ReportContext) -> str:
    if _LAST and _LAST[0][0] is result:
        return _LAST[0][1]
    text = pretty(result_dict(result), sort_keys=True) + "\n"
    _LAST[:] = [(result, text)]
    return text
