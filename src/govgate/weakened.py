"""A weakened gate says so: built-in rule families disabled with ``-p no:NAME``.

``govgate check -p no:reconcile`` evaluates no reconciliation rule at all, so a project whose
reconciliation is red would pass. Such a run is only honest when it says what it left out, and
only acceptable when the project itself decided it: a disablement declared in the configuration
(``disabled_plugins: [{name: reconcile, reason: ...}]``) is reported as a warning with its reason;
one given only on the command line is a blocking finding.

This is part of the core evaluation, not a plugin: a plugin could itself be disabled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .model import Finding, Severity

if TYPE_CHECKING:
    import pluggy

    from .config import Config

__all__ = ["RULE_FAMILIES", "Disabled", "check_declarations", "declared", "disabled_plugins",
           "findings"]

#: Built-in plugins whose absence weakens the gate, and what they decide.
RULE_FAMILIES: dict[str, str] = {
    "reconcile": "the reconciliation rules of lesson 166 (diffs, run status, missed windows, "
                 "ack eligibility, red incidents, paging)",
    "fatigue": "the signer fatigue heat-map of lesson 174",
    "promote": "the backup owner promotions, reverts, rung-2 pages and freeze gates",
    "outbox": "page delivery to the outbox",
    "webhook": "page delivery to the webhook",
}


@dataclass(frozen=True, slots=True)
class Disabled:
    """One built-in rule family that did not run."""

    name: str
    #: The configuration's reason, None when only the command line disabled it.
    reason: str | None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "reason": self.reason, "declared": self.reason is not None,
                "decides": RULE_FAMILIES[self.name]}


def check_declarations(data: Any, source: str, doc: Any = None) -> None:
    """Refuse a ``disabled_plugins`` declaration govgate cannot apply (after the schema).

    A name that is not a built-in rule family (a typo such as ``reconcil``) would declare
    nothing while its author believes the disablement is decided; two entries for one family
    would leave the reason to chance. Both are bad input, never ignored.

    :raises GovgateError: naming the entry (line and JSON pointer).
    """
    from .errors import GovgateError
    from .loaders.documents import pointer

    entries = data.get("disabled_plugins") if isinstance(data, Mapping) else None
    seen: set[str] = set()
    for index, entry in enumerate(entries or ()):
        name = entry.get("name") if isinstance(entry, Mapping) else None
        problem = None
        if name not in RULE_FAMILIES:
            problem = (f"{name!r} is not a built-in rule family that can be declared "
                       f"(one of {', '.join(sorted(RULE_FAMILIES))})")
        elif name in seen:
            problem = f"{name!r} is declared twice: give one reason"
        if problem is not None:
            ptr = pointer(["disabled_plugins", index, "name"])
            line = doc.line_of(ptr) if doc is not None else None
            raise GovgateError(problem, source=source,
                               where=f"line {line}, {ptr}" if line else ptr)
        seen.add(str(name))


def declared(config: Config) -> dict[str, str]:
    """``disabled_plugins`` of the configuration: name -> reason."""
    entries = config.data.get("disabled_plugins") or []
    return {str(e["name"]): str(e["reason"]) for e in entries if isinstance(e, Mapping)}


def disabled_plugins(pm: pluggy.PluginManager, config: Config) -> tuple[Disabled, ...]:
    """The built-in rule families blocked in this run, in name order."""
    reasons = declared(config)
    return tuple(Disabled(name, reasons.get(name)) for name in sorted(RULE_FAMILIES)
                 if pm.is_blocked(name))


def findings(disabled: tuple[Disabled, ...]) -> list[Finding]:
    """One finding per disabled family: blocking unless the configuration declares it."""
    out = []
    for d in disabled:
        evidence = d.to_json()
        if d.reason is None:
            out.append(Finding(
                "gate.plugin-disabled", d.name, Severity.ERROR,
                f"built-in plugin {d.name!r} is disabled (-p no:{d.name}): "
                f"{RULE_FAMILIES[d.name]} were not evaluated; declare it in the configuration's "
                "disabled_plugins with a reason, or run without -p no:" + d.name,
                evidence=evidence))
        else:
            out.append(Finding(
                "gate.plugin-disabled", d.name, Severity.WARNING,
                f"built-in plugin {d.name!r} is disabled by the configuration "
                f"({d.reason}): {RULE_FAMILIES[d.name]} were not evaluated",
                evidence=evidence))
    return out


def of_session(pm: pluggy.PluginManager, config: Config) -> list[dict[str, Any]]:
    """The disabled families as a document lists them (empty when the gate is whole)."""
    return [d.to_json() for d in disabled_plugins(pm, config)]


def with_note(markdown: str, disabled: list[dict[str, Any]]) -> str:
    """``markdown`` with a note naming the disabled families under its title (unchanged if none).

    Every document says it: a readback produced without the reconciliation rules must not read
    like one produced with them.
    """
    if not disabled:
        return markdown
    # "`name`, what it decides: how it was disabled" -- what it decides may hold parentheses
    # of its own, so it is not put in parentheses.
    names = "; ".join(
        f"`{d['name']}`, {d['decides']}: " + (f"declared by the configuration: {d['reason']}"
                                             if d["declared"] else "disabled on the command "
                                             "line only, a blocking finding of the gate")
        for d in disabled)
    note = f"> **Weakened gate.** Not evaluated for this document: {names}.\n\n"
    head, sep, rest = markdown.partition("\n\n")
    if head.startswith("# ") and sep:
        return f"{head}\n\n{note}{rest}"
    return note + markdown
