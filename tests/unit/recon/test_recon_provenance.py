"""Inputs must belong to the run they decide: each rule pinned at its boundary."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from tests.unit.recon.test_recon_jobs import END, EPS, INPUTS, POLICY, START, job

from govgate.errors import GovgateError
from govgate.loaders.tables import read_table
from govgate.model import Location
from govgate.recon import engine, provenance
from govgate.recon.loader import _check_time_order
from govgate.recon.model import JobInputs, JobOutcome, SchedulerRow

US = timedelta(microseconds=1)
SCHEDULED = END + POLICY.run_offset  # run-1 reconciles [START, END)
APPROVED = datetime(2026, 9, 15, tzinfo=UTC)
AS_OF = SCHEDULED + timedelta(hours=1)


def row(job_run_id: str = "run-1", scheduled_at: datetime = SCHEDULED) -> SchedulerRow:
    return SchedulerRow(job_run_id, scheduled_at, scheduled_at + timedelta(minutes=5),
                        scheduled_at + timedelta(minutes=25), None, None, "PASS",
                        Location("runs.csv", 2))


def inputs(*, approved_at: datetime | None = APPROVED, scheduled_at: datetime = SCHEDULED,
           ) -> engine.ReconInputs:
    eps = replace(EPS, approved_at=approved_at, approved_by="lead" if approved_at else None)
    return replace(INPUTS, epsilon_policies={"1.1.0": eps}, runs=(row("run-1", scheduled_at),))


def problems(j: JobInputs, recon: engine.ReconInputs, as_of: datetime = AS_OF) -> list[str]:
    return list(engine.evaluate_job(j, recon, engine.compare_metric, as_of).problems)


def filed(j: JobInputs, folder: str = "run-1") -> JobInputs:
    return replace(j, job_run_id=folder)


def test_inputs_of_their_own_run_and_window_have_no_problem() -> None:
    outcome = engine.evaluate_job(filed(job()), inputs(), engine.compare_metric, AS_OF)
    assert (outcome.status, outcome.problems, outcome.decided_from) == ("PASS", (), APPROVED)


def test_the_scheduled_window_inverts_the_schedule() -> None:
    assert provenance.scheduled_window(POLICY, SCHEDULED) == (START, END)
    assert provenance.scheduled_window(POLICY, SCHEDULED + POLICY.period) == (
        END, END + POLICY.period)


def test_a_manifest_naming_another_run_fails_the_run_of_its_folder() -> None:
    outcome = engine.evaluate_job(filed(job(), "run-2"),
                                  replace(inputs(), runs=(row("run-2"),)),
                                  engine.compare_metric, AS_OF)
    assert outcome.job_run_id == "run-2" and outcome.status == "FAIL"
    assert outcome.problems[0] == ("provenance: the manifest names job_run_id run-1, but its "
                                   "folder is run-2's: these inputs belong to another run")


@pytest.mark.parametrize("shift", [POLICY.period, -POLICY.period, US, -US])
def test_a_consistent_job_of_another_window_fails(shift: timedelta) -> None:
    # Manifest and both exports agree with each other; only the schedule says they are wrong.
    recon = inputs(scheduled_at=SCHEDULED + shift)
    found = problems(filed(job()), recon)
    assert len(found) == 1 and "belong to another window" in found[0]
    assert not any("window parity" in p for p in found)


@pytest.mark.parametrize(("approved_at", "ok"), [
    (AS_OF - US, True), (AS_OF, True), (AS_OF + US, False), (None, False)])
def test_the_epsilon_policy_must_be_approved_at_or_before_as_of(
        approved_at: datetime | None, ok: bool) -> None:
    found = problems(filed(job()), inputs(approved_at=approved_at))
    assert (found == []) is ok
    if not ok:
        assert found == [
            "provenance: epsilon_policy 1.1.0 (policies/epsilon-policy-1.1.0.yaml) is not "
            "approved (approved_by, approved_dt_utc) at or before 2026-10-12T07:00:00Z: it "
            "cannot decide the run"]


def test_the_message_of_a_late_approval_names_no_instant_after_as_of() -> None:
    late = AS_OF + timedelta(days=3, hours=5)
    found = problems(filed(job()), inputs(approved_at=late))
    assert found == problems(filed(job()), inputs(approved_at=None))


def test_before_its_approval_a_verdict_counts_as_fail() -> None:
    run = row()
    assert run.completed_at is not None
    approved = run.completed_at + timedelta(hours=1)  # after the run completed
    outcome = JobOutcome("run-1", "PASS", (), (), "h", "h", decided_from=approved)
    assert engine.effective_status(run, {"run-1": outcome}, approved) == "PASS"
    assert engine.effective_status(run, {"run-1": outcome}, approved - US) == "FAIL"
    undecided = replace(outcome, decided_from=None)
    assert engine.effective_status(run, {"run-1": undecided}, approved - US) == "PASS"


# -- time order of a scheduler row's own timestamps --------------------------------------------


def check(scheduled: datetime, started: datetime | None, completed: datetime | None) -> None:
    rows = read_table(b"job_run_id,scheduled_at,status\nrun-1,2026-10-12T06:00:00Z,PASS\n",
                      "runs.csv", "scheduler_run")
    _check_time_order(rows[0], scheduled, started, completed)


@pytest.mark.parametrize(("started", "completed"), [
    (SCHEDULED, SCHEDULED), (SCHEDULED, None), (None, SCHEDULED), (None, None),
    (SCHEDULED + US, SCHEDULED + US)])
def test_timestamps_in_order_are_accepted(started: datetime | None,
                                          completed: datetime | None) -> None:
    check(SCHEDULED, started, completed)


@pytest.mark.parametrize(("started", "completed", "column", "earlier"), [
    (SCHEDULED - US, SCHEDULED, "started_at", "scheduled_at"),
    (SCHEDULED + US, SCHEDULED, "completed_at", "started_at"),
    (SCHEDULED + 2 * US, SCHEDULED + US, "completed_at", "started_at"),
    (None, SCHEDULED - US, "completed_at", "scheduled_at"),
    (None, START, "completed_at", "scheduled_at"),  # before its window even closed
])
def test_a_row_out_of_order_is_refused_naming_row_and_column(
        started: datetime | None, completed: datetime | None, column: str,
        earlier: str) -> None:
    with pytest.raises(GovgateError) as info:
        check(SCHEDULED, started, completed)
    message = str(info.value)
    assert message.startswith(f"runs.csv: row 2, column {column}: {column} ")
    assert f" is before {earlier} " in message
