"""``kind: backup_owner_policy``: parsing, invariants, the cross-route audit and the history.

The JSON Schema checks shapes; this module checks what a schema cannot say (primary differs from
backup, one row per route, tertiaries are other people, thresholds in range) and names the file,
the JSON pointer and the line of the offending value.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..errors import GovgateError
from ..fatigue.model import DEFAULT_SLA_TARGET_HOURS, OWNER_ROUTES, Thresholds
from ..model import Finding, Location, Severity
from ..timeutil import format_instant
from .model import AcceptedOverlap, BackupOwnerPolicy, RouteRule

if TYPE_CHECKING:
    from ..loaders.documents import Document
    from ..loaders.policies import PolicyDoc, PolicySet

__all__ = [
    "KIND",
    "PolicyChange",
    "PolicyRevision",
    "active_policy",
    "backup_owner_policy_history",
    "cross_route_audit",
    "load_backup_owner_policies",
    "policy_from_doc",
    "route_slas",
]

KIND = "backup_owner_policy"
_REVERT = re.compile(r"^green_([1-9][0-9]{0,2})d$")
#: Decimal thresholds and their allowed ranges (lower bound exclusive unless noted).
_RATIOS = ("amber_ratio", "quiet_ratio")
_MAX_RATIO = Decimal(10)


def _fail(doc: Document, ptr: str, message: str) -> GovgateError:
    line = doc.line_of(ptr)
    where = f"line {line}, {ptr}" if line is not None else ptr
    return GovgateError(message, source=doc.source, where=where)


def _location(doc: Document, ptr: str) -> Location:
    return Location(doc.source, doc.line_of(ptr), ptr)


def _decimal(doc: Document, ptr: str, value: Any) -> Decimal:
    # A YAML number is read from its text (0.75000000000000000001 is not 0.75); ASCII digits
    # only, bounded (govgate.decimals).
    from ..decimals import parse_decimal

    line = doc.line_of(ptr)
    return parse_decimal(value, source=doc.source,
                         where=f"line {line}, {ptr}" if line is not None else ptr,
                         text=doc.number_text(ptr))


def parse_thresholds(doc: Document, data: Any, base: str = "/thresholds") -> Thresholds:
    """Overlay the policy's ``thresholds`` mapping on the seed's defaults, range-checked."""
    if not data:
        return Thresholds()
    defaults = Thresholds()
    values: dict[str, Any] = {}
    for name, raw in sorted(data.items()):
        ptr = f"{base}/{name}"
        default = getattr(defaults, name, None)
        if default is None or name == "revert_green_days":
            # revert_green_days is per route (revert_condition: green_<N>d), never global.
            raise _fail(doc, ptr, f"unknown threshold {name!r}")
        if isinstance(default, Decimal):
            value = _decimal(doc, ptr, raw)
            if name in _RATIOS and not Decimal(0) < value <= _MAX_RATIO:
                raise _fail(doc, ptr, f"expected a ratio in (0, 10], got {raw!r}")
            if name == "aged_factor" and value < 1:
                raise _fail(doc, ptr, f"expected an aged factor of at least 1, got {raw!r}")
            values[name] = value
        else:
            if isinstance(raw, bool) or not isinstance(raw, int | float) or int(raw) != raw:
                raise _fail(doc, ptr, f"expected a whole number, got {raw!r}")
            if raw < 1:
                raise _fail(doc, ptr, f"expected at least 1, got {raw!r}")
            values[name] = int(raw)
    return dataclasses.replace(defaults, **values)


def _route(doc: Document, index: int, row: dict[str, Any]) -> RouteRule:
    ptr = f"/routes/{index}"
    primary, backup = row["primary_signer"], row["backup_signer"]
    if primary == backup:
        raise _fail(doc, f"{ptr}/backup_signer",
                    f"backup_signer must differ from primary_signer ({primary!r} on both)")
    triggers = row["promote_trigger"]
    triggers = (triggers,) if isinstance(triggers, str) else tuple(triggers)
    match = _REVERT.match(row["revert_condition"])
    if match is None:
        raise _fail(doc, f"{ptr}/revert_condition",
                    f"expected green_<N>d (e.g. green_7d), got {row['revert_condition']!r}")
    tertiaries = tuple(row.get("tertiary_signers") or ())
    for j, person in enumerate(tertiaries):
        if person in (primary, backup):
            raise _fail(doc, f"{ptr}/tertiary_signers/{j}",
                        f"tertiary signer {person!r} is already primary or backup on "
                        f"{row['owner_route']}")
        if person in tertiaries[:j]:
            raise _fail(doc, f"{ptr}/tertiary_signers/{j}",
                        f"tertiary signer {person!r} is listed twice")
    return RouteRule(
        owner_route=row["owner_route"],
        primary_signer=primary,
        backup_signer=backup,
        promote_trigger=triggers,
        revert_condition=row["revert_condition"],
        revert_green_days=int(match.group(1)),
        tertiary_signers=tertiaries,
        location=_location(doc, ptr),
    )


def policy_from_doc(policy: PolicyDoc) -> BackupOwnerPolicy:
    """Build a :class:`BackupOwnerPolicy` from a schema-valid policy document.

    :raises GovgateError: On a broken invariant, naming the file, the line and the pointer.
    """
    doc, data = policy.document, policy.data
    declared = _owner_routes(doc, data.get("owner_routes") or ())
    known = {**DEFAULT_SLA_TARGET_HOURS, **dict(declared)}
    routes: list[RouteRule] = []
    seen: dict[str, int] = {}
    for index, row in enumerate(data["routes"]):
        name = row["owner_route"]
        if name not in known:
            raise _fail(doc, f"/routes/{index}/owner_route",
                        f"unknown owner_route {name!r}: the lesson's routes are "
                        f"{', '.join(OWNER_ROUTES)}; declare another under owner_routes "
                        "(with its sla_target_hours)")
        if name in seen:
            raise _fail(doc, f"/routes/{index}/owner_route",
                        f"duplicate row for owner_route {name!r} (also /routes/{seen[name]})")
        seen[name] = index
        routes.append(_route(doc, index, row))
    assert policy.approved_dt_utc is not None  # the schema requires it
    overlaps = _accepted_overlaps(doc, data.get("accepted_overlaps") or (), seen)
    return BackupOwnerPolicy(
        version=policy.version,
        key=policy.key,
        approved_by=data["approved_by"],
        approved_dt_utc=policy.approved_dt_utc,
        signed_ack=data["signed_ack"],
        routes=tuple(sorted(routes, key=lambda r: r.owner_route)),
        thresholds=parse_thresholds(doc, data.get("thresholds")),
        team_lead=data.get("team_lead"),
        accepted_overlaps=overlaps,
        owner_routes=declared,
        source=policy.source,
        location=_location(doc, ""),
    )


def _owner_routes(doc: Document, items: Sequence[dict[str, Any]],
                  ) -> tuple[tuple[str, Decimal], ...]:
    """``owner_routes``: routes beyond the lesson's four, each with its default SLA."""
    from ..fatigue import pgnumeric
    from ..fatigue.validate import parse_sla

    out: dict[str, Decimal] = {}
    for index, item in enumerate(items):
        ptr = f"/owner_routes/{index}"
        name = item["owner_route"]
        if name in DEFAULT_SLA_TARGET_HOURS:
            raise _fail(doc, f"{ptr}/owner_route",
                        f"{name!r} is one of the lesson's four routes already (default SLA "
                        f"{DEFAULT_SLA_TARGET_HOURS[name]} h); declare only new routes")
        if name in out:
            raise _fail(doc, f"{ptr}/owner_route", f"owner_route {name!r} is declared twice")
        raw = item["sla_target_hours"]
        centi = parse_sla(str(raw)) if not isinstance(raw, bool) else "not a number"
        if isinstance(centi, str):
            raise _fail(doc, f"{ptr}/sla_target_hours", centi)
        out[name] = pgnumeric.to_decimal(centi, 2)
    return tuple(sorted(out.items()))


