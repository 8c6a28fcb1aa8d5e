"""Built-in plugin: the signer fatigue heat-map of lesson 174 and its daily history.

The heat-map is a nightly refresh at 00:00 UTC: at any instant T, every command (``check``,
``promote``, ``readback``, ``heatmap``) shows the refresh at the last midnight at or before T,
and every refresh of the history is classified with the thresholds of the backup owner policy
in force at its own midnight. So a refresh, and its snapshot hash, depend only on its midnight,
never on the hour of T nor on a policy approved later (a policy approved at 10:00 first
classifies the next night's refresh). The history is computed once per
evaluation and shared with the promote plugin through :func:`get_history`.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..hookspecs import hookimpl
from ..model import Finding, Severity
from ..timeutil import format_instant

if TYPE_CHECKING:
    import pluggy

    from ..config import Config
    from ..evaluation import Evaluation, Inputs
    from ..fatigue.events import EventLog
    from ..fatigue.heatmap import Classifier
    from ..fatigue.model import Refresh, Thresholds

DOMAIN = "fatigue"
_THIS_MODULE = sys.modules[__name__]
#: Days of history the report sections carry (the heat-map picture shows 28 refreshes).
PICTURE_DAYS = 28


@dataclass(frozen=True)
class FatigueInputs:
    events: EventLog
    source: str


def nightly(instant: datetime) -> datetime:
    """The last nightly refresh (00:00 UTC) at or before ``instant``."""
    return instant.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def load_event_log(config: Config, inputs: Inputs, ref: str, *, pending: bool = True
                   ) -> EventLog:
    """Load the events through the source hooks (a local file is read in place, streaming).

    ``pending=False`` leaves out what only promotions need (see :func:`load_events`).
    """
    import tempfile
    from pathlib import Path

    from ..fatigue.events import load_events
    from ..loaders.io import read_ref
    from ..sources.files import check_size, kind_of, max_bytes, resolve_path
    from ..sources.names import source_name

    name = source_name(ref)
    settings = config.section("sources")
    if "://" not in ref or ref.startswith("file://"):
        path = resolve_path(ref.removeprefix("file://"), config.base, settings)
        if kind_of(path, ref) != "file":
            from ..errors import SourceError

            raise SourceError("file not found", source=name)
        check_size(path, ref, settings)  # the same cap as every other source
        return load_events(path, source=name, max_bytes=max_bytes(settings), pending=pending)
    data = read_ref(config, inputs.get("hook"), ref)
    suffix = ".json" if ref.split("?")[0].endswith(".json") else ".csv"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"events{suffix}"
        path.write_bytes(data)
        return load_events(path, source=name, pending=pending)


@hookimpl
def govgate_load_inputs(config: Config, inputs: Inputs) -> None:
    ref = config.section("fatigue").get("events")
    if ref is None:
        return
    from ..sources.names import source_name

    inputs.put(DOMAIN, FatigueInputs(load_event_log(config, inputs, ref), source_name(ref)))


@hookimpl(trylast=True)
def govgate_fatigue_history(events: EventLog, as_of: datetime, thresholds: Thresholds,
                            classify: Classifier,
                            thresholds_at: Callable[[datetime], Thresholds] | None
                            ) -> Sequence[Refresh]:
    from ..fatigue.heatmap import history

    return history(events, as_of, thresholds_at or thresholds, classify=classify)


@hookimpl(trylast=True)
def govgate_classify_signer(windows: int, breaches: int, ratio: Decimal | None,
                            previous: str | None, quiet_streak: int,
                            thresholds: Thresholds) -> str:
    from ..fatigue.heatmap import classify

    return classify(windows, breaches, ratio, previous, quiet_streak, thresholds)


def classifier_for(hook: pluggy.HookRelay) -> Classifier:
    """The classification rule: the built-in function unless a plugin implements the hook.

    Calling through pluggy costs microseconds per signer-day, so it is only done when another
    plugin actually implements ``govgate_classify_signer``; a None from it falls back to the
    built-in rule.
    """
    from ..fatigue.heatmap import classify

    caller = hook.govgate_classify_signer
    if all(impl.plugin is _THIS_MODULE for impl in caller.get_hookimpls()):
        return classify

    def via_hook(windows: int, breaches: int, ratio: Decimal | None, previous: str | None,
                 quiet_streak: int, thresholds: Thresholds) -> str:
        result = caller(windows=windows, breaches=breaches, ratio=ratio, previous=previous,
                        quiet_streak=quiet_streak, thresholds=thresholds)
        if result is None:
            return classify(windows, breaches, ratio, previous, quiet_streak, thresholds)
        return str(result)

    return via_hook


def get_event_log(evaluation: Evaluation) -> EventLog | None:
    """The loaded ``signer_ack_event`` export, or None when the project has none."""
    inputs: FatigueInputs | None = evaluation.inputs.get(DOMAIN)
    return inputs.events if inputs else None


def get_history(evaluation: Evaluation) -> Sequence[Refresh] | None:
    """The nightly refreshes up to as-of (memoised per evaluation)."""
    if "fatigue.history" not in evaluation.cache:
        log = get_event_log(evaluation)
        value: Sequence[Refresh] | None = None
        if log is not None:
            from ..promote.plugin import thresholds_by_instant, thresholds_for

            refresh = nightly(evaluation.as_of)
            value = evaluation.hook.govgate_fatigue_history(
                events=log, as_of=refresh, thresholds=thresholds_for(evaluation, refresh),
                classify=classifier_for(evaluation.hook),
                thresholds_at=thresholds_by_instant(evaluation))
        evaluation.cache["fatigue.history"] = value
    result: Sequence[Refresh] | None = evaluation.cache["fatigue.history"]
    return result


@hookimpl
def govgate_evaluate(evaluation: Evaluation) -> Sequence[Finding] | None:
    refreshes = get_history(evaluation)
    if not refreshes:
        return None
    latest = refreshes[-1]
    findings = []
    for row in latest.rows:
        if row.classification == "green":
            continue
        severity = Severity.WARNING if row.classification == "red" else Severity.INFO
        findings.append(Finding(
            "fatigue.classification", row.signer_id, severity,
            f"{row.signer_id} is {row.classification}: "
            f"{_plural(row.concurrent_window_count_14d, 'cert window')}, "
            f"{row.breached_count_14d} breached, avg latency ratio "
            f"{_fmt(row.avg_latency_ratio_14d)}, {row.pending_acks_now} pending "
            f"(refresh {format_instant(latest.at)})",
            evidence={"snapshot_hash": latest.snapshot_hash}))
    evaluation.sections[DOMAIN] = _section(refreshes)
    return findings


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _fmt(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _section(refreshes: Sequence[Refresh]) -> dict[str, Any]:
    from ..fatigue.snapshot import rows_to_json

    latest = refreshes[-1]
    counts = Counter(r.classification for r in latest.rows)
    recent = refreshes[-PICTURE_DAYS:]
    signers = sorted({s for r in recent for s in r.classification})
    return {
        "refresh": format_instant(latest.at),
        "snapshot_hash": latest.snapshot_hash,
        "counts": {c: counts.get(c, 0) for c in ("red", "amber", "recovering", "green")},
        "heatmap": rows_to_json(latest),
        "history": {
            "days": [format_instant(r.at) for r in recent],
            "signers": {s: [r.classification.get(s, "green") for r in recent] for s in signers},
            "snapshot_hashes": [r.snapshot_hash for r in recent],
        },
    }


