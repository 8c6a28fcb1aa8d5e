"""The built-in pager sinks against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pluggy
import pytest
import requests
from tests.support.httpserver import HTTPTestServer, Response

from govgate import hookspecs
from govgate.errors import ExitCode, GovgateError
from govgate.ledger import Ledger
from govgate.model import Page
from govgate.sinks import DeliveryResult, event_body, outbox, page_record, webhook

SECRET = "R0UT1NG-KEY-must-never-leak"
ENV = "GOVGATE_TEST_ROUTING_KEY"
PAGE = Page(
    dedup_key="govgate:red:publish_gate:2026-11-20",
    summary="Reconciliation red: two missed windows",
    source="govgate",
    severity="critical",
    at=datetime(2026, 11, 20, 0, 0, 0, 250000, tzinfo=UTC),
    details={"owner_route": "publish_gate", "job_run_ids": ["r-41", "r-42"]},
)


@pytest.fixture
def server() -> Iterator[HTTPTestServer]:
    with HTTPTestServer(default=Response.json({"status": "success"}, status=202)) as srv:
        yield srv


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "ledger.jsonl")


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record backoff delays instead of waiting them out."""
    delays: list[float] = []
    monkeypatch.setattr(webhook, "_sleep", delays.append)
    return delays


@pytest.fixture(autouse=True)
def routing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, SECRET)


def paging(server: HTTPTestServer, **overrides: Any) -> dict[str, Any]:
    hook = {
        "url": server.url("/v2/enqueue"),
        "routing_key_env": ENV,
        "timeout_seconds": 2,
        "max_attempts": 3,
        "backoff_seconds": 0.01,
        "allow_http": True,
    }
    return {"webhook": {**hook, **overrides}}


def send(server: HTTPTestServer, ledger: Ledger, **overrides: Any) -> DeliveryResult:
    result = webhook.govgate_page(page=PAGE, settings=paging(server, **overrides), ledger=ledger)
    assert result is not None
    assert SECRET not in result.detail
    return result


# --- the event body ---------------------------------------------------------------------------


def test_payload_shape_field_by_field(server: HTTPTestServer, ledger: Ledger) -> None:
    result = send(server, ledger)
    assert (result.delivered, result.skipped_duplicate, result.attempts) == (True, False, 1)
    (request,) = server.requests
    assert request.method == "POST" and request.route == "/v2/enqueue"
    assert request.headers["content-type"] == "application/json"
    body = request.json()
    assert set(body) == {"routing_key", "event_action", "dedup_key", "payload"}
    assert body["routing_key"] == SECRET
    assert body["event_action"] == "trigger"
    assert body["dedup_key"] == PAGE.dedup_key
    payload = body["payload"]
    assert set(payload) == {"summary", "source", "severity", "timestamp", "custom_details"}
    assert payload["summary"] == PAGE.summary
    assert payload["source"] == "govgate"
    assert payload["severity"] == "critical"
    assert payload["timestamp"] == "2026-11-20T00:00:00.250000Z"
    assert payload["custom_details"] == {
        "owner_route": "publish_gate",
        "job_run_ids": ["r-41", "r-42"],
    }


def test_event_body_is_the_webhook_body_without_the_key(
    server: HTTPTestServer, ledger: Ledger
) -> None:
    send(server, ledger)
    body = server.requests[0].json()
    del body["routing_key"]
    assert body == event_body(PAGE)


# --- webhook: dedup and retries ---------------------------------------------------------------


def test_two_runs_send_exactly_one_event(server: HTTPTestServer, ledger: Ledger) -> None:
    for _ in range(2):
        result = send(server, ledger)
        if result.delivered and not result.skipped_duplicate:
            ledger.append([page_record(PAGE, "webhook")])  # what the caller does
    assert len(server.requests) == 1
    assert (result.delivered, result.skipped_duplicate, result.attempts) == (True, True, 0)
    assert ledger.keys() == {f"page:webhook:{PAGE.dedup_key}"}


def test_a_page_recorded_for_another_sink_is_still_sent(
    server: HTTPTestServer, ledger: Ledger
) -> None:
    ledger.append([page_record(PAGE, "outbox")])
    assert not send(server, ledger).skipped_duplicate
    assert len(server.requests) == 1


def test_retry_on_500_then_success(
    server: HTTPTestServer, ledger: Ledger, sleeps: list[float]
) -> None:
    server.enqueue(Response.text("boom", status=500), Response.text("boom", status=503))
    result = send(server, ledger)
    assert (result.delivered, result.attempts) == (True, 3)
    assert sleeps == [0.01, 0.02]  # exponential backoff
    assert len(server.requests) == 3
    assert len({r.body for r in server.requests}) == 1  # the same event each time