def route_slas(policies: Sequence[BackupOwnerPolicy]) -> dict[str, Decimal]:
    """Every owner route any version knows, with its default SLA; where two versions declare
    the same route, the higher version's SLA applies (one default per route for the whole
    event history, so the heat-map does not depend on as-of)."""
    merged: dict[str, Decimal] = dict(DEFAULT_SLA_TARGET_HOURS)
    for policy in sorted(policies, key=lambda p: p.key):
        merged.update(policy.owner_routes)
    return merged


def _accepted_overlaps(doc: Document, items: Sequence[dict[str, Any]],
                       routes: dict[str, int]) -> tuple[AcceptedOverlap, ...]:
    from ..timeutil import parse_instant

    out: list[AcceptedOverlap] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        ptr = f"/accepted_overlaps/{index}"
        person = item["signer_id"]
        if person in seen:
            raise _fail(doc, f"{ptr}/signer_id", f"{person!r} is accepted twice")
        seen.add(person)
        for j, route in enumerate(item.get("routes") or ()):
            if route not in routes:
                raise _fail(doc, f"{ptr}/routes/{j}",
                            f"owner_route {route!r} has no row in this policy's routes")
        line = doc.line_of(f"{ptr}/until")
        until = parse_instant(item["until"], source=doc.source,
                              where=f"line {line}, {ptr}/until" if line else f"{ptr}/until")
        out.append(AcceptedOverlap(
            signer_id=person, accepted_by=item["accepted_by"], reason=item["reason"],
            until=until, routes=tuple(sorted(item.get("routes") or ())),
            location=_location(doc, ptr)))
    return tuple(sorted(out, key=lambda a: a.signer_id))


