"""Red and completion-gap episodes: identity, lifecycle and the late/missed boundary.

The property test draws random schedules (PASS, FAIL, SKIPPED, missing rows, runs that finish
after their deadline), random overrides and random policies, and checks every red state at
every instant that matters against a brute-force reading of the rules.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from govgate.model import Location
from govgate.recon.episodes import gap_episodes, red_episodes
from govgate.recon.model import (
    JobOutcome,
    OverridePacket,
    ReconInputs,
    ReconPolicy,
    SchedulerRow,
)
from govgate.recon.state import Timeline

ANCHOR = datetime(2026, 9, 21, tzinfo=UTC)
PERIOD = timedelta(days=7)
OFFSET = timedelta(hours=6)
US = timedelta(microseconds=1)
POLICY = ReconPolicy(
    version="1.0.0", source="policy.yaml", anchor=ANCHOR, period=PERIOD, run_offset=OFFSET,
    contract_max_semver=(1, 2, 0), contract_max_semver_text="1.2.0",
    page_max_gap=timedelta(days=7), page_grace=timedelta(hours=12),
    block_states=frozenset({"red"}), late_grace=timedelta(hours=1),
    max_runtime=timedelta(hours=2))
HERE = Location("runs.csv", 2)


def start(week: int) -> datetime:
    return ANCHOR + (week - 1) * PERIOD


def scheduled(week: int) -> datetime:
    return start(week) + PERIOD + OFFSET


def rid(week: int) -> str:
    return f"W{week}"


#: status -> (scheduler status, minutes to completion after the scheduled instant)
KINDS = {"PASS": ("PASS", 25), "FAIL": ("FAIL", 25), "SLOW": ("PASS", 180),
         "SKIPPED": ("SKIPPED", None), "MISSING": (None, None)}


def world(kinds: list[str], overrides: tuple[OverridePacket, ...] = (),
          policy: ReconPolicy = POLICY) -> tuple[ReconInputs, dict[str, JobOutcome]]:
    rows, outcomes = [], {}
    for week, kind in enumerate(kinds, start=1):
        status, minutes = KINDS[kind]
        if status is None:
            continue
        done = None if minutes is None else scheduled(week) + timedelta(minutes=minutes)
        rows.append(SchedulerRow(
            rid(week), scheduled(week),
            None if status == "SKIPPED" else scheduled(week) + timedelta(minutes=5), done,
            "maintenance" if status == "SKIPPED" else None, None, status, HERE))
        if status != "SKIPPED":
            outcomes[rid(week)] = JobOutcome(rid(week), status, (), (), "", "")
    inputs = ReconInputs(policy=policy, epsilon_policies={}, runs=tuple(rows), jobs={},
                         overrides=overrides)
    return inputs, outcomes


def override(audit_id: str, at: datetime, *weeks: int, by_start: bool = False) -> OverridePacket:
    return OverridePacket(
        audit_id, frozenset() if by_start else frozenset(rid(w) for w in weeks),
        frozenset(start(w) for w in weeks) if by_start else frozenset(), "cfo", at, "audited",
        HERE)


def episodes_at(inputs: ReconInputs, outcomes: dict[str, JobOutcome], at: datetime):  # type: ignore[no-untyped-def]
    return red_episodes(Timeline(inputs, outcomes, at))


# -- the example and its neighbours ----------------------------------------------------


def test_a_red_that_returns_after_an_override_is_a_new_episode_naming_its_own_window() -> None:
    # W1 PASS, W2 FAIL, W3 SKIPPED (red), an override covering W2 and W3, then W4 SKIPPED.
    approved = scheduled(3) + timedelta(days=1)
    inputs, outcomes = world(["PASS", "FAIL", "SKIPPED", "SKIPPED"],
                             (override("AUD-1", approved, 2, 3),))
    eps = episodes_at(inputs, outcomes, scheduled(4) + timedelta(hours=2))
    assert [(e.key, e.windows, e.closed_at, e.closed_by) for e in eps] == [
        ("govgate:reconcile:red:W2", ("W2", "W3"), approved, "override:AUD-1"),
        ("govgate:reconcile:red:W4:partial", ("W4",), None, None),
    ]
    # A SKIPPED row is final at its scheduled instant: it is never late.
    assert eps[0].opened_at == scheduled(3)
    assert eps[1].opened_at == scheduled(4)
    assert eps[1].incident_key == "incident:reconcile:red:W4:partial"


def test_an_uninterrupted_red_keeps_its_first_key_and_windows() -> None:
    inputs, outcomes = world(["PASS", "SKIPPED", "SKIPPED", "FAIL", "MISSING", "PASS"])
    eps = episodes_at(inputs, outcomes, scheduled(6) + timedelta(hours=1))
    assert len(eps) == 1
    ep = eps[0]
    assert (ep.key, ep.windows) == ("govgate:reconcile:red:W2", ("W2", "W3"))
    assert ep.closed_at == scheduled(6) + timedelta(minutes=25)
    assert ep.closed_by == "W6"
    assert ep.missed == ("W2", "W3", "W4", "window@2026-10-19T00:00:00Z")
    assert ep.missed_windows == 4


def test_an_override_of_the_named_windows_while_later_ones_are_missed_opens_a_new_one() -> None:
    approved = scheduled(5) + timedelta(days=1)
    inputs, outcomes = world(["PASS", "FAIL", "FAIL", "FAIL", "FAIL"],
                             (override("AUD-9", approved, 2, 3),))
    eps = episodes_at(inputs, outcomes, approved)
    assert [(e.windows, e.opened_at, e.closed_at) for e in eps] == [
        (("W2", "W3"), scheduled(3) + timedelta(minutes=25), approved),
        (("W4", "W5"), approved, None),
    ]
    assert eps[1].key == "govgate:reconcile:red:W4"


def test_red_after_missed_sets_how_many_misses_make_red() -> None:
    kinds = ["PASS", "FAIL", "FAIL", "FAIL"]
    for n, red_from in ((1, 2), (2, 3), (3, 4), (4, None)):
        policy = replace(POLICY, red_after_missed=n)
        inputs, outcomes = world(kinds, policy=policy)
        for week in range(2, 5):
            done = scheduled(week) + timedelta(minutes=25)
            tl = Timeline(inputs, outcomes, done)
            assert tl.red_at(done - US) is None or (red_from is not None and week > red_from)
            is_red = tl.red_at(done) is not None
            assert is_red == (red_from is not None and week >= red_from), (n, week)


def test_gap_episodes_open_after_max_gap_plus_grace_and_close_with_the_next_pass() -> None:
    inputs, outcomes = world(["PASS", "SKIPPED", "SKIPPED", "PASS"])
    limit = POLICY.page_max_gap + POLICY.page_grace
    last_pass = scheduled(1) + timedelta(minutes=25)
    eps = gap_episodes(Timeline(inputs, outcomes, last_pass + limit))
    assert eps == []
    eps = gap_episodes(Timeline(inputs, outcomes, last_pass + limit + US))
    assert [(e.key, e.opened_at, e.closed_at) for e in eps] == [
        ("govgate:reconcile:gap:W1", last_pass + limit, None)]
    closed = gap_episodes(Timeline(inputs, outcomes, scheduled(4) + timedelta(hours=1)))
    assert [(e.closed_at, e.closed_by, e.missed) for e in closed] == [
        (scheduled(4) + timedelta(minutes=25), "W4", ("W2", "W3"))]


# -- the property ------------------------------------------------------------------------------


def brute_red(inputs: ReconInputs, outcomes: dict[str, JobOutcome],
              t: datetime) -> tuple[list[str], set[str], list[str]] | None:
    """(uncovered refs among the last N, uncovered refs of the streak, streak refs), or None."""
    policy = inputs.policy
    weeks = []
    week = 1
    while scheduled(week) <= t:
        weeks.append(week)
        week += 1
    rows = {r.scheduled_at: r for r in inputs.runs}

    def status(w: int) -> str:
        r = rows.get(scheduled(w))
        if r is not None and r.status == "SKIPPED":
            return "missed"
        if r is not None and r.completed_at is not None and r.completed_at <= t:
            return "pass" if outcomes[r.job_run_id].status == "PASS" else "missed"
        grace_end = scheduled(w) + policy.late_grace
        deadline = grace_end
        if r is not None and r.started_at is not None and r.started_at <= t \
                and r.started_at < grace_end:
            deadline = max(deadline, r.started_at + policy.max_runtime)
        return "late" if t < deadline else "missed"

    statuses = [status(w) for w in weeks]
    counted = statuses.index("late") if "late" in statuses else len(statuses)
    streak: list[int] = []
    for i in range(counted - 1, -1, -1):
        if statuses[i] == "pass":
            break
        streak.insert(0, weeks[i])

    def ref(w: int) -> str:
        text = start(w).strftime("%Y-%m-%dT%H:%M:%SZ")
        return rid(w) if scheduled(w) in rows else f"window@{text}"

    def covered(w: int) -> bool:
        return any(o.approved_at <= t and (ref(w) in o.covers_job_run_ids
                                           or start(w) in o.covers_window_starts)
                   for o in inputs.overrides)

    n = policy.red_after_missed
    if len(streak) < n:
        return None
    last = streak[-n:]
    uncovered = [ref(w) for w in last if not covered(w)]
    if not uncovered:
        return None
    return uncovered, {ref(w) for w in streak if not covered(w)}, [ref(w) for w in streak]


kinds_st = st.lists(st.sampled_from(list(KINDS)), min_size=1, max_size=7)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[str], tuple[OverridePacket, ...], ReconPolicy]:
    kinds = draw(kinds_st)
    n_weeks = len(kinds)
    packets = []
    for k in range(draw(st.integers(0, 3))):
        weeks = draw(st.sets(st.integers(1, n_weeks), min_size=1, max_size=3))
        when = scheduled(draw(st.integers(1, n_weeks))) + timedelta(
            minutes=draw(st.sampled_from([0, 25, 60, 61, 180, 3000])))
        packets.append(override(f"AUD-{k}", when, *sorted(weeks),
                                by_start=draw(st.booleans())))
    policy = replace(POLICY, red_after_missed=draw(st.integers(1, 3)),
                     late_grace=draw(st.sampled_from([timedelta(0), timedelta(hours=1)])),
                     max_runtime=draw(st.sampled_from([timedelta(0), timedelta(hours=2)])))
    return kinds, tuple(packets), policy


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_every_red_instant_has_one_episode_naming_its_uncovered_windows(
        scenario: tuple[list[str], tuple[OverridePacket, ...], ReconPolicy]) -> None:
    kinds, packets, policy = scenario
    inputs, outcomes = world(kinds, packets, policy)
    end = scheduled(len(kinds)) + timedelta(hours=4)
    instants: set[datetime] = {end}
    for week in range(1, len(kinds) + 1):
        for minutes in (0, 5, 25, 60, 125, 180):
            at = scheduled(week) + timedelta(minutes=minutes)
            instants |= {at - US, at, at + US}
    for o in packets:
        instants |= {o.approved_at - US, o.approved_at}
    seen: dict[str, tuple[datetime, tuple[str, ...]]] = {}
    previous: list = []  # type: ignore[type-arg]
    for t in sorted(i for i in instants if i <= end):
        eps = episodes_at(inputs, outcomes, t)
        open_eps = [e for e in eps if e.closed_at is None]
        truth = brute_red(inputs, outcomes, t)
        if truth is None:
            assert open_eps == [], (t, eps)
        else:
            _, uncovered_streak, streak = truth
            assert len(open_eps) == 1, (t, eps)
            ep = open_eps[0]
            # Every named window is, right now, an uncovered miss of the current streak.
            assert set(ep.windows) <= uncovered_streak, (t, ep, truth)
            # They are exactly the uncovered windows that made it red when it opened.
            at_open = brute_red(inputs, outcomes, ep.opened_at)
            assert at_open is not None and list(ep.windows) == at_open[0], (ep, at_open)
            assert set(ep.missed) <= set(streak)
        for e in eps:
            first = seen.setdefault(e.key, (e.opened_at, e.windows))
            # A key is never reused: the same key is always the same episode.
            assert first == (e.opened_at, e.windows), (e.key, first, e)
        assert len({e.key for e in eps}) == len(eps)
        # Facts never change with a later as-of: closed episodes stay, open ones keep identity.
        for old in previous:
            match = [e for e in eps if e.key == old.key]
            assert len(match) == 1
            if old.closed_at is not None:
                assert match[0] == old
        previous = eps


def test_a_run_that_passes_after_its_deadline_ends_the_red_it_opened() -> None:
    inputs, outcomes = world(["PASS", "FAIL", "SLOW"])
    deadline = scheduled(3) + timedelta(minutes=5) + POLICY.max_runtime
    assert episodes_at(inputs, outcomes, deadline - US) == []
    [ep] = episodes_at(inputs, outcomes, scheduled(3) + timedelta(hours=4))
    assert (ep.opened_at, ep.windows) == (deadline, ("W2", "W3"))
    assert (ep.closed_at, ep.closed_by) == (scheduled(3) + timedelta(hours=3), "W3")
    assert ep.missed == ("W2",)
