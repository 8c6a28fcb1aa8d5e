"""A ``disabled_plugins`` declaration that govgate cannot apply is a refusal, never ignored.

The class: a declaration naming something that is not a built-in rule family (a typo, another
built-in, a third-party plugin), two declarations of one family, an entry without a reason.
Each is exit 2 with one line naming ``disabled_plugins``, before anything is written; every
rule family is accepted.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.conftest import run_cli

from govgate.plugins import DEFAULT_PLUGINS
from govgate.weakened import RULE_FAMILIES

AS_OF = "2026-11-20T00:00:00Z"


def _project(tmp_path: Path, entries: list[object]) -> Path:
    (tmp_path / "govgate.yaml").write_text(
        "disabled_plugins: " + json.dumps(entries) + "\n", encoding="utf-8")
    return tmp_path


def _refused(root: Path) -> str:
    for argv in (["check"], ["check", "--no-deliver"], ["checklist"]):
        run = run_cli(["--as-of", AS_OF, *argv], root)
        assert run.code == 2, (argv, run.out, run.err)
        assert "disabled_plugins" in run.err and len(run.err.strip().splitlines()) == 1, run.err
        assert "Traceback" not in run.err
    assert sorted(p.name for p in root.iterdir()) == ["govgate.yaml"], "a refusal wrote files"
    return run.err


@pytest.mark.parametrize("name", sorted(
    {"reconcil", "Reconcile", "reconcile ", "no:reconcile", "govgate.checks.reconcile",
     "my_plugin", *(set(DEFAULT_PLUGINS) - set(RULE_FAMILIES))}))
def test_a_name_that_is_not_a_rule_family_is_refused(tmp_path: Path, name: str) -> None:
    _refused(_project(tmp_path, [{"name": name, "reason": "because"}]))


@pytest.mark.parametrize("name", sorted(RULE_FAMILIES))
def test_one_family_declared_twice_is_refused(tmp_path: Path, name: str) -> None:
    _refused(_project(tmp_path, [{"name": name, "reason": "a"}, {"name": name, "reason": "b"}]))


@pytest.mark.parametrize("entry", [{"name": "reconcile"}, {"name": "reconcile", "reason": ""},
                                   {"name": "reconcile", "reason": "  "}, "reconcile",
                                   {"name": "reconcile", "reason": "x", "until": "later"}])
def test_an_entry_without_a_reason_or_with_unknown_keys_is_refused(
        tmp_path: Path, entry: object) -> None:
    _refused(_project(tmp_path, [entry]))


@pytest.mark.parametrize("name", sorted(RULE_FAMILIES))
def test_every_rule_family_may_be_declared(tmp_path: Path, name: str) -> None:
    root = _project(tmp_path, [{"name": name, "reason": "decided by the release board"}])
    run = run_cli(["--as-of", AS_OF, "validate"], root)
    assert run.code != 2 or "disabled_plugins" not in run.err, run.err