def load_backup_owner_policies(policies: PolicySet) -> tuple[BackupOwnerPolicy, ...]:
    """Every version of the backup owner policy, in version order.

    :raises GovgateError: When a higher version was approved before a lower one: the lower one
        could then never become active, which is almost always a typo in a date or a version.
    """
    docs = policies.of_kind(KIND)
    result = tuple(policy_from_doc(d) for d in docs)
    for earlier, later in itertools.pairwise(result):
        if later.approved_dt_utc < earlier.approved_dt_utc:
            raise GovgateError(
                f"version {later.version} is approved before version {earlier.version} "
                f"({format_instant(later.approved_dt_utc)} < "
                f"{format_instant(earlier.approved_dt_utc)})",
                source=later.source, where="/approved_dt_utc",
            )
    return result


def active_policy(policies: Sequence[BackupOwnerPolicy], at: datetime) -> BackupOwnerPolicy | None:
    """The highest version approved at or before ``at`` (as :meth:`PolicySet.active`)."""
    candidates = [p for p in policies if p.approved_dt_utc <= at]
    return max(candidates, key=lambda p: p.key) if candidates else None


# -------------------------------------------------------------------------------------------
# The cross-route audit
# -------------------------------------------------------------------------------------------


def _roles(policy: BackupOwnerPolicy) -> dict[str, list[tuple[str, str]]]:
    roles: dict[str, list[tuple[str, str]]] = {}
    for rule in policy.routes:
        roles.setdefault(rule.primary_signer, []).append((rule.owner_route, "primary"))
        roles.setdefault(rule.backup_signer, []).append((rule.owner_route, "backup"))
        for person in rule.tertiary_signers:
            roles.setdefault(person, []).append((rule.owner_route, "tertiary"))
    return roles


def cross_route_audit(policy: BackupOwnerPolicy, as_of: datetime | None = None) -> list[Finding]:
    """Audit the policy as a whole: one finding per person named on more than one route.

    The per-row check (primary differs from backup) cannot see one human carrying several
    routes, which is the load pattern the heat-map later shows as red. An overlap the policy
    accepts (``accepted_overlaps``, in force at ``as_of``; None: ignore the expiry) is an info
    finding ``policy.cross-route-accepted`` instead of a warning, and is left out of the
    monthly review's mistakes; an acceptance that has expired says so in the warning.
    """
    findings = []
    accepted = {a.signer_id: a for a in policy.accepted_overlaps}
    for person, roles in sorted(_roles(policy).items()):
        routes = sorted({route for route, _ in roles})
        if len(routes) < 2:
            continue
        by_role: dict[str, list[str]] = {}
        for route, role in sorted(roles):
            by_role.setdefault(role, []).append(route)
        text = "; ".join(f"{role} on {', '.join(by_role[role])}"
                         for role in ("primary", "backup", "tertiary") if role in by_role)
        both = "primary" in by_role and "backup" in by_role
        first = min(policy.routes, key=lambda r: (r.owner_route not in routes, r.owner_route))
        acceptance = accepted.get(person)
        if acceptance is not None and acceptance.covers(set(routes), as_of):
            findings.append(Finding(
                rule="policy.cross-route-accepted",
                subject=person,
                severity=Severity.INFO,
                message=(f"{person} is named on {len(routes)} routes ({text}): accepted by "
                         f"{acceptance.accepted_by} until {format_instant(acceptance.until)}: "
                         f"{acceptance.reason}"),
                evidence={"signer_id": person, "policy_version": policy.version,
                          "accepted_by": acceptance.accepted_by, "reason": acceptance.reason,
                          "until": format_instant(acceptance.until),
                          "roles": [{"owner_route": route, "role": role}
                                    for route, role in sorted(roles)]},
                location=acceptance.location or first.location,
            ))
            continue
        lapsed = ""
        if acceptance is not None:
            lapsed = (f" (the acceptance by {acceptance.accepted_by} ended "
                      f"{format_instant(acceptance.until)})"
                      if as_of is not None and as_of >= acceptance.until else
                      f" (the acceptance covers only {', '.join(acceptance.routes)})")
        findings.append(Finding(
            rule="policy.cross-route",
            subject=person,
            severity=Severity.WARNING,
            message=(f"{person} is named on {len(routes)} routes in backup_owner_policy "
                     f"{policy.version}: {text}"
                     + ("; primary on one route and backup on another" if both else "")
                     + lapsed),
            evidence={
                "signer_id": person,
                "policy_version": policy.version,
                "roles": [{"owner_route": route, "role": role} for route, role in sorted(roles)],
            },
            location=first.location,
        ))
    return findings


