"""The ci-reporters plugin: registered by default, replaceable, deterministic."""

from __future__ import annotations

from pathlib import Path

import pluggy
import pytest
from tests.support.results import make_context, make_result

from govgate.hookspecs import hookimpl
from govgate.plugins import get_plugin_manager
from govgate.reporters import Reporter, select_reporters

FORMATS = ["junit", "sarif", "github", "markdown", "openmetrics"]


def test_every_ci_format_is_available_by_default(pm: pluggy.PluginManager) -> None:
    reporters = select_reporters(pm, FORMATS)
    assert [r.name for r in reporters] == FORMATS
    assert all(r.filename and r.description for r in reporters)
    assert len({r.filename for r in reporters}) == len(reporters)


@pytest.mark.parametrize("name", FORMATS)
def test_same_result_same_bytes(pm: pluggy.PluginManager, tmp_path: Path, name: str) -> None:
    [reporter] = select_reporters(pm, [name])
    first = reporter.render(make_result(), make_context(tmp_path))
    second = reporter.render(make_result(), make_context(tmp_path))
    assert first == second and first.endswith("\n")


@pytest.mark.parametrize("name", FORMATS)
def test_an_empty_result_renders(pm: pluggy.PluginManager, tmp_path: Path, name: str) -> None:
    [reporter] = select_reporters(pm, [name])
    assert reporter.render(make_result(()), make_context(tmp_path))


def test_a_third_party_reporter_replaces_a_built_in_one() -> None:
    class Plugin:
        @hookimpl
        def govgate_reporters(self) -> list[Reporter]:
            return [Reporter("sarif", "mine.sarif", lambda result, context: "{}\n")]

    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(Plugin())
    assert select_reporters(pm, ["sarif"])[0].filename == "mine.sarif"


def test_the_plugin_can_be_disabled() -> None:
    from govgate.errors import UsageError

    pm = get_plugin_manager(["no:ci-reporters"], load_entrypoints=False)
    with pytest.raises(UsageError, match="unknown format 'junit'"):
        select_reporters(pm, ["junit"])
