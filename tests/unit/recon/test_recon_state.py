"""Schedule, ack eligibility and governance state, as pure functions of inputs and an instant."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from govgate.errors import GovgateError
from govgate.model import Location
from govgate.recon import engine
from govgate.recon.loader import window_grid
from govgate.recon.model import (
    Bootstrap,
    JobOutcome,
    OverridePacket,
    ReconInputs,
    ReconPolicy,
    RemediationEvidence,
    SchedulerRow,
    WindowOutcome,
)

ANCHOR = datetime(2026, 9, 21, tzinfo=UTC)
PERIOD = timedelta(days=7)
OFFSET = timedelta(hours=6)
US = timedelta(microseconds=1)
POLICY = ReconPolicy(
    version="1.0.0", source="policies/reconciliation-policy-1.0.0.yaml", anchor=ANCHOR,
    period=PERIOD, run_offset=OFFSET, contract_max_semver=(1, 2, 0),
    contract_max_semver_text="1.2.0", page_max_gap=timedelta(days=7),
    page_grace=timedelta(hours=12), block_states=frozenset({"red"}),
    # No grace: a due window without a completed run is missed at once (the lesson's reading).
    late_grace=timedelta(0), max_runtime=timedelta(0))
#: The defaults: one hour's grace, two hours' runtime for a run started within it.
LATE_POLICY = replace(POLICY, late_grace=timedelta(hours=1), max_runtime=timedelta(hours=2))
HERE = Location("scheduler_runs.csv", 2)


def start(week: int) -> datetime:
    return ANCHOR + (week - 1) * PERIOD


def scheduled(week: int) -> datetime:
    return start(week) + PERIOD + OFFSET


def completed(week: int) -> datetime:
    return scheduled(week) + timedelta(minutes=25)


def rid(week: int) -> str:
    return f"run-{week}"


def row(week: int, status: str, *, job_run_id: str | None = None,
        at: datetime | None = None, done: datetime | None = None,
        reason: str | None = None) -> SchedulerRow:
    skipped = status == "SKIPPED"
    return SchedulerRow(
        job_run_id=job_run_id or rid(week), scheduled_at=at or scheduled(week),
        started_at=None if skipped else scheduled(week) + timedelta(minutes=5),
        completed_at=None if skipped else (done or completed(week)),
        skip_reason=(reason or "maintenance") if skipped else None, artifact_uri=None,
        status=status, location=HERE)


def outcome(job_run_id: str, status: str) -> JobOutcome:
    return JobOutcome(job_run_id, status, (), (), "sha256:" + "0" * 64, "sha256:" + "1" * 64)


class World:
    """Scheduler rows (status per week: PASS/FAIL/SKIPPED, None for no row) and side inputs."""

    def __init__(self, statuses: Iterable[str | None], **extra: Any):
        self.rows = [row(w, s) for w, s in enumerate(statuses, start=1) if s is not None]
        self.outcomes = {r.job_run_id: outcome(r.job_run_id, r.status)
                         for r in self.rows if r.status != "SKIPPED"}
        self.inputs = ReconInputs(policy=POLICY, epsilon_policies={}, runs=tuple(self.rows),
                                  jobs={}, **extra)

    def windows(self, as_of: datetime) -> list[WindowOutcome]:
        return engine.windows_at(self.inputs, self.outcomes, as_of)

    def elig(self, window: WindowOutcome, previous: WindowOutcome | None,
             at: datetime) -> str | None:
        return engine.eligibility(window, previous, self.inputs, at)

    def state(self, as_of: datetime) -> engine.StateDecision:
        return engine.decide_state(self.inputs, self.outcomes, as_of, self.elig)

    def eligibility_of(self, week: int, as_of: datetime) -> str | None:
        windows = self.windows(as_of)
        w = windows[week - 1]
        return self.elig(w, windows[week - 2] if week > 1 else None, as_of)


def bootstrap(job_run_id: str = "run-1", at: datetime = ANCHOR) -> Bootstrap:
    return Bootstrap(job_run_id, "release-lead", at, Location("bootstrap.yaml", 1))


def evidence(job_run_id: str, at: datetime, evidence_id: str = "ev-1") -> RemediationEvidence:
    return RemediationEvidence(evidence_id, job_run_id, at, Location("evidence.csv", 2))


def override(*covers: str | datetime, at: datetime = ANCHOR,
             audit_id: str = "AUD-1") -> OverridePacket:
    return OverridePacket(
        audit_id=audit_id,
        covers_job_run_ids=frozenset(c for c in covers if isinstance(c, str)),
        covers_window_starts=frozenset(c for c in covers if isinstance(c, datetime)),
        approved_by="cfo", approved_at=at, reason="audited", location=Location("o.yaml", 1))


# -- the schedule ---------------------------------------------------------------------------


def test_a_window_exists_from_its_scheduled_instant_on() -> None:
    assert window_grid(POLICY, scheduled(1) - US) == []
    assert window_grid(POLICY, scheduled(1)) == [(start(1), start(2), scheduled(1))]
    assert len(window_grid(POLICY, scheduled(3) - US)) == 2
    assert len(window_grid(POLICY, scheduled(3))) == 3


def test_a_window_with_no_scheduler_row_is_missing() -> None:
    world = World(["PASS", None, "PASS"])
    assert [w.status for w in world.windows(completed(3))] == ["PASS", "MISSING", "PASS"]
    missing = world.windows(completed(3))[1]
    assert missing.job_run_id is None
    assert missing.ref == "window@2026-09-28T00:00:00Z"


def test_a_run_completed_after_as_of_is_late_inside_its_runtime_then_running() -> None:
    world = World(["PASS", "PASS"])
    world.inputs = replace(world.inputs, policy=LATE_POLICY)
    late = world.windows(completed(2) - US)[-1]
    assert late.status == "LATE"
    # Started 5 minutes after its instant, within the 1 h grace: it may run 2 h.
    assert late.late_until == scheduled(2) + timedelta(minutes=5) + timedelta(hours=2)
    slow = World(["PASS", None])
    slow.rows.append(row(2, "PASS", done=scheduled(2) + timedelta(hours=3)))
    slow.outcomes["run-2"] = outcome("run-2", "PASS")
    slow.inputs = ReconInputs(policy=LATE_POLICY, epsilon_policies={}, runs=tuple(slow.rows),
                              jobs={})
    deadline = scheduled(2) + timedelta(minutes=5, hours=2)
    assert slow.windows(deadline - US)[-1].status == "LATE"
    assert slow.windows(deadline)[-1].status == "RUNNING"
    assert world.windows(completed(2))[-1].status == "PASS"
    assert world.windows(completed(2))[-1].completed_at == completed(2)


def test_a_row_scheduled_after_as_of_is_not_seen() -> None:
    world = World(["PASS", "PASS"])
    windows = world.windows(scheduled(2) - US)
    assert [w.job_run_id for w in windows] == ["run-1"]


def test_a_pass_without_its_inputs_counts_as_fail() -> None:
    world = World(["PASS"])
    world.outcomes.clear()
    assert world.windows(completed(1))[0].status == "FAIL"


def test_govgate_verdict_overrides_the_scheduler_claim() -> None:
    world = World(["PASS"])
    world.outcomes["run-1"] = outcome("run-1", "FAIL")
    assert world.windows(completed(1))[0].status == "FAIL"


def test_the_best_row_of_a_slot_wins() -> None:
    rows = (row(1, "FAIL", job_run_id="a"), row(1, "PASS", job_run_id="b",
                                                 done=completed(1) + timedelta(hours=1)))
    inputs = ReconInputs(policy=POLICY, epsilon_policies={}, runs=rows, jobs={})
    outcomes = {"a": outcome("a", "FAIL"), "b": outcome("b", "PASS")}
    windows = engine.windows_at(inputs, outcomes, completed(1) + timedelta(hours=2))
    assert (windows[0].status, windows[0].job_run_id) == ("PASS", "b")
    # Before the re-run completed, the FAIL row is the best there is.
    windows = engine.windows_at(inputs, outcomes, completed(1) + timedelta(minutes=1))
    assert (windows[0].status, windows[0].job_run_id) == ("FAIL", "a")


@pytest.mark.parametrize("shift", [timedelta(seconds=1), -timedelta(seconds=1), US,
                                   timedelta(hours=1), -PERIOD])
def test_scheduled_at_off_the_grid_is_bad_input(shift: timedelta) -> None:
    bad = row(1, "PASS", at=scheduled(1) + shift)
    inputs = ReconInputs(policy=POLICY, epsilon_policies={}, runs=(bad,), jobs={})
    with pytest.raises(GovgateError) as info:
        engine.check_on_schedule(bad, inputs)
    text = str(info.value)
    assert "scheduler_runs.csv" in text
    assert "row 2" in text
    assert "scheduled_at" in text
    assert "\n" not in text


def test_scheduled_at_on_the_grid_is_accepted() -> None:
    inputs = ReconInputs(policy=POLICY, epsilon_policies={}, runs=(), jobs={})
    for week in (1, 2, 30):
        engine.check_on_schedule(row(week, "PASS"), inputs)


# -- ack eligibility ------------------------------------------------------------------------


def test_green_after_a_pass() -> None:
    assert World(["PASS", "PASS"]).eligibility_of(2, completed(2)) == "green"


def test_first_window_green_only_with_the_bootstrap_record() -> None:
    assert World(["PASS"], bootstrap=bootstrap()).eligibility_of(1, completed(1)) == "green"
    assert World(["PASS"]).eligibility_of(1, completed(1)) == "amber"


def test_bootstrap_must_name_the_first_run_and_be_documented_by_as_of() -> None:
    other = World(["PASS"], bootstrap=bootstrap("run-9"))
    assert other.eligibility_of(1, completed(1)) == "amber"
    late = World(["PASS"], bootstrap=bootstrap(at=completed(1) + US))
    assert late.eligibility_of(1, completed(1)) == "amber"
    exact = World(["PASS"], bootstrap=bootstrap(at=completed(1)))
    assert exact.eligibility_of(1, completed(1)) == "green"


def test_bootstrap_covers_only_the_first_scheduled_window() -> None:
    # Week 1 had no row at all; a bootstrap naming week 2's run does not make it green.
    world = World([None, "PASS"], bootstrap=bootstrap("run-2"))
    assert world.eligibility_of(2, completed(2)) == "amber"


@pytest.mark.parametrize("before", ["FAIL", "SKIPPED", None])
def test_amber_after_fail_skip_or_missing(before: str | None) -> None:
    world = World(["PASS", before, "PASS"], bootstrap=bootstrap())
    assert world.eligibility_of(3, completed(3)) == "amber"
    assert world.state(completed(3)).state == "amber"


def test_not_a_pass_is_not_eligible_at_all() -> None:
    world = World(["PASS", "FAIL"], bootstrap=bootstrap())
    assert world.eligibility_of(2, completed(2)) is None


def test_remediation_evidence_turns_amber_green_from_its_attach_instant() -> None:
    at = completed(3) + timedelta(days=1)
    world = World(["PASS", "FAIL", "PASS"], evidence=(evidence("run-3", at),))
    assert world.eligibility_of(3, at - US) == "amber"
    assert world.eligibility_of(3, at) == "green"
    assert world.state(at).state == "green"
    assert world.state(at - US).state == "amber"


def test_evidence_naming_another_run_does_not_help() -> None:
    world = World(["PASS", "FAIL", "PASS"], evidence=(evidence("run-2", ANCHOR),))
    assert world.eligibility_of(3, completed(3)) == "amber"


def test_an_override_covering_the_amber_run_turns_it_green() -> None:
    at = completed(3) + timedelta(hours=2)
    world = World(["PASS", "SKIPPED", "PASS"], overrides=(override("run-3", at=at),))
    assert world.eligibility_of(3, at - US) == "amber"
    assert world.eligibility_of(3, at) == "green"


def test_an_override_for_another_window_does_not_turn_amber_green() -> None:
    world = World(["PASS", "SKIPPED", "PASS"], overrides=(override("run-1"),))
    assert world.eligibility_of(3, completed(3)) == "amber"


# -- the governance state -------------------------------------------------------------------


@pytest.mark.parametrize("pair", [("SKIPPED", "SKIPPED"), ("FAIL", "FAIL"), ("SKIPPED", "FAIL"),
                                  ("FAIL", "SKIPPED"), (None, "SKIPPED"), ("SKIPPED", None),
                                  (None, None), ("FAIL", None)])
def test_two_consecutive_windows_without_pass_are_red(pair: tuple[str | None, str | None]) -> None:
    world = World(["PASS", "PASS", *pair], bootstrap=bootstrap())
    decision = world.state(completed(4))
    assert decision.state == "red"
    assert [w.index for w in decision.missed_streak] == [2, 3]
    assert decision.latest is not None and decision.latest.index == 3


@pytest.mark.parametrize("missed", ["SKIPPED", "FAIL", None])
def test_one_missed_window_is_amber(missed: str | None) -> None:
    world = World(["PASS", "PASS", missed], bootstrap=bootstrap())
    decision = world.state(completed(3))
    assert decision.state == "amber"
    assert len(decision.missed_streak) == 1


def test_a_pass_between_two_misses_is_not_red() -> None:
    world = World(["SKIPPED", "PASS", "SKIPPED"], bootstrap=bootstrap())
    assert world.state(completed(3)).state == "amber"


def test_red_starts_at_the_second_missed_window_and_ends_with_a_pass() -> None:
    world = World(["PASS", "SKIPPED", "SKIPPED", "PASS"], bootstrap=bootstrap())
    assert world.state(scheduled(3) - US).state == "amber"
    assert world.state(scheduled(3)).state == "red"
    assert world.state(completed(4) - US).state == "red"  # week 4 still running
    assert world.state(completed(4)).state == "amber"  # a PASS after a skip: amber hold


def test_override_covering_both_missed_windows_lifts_red() -> None:
    # Week 3 was skipped (it has a row); week 4 has no row at all, so it is named by its start.
    packet = override("run-3", start(4), at=completed(4))
    world = World(["PASS", "PASS", "SKIPPED", None], bootstrap=bootstrap(),
                  overrides=(packet,))
    assert world.state(scheduled(4)).state == "red"
    decision = world.state(completed(4))
    assert decision.state == "amber"
    assert decision.overridden_by == ("AUD-1",)


def test_overrides_from_two_packets_together_cover_the_pair() -> None:
    world = World(["PASS", "PASS", "SKIPPED", None], bootstrap=bootstrap(), overrides=(
        override("run-3", audit_id="AUD-1"), override(start(4), audit_id="AUD-2")))
    decision = world.state(completed(4))
    assert decision.state == "amber"
    assert decision.overridden_by == ("AUD-1", "AUD-2")


@pytest.mark.parametrize("covers", [("run-3",), (start(4),), ("run-4",), (start(3),)])
def test_override_covering_only_one_window_leaves_red(covers: tuple[str | datetime]) -> None:
    # Each packet names one of the two missed windows (run-4 names nothing: week 4 has no row).
    world = World(["PASS", "PASS", "SKIPPED", None], bootstrap=bootstrap(),
                  overrides=(override(*covers),))
    assert world.state(completed(4)).state == "red"


def test_an_override_approved_after_as_of_does_not_count() -> None:
    at = completed(4) + timedelta(days=1)
    world = World(["PASS", "PASS", "SKIPPED", "SKIPPED"], bootstrap=bootstrap(),
                  overrides=(override("run-3", "run-4", at=at),))
    assert world.state(at - US).state == "red"
    assert world.state(at).state == "amber"


def test_no_window_due_yet() -> None:
    decision = World([]).state(scheduled(1) - US)
    assert decision.latest is None
    assert decision.missed_streak == ()


def test_the_running_latest_window_counts_as_not_passed() -> None:
    # Finer point: a run completed after as-of is still running, so it has no PASS row yet.
    world = World(["PASS", "PASS"], bootstrap=bootstrap())
    assert world.state(scheduled(2) - US).state == "green"
    assert world.state(scheduled(2)).state == "amber"
    assert world.state(completed(2)).state == "green"
