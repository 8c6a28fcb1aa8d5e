"""The outbox sink: pages appended to a local, append-only file for another process to forward.

Configured by ``paging.outbox: <path>``. The outbox is itself a ledger of ``kind="page"`` records
(see :mod:`govgate.ledger`), so it is crash-safe and a page is written at most once per
``dedup_key``; each record's ``data`` is the PagerDuty event body without the routing key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..hookspecs import hookimpl
from ..ledger import Ledger
from ..ledger_store import LedgerStore
from ..model import Page
from . import DeliveryResult, already_delivered, page_record

SINK = "outbox"


def outbox_path(settings: Mapping[str, Any]) -> Path | None:
    """The configured outbox file, or ``None`` when the outbox sink is off."""
    value = settings.get("outbox")
    if value is None:
        return None
    if not isinstance(value, str | os.PathLike) or not os.fspath(value):
        raise UsageError(f"expected a file path, got {value!r}", source="paging", where="outbox")
    return Path(value)


@hookimpl
def govgate_check_paging(settings: Mapping[str, Any]) -> None:
    """The outbox setting names a file; the caller checked where it is (govgate.paths)."""
    outbox_path(settings)


@hookimpl
def govgate_page(page: Page, settings: Mapping[str, Any],
                 ledger: LedgerStore) -> DeliveryResult | None:
    """Append ``page`` to the outbox unless it is there already (or the run ledger says so)."""
    path = outbox_path(settings)
    if path is None:
        return None
    if already_delivered(ledger, SINK, page):
        detail = "already delivered according to the run's ledger"
    elif Ledger(path).append([page_record(page, SINK)]):
        return DeliveryResult(
            sink=SINK,
            dedup_key=page.dedup_key,
            delivered=True,
            skipped_duplicate=False,
            attempts=1,
            detail=f"appended to the outbox {path}",
        )
    else:
        detail = f"already in the outbox {path}"
    return DeliveryResult(
        sink=SINK,
        dedup_key=page.dedup_key,
        delivered=True,
        skipped_duplicate=True,
        attempts=0,
        detail=detail,
    )
