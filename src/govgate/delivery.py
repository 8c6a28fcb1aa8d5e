"""Side effects at the edge: append ledger records, then deliver pages through the sinks.

Both are idempotent by key, so re-running the same evaluation appends and pages nothing new.
A page that cannot be delivered blocks the gate: a silent pager is never a pass.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from .model import Finding, Severity

if TYPE_CHECKING:
    import pluggy

    from .config import Config
    from .model import GateResult


def deliver(result: GateResult, config: Config, pm: pluggy.PluginManager) -> GateResult:
    from .ledger import Ledger
    from .sinks import page_record

    ledger = Ledger(config.ledger_path)
    ledger.append(result.records)
    settings = dict(config.section("paging"))
    if "outbox" in settings:
        # Sinks get no base folder: resolve the outbox like every other local output.
        settings["outbox"] = str(config.path_of(str(settings["outbox"])))
    failures: list[Finding] = []
    for page in result.pages:
        for outcome in pm.hook.govgate_page(page=page, settings=settings, ledger=ledger):
            if outcome is None:
                continue
            if outcome.delivered and not outcome.skipped_duplicate:
                ledger.append([page_record(page, outcome.sink)])
            elif not outcome.delivered:
                failures.append(Finding(
                    "delivery.page-failed", page.dedup_key, Severity.ERROR,
                    f"page could not be delivered through {outcome.sink}: {outcome.detail}"))
    if not failures:
        return result
    findings = tuple(sorted((*result.findings, *failures), key=Finding.sort_key))
    return dataclasses.replace(result, findings=findings, passed=False)
