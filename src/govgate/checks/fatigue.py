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

import weakref
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..hookspecs import hookimpl
from ..model import Finding, Severity
from ..plugins import implemented_only_by
from ..timeutil import format_instant

if TYPE_CHECKING:
    import pluggy

    from ..config import Config
    from ..evaluation import Evaluation, Inputs
    from ..fatigue.events import EventLog
    from ..fatigue.heatmap import Classifier
    from ..fatigue.model import Refresh, Thresholds

DOMAIN = "fatigue"
#: In ``Inputs``: instants from which histories under other thresholds will be asked for (a
#: review's what-ifs from the month's first day); the built-in history notes its state there.
CHECKPOINTS = "fatigue.checkpoints"
#: Days of history the report sections carry (the heat-map picture shows 28 refreshes).
PICTURE_DAYS = 28


@dataclass(frozen=True)
class FatigueInputs:
    events: EventLog
    source: str


def nightly(instant: datetime) -> datetime:
    """The last nightly refresh (00:00 UTC) at or before ``instant``."""
    return instant.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def load_event_log(config: Config, inputs: Inputs, ref: str, *,
                   engine: str | None = None, pending: bool = True) -> EventLog:
    """Load the events through the engine hooks (docs/engines.md) and the source hooks: an
    engine may read the reference itself (PostgreSQL push-down); otherwise a local file is read
    in place, streaming, and anything else is fetched by its source first.

    :param engine: The heat-map engine asked for (default: the configuration's
        ``fatigue.engine``, else the built-in choice).
    :param pending: Keep the rows that can be pending and aged (promotions need them; the
        heat-map alone does not).
    """
    import tempfile
    from pathlib import Path

    from ..engines import check_engine, load_with_engines
    from ..loaders.io import read_ref
    from ..sources.files import check_size, kind_of, resolve_path
    from ..sources.names import source_name

    name = source_name(ref)
    settings = config.section("sources")
    slas = declared_route_slas(config, inputs)
    if engine is None:
        engine = check_engine(config.section("fatigue").get("engine"), "fatigue.engine")
    hook = inputs.get("hook")

    def load(path: Path | None, engine: str | None) -> EventLog | None:
        return load_with_engines(hook, ref, path=path, engine=engine, settings=settings,
                                 default_sla=slas, pending=pending)

    if "://" not in ref or ref.startswith("file://"):
        path = resolve_path(ref.removeprefix("file://"), config.base, settings)
        if kind_of(path, ref) != "file":
            from ..errors import SourceError

            raise SourceError("file not found", source=name)
        check_size(path, ref, settings)  # the same cap as every other source
        log = load(path, engine)
        assert log is not None  # load_with_engines raises when no engine takes a file
        return log
    pushed = load(None, engine)  # an engine that reads the reference where it is
    if pushed is not None:
        return pushed
    data = read_ref(config, inputs.get("hook"), ref)
    suffix = ".json" if ref.split("?")[0].endswith(".json") else ".csv"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"events{suffix}"
        path.write_bytes(data)
        # A push-down engine that stepped aside leaves the rows to the Python scanner.
        log = load(path, "python" if engine == "postgresql" else engine)
        assert log is not None
        return log


def declared_route_slas(config: Config, inputs: Inputs) -> dict[str, Decimal]:
    """Every owner route with its default SLA: the lesson's four and those the project's
    backup owner policies declare (read here when the caller loaded no policies)."""
    from ..loaders.policies import load_policies
    from ..promote.policy import load_backup_owner_policies, route_slas

    policies = inputs.get("policies")
    if policies is None and inputs.get("hook") is not None and "policies" in config.data:
        # `govgate heatmap` on the configured export: only a project that names its policies
        # has any to read (a bare heat-map project need not have a policies folder).
        policies = load_policies(config, inputs.get("hook"))
    return route_slas(load_backup_owner_policies(policies) if policies is not None else ())


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
    if implemented_only_by(caller, [__name__]):
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
    """The nightly refreshes up to as-of (memoised per evaluation, and across the evaluations
    of one run that share the loaded events: see :func:`_shared_history`)."""
    if "fatigue.history" not in evaluation.cache:
        log = get_event_log(evaluation)
        value: Sequence[Refresh] | None = None
        if log is not None:
            from ..promote.plugin import thresholds_by_instant, thresholds_for

            refresh = nightly(evaluation.as_of)
            value = _shared_history(evaluation, log, refresh, thresholds_for(evaluation, refresh),
                                    classifier_for(evaluation.hook),
                                    thresholds_by_instant(evaluation))
        evaluation.cache["fatigue.history"] = value
    result: Sequence[Refresh] | None = evaluation.cache["fatigue.history"]
    return result


