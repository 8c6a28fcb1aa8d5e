"""The promote plugin through pluggy: loading files, evaluating, hooks a plugin can override."""

from __future__ import annotations

import inspect
import sys
import types
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pluggy
import pytest
from tests.unit.promote.factories import POLICY_YAML, day, timeline

from govgate import hookspecs
from govgate.config import Config
from govgate.errors import GovgateError
from govgate.evaluation import Evaluation, Inputs
from govgate.fatigue.model import PendingAck, Refresh, Thresholds
from govgate.fatigue.scan import LateRows
from govgate.hookspecs import hookimpl
from govgate.loaders.policies import load_policies
from govgate.model import Page, Severity
from govgate.promote import NO_TRIGGER, PromoteInputs, Trigger, plugin
from govgate.promote import hookspecs as promote_hookspecs
from govgate.promote.model import RouteRule
from govgate.sources import files

MANUAL = """\
- invocation_id: inv-1
  owner_route: faq_rewrite
  invoked_at: 2026-10-02T09:00:00Z
  until: 2026-10-04T09:00:00Z
  audit_reason: dana at a conference
  team_lead_ack_id: ack-tl-1
"""
WINDOWS = """\
cert_window_id,platform,opens_at,closes_at,critical_routes
quest-holiday,quest,2026-10-01T00:00:00Z,2026-12-01T00:00:00Z,publish_gate;faq_rewrite
"""
DECISIONS = """\
- promote_event_id: bpe-publish_gate-20261003T000000Z
  option: freeze_gate
  decided_by: tl-sam
  decided_at: 2026-10-04T08:00:00Z
"""


@dataclass
class _Log:
    pending: Sequence[PendingAck]
    late_rows: LateRows = field(default_factory=LateRows)  # what the promote replay reads
    grid_origin: datetime = field(default_factory=lambda: day(0))


@pytest.fixture
def pm() -> pluggy.PluginManager:
    manager = pluggy.PluginManager("govgate")
    manager.add_hookspecs(hookspecs)
    manager.add_hookspecs(promote_hookspecs)
    manager.register(files, name="files")
    manager.register(plugin, name="promote")
    manager.check_pending()
    return manager


@pytest.fixture
def history(monkeypatch: pytest.MonkeyPatch) -> list[Refresh]:
    """Stand in for govgate.checks.fatigue with synthetic refreshes."""
    refreshes = timeline(8, alice="ggrrrrrr", bob="ggga")
    fake = types.ModuleType("govgate.checks.fatigue")
    fake.get_history = lambda evaluation: refreshes  # type: ignore[attr-defined]
    fake.get_event_log = lambda evaluation: _Log(())  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "govgate.checks.fatigue", fake)
    return refreshes


def _project(tmp_path: Path, **files_: str) -> Config:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "backup_owner_policy-1.2.0.yaml").write_text(POLICY_YAML)
    fatigue = {}
    for key, text in files_.items():
        name = f"{key}.csv" if text.startswith("cert_window_id") else f"{key}.yaml"
        (tmp_path / name).write_text(text)
        fatigue[key] = name
    return Config(path=tmp_path / "govgate.yaml", base=tmp_path,
                  data={"policies": "policies", "fatigue": fatigue})


def _load(config: Config, pm: pluggy.PluginManager) -> Inputs:
    inputs = Inputs()
    inputs.put("hook", pm.hook)
    inputs.put("policies", load_policies(config, pm.hook))
    pm.hook.govgate_load_inputs(config=config, inputs=inputs)
    return inputs


def test_load_inputs_reads_the_policy_and_the_fatigue_files(tmp_path: Path,
                                                            pm: pluggy.PluginManager) -> None:
    config = _project(tmp_path, manual_invocations=MANUAL, cert_windows=WINDOWS,
                      escalation_decisions=DECISIONS)
    loaded = _load(config, pm).get("promote")
    assert isinstance(loaded, PromoteInputs)
    assert [p.version for p in loaded.policies] == ["1.2.0"]
    assert [m.invocation_id for m in loaded.manual_invocations] == ["inv-1"]
    assert loaded.cert_windows[0].critical_routes == ("faq_rewrite", "publish_gate")
    assert loaded.escalation_decisions[0].option == "freeze_gate"


