"""Built-in pager sinks: each is a plugin implementing ``govgate_page``.

* :mod:`govgate.sinks.outbox` appends the page to an append-only outbox file (a ledger);
* :mod:`govgate.sinks.webhook` posts it to a PagerDuty Events API v2 compatible endpoint.

A sink returns ``None`` when its settings are absent, so every configured sink gets the page.
This package holds what the sinks share: the result type, the event body and the ledger key that
makes a re-run skip a page already delivered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..ledger import Ledger
from ..model import LedgerRecord, Page
from ..timeutil import format_instant

__all__ = [
    "DeliveryResult",
    "already_delivered",
    "event_body",
    "page_key",
    "page_record",
]


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


def page_key(sink: str, dedup_key: str) -> str:
    """The ledger key recording that ``sink`` delivered the page ``dedup_key``."""
    return f"page:{sink}:{dedup_key}"


def event_body(page: Page) -> dict[str, Any]:
    """The PagerDuty Events API v2 ``trigger`` event for ``page``, without the routing key."""
    return {
        "event_action": "trigger",
        "dedup_key": page.dedup_key,
        "payload": {
            "summary": page.summary,
            "source": page.source,
            "severity": page.severity,
            "timestamp": format_instant(page.at),
            "custom_details": dict(page.details),
        },
    }


def page_record(page: Page, sink: str) -> LedgerRecord:
    """The ``kind="page"`` ledger record the caller appends once ``sink`` delivered ``page``."""
    return LedgerRecord(
        kind="page", key=page_key(sink, page.dedup_key), at=page.at, data=event_body(page)
    )


def already_delivered(ledger: Ledger, sink: str, page: Page) -> bool:
    """Whether ``ledger`` records that ``sink`` delivered ``page`` in an earlier run."""
    key = page_key(sink, page.dedup_key)
    return any(record.kind == "page" and record.key == key for record in ledger.records())
