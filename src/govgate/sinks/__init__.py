"""Built-in pager sinks: each is a plugin implementing ``govgate_page``.

* :mod:`govgate.sinks.outbox` appends the page to an append-only outbox file (a ledger);
* :mod:`govgate.sinks.webhook` posts it to a PagerDuty Events API v2 compatible endpoint.

A sink returns ``None`` when its settings are absent, so every configured sink gets the page.
This package holds what the sinks share: the result type, the event body and the ledger keys.
Delivery (:mod:`govgate.delivery`) is write-ahead: the page's *intent* (``page:<dedup_key>`` or
``resolve:<dedup_key>``) is in the ledger before any sink sees it, and each sink's *receipt*
(``page:<sink>:<dedup_key>`` or ``resolve:<sink>:<dedup_key>``) after it took the event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..ledger_store import LedgerStore
from ..model import LedgerRecord, Page
from ..timeutil import format_instant

__all__ = [
    "DeliveryResult",
    "already_delivered",
    "event_body",
    "intent_key",
    "intent_record",
    "page_key",
    "page_record",
]

#: The ``event_action`` values govgate sends, and the prefix of their ledger keys.
_PREFIX = {"trigger": "page", "resolve": "resolve"}


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """What one sink did with one page.

    ``delivered`` is true when the page is at the sink, sent now or by an earlier run
    (``skipped_duplicate``); when false the delivery failed and ``detail`` says why, which the
    caller must turn into a blocking finding. ``attempts`` counts tries made by this call.
    """

    sink: str
    dedup_key: str
    delivered: bool
    skipped_duplicate: bool
    attempts: int
    detail: str


def _prefix(action: str) -> str:
    try:
        return _PREFIX[action]
    except KeyError:
        raise ValueError(f"unknown page action {action!r} (trigger or resolve)") from None


def page_key(sink: str, dedup_key: str, action: str = "trigger") -> str:
    """The ledger key of the receipt: ``sink`` took the ``action`` event of ``dedup_key``."""
    return f"{_prefix(action)}:{sink}:{dedup_key}"


def intent_key(page: Page) -> str:
    """The ledger key of the page's intent, written before any sink sees the page."""
    return f"{_prefix(page.action)}:{page.dedup_key}"


def event_body(page: Page) -> dict[str, Any]:
    """The PagerDuty Events API v2 event for ``page``, without the routing key.

    A ``resolve`` carries the same ``dedup_key`` as its trigger and a payload too (PagerDuty
    ignores it; an outbox reader and the ledger keep the summary of what ended).
    """
    return {
        "event_action": page.action,
        "dedup_key": page.dedup_key,
        "payload": {
            "summary": page.summary,
            "source": page.source,
            "severity": page.severity,
            "timestamp": format_instant(page.at),
            "custom_details": dict(page.details),
        },
    }


def intent_record(page: Page) -> LedgerRecord:
    """The ``kind="page"`` record of the intent to send ``page`` (the event body as data)."""
    return LedgerRecord(kind="page", key=intent_key(page), at=page.at, data=event_body(page))


def page_record(page: Page, sink: str) -> LedgerRecord:
    """The receipt the caller appends once ``sink`` took ``page``; also the outbox's line.

    Its data is the event body (no routing key, nothing the run measured), so the receipt is the
    same fact whichever run delivered it.
    """
    return LedgerRecord(kind="page", key=page_key(sink, page.dedup_key, page.action),
                        at=page.at, data=event_body(page))


def page_from_record(record: LedgerRecord) -> Page | None:
    """The page an intent record stands for, or None when ``record`` is not a page intent."""
    data = record.data
    payload = data.get("payload")
    action = data.get("event_action")
    if (record.kind != "page" or action not in _PREFIX or not isinstance(payload, dict)
            or record.key != f"{_PREFIX[str(action)]}:{data.get('dedup_key')}"):
        return None
    details = payload.get("custom_details")
    return Page(dedup_key=str(data["dedup_key"]), summary=str(payload.get("summary", "")),
                source=str(payload.get("source", "")),
                severity=str(payload.get("severity", "")), at=record.at,
                details=dict(details) if isinstance(details, dict) else {},
                action=str(action))


def already_delivered(ledger: LedgerStore, sink: str, page: Page) -> bool:
    """Whether ``ledger`` records that ``sink`` took ``page`` in an earlier run."""
    return ledger.has(page_key(sink, page.dedup_key, page.action))
