"""A red state always blocks: no configuration, option, waiver or plugin lets it pass.

Red blocks publish (lesson 166); ``block_states`` (the configuration's, the policy's,
``--block-on``, the action's ``block-on``) only decides whether amber blocks too. The only way
past a red is the domain's own: an override packet covering the missed windows, or a PASS run.
Every other route is tried here together, as hypothesis combines them.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import REPO, Project, Schedule, iso, make_project

from govgate.checks.gate import ALWAYS_BLOCKS, blocking_states, decide
from govgate.model import GovernanceState

AT = iso(Schedule.after(8))
PLUGINS = ("always_pass", "drop_state", "downgrade", "truthy")

STATE_LISTS = st.lists(st.sampled_from(["red", "amber"]), max_size=3)


@pytest.fixture(scope="module")
def red(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    """Eight weeks whose last two windows have no PASS run."""
    project = make_project(tmp_path_factory.mktemp("red") / "project", weeks=8,
                           skips={7: "maintenance"}, silent=[8])
    yield project


def _policy(project: Project) -> Path:
    return next(project.root.glob("policies/**/reconciliation-policy-*.yaml"))


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(configured=st.none() | STATE_LISTS,
       policy_states=st.none() | st.lists(st.sampled_from(["red", "amber"]), min_size=1,
                                          max_size=2, unique=True),
       block_on=st.sampled_from([None, "red", "amber"]),
       waiver=st.sampled_from([None, "active", "expired"]),
       plugins=st.lists(st.sampled_from(PLUGINS), max_size=2, unique=True))
def test_no_combination_lets_a_red_pass(red: Project, configured: list[str] | None,
                                        policy_states: list[str] | None, block_on: str | None,
                                        waiver: str | None, plugins: list[str]) -> None:
    config = red.config()
    policy = _policy(red)
    policy_text = policy.read_text(encoding="utf-8")
    try:
        changes: dict[str, Any] = {"block_states": configured}
        if waiver is not None:
            (red.root / "waivers.yaml").write_text(yaml.safe_dump([{
                "audit_id": "AUD-1", "rule": "reconcile.state", "subject": "governance",
                "owner": "release-lead", "reason": "we want to ship",
                "expires_at": "2030-01-01T00:00:00Z" if waiver == "active" else AT}]),
                encoding="utf-8")
            changes["waivers"] = "waivers.yaml"
        red.update_config(**changes)
        if policy_states is not None:
            lines = [line for line in policy_text.splitlines()
                     if not line.startswith("block_states:")]
            policy.write_text("\n".join([*lines, f"block_states: {policy_states}"]) + "\n",
                              encoding="utf-8")
        args = ["--no-deliver"]
        if block_on:
            args += ["--block-on", block_on]
        for plugin in plugins:
            args += ["-p", f"tests.support.lenient_plugins.{plugin}"]
        run = red.check(AT, *args)
        assert run.code == 1, (run.err, changes, policy_states, block_on, plugins)
        result = run.json()
        assert result["gate"] == "blocked" and result["state"] == "red"
    finally:
        red.write_config(config)
        policy.write_text(policy_text, encoding="utf-8")


@settings(max_examples=300, deadline=None, derandomize=True)
@given(configured=st.none() | STATE_LISTS, policy=STATE_LISTS,
       answer=st.sampled_from([True, False, None, 1, "yes", [True]]),
       state=st.sampled_from(list(GovernanceState)))
def test_the_floor_under_every_answer(configured: list[str] | None, policy: list[str],
                                      answer: object, state: GovernanceState) -> None:
    """``block_states`` always holds red; only ``True`` passes; a red evaluation never does."""
    states = blocking_states(configured, policy)
    assert states >= ALWAYS_BLOCKS
    assert ("amber" in states) == ("amber" in (configured if configured is not None
                                               else policy))

    class Evaluation:
        pass

    evaluation = Evaluation()
    evaluation.state = state  # type: ignore[attr-defined]
    passed = decide(evaluation, answer)  # type: ignore[arg-type]
    assert passed == (answer is True and state is not GovernanceState.RED)


def test_the_action_cannot_let_a_red_pass(red: Project) -> None:
    from govgate.action_support import run_captured

    config = red.config()
    try:
        red.update_config(block_states=[])
        env = {"GITHUB_WORKSPACE": str(red.root), "GOVGATE_AS_OF": AT,
               "GOVGATE_BLOCK_ON": "red",
               "GOVGATE_PLUGINS": "tests.support.lenient_plugins.always_pass",
               "GITHUB_OUTPUT": str(red.root / "gh-output"),
               "GITHUB_STEP_SUMMARY": str(red.root / "gh-summary")}
        code, _, err = run_captured(env)
        assert code == 1, err
        assert "gate=blocked" in (red.root / "gh-output").read_text(encoding="utf-8")
    finally:
        red.write_config(config)


def test_the_pytest_plugin_cannot_let_a_red_pass(red: Project) -> None:
    config = red.config()
    try:
        red.update_config(block_states=["amber"])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "src")])}
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--govgate",
             f"--govgate-as-of={AT}",
             "--govgate-plugin=tests.support.lenient_plugins.always_pass",
             "--govgate-plugin=tests.support.lenient_plugins.drop_state", "-k", "gate"],
            cwd=red.root, env=env, capture_output=True, text=True, check=False)
        assert run.returncode == pytest.ExitCode.TESTS_FAILED, run.stdout + run.stderr
        assert "BLOCKED (governance state red)" in run.stdout
    finally:
        red.write_config(config)


def test_a_disabled_check_or_pager_blocks(red: Project) -> None:
    """Switching a rule family or a pager off on the command line never lets the gate pass: it
    is a blocking finding (only the configuration may declare it, with a reason)."""
    import json

    from govgate.cli import main

    for name in ("reconcile", "outbox", "fatigue", "promote"):
        out, err = io.StringIO(), io.StringIO()
        code = main(["check", "--as-of", AT, "-p", f"no:{name}", "--format", "json",
                     "--no-deliver"], out=out, err=err, cwd=red.root)
        assert code == 1, err.getvalue()
        blocking = [(f["rule"], f["subject"]) for f in json.loads(out.getvalue())["findings"]
                    if f["blocking"]]
        assert ("gate.plugin-disabled", name) in blocking
