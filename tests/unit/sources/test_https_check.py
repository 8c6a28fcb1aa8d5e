"""``govgate check`` with the scheduler rows served over HTTP: a failed load is never a pass."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from tests.conftest import Project, Schedule
from tests.support.httpserver import HTTPTestServer, Response

from govgate.sources import https

ENV = "GOVGATE_TEST_STORE_TOKEN"
SECRET = "st0re-t0ken-never-printed"


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                 "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(ENV, SECRET)
    monkeypatch.setattr(https, "_sleep", lambda _: None)


@pytest.fixture
def server() -> Iterator[HTTPTestServer]:
    with HTTPTestServer() as srv:
        yield srv


def serve_runs(project: Project, server: HTTPTestServer, *, pin: bool = True,
               **https_settings: Any) -> str:
    """Serve the project's scheduler rows and point ``reconciliation.runs`` at the URL."""
    body = project.runs_path.read_bytes()
    server.serve("/exports/scheduler_runs.csv", Response(body=body))
    url = server.url("/exports/scheduler_runs.csv")
    conf: dict[str, Any] = {"allow_http": True, "timeout_seconds": 2, "max_attempts": 2,
                            "tokens": {"127.0.0.1": ENV}}
    if pin:
        conf["sha256"] = {url: "sha256:" + hashlib.sha256(body).hexdigest()}
    conf.update(https_settings)
    project.set_recon(runs=url)
    project.update_config(sources={"https": conf})
    project.runs_path.unlink()  # the gate must not quietly fall back to a local copy
    return url


def test_served_rows_decide_exactly_like_the_file(project: Project, server: HTTPTestServer
                                                  ) -> None:
    as_of = Schedule.after(6)
    local = project.check(as_of)
    assert local.code == 0, local.err
    url = serve_runs(project, server)
    served = project.check(as_of)
    assert (served.code, served.err) == (0, "")
    assert served.out.replace(url, "scheduler_runs.csv") == local.out
    assert server.requests[0].headers["authorization"] == f"Bearer {SECRET}"
    assert SECRET not in served.out


def test_served_rows_with_a_double_skip_block_the_gate(project: Project, server: HTTPTestServer
                                                       ) -> None:
    project.skip(5)
    project.skip(6)
    serve_runs(project, server)
    result = project.check(Schedule.after(6))
    assert result.code == 1, result.err
    assert result.json()["gate"] == "blocked"


@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error_exits_2_naming_the_source(project: Project, server: HTTPTestServer,
                                                  status: int) -> None:
    url = serve_runs(project, server)
    server.serve("/exports/scheduler_runs.csv",
                 Response.text(f"upstream down; Authorization: Bearer {SECRET}", status=status))
    result = project.check(Schedule.after(6))
    assert result.code == 2
    assert result.out == ""
    assert result.err.startswith(f"govgate: error: {url}: HTTP {status} ")
    assert result.err.rstrip().endswith("(after 2 attempts)")
    assert SECRET not in result.err
    assert not project.output.exists()  # nothing decided, nothing written


def test_a_wrong_checksum_exits_2(project: Project, server: HTTPTestServer) -> None:
    url = serve_runs(project, server)
    # The store now holds other rows than the ones the config pins: a PASS made up afterwards.
    server.serve("/exports/scheduler_runs.csv", Response(body=b"tampered"))
    result = project.check(Schedule.after(6))
    assert result.code == 2
    assert result.err.startswith(f"govgate: error: {url}: sha256 mismatch")


def test_a_truncated_export_exits_2(project: Project, server: HTTPTestServer) -> None:
    url = serve_runs(project, server, pin=False)
    server.serve("/exports/scheduler_runs.csv",
                 Response(body=b"job_run_id,scheduled_at,status\n" * 4, truncate_at=40))
    result = project.check(Schedule.after(6))
    assert result.code == 2
    assert result.err.startswith(f"govgate: error: {url}: truncated body: received 40 of")


def test_http_is_refused_by_default(project: Project, server: HTTPTestServer) -> None:
    url = serve_runs(project, server, allow_http=False)
    result = project.check(Schedule.after(6))
    assert result.code == 2
    assert result.err.startswith(f"govgate: error: {url}: http:// is refused")
    assert server.requests == []


def test_a_missing_token_variable_exits_2_naming_it(
    project: Project, server: HTTPTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve_runs(project, server)
    monkeypatch.delenv(ENV)
    result = project.check(Schedule.after(6))
    assert result.code == 2
    assert f"environment variable {ENV} is not set or empty" in result.err


def test_bad_https_settings_fail_the_config_schema(project: Project, server: HTTPTestServer
                                                   ) -> None:
    serve_runs(project, server, max_attempts=0)
    result = project.check(Schedule.after(6))
    assert result.code == 2
    assert "/sources/https/max_attempts" in result.err


def test_a_source_that_drips_bytes_exits_2_at_the_deadline(project: Project,
                                                           server: HTTPTestServer) -> None:
    url = serve_runs(project, server, pin=False, total_timeout_seconds=0.5, timeout_seconds=1)
    body = b"job_run_id,scheduled_at,status\n" * 100
    server.serve("/exports/scheduler_runs.csv", Response(body=body, drip=0.05))
    result = project.check(Schedule.after(6))
    assert result.code == 2
    assert result.err == (f"govgate: error: {url}: not complete within 0.5 s "
                          "(sources.https.total_timeout_seconds) (after 1 attempt)\n")
    assert not project.output.exists() and not project.ledger.exists()


def test_an_unknown_key_in_the_sources_section_is_refused(project: Project) -> None:
    # A typo (http: for https:) would otherwise drop allowed_hosts and the pins silently.
    project.update_config(sources={"http": {"allowed_hosts": ["store.example"]}})
    result = project.check(Schedule.after(6))
    assert result.code == 2
    assert "/sources" in result.err and "http" in result.err


def test_a_plugin_key_in_the_sources_section_is_accepted(project: Project) -> None:
    project.update_config(sources={"x-s3": {"region": "eu-west-1"}})
    assert project.check(Schedule.after(6)).code == 0
