"""References that cannot be read are errors, never skipped, never a crash.

Classes held here (docs/security.md, "Promises and the tests that hold them"):

* a NUL byte in any reference (the command line's ``-c``, ``-o``, ``--events``,
  ``--simulate``; any text of the configuration: the policies folder, an input, ``output``,
  ``ledger``, a URL) is exit 2 with one line, nothing written;
* a malformed URL anywhere in the configuration is exit 2 when the configuration is read;
* an unknown key in any section of the configuration is refused (``sources`` included);
* a policies sub-folder that is a symbolic link or cannot be listed, a link that leads nowhere
  and a ``*.yaml`` that is not a regular file are exit 2, never skipped.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.conftest import Project, Schedule, iso

AT = iso(Schedule.after(6))


@pytest.fixture
def project(make_project: Callable[..., Project]) -> Project:
    return make_project()


def assert_refused(project: Project, run: Any, *needles: str) -> None:
    assert run.code == 2, run.err
    assert run.err.startswith("govgate: error: ") and run.err.count("\n") == 1, run.err
    assert "\x00" not in run.err
    for needle in needles:
        assert needle in run.err, run.err
    assert not project.output.exists() and project.ledger_records() == []


@pytest.mark.parametrize("args", [
    ("check", "-c", "govgate\x00.yaml"),
    ("check", "-o", "out\x00put"),
    ("-c", "x\x00", "check"),
    ("heatmap", "--events", "events\x00.csv"),
    ("review", "--month", "2026-10", "--simulate", "p\x00.yaml"),
    ("readback", "--quarter", "2026-Q4", "-o", "\x00"),
])
def test_a_nul_byte_on_the_command_line_is_exit_2(project: Project,
                                                   args: tuple[str, ...]) -> None:
    run = project.run(*args, "--as-of", AT)
    assert_refused(project, run, "command line", "NUL byte")


@pytest.mark.parametrize(("key", "value"), [
    ("policies", "poli\x00cies"),
    ("output", "out\x00"),
    ("ledger", ".govgate/led\x00ger.jsonl"),
    ("reconciliation.runs", "runs\x00.csv"),
    ("reconciliation.bootstrap", "https://example.invalid/boot\x00strap.yaml"),
    ("paging.outbox", "out\x00box.jsonl"),
    ("waivers", "\x00"),
    ("plugins", ["tests.support\x00.x"]),
])
def test_a_nul_byte_in_the_configuration_is_exit_2(project: Project, key: str,
                                                    value: Any) -> None:
    _set(project, key, value)
    run = project.check(AT)
    assert_refused(project, run, "govgate.yaml", "NUL byte")


@pytest.mark.parametrize("url", ["https://[::1/runs.csv", "https://host:port/runs.csv",
                                 "https://[not-an-ip]/x.csv", "https://host:99999999/x"])
@pytest.mark.parametrize("key", ["reconciliation.runs", "fatigue.events", "waivers",
                                 "reconciliation.acks"])
def test_a_malformed_url_in_the_configuration_is_exit_2(project: Project, key: str,
                                                         url: str) -> None:
    _set(project, key, url)
    run = project.check(AT)
    assert_refused(project, run, "govgate.yaml", "malformed URL")
    assert url not in run.err  # a URL may carry a signature: it is named by its place only


def test_a_nul_byte_in_pyproject_toml_is_exit_2(tmp_path: Path, project: Project) -> None:
    config = project.config()
    project.config_path.unlink()
    (project.root / "pyproject.toml").write_text(
        '[tool.govgate]\npolicies = "poli\\u0000cies"\noutput = "govgate-out"\n'
        f'reconciliation = {{ runs = "{config["reconciliation"]["runs"]}", '
        f'jobs = "{config["reconciliation"]["jobs"]}" }}\n', encoding="utf-8")
    run = project.check(AT)
    assert_refused(project, run, "pyproject.toml", "NUL byte")


@pytest.mark.parametrize("section", ["sources", "sources.https", "sources.postgres",
                                     "reconciliation", "fatigue", "paging", "paging.webhook",
                                     ""])
def test_an_unknown_key_in_any_section_is_refused(project: Project, section: str) -> None:
    data = project.config()
    node = data
    for part in filter(None, section.split(".")):
        if part == "webhook":
            node = node.setdefault(part, {"url": "https://127.0.0.1/x",
                                          "routing_key_env": "GOVGATE_X"})
        else:
            node = node.setdefault(part, {})
    node["allow_outsde"] = True  # a typo of a real key: must not be silently ignored
    project.write_config(data)
    run = project.check(AT)
    assert_refused(project, run, "govgate.yaml", "allow_outsde")


# -- the policies folder --------------------------------------------------------------------

def test_a_symlinked_policies_sub_folder_is_exit_2(project: Project, tmp_path: Path) -> None:
    extra = tmp_path / "more-policies"
    extra.mkdir()
    (project.root / "policies" / "linked").symlink_to(extra, target_is_directory=True)
    run = project.check(AT)
    assert_refused(project, run, "policies/linked", "symbolic link to a folder")


def test_a_symlinked_sub_folder_inside_the_project_is_exit_2_too(project: Project) -> None:
    (project.root / "archive").mkdir()
    (project.root / "policies" / "old").symlink_to(project.root / "archive",
                                                   target_is_directory=True)
    assert_refused(project, project.check(AT), "policies/old", "symbolic link")


def test_a_dangling_link_is_exit_2(project: Project) -> None:
    (project.root / "policies" / "gone.yaml").symlink_to(project.root / "nowhere.yaml")
    assert_refused(project, project.check(AT), "policies/gone.yaml", "cannot read")


def test_a_policy_that_is_not_a_regular_file_is_exit_2(project: Project) -> None:
    os.mkfifo(project.root / "policies" / "pipe.yaml")
    assert_refused(project, project.check(AT), "policies/pipe.yaml", "regular file")


def test_a_sub_folder_that_cannot_be_listed_is_exit_2(project: Project,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Root lists anything, so the permission error is injected where the walk asks."""
    (project.root / "policies" / "locked").mkdir()
    real = os.scandir

    def scandir(path: Any) -> Any:
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    assert_refused(project, project.check(AT), "policies/locked", "Permission denied")


@pytest.mark.skipif(os.geteuid() == 0, reason="root lists a folder without permissions")
def test_a_sub_folder_without_permissions_is_exit_2(project: Project) -> None:
    locked = project.root / "policies" / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        assert_refused(project, project.check(AT), "policies/locked", "Permission denied")
    finally:
        locked.chmod(0o700)


def test_a_symlink_to_a_policy_file_inside_the_project_is_read(project: Project) -> None:
    policies = project.root / "policies"
    first = sorted(policies.glob("*.yaml"))[0]
    (project.root / "shared").mkdir()
    moved = project.root / "shared" / first.name
    first.rename(moved)
    first.symlink_to(moved)
    assert project.check(AT).code == 0


def _set(project: Project, key: str, value: Any) -> None:
    data = project.config()
    node = data
    *parents, last = key.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
    project.config_path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=False),
                                   encoding="utf-8")
