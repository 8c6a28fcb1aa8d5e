"""The GitHub Action, run the way the runner runs it.

Each test takes a step's ``run:`` script and ``env:`` mapping from ``action.yml``, evaluates the
``${{ }}`` expressions of the mapping as the runner would (inputs and their defaults, the
install step's output), and runs the script with ``bash --noprofile --norc -eo pipefail`` (the
runner's ``shell: bash``) in the workspace, with temporary files for ``GITHUB_OUTPUT`` and
``GITHUB_STEP_SUMMARY``. The install step needs a package index; it runs only with
``GOVGATE_TEST_INSTALL=1``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.conftest import REPO, Project, Schedule

AS_OF = "2026-11-20T00:00:00Z"
ACTION = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
EXPRESSION = re.compile(r"^\$\{\{ (inputs\.[a-z-]+|steps\.install\.outputs\.python) \}\}$")


def step(step_id: str) -> dict[str, Any]:
    return next(s for s in ACTION["runs"]["steps"] if s.get("id") == step_id)


@dataclass
class StepRun:
    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str

    def annotations(self, level: str = "error") -> list[str]:
        return [line for line in self.stdout.splitlines() if line.startswith(f"::{level} ")]


def parse_github_output(text: str) -> dict[str, str]:
    """``name=value`` lines and ``name<<DELIM`` blocks, as the runner reads them."""
    out: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body = []
            for inner in lines:
                if inner == delimiter:
                    break
                body.append(inner)
            out[name] = "\n".join(body)
        elif line:
            name, value = line.split("=", 1)
            out[name] = value
    return out


def run_step(step_id: str, workspace: Path, tmp: Path, inputs: dict[str, str] | None = None,
             python: str = sys.executable, action_path: Path = REPO) -> StepRun:
    """Run one composite step of the action as the runner would."""
    spec = step(step_id)
    assert spec["shell"] == "bash"
    values = {name: str(meta.get("default", "")) for name, meta in ACTION["inputs"].items()}
    values.update(inputs or {})
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GITHUB_", "GOVGATE_", "RUNNER_"))}
    for name, template in spec.get("env", {}).items():
        match = EXPRESSION.match(template)
        assert match, f"{name}: only plain ${{{{ }}}} expressions in env: {template}"
        ref = match.group(1)
        env[name] = python if ref.startswith("steps.") else values[ref.removeprefix("inputs.")]
    output, summary = tmp / "github_output", tmp / "step_summary"
    output.write_text("", encoding="utf-8")
    summary.write_text("", encoding="utf-8")
    runner_temp = tmp / "runner_temp"
    runner_temp.mkdir(exist_ok=True)
    script = tmp / f"{step_id}.sh"
    script.write_text(spec["run"], encoding="utf-8")
    env.update(GITHUB_WORKSPACE=str(workspace), GITHUB_OUTPUT=str(output),
               GITHUB_STEP_SUMMARY=str(summary), GITHUB_ACTION_PATH=str(action_path),
               GITHUB_ACTIONS="true", RUNNER_TEMP=str(runner_temp),
               GITHUB_SERVER_URL="https://github.example", GITHUB_REPOSITORY="org/repo",
               GITHUB_RUN_ID="42")
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                          cwd=workspace, env=env, capture_output=True, text=True, timeout=600)
    return StepRun(proc.returncode, proc.stdout, proc.stderr,
                   parse_github_output(output.read_text(encoding="utf-8")),
                   summary.read_text(encoding="utf-8"))


@pytest.fixture
def red(make_project: Callable[..., Project]) -> Project:
    """The demo: drift in week 3, a skip in week 7, a silent skip in week 8 (red)."""
    return make_project(weeks=8, skips={7: "maintenance"}, silent=[8],
                        drifts={(3, "tickets_p95"): "0.5"})


def test_expressions_never_reach_a_script() -> None:
    for spec in ACTION["runs"]["steps"]:
        assert "${{" not in spec.get("run", ""), spec["name"]
        for template in spec.get("env", {}).values():
            assert EXPRESSION.match(template)
    mapped = {m.group(1).removeprefix("inputs.") for m in
              (EXPRESSION.match(t) for t in step("check")["env"].values()) if m}
    assert set(ACTION["inputs"]) - {"python"} <= mapped
    assert set(step("install")["env"].values()) == {"${{ inputs.python }}"}


def test_outputs_come_from_the_check_step() -> None:
    for name, meta in ACTION["outputs"].items():
        assert meta["value"] == f"${{{{ steps.check.outputs.{name} }}}}"


def test_blocked_gate_fails_the_step_with_summary_annotations_and_outputs(
        red: Project, tmp_path: Path) -> None:
    run = run_step("check", red.root, tmp_path, {"as-of": AS_OF, "formats": "junit openmetrics"})
    assert run.code == 1, run.stderr
    assert run.outputs["gate"] == "blocked"
    assert run.outputs["state"] == "red"
    assert int(run.outputs["findings"]) >= 1 and int(run.outputs["blocking"]) >= 1
    assert run.outputs["promotes"] == "0"
    assert run.outputs["result"] == "govgate-out/result.json"
    assert run.outputs["sarif"] == "govgate-out/govgate.sarif"
    assert run.outputs["readback"] == ""
    result = json.loads((red.root / run.outputs["result"]).read_text(encoding="utf-8"))
    assert result["gate"] == "blocked" and len(result["findings"]) == int(run.outputs["findings"])
    for name in ("govgate.sarif", "summary.md", "junit.xml", "govgate.prom"):
        assert (red.output / name).is_file()
    # The summary has every finding; the log has the text report, then the annotations.
    assert run.summary.startswith("## ❌ govgate: publish is blocked")
    for f in result["findings"]:
        assert f["rule"] in run.summary
    assert "[workflow run](https://github.example/org/repo/actions/runs/42)" in run.summary
    assert run.stdout.startswith("BLOCKED: publish is blocked; governance state RED")
    errors = run.annotations("error")
    assert len(errors) == len([f for f in result["findings"] if f["blocking"]])
    assert all(line.startswith("::error file=") for line in errors)


def test_passing_gate_passes_the_step(make_project: Callable[..., Project],
                                      sched: type[Schedule], tmp_path: Path) -> None:
    project = make_project(weeks=6)
    run = run_step("check", project.root, tmp_path, {"as-of": sched.iso(sched.after(6))})
    assert run.code == 0, run.stdout + run.stderr
    assert run.outputs["gate"] == "pass" and run.outputs["state"] == "green"
    assert run.annotations("error") == []
    assert run.summary.startswith("## ✅ govgate: publish may proceed")


def test_block_on_amber(make_project: Callable[..., Project], tmp_path: Path) -> None:
    project = make_project(weeks=8, skips={8: "maintenance"})
    relaxed = run_step("check", project.root, tmp_path, {"as-of": AS_OF})
    assert (relaxed.code, relaxed.outputs["state"], relaxed.outputs["gate"]) == (0, "amber", "pass")
    strict = run_step("check", project.root, tmp_path, {"as-of": AS_OF, "block-on": "amber"})
    assert (strict.code, strict.outputs["gate"]) == (1, "blocked")


def test_a_configuration_in_a_sub_folder(red: Project, tmp_path: Path) -> None:
    workspace = tmp_path / "workspace"
    shutil.copytree(red.root, workspace / "governance")
    run = run_step("check", workspace, tmp_path,
                   {"as-of": AS_OF, "config": "governance/govgate.yaml"})
    assert run.code == 1
    assert run.outputs["sarif"] == "governance/govgate-out/govgate.sarif"
    assert all(line.startswith("::error file=governance/") for line in run.annotations())
    log = json.loads((workspace / run.outputs["sarif"]).read_text(encoding="utf-8"))
    uris = [loc["physicalLocation"]["artifactLocation"]["uri"]
            for r in log["runs"][0]["results"] for loc in r["locations"]]
    assert uris and all(u.startswith("governance/") for u in uris)


def test_unreadable_inputs_fail_the_step_and_say_why(red: Project, tmp_path: Path) -> None:
    run = run_step("check", red.root, tmp_path, {"as-of": AS_OF, "config": "missing.yaml"})
    assert run.code == 2
    assert run.outputs["gate"] == "error"
    assert run.annotations("error") == [
        "::error title=govgate could not decide the gate::missing.yaml: configuration file "
        "not found".replace("missing.yaml", str(red.root / "missing.yaml"))]
    assert "no decision" in run.summary


def test_bad_block_on_is_a_usage_error(red: Project, tmp_path: Path) -> None:
    run = run_step("check", red.root, tmp_path, {"as-of": AS_OF, "block-on": "green"})
    assert run.code == 2 and run.outputs["gate"] == "error"
    assert "block-on must be 'red' or 'amber'" in run.stdout


@pytest.mark.skipif(os.environ.get("GOVGATE_TEST_INSTALL") != "1",
                    reason="installs govgate and its dependencies (set GOVGATE_TEST_INSTALL=1)")
def test_install_then_check(red: Project, tmp_path: Path) -> None:
    # pip builds in the action's folder: give it a copy, so the repository stays clean.
    action = tmp_path / "action"
    shutil.copytree(REPO / "src", action / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("action.yml", "pyproject.toml", "README.md", "LICENSE"):
        if (REPO / name).is_file():
            shutil.copy(REPO / name, action / name)
    install = run_step("install", red.root, tmp_path, {"python": sys.executable},
                       action_path=action)
    assert install.code == 0, install.stderr
    python = install.outputs["python"]
    assert Path(python).is_file()
    (tmp_path / "check").mkdir()
    run = run_step("check", red.root, tmp_path / "check", {"as-of": AS_OF}, python=python)
    assert run.code == 1 and run.outputs["gate"] == "blocked"


FAKE_PYTHON = """#!/bin/sh
# A stand-in interpreter that lays out a venv as Windows does (Scripts/python.exe).
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
  mkdir -p "$3/Scripts"
  printf '#!/bin/sh\\necho "$0 $*" >> "%s/calls"\\n' "$3" > "$3/Scripts/python.exe"
  chmod +x "$3/Scripts/python.exe"
  echo "$0 $*" >> "$3/created-by"
  exit 0
fi
exit 9
"""


def test_install_on_a_windows_runner_uses_python_and_scripts(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    """Windows runners have python.exe, no python3, and venvs with Scripts/python.exe."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "python"
    fake.write_text(FAKE_PYTHON, encoding="utf-8")
    fake.chmod(0o755)
    for tool in ("bash", "sh", "mkdir", "chmod", "printf"):
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    monkeypatch.setenv("PATH", str(bin_dir))  # no python3 anywhere
    workspace = tmp_path / "ws"
    workspace.mkdir()
    run = run_step("install", workspace, tmp_path)  # the default input: python3
    assert run.code == 0, run.stderr
    venv = tmp_path / "runner_temp" / "govgate-venv"
    assert run.outputs["python"] == f"{venv}/Scripts/python.exe"
    assert (venv / "created-by").read_text(encoding="utf-8").startswith(str(fake))
    assert "-m pip install" in (venv / "calls").read_text(encoding="utf-8")
