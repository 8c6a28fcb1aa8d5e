"""Side effects at the edge, write-ahead: ledger facts and page intents first, then the sinks.

The protocol, so that a process killed at any point leaves a state the next run completes
without losing or repeating a record:

1. :func:`validate_delivery` (commands call it before they evaluate): the ledger reference and
   every sink's settings, the routing key variable included. Nothing is written yet.
2. One append puts the evaluation's records and one *intent* per page event
   (``page:<dedup_key>`` for a trigger, ``resolve:<dedup_key>`` for a resolve) in the ledger.
   Killed before: nothing happened. Killed during: a torn tail, removed by the next append.
3. Under the ledger's delivery lock, every intent without a *receipt* for a configured sink is
   pending and is sent, in the order of the events (a resolve never before its trigger), and
   each receipt (``page:<sink>:<dedup_key>``, ``resolve:<sink>:<dedup_key>``) is appended
   right after its sink took the event. Killed between the send and the receipt: the next run
   sends the event again, which the sinks make harmless (the outbox is keyed by the same key,
   PagerDuty deduplicates by ``dedup_key``). The lock makes concurrent runs send nothing twice.

Receipts carry the event body, nothing the run measured (attempts, clock), so the ledger after
runs at t1 and t2 holds exactly the records of one run at t2. A page that cannot be delivered
blocks the gate: a silent pager is never a pass.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .model import Finding, Severity

if TYPE_CHECKING:
    import pluggy

    from .config import Config
    from .ledger_store import LedgerStore
    from .model import GateResult, LedgerRecord, Page

__all__ = ["deliver", "paging_settings", "validate_delivery"]


def paging_settings(config: Config) -> dict[str, Any]:
    """The ``paging`` section with the outbox resolved against the configuration's folder."""
    settings = dict(config.section("paging"))
    if isinstance(settings.get("outbox"), str) and settings["outbox"]:
        # Sinks get no base folder: resolve the outbox like every other local output.
        settings["outbox"] = str(config.path_of(str(settings["outbox"])))
    return settings


def validate_delivery(config: Config) -> None:
    """Check the ledger reference and the built-in sinks' settings; write nothing.

    :raises UsageError: naming the bad key (``ledger``, ``paging.outbox``, ``webhook.url``,
        ``webhook.routing_key_env``, ...).
    """
    from .ledger_store import validate_ledger
    from .sinks import outbox, webhook

    validate_ledger(config)
    settings = paging_settings(config)
    outbox.outbox_path(settings)
    webhook.validate(settings)


#: Page sources whose every episode up to as-of is re-derived by each evaluation that has the
#: section named here: a trigger of theirs that the evaluation no longer derives is a condition
#: that late data erased (see :func:`_erased`).
COMPLETE_SOURCES: dict[str, str] = {"govgate.reconcile": "reconciliation"}


def deliver(result: GateResult, config: Config, pm: pluggy.PluginManager, *,
            settle: bool = False) -> GateResult:
    """Append ``result``'s records and page intents, then send every pending page event.

    :param settle: ``result`` is a whole evaluation (not one domain's share of it): a trigger
        in the ledger that it no longer derives is resolved (:func:`_erased`).
    :returns: ``result``, blocked with a ``delivery.page-failed`` finding per undelivered event.
    """
    from .ledger_store import open_ledger
    from .sinks import intent_record

    validate_delivery(config)
    store = open_ledger(config)
    intents = [intent_record(page) for page in result.pages]
    erased = _erased(result, store) if settle else []
    store.append(_merge(result.records, intents) + erased)
    failures = _send_pending(result, store, paging_settings(config), pm)
    if not failures:
        return result
    findings = tuple(sorted((*result.findings, *failures), key=Finding.sort_key))
    return dataclasses.replace(result, findings=findings, passed=False)


def _merge(records: tuple[LedgerRecord, ...], intents: list[LedgerRecord]) -> list[LedgerRecord]:
    # An evaluator's own record under an intent's key would be a second spelling of one fact.
    # The records keep the evaluation's causal order; intents follow, a trigger before its
    # resolve (the result's pages are already in that order).
    keys = {intent.key for intent in intents}
    return [r for r in records if r.key not in keys] + intents


def _erased(result: GateResult, store: LedgerStore) -> list[LedgerRecord]:
    """Resolves (and incident closes) for triggers whose condition late data erased.

    An episode's trigger is re-derived by every later evaluation from the same inputs, so a
    trigger in the ledger that this evaluation does not derive means the inputs changed under
    it: an override approved earlier whose packet arrived later, a corrected export. Nothing
    would ever resolve that page; it is resolved now, dated as-of, once (a resolve intent in the
    ledger, whenever dated, settles it), and its incident gets its closing record.
    """
    from .paging import incident_close_record, resolve_page
    from .sinks import intent_record, page_from_record

    sources = {src for src, section in COMPLETE_SOURCES.items() if section in result.sections}
    if not sources:
        return []
    records = store.records()
    keys = {r.key for r in records}
    derived = {p.dedup_key for p in result.pages}
    why = "the inputs no longer show this condition (data that arrived later changed them)"
    out: list[LedgerRecord] = []
    for record in records:
        trigger = page_from_record(record)
        if (trigger is None or trigger.action != "trigger" or trigger.source not in sources
                or trigger.at > result.as_of or trigger.dedup_key in derived
                or f"resolve:{trigger.dedup_key}" in keys):
            continue
        resolve = resolve_page(trigger, result.as_of, (), why)
        out.append(intent_record(resolve))
        incident = "incident:" + trigger.dedup_key.removeprefix("govgate:")
        opened = next((r for r in records if r.key == incident and r.kind == "incident"), None)
        if opened is not None and f"{incident}:closed" not in keys:
            out.append(incident_close_record(incident, opened.at, result.as_of, (), why))
    return out


def _pending(result: GateResult, store: LedgerStore) -> list[Page]:
    """Page events in the ledger, dated up to as-of, in the order they happened."""
    from .sinks import page_from_record

    pages: list[Page] = []
    for record in store.records():
        page = page_from_record(record)
        # A record after as-of is a later run's fact; this run's view of the world ends at as-of.
        if page is not None and page.at <= result.as_of:
            pages.append(page)
    return sorted(pages, key=lambda p: (p.at, p.action != "trigger", p.dedup_key))


def _send_pending(result: GateResult, store: LedgerStore, settings: Mapping[str, Any],
                  pm: pluggy.PluginManager) -> list[Finding]:
    from .sinks import page_record

    failures: list[Finding] = []
    with store.delivery_lock():
        known = store.keys()
        failed: set[str] = set()
        for page in _pending(result, store):
            if page.dedup_key in failed:
                continue  # never resolve what the receiver was not told about yet
            for outcome in pm.hook.govgate_page(page=page, settings=settings, ledger=store):
                if outcome is None:
                    continue
                receipt = page_record(page, outcome.sink)
                if outcome.delivered and receipt.key not in known:
                    # Also when the sink had it already: a run killed after the outbox write
                    # and before the receipt left exactly that.
                    store.append([receipt])
                    known.add(receipt.key)
                elif not outcome.delivered:
                    failed.add(page.dedup_key)
                    failures.append(Finding(
                        "delivery.page-failed", page.dedup_key, Severity.ERROR,
                        f"{page.action} event could not be delivered through {outcome.sink}: "
                        f"{outcome.detail}"))
    return failures