#: Per loaded export: the histories computed from it, ``(hook, as_of, key, held)``. A
#: document evaluates the same events several times (the readback at the period's open and
#: close, the review's what-if replays); without this each one replays the whole history. The
#: built-in histories are held weakly: one lives as long as an evaluation uses it, so the
#: replays of a review do not pile up (a plugin's history, often a plain list, is held).
_Held = Callable[[], "Sequence[Refresh] | None"]
_HISTORIES: weakref.WeakKeyDictionary[EventLog, list[tuple[Any, datetime, Any, _Held]]] = (
    weakref.WeakKeyDictionary())


def _shared_history(evaluation: Evaluation, log: EventLog, as_of: datetime,
                    thresholds: Thresholds, classify: Classifier,
                    thresholds_at: Callable[[datetime], Thresholds]) -> Sequence[Refresh]:
    from ..fatigue.daily import History
    from ..promote.plugin import get_promote_inputs

    hook = evaluation.hook
    # What decides the per-day thresholds: every backup owner policy version with its approval
    # (a what-if replay with a candidate policy gets another key, so another history).
    schedule = tuple((p.version, p.approved_dt_utc, p.thresholds)
                     for p in get_promote_inputs(evaluation).policies)
    key = (schedule, thresholds, classify)
    known = _HISTORIES.setdefault(log, [])
    known[:] = [entry for entry in known if entry[3]() is not None]  # forget the let-go ones
    # The built-in history is causal (a refresh depends on the refreshes before it only), so an
    # earlier as-of is a prefix of a later one's; a plugin's history is reused only as it is.
    causal = implemented_only_by(hook.govgate_fatigue_history, [__name__])
    base: History | None = None  # a whole built-in history of these events to start from
    for other_hook, at, other_key, ref in known:
        refreshes = ref()
        if refreshes is None or other_hook is not hook:
            continue
        if other_key != key:
            if (causal and base is None and at >= as_of and isinstance(refreshes, History)
                    and refreshes.classify is classify and len(refreshes) == refreshes.days):
                base = refreshes
            continue
        if at == as_of:
            return refreshes
        if causal and at > as_of and refreshes and refreshes[0].at <= as_of:
            if isinstance(refreshes, History):
                return refreshes.until((as_of - refreshes[0].at).days + 1)
            return [r for r in refreshes if r.at <= as_of]
    value: Sequence[Refresh]
    if base is not None:
        # Other policy versions (a what-if, an earlier instant): the days whose thresholds are
        # the same are taken from the history computed already, the others recomputed.
        from ..fatigue.heatmap import reclassified

        value = reclassified(base, thresholds_at, classify=classify, as_of=as_of)
    elif causal and evaluation.inputs.get(CHECKPOINTS):
        from ..fatigue.heatmap import history  # what the built-in hook runs, and the checkpoints

        value = history(log, as_of, thresholds_at, classify=classify,
                        checkpoints=evaluation.inputs.get(CHECKPOINTS))
    else:
        value = hook.govgate_fatigue_history(
            events=log, as_of=as_of, thresholds=thresholds, classify=classify,
            thresholds_at=thresholds_at)
    held: _Held
    if isinstance(value, History):
        held = weakref.ref(value)
    else:
        def held() -> Sequence[Refresh]:
            return value
    known.append((hook, as_of, key, held))
    return value


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


