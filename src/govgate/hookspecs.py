"""Every ``govgate_*`` hook, grouped by phase.

Built-in evaluators implement these exactly as a third-party plugin would; a plugin replaces a
built-in by implementing a ``firstresult`` hook (built-ins are ``trylast``) or by disabling the
built-in with ``-p no:NAME``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from .config import Config
    from .evaluation import Evaluation, Inputs
    from .fatigue.events import EventLog
    from .fatigue.heatmap import Classifier
    from .fatigue.model import Refresh, Thresholds
    from .fatigue.reduction import Reduction
    from .ledger_store import LedgerStore
    from .model import Finding, GateResult, Page
    from .recon.model import DiffRow, Tolerance, WindowOutcome
    from .reporters import Reporter
    from .sinks import DeliveryResult

hookspec = pluggy.HookspecMarker("govgate")
hookimpl = pluggy.HookimplMarker("govgate")


# -------------------------------------------------------------------------------------------
# Start-up
# -------------------------------------------------------------------------------------------


@hookspec(historic=True)
def govgate_addoption(parser: argparse.ArgumentParser) -> None:
    """Add command-line options to ``govgate check``.

    :param parser: The ``check`` sub-command's parser.
    """


@hookspec(historic=True)
def govgate_configure(config: Config) -> None:
    """Called once the configuration is loaded, before any input is read.

    :param config: The run's configuration.
    """


# -------------------------------------------------------------------------------------------
# Loading inputs
# -------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def govgate_read_source(ref: str, base: Path, settings: Mapping[str, Any]) -> bytes | None:
    """Resolve a reference from the configuration (a path, a URL, ...) to its bytes.

    Stops at the first non-None result. The built-in file source is ``trylast``.

    :param ref: The reference as written in the configuration.
    :param base: The configuration file's folder; relative paths resolve against it.
    :param settings: The ``sources`` mapping of the configuration.
    :returns: The bytes, or None when this source does not handle ``ref``.
    :raises SourceError: When the source handles ``ref`` but cannot read it.
    """


@hookspec
def govgate_load_inputs(config: Config, inputs: Inputs) -> None:
    """Read and validate the inputs one domain needs and store them on ``inputs``.

    All I/O happens here; evaluation hooks only compute.

    :param config: The run's configuration.
    :param inputs: The bag of loaded inputs to fill.
    :raises GovgateError: On any bad input, naming the file, the place and what was expected.
    """


# -------------------------------------------------------------------------------------------
# Evaluation: reconciliation (lesson 166)
# -------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def govgate_compare_metric(
    metric_id: str,
    leadership: Decimal | None,
    partner: Decimal | None,
    tolerance: Tolerance,
) -> DiffRow | None:
    """Compare one metric of the leadership rollup (the reference) with the partner annex.

    Stops at the first non-None result.

    :param metric_id: The metric dictionary id.
    :param leadership: The leadership value, None when the metric is missing on that side.
    :param partner: The partner value, None when the metric is missing on that side.
    :param tolerance: The epsilon policy's tolerance for this metric.
    :returns: The diff row, with ``result`` ``pass`` or ``fail``.
    """


@hookspec(firstresult=True)
def govgate_window_eligibility(
    window: WindowOutcome,
    previous: WindowOutcome | None,
    evaluation: Evaluation,
    as_of: datetime,
) -> str | None:
    """Decide the ack eligibility of a scheduled window's run: ``green``, ``amber`` or None.

    Stops at the first non-None result; None from every implementation means "not eligible
    at all" (the window has no PASS run).

    :param window: The window to decide.
    :param previous: The previous scheduled window, None for the first one.
    :param evaluation: The evaluation (inputs: bootstrap, evidence, overrides).
    :param as_of: The instant the decision is made at (acks are judged at their own instant).
    """


# -------------------------------------------------------------------------------------------
# Evaluation: fatigue, promotion and escalation (lesson 174)
# -------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def govgate_reduce_events(
    ref: str,
    path: Path | None,
    engine: str | None,
    settings: Mapping[str, Any],
    default_sla: Mapping[str, int],
    refresh_anchor: datetime | None,
    pending: bool,
    requested_since: datetime | None,
    whole_history: Callable[[Reduction], Collection[str]] | None,
) -> Reduction | None:
    """Reduce a ``signer_ack_event`` export to what the heat-map counts (docs/engines.md).

    Stops at the first non-None result. The built-in engines: PostgreSQL push-down for
    ``postgresql://...?table=signer_ack_event``, DuckDB when asked for (``engine: duckdb``), and
    the Python scanner, ``trylast``, for any local file. Every engine gives the same reduction,
    integer for integer; one that cannot vouch for a row returns None (the rows are then read
    the ordinary way, and the Python scanner names the bad row).

    :param ref: The reference as written (a path, a URL); messages name it.
    :param path: The local file ``ref`` resolves to, or was downloaded to; None when ``ref`` is
        not a file (an engine that reads the reference itself may take it).
    :param engine: The engine asked for (``fatigue.engine`` or ``--engine``): ``python``,
        ``duckdb``, ``postgresql``, a plugin's own name, or None for the default.
    :param settings: The ``sources`` mapping of the configuration.
    :param default_sla: The known owner routes and their default ``sla_target_hours`` in
        hundredths of an hour.
    :param refresh_anchor: A refresh instant (None: midnight, the grid origin then comes from
        the first row, see ``reduction.first_row_origin``).
    :param pending: Also return the rows that can be pending and aged (promotions need them).
    :param requested_since: None: every row. Else the engine may leave out the rows requested
        before this instant (only the refreshes whose window starts at or after it are then
        exact) and says so in ``Reduction.requested_since``; it still vouches for every row
        (a bad row anywhere makes it step aside). An engine may ignore it and read every row.
    :param whole_history: With ``requested_since``: given the reduction of the rows since, the
        signers whose earlier rows the engine is then to reduce too, in the same snapshot
        (they leave ``Reduction.unread_signers``); may be ignored.
    :raises GovgateError: On a bad row the engine can name, or a source it cannot read.
    """


@hookspec(firstresult=True)
def govgate_fatigue_history(
    events: EventLog, as_of: datetime, thresholds: Thresholds, classify: Classifier,
    thresholds_at: Callable[[datetime], Thresholds] | None,
) -> Sequence[Refresh] | None:
    """Compute the daily heat-map refreshes up to and including ``as_of``.

    Stops at the first non-None result.

    :param events: The loaded ``signer_ack_event`` export.
    :param as_of: The last refresh instant (00:00 UTC for ``govgate check``).
    :param thresholds: The thresholds of the backup owner policy in force at ``as_of``.
    :param thresholds_at: The thresholds in force at any refresh instant: each refresh is
        classified with its own (a policy approved later never reclassifies earlier days).
    :param classify: The per-signer-per-day rule (``govgate_classify_signer`` bound to the
        plugin manager, or the built-in function when no plugin replaces it).

    :returns: Refreshes in time order; the last one is the refresh at ``as_of``.
    """


@hookspec(firstresult=True)
def govgate_classify_signer(
    windows: int,
    breaches: int,
    ratio: Decimal | None,
    previous: str | None,
    quiet_streak: int,
    thresholds: Thresholds,
) -> str | None:
    """Classify one signer at one refresh: ``red``, ``amber``, ``recovering`` or ``green``.

    Stops at the first non-None result.

    :param windows: ``concurrent_window_count_14d``.
    :param breaches: ``breached_count_14d``.
    :param ratio: ``avg_latency_ratio_14d`` (exact), None when SQL's AVG is NULL.
    :param previous: The classification at the refresh one day before, None if none.
    :param quiet_streak: Consecutive refreshes ending now that were neither red nor amber and
        had a ratio below ``quiet_ratio`` (this one included).
    """


# -------------------------------------------------------------------------------------------
# Evaluation: every rule
# -------------------------------------------------------------------------------------------


@hookspec
def govgate_evaluate(evaluation: Evaluation) -> Sequence[Finding] | None:
    """Evaluate one family of rules and return its findings.

    Implementations may also record pages, ledger records, artifacts, report sections and
    episodes (``evaluation.episodes``: each spell of a paged condition with when it opened and,
    if by as-of, when and by what it closed, so a pager can resolve what it triggered) on
    ``evaluation``. They never read the clock or the disk: ``evaluation.as_of`` is the instant.
    """


@hookspec
def govgate_modify_findings(evaluation: Evaluation, findings: list[Finding]) -> None:
    """Adjust the collected findings in place before the gate decides (waivers live here).

    Waived findings stay in the list, marked ``waived_by``: they are counted, never hidden.
    """


@hookspec(firstresult=True)
def govgate_gate_passed(evaluation: Evaluation, findings: Sequence[Finding]) -> bool | None:
    """Decide whether the gate passes. Stops at the first non-None result.

    The built-in passes exactly when no finding blocks. The answer is applied under a floor no
    plugin lowers (:func:`govgate.checks.gate.decide`): only ``True`` passes, and a red
    governance state never does.
    """


# -------------------------------------------------------------------------------------------
# Delivery and reporting
# -------------------------------------------------------------------------------------------


@hookspec
def govgate_check_paging(settings: Mapping[str, Any]) -> None:
    """Validate this sink's part of the ``paging`` settings, before anything is evaluated.

    Called before evaluation and before any report, ledger record or page is written, so a sink
    that cannot deliver (a malformed URL, an unset routing key variable) refuses the run with
    exit code 2 instead of failing after the ledger was appended. Sends nothing.

    :param settings: The ``paging`` mapping of the configuration (``outbox`` already resolved).
    :raises GovgateError: Naming the setting and what was expected.
    """


@hookspec
def govgate_page(page: Page, settings: Mapping[str, Any],
                 ledger: LedgerStore) -> DeliveryResult | None:
    """Deliver one page event (``page.action``: ``trigger`` or ``resolve``) through a sink.

    Called with the ledger's delivery lock held, after the page's intent is in the ledger; the
    caller records the receipt (:func:`govgate.sinks.page_record`) when the result says
    delivered. A sink killed after sending but before the receipt is asked again by the next
    run, so it must be idempotent by ``(dedup_key, action)``, as PagerDuty is.

    :param page: The page; ``page.dedup_key`` is stable for its condition.
    :param settings: The ``paging`` mapping of the configuration.
    :param ledger: The run's ledger, to skip pages delivered by an earlier run.
    :returns: What happened, or None when this sink is not configured.
    """


@hookspec
def govgate_reporters() -> Sequence[Reporter] | None:
    """Return the reporters this plugin provides (chosen with ``--format NAME``)."""


@hookspec
def govgate_finish(result: GateResult, config: Config) -> None:
    """Called after the gate decided and the reports were written.

    :param result: The decision; ``result.episodes`` holds every episode of a paged condition
        up to as-of (kind ``reconcile.red`` or ``reconcile.gap``, the page's ``key``,
        ``opened_at``, ``closed_at`` and ``closed_by`` or None while open, the windows it
        named and the windows missed in it), in the order they opened.
    """
