"""File options take the references the configuration takes, read with its ``sources``.

The class: every option that names an input file (``heatmap --events``, ``review --simulate``,
``validate FILE``) accepts a path relative to the working folder, ``file://``, ``https://`` and
``postgresql://`` (tests/integration), read by the same sources with the project's settings
(tokens, allowed hosts, http allowed or not); a reference that cannot be read, or is malformed,
is exit code 2 with one line naming it, never a traceback or exit code 3.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import run_cli
from tests.support.httpserver import HTTPTestServer, Response
from tests.unit.fatigue.factories import AS_OF, Event, write_csv

REPO = Path(__file__).resolve().parents[3]
EVENTS = [Event("a1", "alex", AS_OF, AS_OF), Event("b1", "bo", AS_OF, AS_OF).pending()]
WHEN = "2026-11-21T09:00:00Z"


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                 "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server() -> Iterator[HTTPTestServer]:
    with HTTPTestServer() as srv:
        yield srv


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project whose sources allow http (a store on 127.0.0.1), with the events as a file."""
    root = tmp_path / "project"
    (root / "policies").mkdir(parents=True)
    (root / "govgate.yaml").write_text(
        "sources:\n  https:\n    allow_http: true\n    timeout_seconds: 5\n", encoding="utf-8")
    write_csv(root / "events.csv", EVENTS)
    return root


def heatmap(cwd: Path, events: str) -> tuple[int, str, str]:
    result = run_cli(["heatmap", "--as-of", WHEN, "--format", "json", "--events", events], cwd)
    return result.code, result.out, result.err


def test_events_over_https_give_what_the_file_gives(project: Path, server: HTTPTestServer
                                                    ) -> None:
    server.serve("/ev.csv", Response(body=(project / "events.csv").read_bytes()))
    code, served, err = heatmap(project, server.url("/ev.csv?sig=s3cret"))
    assert (code, err) == (0, "")
    assert served == heatmap(project, "events.csv")[1]
    assert "s3cret" not in served
    assert server.requests[0].path == "/ev.csv?sig=s3cret"  # the reference as written is read


def test_the_project_sources_settings_apply(project: Path, server: HTTPTestServer) -> None:
    # Outside a project the defaults apply: http:// is refused, as in a configuration.
    server.serve("/ev.csv", Response(body=(project / "events.csv").read_bytes()))
    bare = project.parent / "elsewhere"
    bare.mkdir()
    code, _, err = heatmap(bare, server.url("/ev.csv"))
    assert code == 2 and "http:// is refused" in err
    assert server.requests == []
    # In the project, its allowed_hosts is honoured.
    (project / "govgate.yaml").write_text(
        "sources:\n  https:\n    allow_http: true\n    allowed_hosts: [store.example]\n",
        encoding="utf-8")
    code, _, err = heatmap(project, server.url("/ev.csv"))
    assert code == 2 and "not in sources.https.allowed_hosts" in err


def test_a_relative_path_is_relative_to_the_working_folder(project: Path) -> None:
    sub = project / "sub"
    sub.mkdir()
    shutil.copy(project / "events.csv", sub / "mine.csv")
    expected = heatmap(project, "events.csv")[1]
    assert heatmap(sub, "mine.csv")[1] == expected
    assert heatmap(sub, "../events.csv")[1] == expected  # the user named it: outside is fine
    assert heatmap(sub, f"file://{sub / 'mine.csv'}")[1] == expected


def test_validate_reads_an_https_reference(project: Path, server: HTTPTestServer) -> None:
    server.serve("/w45/scheduler_runs.csv",
                 Response(body=b"job_run_id,scheduled_at,status\n"))
    result = run_cli(["validate", "--kind", "scheduler_run",
                      server.url("/w45/scheduler_runs.csv?sig=s3cret")], project)
    assert result.code == 0, result.out
    assert result.out.startswith(
        f"ok    {server.url('/w45/scheduler_runs.csv')}?<redacted>: scheduler_run, 0 rows\n")


def test_review_simulate_reads_an_https_reference(tmp_path: Path, server: HTTPTestServer
                                                  ) -> None:
    root = tmp_path / "demo"
    for name in ("fixtures", "policies"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "govgate.yaml", root / "govgate.yaml")
    candidate = (root / "policies" / "backup-owner-policy-1.1.0.yaml").read_text("utf-8")
    candidate = candidate.replace("version: 1.1.0", "version: 1.9.0")
    server.serve("/candidate.yaml", Response(body=candidate.encode()))
    (root / "candidate.yaml").write_text(candidate, encoding="utf-8")
    args = ["review", "--month", "2026-10", "--as-of", "2026-11-20T00:00:00Z", "-o", "out"]
    local = run_cli([*args, "--simulate", "candidate.yaml"], root)
    assert local.code == 0, local.err
    config = (root / "govgate.yaml").read_text("utf-8")
    (root / "govgate.yaml").write_text(config + "sources:\n  https:\n    allow_http: true\n",
                                       encoding="utf-8")
    served = run_cli([*args, "--simulate", server.url("/candidate.yaml")], root)
    assert served.code == 0, served.err
    assert served.out == local.out
    assert json.loads((root / "out" / "review-2026-10.json").read_text("utf-8"))


BAD_REFS = ["ev\x00.csv", "https://[::1/ev.csv", "https://h/e v.csv", "https://h/e\x1b[2J.csv",
            "postgresql://[db/gov?table=signer_ack_event", "postgresql://db:x/g?table=t",
            "missing.csv", "https://h/ev.csv#\x00"]


@pytest.mark.parametrize("ref", BAD_REFS)
@pytest.mark.parametrize("option", ["heatmap", "validate", "review"])
def test_a_bad_reference_is_exit_2_with_one_line(tmp_path: Path, ref: str, option: str) -> None:
    args = {"heatmap": ["heatmap", "--events", ref],
            "validate": ["validate", ref],
            "review": ["review", "--month", "2026-10", "--simulate", ref]}[option]
    result = run_cli(args, tmp_path)
    assert result.code == 2
    text = result.out + result.err
    assert "internal error" not in text and "Traceback" not in text
    assert "\x00" not in text and "\x1b" not in text
