"""The action's path prefix: decided on paths, so a Windows path outside the workspace is ''."""

from __future__ import annotations

from pathlib import Path

from govgate.action_support import _prefix
from govgate.config import Config


def test_prefix_of_the_configuration_folder(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    (workspace / "gov" / "sub").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    assert _prefix(Config(path=None, base=workspace), workspace) == ""
    assert _prefix(Config(path=None, base=workspace / "gov" / "sub"), workspace) == "gov/sub"
    assert _prefix(Config(path=None, base=tmp_path / "elsewhere"), workspace) == ""
