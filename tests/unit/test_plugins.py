"""The plugin manager: built-ins, ``-p`` modules, ``no:NAME`` and firstresult replacement."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pluggy
import pytest

from govgate.errors import ExitCode, UsageError
from govgate.hookspecs import hookimpl
from govgate.model import Finding, Severity
from govgate.plugins import DEFAULT_PLUGINS, ESSENTIAL_PLUGINS, get_plugin_manager
from govgate.recon.model import Tolerance
from govgate.reporters import Reporter, available, select_reporters

TOL = Tolerance(Decimal("0.05"), Decimal("0.0025"), "support-ops")


def test_builtins_are_registered_by_short_name(pm: pluggy.PluginManager) -> None:
    for name in ("files", "reconcile", "gate", "reporters"):
        assert pm.has_plugin(name), name
        assert name in DEFAULT_PLUGINS
    assert {"files", "gate"} <= ESSENTIAL_PLUGINS


def test_every_call_builds_a_fresh_manager() -> None:
    first = get_plugin_manager(load_entrypoints=False)
    second = get_plugin_manager(load_entrypoints=False)
    assert first is not second
    first.set_blocked("reconcile")
    assert second.has_plugin("reconcile")


def test_no_reconcile_disables_the_builtin() -> None:
    pm = get_plugin_manager(["no:reconcile"], load_entrypoints=False)
    assert not pm.has_plugin("reconcile")
    assert pm.is_blocked("reconcile")
    # Without the built-in nobody compares metrics.
    assert pm.hook.govgate_compare_metric(metric_id="m", leadership=Decimal(1),
                                          partner=Decimal(1), tolerance=TOL) is None


@pytest.mark.parametrize("name", sorted(ESSENTIAL_PLUGINS))
def test_essential_plugins_cannot_be_disabled(name: str) -> None:
    with pytest.raises(UsageError) as info:
        get_plugin_manager([f"no:{name}"], load_entrypoints=False)
    assert info.value.exit_code is ExitCode.USAGE_ERROR
    assert name in str(info.value)


def test_unknown_plugin_module_is_a_usage_error() -> None:
    with pytest.raises(UsageError) as info:
        get_plugin_manager(["govgate_no_such_plugin_xyz"], load_entrypoints=False)
    assert "govgate_no_such_plugin_xyz" in str(info.value)
    assert "\n" not in str(info.value)


def test_plugin_module_is_registered_once(plugin_module: Callable[[str, str], str]) -> None:
    name = plugin_module("noop", "X = 1\n")
    pm = get_plugin_manager([name, name], load_entrypoints=False)
    assert pm.has_plugin(name)
    assert sum(1 for n, _ in pm.list_name_plugin() if n == name) == 1


def test_a_blocked_module_is_not_registered(plugin_module: Callable[[str, str], str]) -> None:
    name = plugin_module("blocked", "X = 1\n")
    pm = get_plugin_manager([f"no:{name}", name], load_entrypoints=False)
    assert not pm.has_plugin(name)


def test_a_plugin_with_a_broken_import_is_not_reported_as_missing(
    plugin_module: Callable[[str, str], str],
) -> None:
    # The module exists; what it imports does not: that is a plugin bug, not a typo in -p.
    name = plugin_module("broken", "import govgate_dependency_that_does_not_exist\n")
    with pytest.raises(ModuleNotFoundError):
        get_plugin_manager([name], load_entrypoints=False)


def test_a_misspelled_hook_fails_loudly(plugin_module: Callable[[str, str], str]) -> None:
    name = plugin_module("typo", "from govgate.hookspecs import hookimpl\n\n"
                                 "@hookimpl\ndef govgate_compare_metrics(metric_id):\n"
                                 "    return None\n")
    with pytest.raises(pluggy.PluginValidationError):
        get_plugin_manager([name], load_entrypoints=False)


def test_window_eligibility_plugin_wins(pm: pluggy.PluginManager) -> None:
    class Strict:
        @hookimpl
        def govgate_window_eligibility(self, window, previous, evaluation, as_of):
            return "amber"

    pm.register(Strict(), name="strict")
    result = pm.hook.govgate_window_eligibility(window=None, previous=None, evaluation=None,
                                                as_of=datetime(2026, 10, 1, tzinfo=UTC))
    assert result == "amber"


def test_gate_passed_is_firstresult_and_the_builtin_blocks_on_errors(
    pm: pluggy.PluginManager,
) -> None:
    error = Finding("r", "s", Severity.ERROR, "m")
    warning = Finding("r", "s", Severity.WARNING, "m")
    assert pm.hook.govgate_gate_passed(evaluation=None, findings=[warning]) is True
    assert pm.hook.govgate_gate_passed(evaluation=None, findings=[warning, error]) is False

    class Lenient:
        @hookimpl
        def govgate_gate_passed(self, evaluation, findings):
            return True

    pm.register(Lenient(), name="lenient")
    assert pm.hook.govgate_gate_passed(evaluation=None, findings=[error]) is True


def test_a_waived_error_does_not_block(pm: pluggy.PluginManager) -> None:
    waived = Finding("r", "s", Severity.ERROR, "m", waived_by="W-1")
    assert pm.hook.govgate_gate_passed(evaluation=None, findings=[waived]) is True


def test_reporters_by_name_and_a_plugin_can_replace_one(pm: pluggy.PluginManager) -> None:
    assert {"text", "json"} <= set(available(pm))
    with pytest.raises(UsageError) as info:
        select_reporters(pm, ["json", "xml"])
    assert "'xml'" in str(info.value)
    mine = Reporter("json", "result.json", lambda result, context: "{}\n")

    class Custom:
        @hookimpl
        def govgate_reporters(self):
            return [mine]

    pm.register(Custom(), name="custom")
    assert select_reporters(pm, ["json"]) == [mine]


def test_file_source_refuses_paths_outside_the_config_folder(
    pm: pluggy.PluginManager, tmp_path: Path,
) -> None:
    from govgate.errors import SourceError

    (tmp_path / "inside.txt").write_bytes(b"ok")
    assert pm.hook.govgate_read_source(ref="inside.txt", base=tmp_path, settings={}) == b"ok"
    with pytest.raises(SourceError):
        pm.hook.govgate_read_source(ref="../outside.txt", base=tmp_path, settings={})
    with pytest.raises(SourceError) as info:
        pm.hook.govgate_read_source(ref="missing.csv", base=tmp_path, settings={})
    assert str(info.value) == "missing.csv: file not found"
    # A scheme no source handles reaches nobody (read_ref turns that into an error).
    assert pm.hook.govgate_read_source(ref="s3://bucket/key.csv", base=tmp_path,
                                       settings={}) is None
