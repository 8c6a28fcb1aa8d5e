"""The pre-commit hooks of ``.pre-commit-hooks.yaml``, run by pre-commit against a temp repo.

The hook repository is a snapshot of this one (committed in a temporary git repository, so
uncommitted work is tested too); pre-commit installs it into its own virtual environment, as
it would for a user, so this needs the package index that pip is configured with.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from tests.conftest import REPO, Project

pytest.importorskip("pre_commit")
if shutil.which("git") is None:
    pytest.skip("git is not installed", allow_module_level=True)

AS_OF = "2026-11-20T00:00:00Z"
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
           "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}


def git(cwd: Path, *args: str) -> str:
    import os

    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV}).stdout.strip()


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A git repository with this project's package and hooks; returns (path, commit)."""
    repo = tmp_path_factory.mktemp("hook-repo")
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    shutil.copytree(REPO / "src", repo / "src", ignore=ignore)
    for name in ("pyproject.toml", ".pre-commit-hooks.yaml", "README.md", "LICENSE"):
        if (REPO / name).is_file():
            shutil.copy(REPO / name, repo / name)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "snapshot")
    return repo, git(repo, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    # One home for the module: pre-commit installs the hook environment once.
    yield tmp_path_factory.mktemp("pre-commit-home")


def pre_commit(project: Project, hook_repo: tuple[Path, str], home: Path,
               check_args: list[str]) -> subprocess.CompletedProcess[str]:
    import os

    path, rev = hook_repo
    config = {"repos": [{"repo": str(path), "rev": rev, "hooks": [
        {"id": "govgate-check", "args": check_args},
        {"id": "govgate-validate"},
    ]}]}
    (project.root / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config),
                                                          encoding="utf-8")
    (project.root / ".gitignore").write_text("govgate-out/\n.govgate/\n", encoding="utf-8")
    if not (project.root / ".git").exists():
        git(project.root, "init", "-q")
    git(project.root, "add", "-A")
    env = {**os.environ, **GIT_ENV, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    env.pop("GOVGATE_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "pre_commit", "run", "--all-files"],
                          cwd=project.root, env=env, capture_output=True, text=True, timeout=900)


def hook_line(output: str, name: str) -> str:
    return next(line for line in output.splitlines() if line.startswith(name))


def test_a_blocked_gate_fails_the_commit(make_project: Callable[..., Project],
                                         hook_repo: tuple[Path, str],
                                         pre_commit_home: Path) -> None:
    project = make_project(weeks=8, skips={7: "maintenance"}, silent=[8])
    proc = pre_commit(project, hook_repo, pre_commit_home, ["--as-of", AS_OF])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert hook_line(proc.stdout, "govgate check").endswith("Failed")
    assert hook_line(proc.stdout, "govgate validate").endswith("Passed")
    assert "- exit code: 1" in proc.stdout
    assert "BLOCKED: publish is blocked" in proc.stdout
    # --no-deliver: a commit never pages and never writes the ledger.
    assert not (project.root / ".govgate").exists()


def test_a_passing_gate_and_valid_files_pass(make_project: Callable[..., Project],
                                             hook_repo: tuple[Path, str],
                                             pre_commit_home: Path) -> None:
    project = make_project(weeks=6)
    proc = pre_commit(project, hook_repo, pre_commit_home,
                      ["--as-of", "2026-11-02T07:25:00Z"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert hook_line(proc.stdout, "govgate check").endswith("Passed")
    assert hook_line(proc.stdout, "govgate validate").endswith("Passed")


def test_validate_names_the_broken_file(make_project: Callable[..., Project],
                                        hook_repo: tuple[Path, str],
                                        pre_commit_home: Path) -> None:
    project = make_project(weeks=6)
    policy = next((project.root / "policies").glob("epsilon-policy-*.yaml"))
    policy.write_text(policy.read_text(encoding="utf-8").replace("version:", "versoin:", 1),
                      encoding="utf-8")
    proc = pre_commit(project, hook_repo, pre_commit_home,
                      ["--as-of", "2026-11-02T07:25:00Z"])
    assert proc.returncode == 1
    assert hook_line(proc.stdout, "govgate validate").endswith("Failed")
    assert f"FAIL  policies/{policy.name}" in proc.stdout


def test_validate_checks_the_signer_ack_event_export_and_skips_workflows(
        make_project: Callable[..., Project], hook_repo: tuple[Path, str],
        pre_commit_home: Path) -> None:
    project = make_project(weeks=6)
    events = project.root / "governance" / "signer_ack_event.csv"
    events.parent.mkdir()
    events.write_text(
        "ack_event_id,signer_id,owner_route,cert_window_id,request_dt_utc,ack_dt_utc,"
        "ack_outcome,sla_target_hours\n"
        "e1,alex,publish_gate,,2026-10-01 09:00:00+00,2026-10-01 08:00:00+00,approved,0.50\n",
        encoding="utf-8")
    workflow = project.root / ".github" / "workflows" / "govgate.yml"
    workflow.parent.mkdir(parents=True)
    shutil.copy(REPO / "examples" / "govgate-workflow.yml", workflow)  # YAML 1.1 reads `on:`
    proc = pre_commit(project, hook_repo, pre_commit_home,
                      ["--as-of", "2026-11-02T07:25:00Z"])
    assert proc.returncode == 1
    assert hook_line(proc.stdout, "govgate validate").endswith("Failed")
    assert "FAIL  governance/signer_ack_event.csv: row 2, column ack_dt_utc" in proc.stdout
    assert "FAIL  .github" not in proc.stdout


def test_the_configuration_init_writes_passes_on_its_own_project(tmp_path: Path) -> None:
    """`govgate init`'s .pre-commit-config.yaml runs the govgate on PATH (a local hook)."""
    import os

    from tests.conftest import run_cli

    project = tmp_path / "studio"
    assert run_cli(["init", str(project)], tmp_path).code == 0  # the default as-of: now
    git(project, "init", "-q")
    git(project, "add", "-A")
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = {**os.environ, **GIT_ENV, "PATH": path, "PRE_COMMIT_HOME": str(tmp_path / "home"),
           "PRE_COMMIT_COLOR": "never"}
    env.pop("GOVGATE_DEBUG", None)
    proc = subprocess.run([sys.executable, "-m", "pre_commit", "run", "--all-files"],
                          cwd=project, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert hook_line(proc.stdout, "govgate validate").endswith("Passed")
    assert hook_line(proc.stdout, "govgate check").endswith("Passed")
