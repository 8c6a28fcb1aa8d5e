"""Fixtures of the documents' tests: the autumn-2026 scenario project and a fresh plugin
manager."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pluggy
import pytest
from tests.unit.documents.demo import write_scenario

from govgate.config import Config, load_config
from govgate.plugins import get_plugin_manager


@pytest.fixture(scope="session")
def scenario_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scenario's files, written once; tests only read them (outputs go elsewhere)."""
    return write_scenario(tmp_path_factory.mktemp("scenario"))


@pytest.fixture
def scenario(scenario_root: Path) -> Config:
    return load_config(scenario_root / "govgate.yaml", cwd=scenario_root)


@pytest.fixture
def docs_pm() -> pluggy.PluginManager:
    """A fresh plugin manager with every built-in plugin (fatigue and promote included)."""
    return get_plugin_manager(load_entrypoints=False)


@pytest.fixture
def config_of() -> Callable[[Path], Config]:
    def load(root: Path) -> Config:
        return load_config(root / "govgate.yaml", cwd=root)

    return load