def test_a_bad_input_file_is_refused_before_evaluation(tmp_path: Path,
                                                       pm: pluggy.PluginManager) -> None:
    config = _project(tmp_path, manual_invocations=MANUAL.replace(
        "  audit_reason: dana at a conference\n", ""))
    with pytest.raises(GovgateError) as info:
        _load(config, pm)
    assert str(info.value).startswith("manual_invocations.yaml: row 1, column audit_reason")


def test_evaluate_fills_pages_records_section_and_returns_findings(
        tmp_path: Path, pm: pluggy.PluginManager, history: list[Refresh]) -> None:
    config = _project(tmp_path, manual_invocations=MANUAL, cert_windows=WINDOWS,
                      escalation_decisions=DECISIONS)
    evaluation = Evaluation(as_of=day(7), config=config, hook=pm.hook, inputs=_load(config, pm))
    (findings,) = pm.hook.govgate_evaluate(evaluation=evaluation)
    rules = sorted(f.rule for f in findings)
    assert rules == ["ladder.freeze-gate", "promote.active"]
    blocking = [f for f in findings if f.blocking]
    assert [(f.subject, f.owner_route) for f in blocking] == [("quest-holiday", "publish_gate")]
    assert [(p.dedup_key, p.action) for p in evaluation.pages] == [
        ("govgate:rung2:bpe-publish_gate-20261003T000000Z", "trigger"),
        ("govgate:rung2:bpe-publish_gate-20261003T000000Z", "resolve")]
    kinds = sorted({r.kind for r in evaluation.records})
    # Page intents are written by delivery, not by the evaluator.
    assert kinds == ["escalation_decision", "freeze_gate", "promote", "revert"]
    section = evaluation.sections["promote"]
    assert section["policy_version"] == "1.2.0"
    assert section["effective_signers"]["faq_rewrite"]["signer"] == "dana"
    assert plugin.get_promote_result(evaluation) is evaluation.cache["promote:result"]
    assert plugin.thresholds_for(evaluation).rung2_hours == 48


def test_a_third_party_trigger_and_rung2_replace_the_built_ins(
        tmp_path: Path, pm: pluggy.PluginManager, history: list[Refresh]) -> None:
    class Strict:
        @hookimpl
        def govgate_promote_trigger(self, route: RouteRule, refresh: Refresh) -> Trigger | None:
            if route.owner_route == "publish_gate" and refresh.at == day(5):
                return Trigger("heatmap_red", "custom:evidence")
            return None

        @hookimpl
        def govgate_escalation_rung2(self) -> Page | None:
            return None  # falls through to the built-in

    pm.register(Strict())
    config = _project(tmp_path)
    evaluation = Evaluation(as_of=day(7), config=config, hook=pm.hook, inputs=_load(config, pm))
    pm.hook.govgate_evaluate(evaluation=evaluation)
    result = plugin.get_promote_result(evaluation)
    assert result is not None
    # the plugin returned None before day 5, so the built-in promoted at the first red refresh
    assert [(p.promoted_at_dt_utc, p.trigger_evidence_ref[:8]) for p in result.promotes] == [
        (day(2), "heatmap:")]


def test_a_third_party_trigger_that_fires_first_wins(
        tmp_path: Path, pm: pluggy.PluginManager, history: list[Refresh]) -> None:
    class Eager:
        @hookimpl
        def govgate_promote_trigger(self, route: RouteRule, refresh: Refresh,
                                    thresholds: Thresholds) -> Trigger | None:
            if route.owner_route == "publish_gate" and refresh.at == day(1):
                return Trigger("pending_acks_aged", "signer_ack_event:from-plugin")
            return None

    pm.register(Eager())
    config = _project(tmp_path)
    evaluation = Evaluation(as_of=day(3), config=config, hook=pm.hook, inputs=_load(config, pm))
    pm.hook.govgate_evaluate(evaluation=evaluation)
    result = plugin.get_promote_result(evaluation)
    assert result is not None
    assert [p.trigger_evidence_ref for p in result.promotes] == ["signer_ack_event:from-plugin"]


