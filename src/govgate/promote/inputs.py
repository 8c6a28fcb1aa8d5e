"""The team lead's inputs: manual invocations, forced reverts, rung-2 decisions, cert windows.

Each is a table (CSV with a header, or a JSON/YAML list of objects) validated row by row against
its shipped schema; what a schema cannot say (an end before its start, a reference to nothing) is
refused here with the file, the row and the column.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ..errors import GovgateError
from ..loaders.tables import Row, read_table, unique
from ..model import Location
from ..timeutil import parse_instant
from .model import CertWindow, EscalationDecision, ForcedRevert, ManualInvocation

__all__ = [
    "INPUT_KINDS",
    "parse_cert_windows",
    "parse_escalation_decisions",
    "parse_forced_reverts",
    "parse_manual_invocations",
]


def _instant(row: Row, column: str) -> datetime:
    return parse_instant(row.values[column], source=row.source, where=row.where(column))


def _opt_instant(row: Row, column: str) -> datetime | None:
    value = row.values.get(column)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _instant(row, column)


def _opt_text(row: Row, column: str) -> str | None:
    value = row.values.get(column)
    return (value.strip() or None) if isinstance(value, str) else None


def _where(row: Row) -> Location:
    return Location(row.source, row.number)


def _after(row: Row, start: datetime, end: datetime | None, column: str, start_name: str) -> None:
    if end is not None and end <= start:
        raise GovgateError(f"{column} must be after {start_name}", source=row.source,
                           where=row.where(column))


def parse_manual_invocations(data: bytes, source: str) -> tuple[ManualInvocation, ...]:
    """Manual invocations; one without ``audit_reason`` or ``team_lead_ack_id`` is refused."""
    rows = read_table(data, source, "manual_invocation")
    unique(rows, "invocation_id")
    result = []
    for row in rows:
        v = row.values
        invoked, until = _instant(row, "invoked_at"), _opt_instant(row, "until")
        _after(row, invoked, until, "until", "invoked_at")
        result.append(ManualInvocation(
            invocation_id=v["invocation_id"],
            owner_route=v["owner_route"],
            invoked_at=invoked,
            until=until,
            audit_reason=v["audit_reason"].strip(),
            team_lead_ack_id=v["team_lead_ack_id"],
            location=_where(row),
        ))
    return tuple(sorted(result, key=lambda m: (m.invoked_at, m.owner_route, m.invocation_id)))


def parse_forced_reverts(data: bytes, source: str) -> tuple[ForcedRevert, ...]:
    """Forced reverts; each names a ``promote_event_id`` or an ``owner_route`` (or both)."""
    rows = read_table(data, source, "forced_revert")
    result = []
    for row in rows:
        promote, route = _opt_text(row, "promote_event_id"), _opt_text(row, "owner_route")
        if promote is None and route is None:
            raise GovgateError("a forced revert names promote_event_id or owner_route",
                               source=row.source, where=row.where("promote_event_id"))
        result.append(ForcedRevert(
            promote_event_id=promote,
            owner_route=route,
            reverted_at=_instant(row, "reverted_at"),
            reason=row.values["reason"].strip(),
            by=row.values["by"],
            location=_where(row),
        ))
    return tuple(sorted(result, key=lambda f: (f.reverted_at, f.promote_event_id or "",
                                               f.owner_route or "", f.by, f.reason)))


def parse_escalation_decisions(data: bytes, source: str) -> tuple[EscalationDecision, ...]:
    """Rung-2 decisions; only ``freeze_gate`` may be lifted, and a lift needs its reason."""
    rows = read_table(data, source, "escalation_decision")
    result = []
    for row in rows:
        v = row.values
        page, promote = _opt_text(row, "page_key"), _opt_text(row, "promote_event_id")
        if page is None and promote is None:
            raise GovgateError("a decision names the page_key or the promote_event_id",
                               source=row.source, where=row.where("page_key"))
        decided, lifted = _instant(row, "decided_at"), _opt_instant(row, "lifted_at")
        reason = _opt_text(row, "lift_reason")
        if lifted is not None and v["option"] != "freeze_gate":
            raise GovgateError("only a freeze_gate decision can be lifted", source=row.source,
                               where=row.where("lifted_at"))
        if lifted is not None and reason is None:
            raise GovgateError("a lifted freeze gate needs its lift_reason", source=row.source,
                               where=row.where("lift_reason"))
        if reason is not None and lifted is None:
            raise GovgateError("lift_reason is set but lifted_at is empty", source=row.source,
                               where=row.where("lifted_at"))
        _after(row, decided, lifted, "lifted_at", "decided_at")
        result.append(EscalationDecision(
            page_key=page,
            promote_event_id=promote,
            option=v["option"],
            decided_by=v["decided_by"],
            decided_at=decided,
            lifted_at=lifted,
            lift_reason=reason,
            location=_where(row),
        ))
    return tuple(sorted(result, key=lambda d: (d.decided_at, d.page_key or "",
                                               d.promote_event_id or "", d.option, d.decided_by)))


def _routes(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(sorted({part.strip() for part in value.split(";") if part.strip()}))
    assert isinstance(value, list)
    return tuple(sorted({str(v) for v in value}))


def parse_cert_windows(data: bytes, source: str) -> tuple[CertWindow, ...]:
    """Cert windows, ``opens_at <= t < closes_at``."""
    rows = read_table(data, source, "cert_window")
    unique(rows, "cert_window_id")
    result = []
    for row in rows:
        v = row.values
        opens, closes = _instant(row, "opens_at"), _instant(row, "closes_at")
        _after(row, opens, closes, "closes_at", "opens_at")
        result.append(CertWindow(
            cert_window_id=v["cert_window_id"],
            platform=v["platform"],
            opens_at=opens,
            closes_at=closes,
            critical_routes=_routes(v["critical_routes"]),
            location=_where(row),
        ))
    return tuple(sorted(result, key=lambda w: (w.opens_at, w.cert_window_id)))


#: Configuration key (in the ``fatigue:`` section) -> parser, for the plugin's load hook.
INPUT_KINDS: dict[str, Callable[[bytes, str], tuple[object, ...]]] = {
    "manual_invocations": parse_manual_invocations,
    "forced_reverts": parse_forced_reverts,
    "escalation_decisions": parse_escalation_decisions,
    "cert_windows": parse_cert_windows,
}
