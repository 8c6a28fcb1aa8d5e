"""Pages that trigger and resolve, against a real PagerDuty-like server on 127.0.0.1.

A double skip then a PASS: one trigger and one resolve with the same dedup_key, however many
runs follow; configuration that cannot deliver is refused before anything is written; the
server's answers never reach any output.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from tests.conftest import Project
from tests.support.httpserver import HTTPTestServer, Response

from govgate.ledger import Ledger

ENV = "GOVGATE_TEST_ROUTING_KEY"
SECRET = "R0UT1NG-KEY-secret-value-42"


@pytest.fixture
def server() -> Iterator[HTTPTestServer]:
    with HTTPTestServer(default=Response.json({"status": "success"}, status=202)) as srv:
        yield srv


@pytest.fixture(autouse=True)
def routing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, SECRET)


def with_webhook(project: Project, server: HTTPTestServer, **extra: Any) -> Project:
    hook = {"url": server.url("/v2/enqueue"), "routing_key_env": ENV, "allow_http": True,
            "backoff_seconds": 0, "max_attempts": 2, **extra}
    project.update_config(paging={"outbox": ".govgate/pager-outbox.jsonl", "webhook": hook})
    return project


def events(server: HTTPTestServer) -> Counter[tuple[str, str]]:
    return Counter((r.json()["dedup_key"], r.json()["event_action"]) for r in server.requests)


def test_double_skip_then_pass_triggers_once_and_resolves_once(make_project, sched,
                                                               server: HTTPTestServer) -> None:
    project = with_webhook(make_project(weeks=9, skips={5: "maintenance", 6: "maintenance"}),
                           server)
    red = f"govgate:reconcile:red:{sched.run_id(5)}"
    assert project.check(sched.after(6)).code == 1
    assert events(server)[(red, "trigger")] == 1 and events(server)[(red, "resolve")] == 0
    assert project.check(sched.after(7)).code == 0
    # Three more runs, one of them at the same instant: nothing is sent again.
    for as_of in (sched.after(7), sched.after(8), sched.after(9)):
        assert project.check(as_of).code == 0
    sent = events(server)
    assert sent[(red, "trigger")] == 1 and sent[(red, "resolve")] == 1
    assert all(count == 1 for count in sent.values()), sent
    resolve = next(r.json() for r in server.requests
                   if r.json()["dedup_key"] == red and r.json()["event_action"] == "resolve")
    assert resolve["routing_key"] == SECRET
    summary = resolve["payload"]["summary"]
    assert "2 scheduled windows missed" in summary and sched.run_id(6) in summary
    assert f"run {sched.run_id(7)} passed" in summary
    details = resolve["payload"]["custom_details"]
    assert details["missed_count"] == 2
    assert details["closed_at"] == sched.iso(sched.completed(7))  # the PASS that ended it
    opened = datetime.fromisoformat(details["opened_at"].replace("Z", "+00:00"))
    # Red began once the second window was missed (its scheduled instant, or after a grace).
    assert sched.scheduled(6) <= opened < sched.completed(7)
    assert details["duration_seconds"] == int((sched.completed(7) - opened).total_seconds())
    # The ledger: one intent and one receipt per event, the incident and its closing record.
    keys = [r["key"] for r in project.ledger_records()]
    assert len(keys) == len(set(keys))
    for key in (f"page:{red}", f"resolve:{red}", f"page:webhook:{red}", f"resolve:webhook:{red}",
                f"page:outbox:{red}", f"resolve:outbox:{red}",
                f"incident:reconcile:red:{sched.run_id(5)}",
                f"incident:reconcile:red:{sched.run_id(5)}:closed"):
        assert key in keys, key
    assert Ledger(project.ledger).verify().ok


def test_the_completion_gap_page_resolves_with_the_next_pass(make_project, sched,
                                                            server: HTTPTestServer) -> None:
    project = with_webhook(make_project(weeks=8, skips={5: "maintenance", 6: "maintenance"}),
                           server)
    gap = f"govgate:reconcile:gap:{sched.run_id(4)}"
    assert project.check(sched.after(8)).code == 0
    assert events(server)[(gap, "trigger")] == events(server)[(gap, "resolve")] == 1


def test_a_run_after_the_episode_sends_what_runs_during_it_sent(make_project, sched,
                                                                tmp_path, server) -> None:
    """t1 then t2 or t2 alone: the same events reach the pager, the same facts the ledger."""
    along = with_webhook(make_project(tmp_path / "along", weeks=8,
                                      skips={5: "maintenance", 6: "maintenance"}), server)
    for week in (5, 6, 7, 8):
        along.check(sched.after(week))
    along_events = events(server)
    once = with_webhook(make_project(tmp_path / "once", weeks=8,
                                     skips={5: "maintenance", 6: "maintenance"}), server)
    once.check(sched.after(8))
    assert events(server) - along_events == along_events

    def facts(project: Project) -> dict[str, Any]:
        return {r.key: (r.kind, r.at, r.data) for r in Ledger(project.ledger).records()}

    assert facts(along) == facts(once)


def test_a_red_after_an_override_is_a_new_episode(make_project, sched,
                                                  server: HTTPTestServer) -> None:
    """PASS, FAIL, SKIP, an override for both, then SKIP: the new red pages under a new key."""
    project = with_webhook(make_project(weeks=7, skips={6: "maintenance", 7: "maintenance"},
                                        drifts={(5, "dau"): "50"}), server)
    project.add_overrides({"audit_id": "AUD-7", "covers": [sched.run_id(5), sched.run_id(6)],
                           "approved_by": "vp-ops",
                           "approved_at": sched.iso(sched.scheduled(6) - timedelta(hours=1)),
                           "reason": "known outage"})
    run = project.check(sched.after(7))
    assert run.json()["state"] == "red"
    triggers = [k for (k, action) in events(server) if action == "trigger" and ":red:" in k]
    # Paged once, and not under the key of the streak's first window (W5, covered and
    # possibly paged long ago): the episode is named by the windows that made it red.
    assert len(triggers) == 1 and sched.run_id(5) not in triggers[0]
    (incident,) = project.ledger_records("incident")
    assert sched.run_id(5) not in incident["data"]["missed_windows"]
    assert sched.run_id(7) in incident["data"]["missed_windows"]


# -- refused before anything is written ------------------------------------------------------


@pytest.mark.parametrize(("hook", "where"), [
    ({"routing_key_env": "GOVGATE_UNSET_VARIABLE"}, "webhook.routing_key_env"),
    ({"url": "http://[::1"}, "webhook.url"),
    ({"url": "http://127.0.0.1:99999/x"}, "webhook.url"),
    ({"url": "ftp://127.0.0.1/x"}, "webhook.url"),
    ({"url": "http://127.0.0.1/a b"}, "webhook.url"),
])
def test_a_webhook_that_cannot_deliver_is_refused_naming_the_key(
        make_project, sched, server: HTTPTestServer, hook: dict[str, Any], where: str) -> None:
    from govgate.config import load_config
    from govgate.delivery import validate_delivery
    from govgate.errors import GovgateError, UsageError

    project = with_webhook(make_project(skips={5: "maintenance", 6: "maintenance"}), server,
                           **hook)
    try:
        config = load_config(None, cwd=project.root)
    except GovgateError as exc:  # the configuration's own URL check came first
        assert "/paging/webhook/url" in str(exc.where)
    else:
        with pytest.raises(UsageError) as excinfo:
            validate_delivery(config)
        assert excinfo.value.where == where
    run = project.check(sched.after(6))
    # The configuration's own URL check may name the place first (/paging/webhook/url).
    shown = (where, "/paging/" + where.replace(".", "/"))
    assert run.code == 2 and any(w in run.err for w in shown) and SECRET not in run.err
    assert not project.ledger.exists() and not project.outbox.exists()
    assert project.output_files() == {}  # refused before anything was written
    assert server.requests == []


# -- the server's answer never reaches an output ---------------------------------------------


ECHO = f"invalid routing key {SECRET} \x1b]0;owned\x07\x1b[31mRED\x1b[0m\nforged line"


@pytest.mark.parametrize("status", [400, 403, 500, 503])
def test_the_response_body_is_never_quoted(make_project, sched, server: HTTPTestServer,
                                           status: int) -> None:
    server.enqueue(*[Response.text(ECHO, status=status)] * 8)
    project = with_webhook(make_project(skips={5: "maintenance", 6: "maintenance"}), server)
    run = project.check(sched.after(6), fmt="json")
    assert run.code == 1
    outputs = {"stdout": run.out, "stderr": run.err}
    for name, data in project.output_files().items():
        outputs[name] = data.decode("utf-8", "replace")
    for name, text in outputs.items():
        for leak in ("invalid routing key", SECRET, SECRET[:12], "\x1b", "owned", "forged"):
            assert leak not in text, (name, leak)
    failed = [f for f in run.json()["findings"] if f["rule"] == "delivery.page-failed"]
    assert failed and all(f"HTTP {status} (" in f["message"] for f in failed)


def test_an_undelivered_page_is_sent_by_the_next_run(make_project, sched,
                                                     server: HTTPTestServer) -> None:
    server.enqueue(Response(status=503), Response(status=503))
    project = with_webhook(make_project(skips={5: "maintenance", 6: "maintenance"}), server,
                           max_attempts=1)
    first = project.check(sched.after(6))
    assert first.code == 1
    failed = {f["subject"] for f in first.json()["findings"] if f["rule"] == "delivery.page-failed"}
    assert len(failed) == 2  # the gap page and the red page
    keys = {r["key"] for r in project.ledger_records()}
    assert {f"page:{k}" for k in failed} <= keys  # the intents are in, pending
    assert not {f"page:webhook:{k}" for k in failed} & keys
    second = project.check(sched.after(6))
    assert not [f for f in second.json()["findings"] if f["rule"] == "delivery.page-failed"]
    keys = {r["key"] for r in project.ledger_records()}
    assert {f"page:webhook:{k}" for k in failed} <= keys
    delivered = [r for r in server.requests[2:]]
    assert sorted(r.json()["dedup_key"] for r in delivered) == sorted(failed)


def test_a_hostile_ledger_line_is_exit_2_naming_the_line(make_project, sched) -> None:
    project = make_project(skips={5: "maintenance", 6: "maintenance"})
    project.ledger.parent.mkdir(parents=True, exist_ok=True)
    project.ledger.write_bytes(b'{"at":' + b"[" * 200_000 + b"\n")
    run = project.check(sched.after(6))
    assert run.code == 2 and "Traceback" not in run.err
    assert "ledger.jsonl: line 1: " in run.err and "nested too deeply" in run.err
    verify = project.run("ledger", "verify")
    assert verify.code == 2 and verify.out.startswith("ledger BROKEN at line 1: ")


# -- late data that erases a paged condition -----------------------------------------------------


def test_a_page_whose_condition_late_data_erased_is_resolved_once(
        make_project, sched, server: HTTPTestServer) -> None:
    """Paged red, then rows that arrived late show the condition never held: the page resolves
    (once, after its trigger) and the incident closes, instead of staying open for ever."""
    project = with_webhook(make_project(weeks=8, skips={5: "maintenance", 6: "maintenance"}),
                           server)
    red = f"govgate:reconcile:red:{sched.run_id(5)}"
    assert project.check(sched.after(6)).code == 1
    assert events(server)[(red, "trigger")] == 1
    # Approved before the second window was missed; its packet reached the repository later.
    project.add_overrides({"audit_id": "AUD-LATE", "covers": [sched.run_id(5), sched.run_id(6)],
                           "approved_by": "vp-ops",
                           "approved_at": sched.iso(sched.scheduled(5) + timedelta(hours=1)),
                           "reason": "known outage"})
    for week in (6, 7, 8):
        project.check(sched.after(week))
    sent = events(server)
    assert sent[(red, "trigger")] == 1 and sent[(red, "resolve")] == 1, sent
    order = [(r.json()["dedup_key"], r.json()["event_action"]) for r in server.requests]
    assert order.index((red, "trigger")) < order.index((red, "resolve"))
    keys = [r["key"] for r in project.ledger_records()]
    assert len(keys) == len(set(keys))
    incident = f"incident:reconcile:red:{sched.run_id(5)}"
    assert incident in keys and f"{incident}:closed" in keys
    assert Ledger(project.ledger).verify().ok