def test_retry_on_429_honours_retry_after(
    server: HTTPTestServer, ledger: Ledger, sleeps: list[float]
) -> None:
    server.enqueue(Response.text("slow down", status=429, headers={"Retry-After": "2"}))
    server.enqueue(Response.text("slow down", status=429, headers={"Retry-After": "3600"}))
    result = send(server, ledger, max_delay_seconds=5)
    assert (result.delivered, result.attempts) == (True, 3)
    assert sleeps == [2.0, 5.0]  # the server's wish, capped


def test_no_retry_on_400(server: HTTPTestServer, ledger: Ledger, sleeps: list[float]) -> None:
    # Servers echo bad input back; nothing of the body travels into our messages.
    server.enqueue(Response.json({"message": f"Invalid routing key {SECRET}"}, status=400))
    result = send(server, ledger)
    assert (result.delivered, result.attempts, sleeps) == (False, 1, [])
    assert "HTTP 400 (the event was refused, not retried)" in result.detail
    assert "Invalid routing key" not in result.detail
    assert len(server.requests) == 1


def test_gives_up_after_max_attempts(
    server: HTTPTestServer, ledger: Ledger, sleeps: list[float]
) -> None:
    server.enqueue(*[Response(status=502)] * 5)
    result = send(server, ledger, max_attempts=2)
    assert (result.delivered, result.skipped_duplicate, result.attempts) == (False, False, 2)
    assert result.detail.startswith("not delivered to http://127.0.0.1:")
    assert "after 2 attempts: HTTP 502" in result.detail
    assert len(server.requests) == 2


def test_timeout_on_a_slow_response(
    server: HTTPTestServer, ledger: Ledger, sleeps: list[float]
) -> None:
    server.enqueue(*[Response(status=202, delay=5)] * 2)
    started = time.monotonic()
    result = send(server, ledger, timeout_seconds=0.2, max_attempts=2)
    assert time.monotonic() - started < 2
    assert (result.delivered, result.attempts) == (False, 2)
    assert "timed out after 0.2 s" in result.detail


def test_connection_refused_is_retried_then_fails(ledger: Ledger, sleeps: list[float]) -> None:
    with HTTPTestServer() as gone:
        url = gone.url("/v2/enqueue")
    result = webhook.govgate_page(
        page=PAGE,
        settings={"webhook": {"url": url, "routing_key_env": ENV, "allow_http": True}},
        ledger=ledger,
    )
    assert result is not None and not result.delivered
    assert result.attempts == 3 and "connection failed" in result.detail
    assert sleeps == [0.5, 1.0]  # the documented defaults


def test_redirects_are_not_followed(server: HTTPTestServer, ledger: Ledger) -> None:
    server.enqueue(Response.redirect(server.url("/elsewhere")))
    result = send(server, ledger)
    assert (result.delivered, result.attempts) == (False, 1)
    assert "redirect" in result.detail
    assert [r.route for r in server.requests] == ["/v2/enqueue"]


