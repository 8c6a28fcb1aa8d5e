"""From an empty folder to a first check, the way a new user gets there.

A fresh virtual environment, ``pip install`` of this repository (the standard console-script
entry point: ``govgate``, ``govgate.exe`` on Windows), ``govgate init`` in an empty folder,
then ``govgate check`` (exit 0) and ``govgate validate`` on every file init wrote. Slow (it
installs govgate and its dependencies): marker ``venv``, deselect with ``-m "not venv"``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.venv


def _bin(venv: Path, name: str) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / (
        f"{name}.exe" if os.name == "nt" else name)


def _run(argv: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GOVGATE_", "VIRTUAL_ENV", "PYTHONPATH"))}
    return subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=900)


def test_init_check_validate_in_a_fresh_virtual_environment(tmp_path: Path) -> None:
    # pip builds in the source folder: give it a copy, so the repository stays clean.
    source = tmp_path / "source"
    shutil.copytree(REPO / "src", source / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (REPO / name).is_file():
            shutil.copy(REPO / name, source / name)
    venv = tmp_path / "venv"
    made = _run([sys.executable, "-m", "venv", venv], tmp_path)
    assert made.returncode == 0, made.stderr
    installed = _run([_bin(venv, "python"), "-m", "pip", "install", "--quiet",
                      "--disable-pip-version-check", source], tmp_path)
    assert installed.returncode == 0, installed.stderr
    govgate = _bin(venv, "govgate")
    assert govgate.is_file(), "the [project.scripts] entry point was not installed"
    assert _run([govgate, "--version"], tmp_path).stdout.startswith("govgate ")

    project = tmp_path / "studio"
    project.mkdir()
    init = _run([govgate, "init"], project)
    assert init.returncode == 0, init.stderr
    written = [line.removeprefix("wrote ") for line in init.stdout.splitlines()
               if line.startswith("wrote ")]
    assert "govgate.yaml" in written and len(written) >= 15

    check = _run([govgate, "check"], project)  # the default as-of: now
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.startswith("PASS: publish may proceed"), check.stdout

    validate = _run([govgate, "validate", *written], project)
    assert validate.returncode == 0, validate.stdout + validate.stderr
    verdicts: dict[str, str] = {}
    for line in validate.stdout.splitlines()[:-1]:  # "ok    path: detail"; last: a summary
        status, rest = line.split(None, 1)
        verdicts[rest.split(":", 1)[0]] = status
    not_inputs = {".github/workflows/govgate.yml", ".pre-commit-config.yaml", ".gitignore"}
    assert {f for f, v in verdicts.items() if v == "skip"} == not_inputs, validate.stdout
    assert all(verdicts[f] == "ok" for f in written if f not in not_inputs), validate.stdout
