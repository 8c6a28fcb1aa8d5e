"""Late versus missed, red_after_missed and cron calendars, through ``govgate check``.

The shipped policy gives a due run one hour of grace (``late_grace: PT1H``) and a run that
started within it two hours (``max_runtime: PT2H``); simulated runs start 5 minutes after their
scheduled instant and complete 20 minutes later.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import REPO, iso

US = timedelta(microseconds=1)
SECOND = timedelta(seconds=1)
GRACE = timedelta(hours=1)
RUNTIME = timedelta(hours=2)
POLICY = Path("policies/reconciliation-policy-1.0.0.yaml")


def section(result: dict[str, Any]) -> dict[str, Any]:
    recon: dict[str, Any] = result["sections"]["reconciliation"]
    return recon


def status(result: dict[str, Any], week: int) -> str:
    value: str = section(result)["windows"][week - 1]["status"]
    return value


def rules(result: dict[str, Any], rule: str) -> list[dict[str, Any]]:
    return [f for f in result["findings"] if f["rule"] == rule]


def red_pages(result: dict[str, Any], action: str = "trigger") -> list[str]:
    return [p["dedup_key"] for p in result["pages"]
            if ":red:" in p["dedup_key"] and p.get("action", "trigger") == action]


# -- the shipped demo ----------------------------------------------------------------------------


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    for name in ("govgate.yaml", "policies", "fixtures"):
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, tmp_path / name)
        else:
            shutil.copy(src, tmp_path / name)
    return tmp_path


@pytest.mark.parametrize(("at", "w44"), [
    ("2026-11-02T05:59:00Z", None),
    ("2026-11-02T05:59:59.999999Z", None),
    ("2026-11-02T06:00:00Z", "LATE"),          # due, not started
    ("2026-11-02T06:05:00Z", "LATE"),          # started
    ("2026-11-02T06:10:00Z", "LATE"),          # running
    ("2026-11-02T06:24:59.999999Z", "LATE"),
    ("2026-11-02T06:25:00Z", "PASS"),          # completed
    ("2026-11-02T06:30:00Z", "PASS"),
])
def test_the_demo_stays_green_while_the_w44_run_is_in_progress(run_cli, demo: Path, at: str,
                                                                w44: str | None) -> None:
    run = run_cli(["check", "--as-of", at, "--format", "json", "--no-deliver"], demo)
    result = run.json()
    assert result["state"] == "green"
    windows = section(result)["windows"]
    assert (windows[5]["status"] if len(windows) == 6 else None) == w44
    late = rules(result, "reconcile.late")
    assert [f["subject"] for f in late] == (["recon-2026-W44"] if w44 == "LATE" else [])
    assert section(result)["late_windows"] == (["recon-2026-W44"] if w44 == "LATE" else [])
    assert all(not f["blocking"] for f in late)


def test_late_is_in_every_output(run_cli, demo: Path) -> None:
    at = "2026-11-02T06:10:00Z"
    text = " ".join(run_cli(["check", "--as-of", at, "--no-deliver"], demo).out.split())
    assert ("late (not counted yet): recon-2026-W44 due 2026-11-02T06:00:00Z, missed at "
            "2026-11-02T08:05:00Z unless it completes") in text  # wrapped to the terminal
    summary = (demo / "govgate-out" / "summary.md").read_text(encoding="utf-8")
    assert "Late, not counted yet: recon-2026-W44" in summary
    assert any(" | ".join(c.strip() for c in line.split("|")[2:4]) == "recon-2026-W44 | ⏳ LATE"
               for line in summary.splitlines())  # the weeks table: Run | Status
    metrics = run_cli(["check", "--as-of", at, "--format", "openmetrics", "--no-deliver"],
                      demo).out
    assert "govgate_reconcile_late_windows 1\n" in metrics
    result = run_cli(["check", "--as-of", at, "--format", "json", "--no-deliver"], demo).json()
    w44 = section(result)["windows"][5]
    assert (w44["status"], w44["late_until"]) == ("LATE", "2026-11-02T08:05:00Z")
    done = run_cli(["check", "--as-of", "2026-11-02T06:30:00Z", "--format", "openmetrics",
                    "--no-deliver"], demo).out
    assert "govgate_reconcile_late_windows 0\n" in done


# -- late, then missed: the boundaries -----------------------------------------------------------


@pytest.mark.parametrize("step", [US, SECOND])
def test_a_window_without_a_row_is_late_for_the_grace_then_missed(make_project, sched,
                                                                  step: timedelta) -> None:
    project = make_project(silent=[6])
    deadline = sched.scheduled(6) + GRACE
    before = project.check(sched.scheduled(6) - step).json()
    assert (len(section(before)["windows"]), before["state"]) == (5, "green")
    inside = project.check(deadline - step).json()
    assert (status(inside, 6), inside["state"]) == ("LATE", "green")
    at = project.check(deadline).json()
    assert (status(at, 6), at["state"]) == ("MISSING", "amber")
    after = project.check(deadline + step).json()
    assert (status(after, 6), after["state"]) == ("MISSING", "amber")


@pytest.mark.parametrize("step", [US, SECOND])
def test_a_late_window_after_a_miss_is_not_red_until_its_grace_is_over(make_project, sched,
                                                                        step: timedelta) -> None:
    project = make_project(skips={5: "maintenance"}, silent=[6])
    deadline = sched.scheduled(6) + GRACE
    inside = project.check(deadline - step, "--no-deliver").json()
    assert inside["state"] == "amber"  # from week 5's skip alone
    assert red_pages(inside) == []
    at = project.check(deadline, "--no-deliver")
    assert at.json()["state"] == "red"
    assert at.code == 1
    assert red_pages(at.json()) == [f"govgate:reconcile:red:{sched.run_id(5)}"]
    red = [p for p in at.json()["pages"] if ":red:" in p["dedup_key"]]
    assert red[0]["at"] == iso(deadline)


@pytest.mark.parametrize("step", [US, SECOND])
def test_a_started_run_may_run_for_max_runtime(make_project, sched, step: timedelta) -> None:
    project = make_project()
    started = sched.scheduled(6) + timedelta(minutes=5)
    project.edit_run(6, started_at=started, completed_at=started + RUNTIME + timedelta(hours=1))
    deadline = started + RUNTIME
    inside = project.check(deadline - step).json()
    assert (status(inside, 6), inside["state"]) == ("LATE", "green")
    at = project.check(deadline).json()
    assert (status(at, 6), at["state"]) == ("RUNNING", "amber")
    done = project.check(started + RUNTIME + timedelta(hours=1)).json()
    assert (status(done, 6), done["state"]) == ("PASS", "green")


def test_a_run_completed_exactly_at_its_deadline_was_never_missed(make_project, sched) -> None:
    project = make_project()
    started = sched.scheduled(6) + timedelta(minutes=5)
    project.edit_run(6, started_at=started, completed_at=started + RUNTIME)
    at = project.check(started + RUNTIME).json()
    assert (status(at, 6), at["state"]) == ("PASS", "green")


@pytest.mark.parametrize(("offset", "deadline_after"), [
    (GRACE - SECOND, GRACE - SECOND + RUNTIME),  # started inside the grace: may run 2 h
    (GRACE, GRACE),                              # started when the grace ended: missed then
])
def test_only_a_run_started_within_the_grace_gets_max_runtime(
        make_project, sched, offset: timedelta, deadline_after: timedelta) -> None:
    project = make_project()
    started = sched.scheduled(6) + offset
    project.edit_run(6, started_at=started, completed_at=started + timedelta(hours=5))
    deadline = sched.scheduled(6) + deadline_after
    assert status(project.check(deadline - US).json(), 6) == "LATE"
    assert status(project.check(deadline).json(), 6) == "RUNNING"


def test_an_ack_of_a_late_window_is_refused(make_project, sched) -> None:
    project = make_project()
    at = sched.scheduled(6) + timedelta(minutes=10)
    project.add_acks({"ack_id": "ACK-late", "job_run_id": sched.run_id(6), "signer_id": "alex",
                      "ack_dt_utc": at})
    result = project.check(at).json()
    refused = rules(result, "reconcile.ack-refused")
    assert [f["subject"] for f in refused] == ["ACK-late"]
    assert "LATE" in refused[0]["message"] and "not complete" in refused[0]["message"]
    assert refused[0]["blocking"] is True


# -- red_after_missed ----------------------------------------------------------------------------


def set_policy(project: Any, **schedule: Any) -> None:
    def edit(doc: dict[str, Any]) -> None:
        for key, value in schedule.items():
            if key == "red_after_missed":
                doc[key] = value
            elif value is None:
                doc["schedule"].pop(key, None)
            else:
                doc["schedule"][key] = value
    project.edit_doc(POLICY, edit)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_red_after_missed_consecutive_windows(make_project, sched, n: int) -> None:
    project = make_project(skips={3: "maintenance", 4: "maintenance", 5: "manual_pause"})
    set_policy(project, red_after_missed=n)
    for missed in (1, 2, 3):
        week = 2 + missed
        result = project.check(sched.scheduled(week), "--no-deliver").json()
        assert result["state"] == ("red" if missed >= n else "amber"), (n, missed)
        pages = red_pages(result)
        assert pages == ([f"govgate:reconcile:red:{sched.run_id(3)}"] if missed >= n else [])
    assert section(result)["red_after_missed"] == n


@pytest.mark.parametrize(("key", "value", "fragment"), [
    ("red_after_missed", 0, "1 or more"),
    ("red_after_missed", "2", "whole number"),
    ("late_grace", "1h", "ISO 8601 duration"),
    ("max_runtime", "PT-1H", "ISO 8601 duration"),
    ("cron", "0 6 * * MON", "timezone"),
    ("timezone", "Europe/Berlin", "cron"),
])
def test_bad_schedule_keys_are_bad_input(make_project, sched, key: str, value: Any,
                                         fragment: str) -> None:
    project = make_project()
    set_policy(project, **{key: value})
    run = project.check(sched.after(6))
    assert run.code == 2, run.err
    assert "reconciliation-policy-1.0.0.yaml" in run.err
    assert fragment in run.err
    assert run.err.count("\n") == 1
    assert not project.output.exists()


# -- cron calendars ------------------------------------------------------------------------------


def test_a_utc_cron_schedule_gives_the_weekly_windows(make_project, sched) -> None:
    project = make_project()
    weekly = project.check(sched.after(6)).json()
    set_policy(project, period=None, cron="0 0 * * MON", timezone="UTC")
    cron = project.check(sched.after(6)).json()
    assert section(cron)["windows"] == section(weekly)["windows"]
    assert cron["state"] == "green"


@pytest.mark.parametrize(("changes", "fragment"), [
    ({"cron": "0 0 * * MON", "timezone": "UTC"}, "exactly one of period"),
    ({"period": None, "cron": "0 0 * * MOON", "timezone": "UTC"}, "/schedule/cron"),
    ({"period": None, "cron": "0 0 * * MON", "timezone": "Mars/Olympus"}, "unknown IANA"),
    ({"period": None, "cron": "0 6 * * MON", "timezone": "UTC"}, "is not an instant of cron"),
    ({"period": None, "cron": "0 2 * * MON", "timezone": "Europe/Berlin"},
     "is not a scheduled instant"),
])
def test_cron_mistakes_are_bad_input(make_project, sched, changes: dict[str, Any],
                                     fragment: str) -> None:
    # The last case: Monday 02:00 in Berlin is 00:00Z in summer, 01:00Z after 2026-10-25; the
    # anchor fits, the weekly rows after the change are off the calendar.
    project = make_project()
    set_policy(project, **changes)
    run = project.check(sched.after(6))
    assert run.code == 2, run.err
    assert fragment in run.err
    assert run.err.count("\n") == 1


def test_cron_windows_are_reported_in_utc_across_a_dst_change(make_project, sched) -> None:
    project = make_project(weeks=4)
    set_policy(project, period=None, cron="0 2 * * MON", timezone="Europe/Berlin")
    result = project.check(datetime(2026, 10, 26, 7, 30, tzinfo=UTC)).json()
    windows = section(result)["windows"]
    assert [(w["start_inclusive"], w["end_exclusive"], w["scheduled_at"]) for w in windows[3:]] \
        == [("2026-10-12T00:00:00Z", "2026-10-19T00:00:00Z", "2026-10-19T06:00:00Z"),
            # Berlin fell back on 2026-10-25: this window is 169 hours long.
            ("2026-10-19T00:00:00Z", "2026-10-26T01:00:00Z", "2026-10-26T07:00:00Z")]
    assert [w["status"] for w in windows] == ["PASS"] * 4 + ["LATE"]
    assert result["state"] == "green"


# -- a red that returns after an override --------------------------------------------------------


def test_a_red_after_an_override_pages_again_and_names_only_its_uncovered_window(
        make_project, sched) -> None:
    """W41 PASS, W42 FAIL, W43 SKIPPED, an override covering W42 and W43, then W44 SKIPPED."""
    project = make_project(drifts={(4, "tickets_p95"): "5"}, skips={5: "maintenance",
                                                                     6: "maintenance"})
    w42, w43, w44 = sched.run_id(4), sched.run_id(5), sched.run_id(6)
    first = project.check(sched.scheduled(5) + timedelta(minutes=1))
    assert first.json()["state"] == "red"
    assert red_pages(first.json()) == [f"govgate:reconcile:red:{w42}"]
    approved = sched.scheduled(5) + timedelta(days=1)
    project.add_overrides({"audit_id": "AUD-42", "covers": [w42, w43], "approved_by": "vp-ops",
                           "approved_at": approved, "reason": "audited partner freeze"})
    assert project.check(approved).json()["state"] == "amber"
    again = project.check(sched.scheduled(6) + timedelta(minutes=1))
    result = again.json()
    assert result["state"] == "red"
    assert again.code == 1
    key = f"govgate:reconcile:red:{w44}:partial"
    # The first red was ended by the override (resolved); the returning red pages anew.
    assert red_pages(result) == [f"govgate:reconcile:red:{w42}", key]
    assert red_pages(result, "resolve") == [f"govgate:reconcile:red:{w42}"]
    outbox = [json.loads(line) for line in
              project.outbox.read_text(encoding="utf-8").splitlines()]
    assert [(p["data"]["dedup_key"], p["data"]["event_action"]) for p in outbox
            if ":red:" in p["data"]["dedup_key"]] == [
        (f"govgate:reconcile:red:{w42}", "trigger"), (f"govgate:reconcile:red:{w42}", "resolve"),
        (key, "trigger")]
    incidents = {r["key"]: r["data"] for r in project.ledger_records("incident")}
    assert incidents[f"incident:reconcile:red:{w44}:partial"]["missed_windows"] == [w44]
    assert incidents[f"incident:reconcile:red:{w42}"]["missed_windows"] == [w42, w43]
    episodes = [(e["key"], e["closed_by"], e["missed_windows"]) for e in result["episodes"]
                if e["kind"] == "reconcile.red"]
    assert episodes == [(f"govgate:reconcile:red:{w42}", "override:AUD-42", 2), (key, None, 1)]


def test_simulate_follows_a_cron_calendar(run_cli, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(REPO / "policies", home / "policies")
    policy = home / POLICY
    text = policy.read_text(encoding="utf-8").replace(
        "  period: P7D\n", "  cron: \"0 2 * * MON\"\n  timezone: Europe/Berlin\n")
    policy.write_text(text, encoding="utf-8")
    (home / "govgate.yaml").write_text("policies: policies\n", encoding="utf-8")
    out = tmp_path / "sim"
    assert run_cli(["simulate", "--out", str(out), "--weeks", "7"], home).code == 0
    run = run_cli(["check", "--as-of", "2026-11-09T08:00:00Z", "--format", "json"], out)
    assert run.code == 0, run.err
    windows = section(run.json())["windows"]
    assert [w["status"] for w in windows] == ["PASS"] * 7
    assert windows[5]["end_exclusive"] == "2026-11-02T01:00:00Z"  # 02:00 CET