def test_no_policy_and_events_configured_is_a_warning(tmp_path: Path,
                                                      pm: pluggy.PluginManager) -> None:
    config = Config(path=tmp_path / "govgate.yaml", base=tmp_path,
                    data={"fatigue": {"events": "events.csv"}})
    evaluation = Evaluation(as_of=day(3), config=config, hook=pm.hook, inputs=Inputs())
    (findings,) = pm.hook.govgate_evaluate(evaluation=evaluation)
    assert [(f.rule, f.severity) for f in findings] == [("policy.missing", Severity.WARNING)]
    assert plugin.thresholds_for(evaluation) == Thresholds()


def test_policy_approved_after_as_of_is_reported(tmp_path: Path, pm: pluggy.PluginManager,
                                                 history: list[Refresh]) -> None:
    config = _project(tmp_path)
    evaluation = Evaluation(as_of=day(-60), config=config, hook=pm.hook,
                            inputs=_load(config, pm))
    (findings,) = pm.hook.govgate_evaluate(evaluation=evaluation)
    assert [f.rule for f in findings] == ["policy.missing"]


@pytest.mark.parametrize("name", ["govgate_promote_trigger", "govgate_escalation_rung2"])
def test_every_promote_hook_is_documented(name: str) -> None:
    spec = getattr(promote_hookspecs, name)
    doc = inspect.getdoc(spec) or ""
    params = [p for p in inspect.signature(spec).parameters]
    assert doc.splitlines()[0].endswith(".")
    for param in params:
        assert f":param {param}:" in doc, param
    assert "Stops at first non-None result." in doc
    assert ":returns:" in doc
    impl: Any = getattr(plugin, name)
    assert impl.govgate_impl["trylast"] is True


def test_manual_invocation_window_in_the_time_line(tmp_path: Path, pm: pluggy.PluginManager,
                                                   history: list[Refresh]) -> None:
    config = _project(tmp_path, manual_invocations=MANUAL)
    evaluation = Evaluation(as_of=day(7), config=config, hook=pm.hook, inputs=_load(config, pm))
    pm.hook.govgate_evaluate(evaluation=evaluation)
    result = plugin.get_promote_result(evaluation)
    assert result is not None
    start = day(1) + timedelta(hours=9)
    assert result.effective_signer("faq_rewrite", start - timedelta(microseconds=1)) == "dana"
    assert result.effective_signer("faq_rewrite", start) == "erin"
    assert result.effective_signer("faq_rewrite", day(3) + timedelta(hours=9)) == "dana"


def test_no_trigger_vetoes_the_built_in(tmp_path: Path, pm: pluggy.PluginManager,
                                        history: list[Refresh]) -> None:
    class Veto:
        @hookimpl
        def govgate_promote_trigger(self, route: RouteRule) -> Trigger | None:
            return NO_TRIGGER if route.owner_route == "publish_gate" else None

    pm.register(Veto())
    config = _project(tmp_path)
    evaluation = Evaluation(as_of=day(7), config=config, hook=pm.hook, inputs=_load(config, pm))
    pm.hook.govgate_evaluate(evaluation=evaluation)
    result = plugin.get_promote_result(evaluation)
    assert result is not None and result.promotes == ()


def test_the_rules_are_called_directly_only_when_the_built_ins_are_the_only_ones(
        pm: pluggy.PluginManager) -> None:
    assert plugin._only_builtin(pm.hook.govgate_promote_trigger)
    assert plugin._only_builtin(pm.hook.govgate_escalation_rung2)

    class Other:
        @hookimpl
        def govgate_promote_trigger(self) -> Trigger | None:
            return None

    pm.register(Other())
    assert not plugin._only_builtin(pm.hook.govgate_promote_trigger)
    assert plugin._only_builtin(pm.hook.govgate_escalation_rung2)
    pm.unregister(name="promote")  # no implementation at all: nothing fires, as through pluggy
    assert not plugin._only_builtin(pm.hook.govgate_escalation_rung2)


def test_without_the_built_in_rules_nothing_is_promoted(tmp_path: Path, pm: pluggy.PluginManager,
                                                        history: list[Refresh]) -> None:
    config = _project(tmp_path)
    inputs = _load(config, pm)
    pm.unregister(name="promote")  # a what-if replay still calls get_promote_result
    evaluation = Evaluation(as_of=day(7), config=config, hook=pm.hook, inputs=inputs)
    result = plugin.get_promote_result(evaluation)
    assert result is not None and result.promotes == () and result.pages == ()