def test_routing_key_absent_from_logs(
    server: HTTPTestServer, ledger: Ledger, sleeps: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.enqueue(*[Response.text(f"bad key {SECRET}\x1b[2J", status=500)] * 3)
    result = send(server, ledger)
    assert not result.delivered and result.detail.endswith("HTTP 500 (server error)")
    assert caplog.records and SECRET not in caplog.text and "bad key" not in caplog.text
    assert "\x1b" not in caplog.text


# --- webhook: settings ------------------------------------------------------------------------


def test_not_configured_returns_none(ledger: Ledger) -> None:
    assert webhook.govgate_page(page=PAGE, settings={}, ledger=ledger) is None
    assert outbox.govgate_page(page=PAGE, settings={}, ledger=ledger) is None


def test_missing_env_var_names_the_variable_only(
    server: HTTPTestServer, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV)
    with pytest.raises(GovgateError) as excinfo:
        send(server, ledger)
    assert excinfo.value.exit_code == ExitCode.USAGE_ERROR
    assert ENV in str(excinfo.value) and SECRET not in str(excinfo.value)
    assert server.requests == []


@pytest.mark.parametrize(
    ("overrides", "where"),
    [
        ({"allow_http": False}, "webhook.url"),
        ({"url": "ftp://example.invalid/x"}, "webhook.url"),
        ({"routing_key_env": "not a name"}, "webhook.routing_key_env"),
        ({"max_attempts": 0}, "webhook.max_attempts"),
        ({"timeout_seconds": 0}, "webhook.timeout_seconds"),
        ({"backoff_seconds": -1}, "webhook.backoff_seconds"),
        ({"allow_http": "yes"}, "webhook.allow_http"),
        ({"max_atempts": 2}, "webhook.max_atempts"),
    ],
)
def test_bad_settings_are_usage_errors(
    server: HTTPTestServer, ledger: Ledger, overrides: dict[str, Any], where: str
) -> None:
    with pytest.raises(GovgateError) as excinfo:
        send(server, ledger, **overrides)
    assert excinfo.value.where == where
    assert SECRET not in str(excinfo.value) and server.requests == []


def test_https_is_accepted_and_the_url_path_stays_out_of_messages() -> None:
    cfg = webhook.WebhookSettings.from_settings(
        {"url": "https://user:pw@events.example.invalid/hooks/SECRETPATH", "routing_key_env": ENV}
    )
    assert (cfg.timeout_seconds, cfg.max_attempts, cfg.backoff_seconds) == (5.0, 3, 0.5)
    assert cfg.origin == "https://events.example.invalid"


# --- outbox -----------------------------------------------------------------------------------


def test_outbox_appends_once(tmp_path: Path, ledger: Ledger) -> None:
    path = tmp_path / "out" / "pages.jsonl"
    settings = {"outbox": str(path)}
    first = outbox.govgate_page(page=PAGE, settings=settings, ledger=ledger)
    again = outbox.govgate_page(page=PAGE, settings=settings, ledger=ledger)
    assert first == DeliveryResult("outbox", PAGE.dedup_key, True, False, 1, first.detail)
    assert again is not None and (again.delivered, again.skipped_duplicate) == (True, True)
    (line,) = path.read_bytes().splitlines()
    record = json.loads(line)
    assert (record["kind"], record["key"]) == ("page", f"page:outbox:{PAGE.dedup_key}")
    assert record["data"] == event_body(PAGE) and SECRET.encode() not in line
    assert Ledger(path).verify().ok


def test_outbox_skips_a_page_the_run_ledger_records(tmp_path: Path, ledger: Ledger) -> None:
    ledger.append([page_record(PAGE, "outbox")])
    result = outbox.govgate_page(page=PAGE, settings={"outbox": str(tmp_path / "o")}, ledger=ledger)
    assert result is not None and result.skipped_duplicate
    assert not (tmp_path / "o").exists()


def test_outbox_path_must_be_a_path(ledger: Ledger) -> None:
    with pytest.raises(GovgateError, match="file path"):
        outbox.govgate_page(page=PAGE, settings={"outbox": 3}, ledger=ledger)


# --- as plugins -------------------------------------------------------------------------------


def test_sinks_are_pluggy_hook_implementations(
    server: HTTPTestServer, ledger: Ledger, tmp_path: Path
) -> None:
    pm = pluggy.PluginManager("govgate")
    pm.add_hookspecs(hookspecs)
    pm.register(outbox)
    pm.register(webhook)
    pm.check_pending()
    settings = {**paging(server), "outbox": str(tmp_path / "outbox.jsonl")}
    results = pm.hook.govgate_page(page=PAGE, settings=settings, ledger=ledger)
    assert sorted((r.sink, r.delivered) for r in results) == [("outbox", True), ("webhook", True)]
    assert pm.hook.govgate_page(page=PAGE, settings={}, ledger=ledger) == []


# --- the support server itself ----------------------------------------------------------------


def test_support_server_scripts_per_path_and_records(server: HTTPTestServer) -> None:
    server.serve("/file.csv", Response.text("a,b\n"))
    server.enqueue(Response(status=503), path="/file.csv")
    assert requests.get(server.url("/file.csv?x=1"), timeout=5).status_code == 503
    assert requests.get(server.url("/file.csv"), timeout=5).text == "a,b\n"
    assert requests.get(server.url("/file.csv"), timeout=5).text == "a,b\n"
    assert requests.get(server.url("/other"), timeout=5).status_code == 202
    assert [r.path for r in server.requests] == [
        "/file.csv?x=1",
        "/file.csv",
        "/file.csv",
        "/other",
    ]


def test_support_server_truncated_body_and_redirect(server: HTTPTestServer) -> None:
    server.enqueue(Response(body=b"0123456789", truncate_at=4), path="/t")
    with pytest.raises(requests.exceptions.RequestException):
        requests.get(server.url("/t"), timeout=5)
    server.enqueue(Response.redirect("/final"), path="/r")
    server.serve("/final", Response.text("here"))
    response = requests.get(server.url("/r"), timeout=5)
    assert (response.text, [h.status_code for h in response.history]) == ("here", [302])