# -------------------------------------------------------------------------------------------
# backup_owner_policy_history
# -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PolicyChange:
    """One difference between consecutive versions.

    ``owner_route`` is None for policy-level fields (``team_lead``, ``thresholds.*``). A route
    row added or removed has ``field == "row"`` and the whole row as ``after`` or ``before``.
    """

    owner_route: str | None
    field: str
    before: Any
    after: Any

    def to_dict(self) -> dict[str, Any]:
        return {"owner_route": self.owner_route, "field": self.field,
                "before": self.before, "after": self.after}


@dataclass(frozen=True, slots=True)
class PolicyRevision:
    """One entry of ``backup_owner_policy_history``: a version and its diff to the previous."""

    policy: BackupOwnerPolicy
    previous_version: str | None
    changes: tuple[PolicyChange, ...]

    def to_dict(self) -> dict[str, Any]:
        p = self.policy
        return {
            "policy_version": p.version,
            "approved_by": p.approved_by,
            "approved_dt_utc": format_instant(p.approved_dt_utc),
            "signed_ack": p.signed_ack,
            "source": p.source,
            "previous_version": self.previous_version,
            "changes": [c.to_dict() for c in self.changes],
        }


def _jsonable(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def _diff(old: BackupOwnerPolicy, new: BackupOwnerPolicy) -> Iterable[PolicyChange]:
    if old.team_lead != new.team_lead:
        yield PolicyChange(None, "team_lead", old.team_lead, new.team_lead)
    for f in dataclasses.fields(Thresholds):
        before, after = getattr(old.thresholds, f.name), getattr(new.thresholds, f.name)
        if before != after:
            yield PolicyChange(None, f"thresholds.{f.name}", _jsonable(before), _jsonable(after))
    names = sorted({r.owner_route for r in (*old.routes, *new.routes)})
    for name in names:
        a, b = old.route(name), new.route(name)
        if a is None and b is not None:
            yield PolicyChange(name, "row", None, b.to_dict())
        elif b is None and a is not None:
            yield PolicyChange(name, "row", a.to_dict(), None)
        elif a is not None and b is not None:
            before_row, after_row = a.to_dict(), b.to_dict()
            for key in sorted(before_row):
                if before_row[key] != after_row[key]:
                    yield PolicyChange(name, key, before_row[key], after_row[key])


def backup_owner_policy_history(
    policies: Sequence[BackupOwnerPolicy],
) -> list[PolicyRevision]:
    """The versions in version order, each with its structured diff to the previous version.

    This is the ``backup_owner_policy_history`` the monthly fatigue review pins its proposal to.
    """
    ordered = sorted(policies, key=lambda p: p.key)
    history = []
    for index, policy in enumerate(ordered):
        previous = ordered[index - 1] if index else None
        changes = tuple(_diff(previous, policy)) if previous else ()
        history.append(PolicyRevision(policy, previous.version if previous else None, changes))
    return history
