"""The page lifecycle at its boundaries: which events exist at which as-of, and what they say."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from govgate.model import Page
from govgate.paging import (
    Episode,
    StateAt,
    episode_pages,
    gap_episodes,
    incident_records,
    resolve_page,
    state_episodes,
)

T0 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
US = timedelta(microseconds=1)


def episode(closed: datetime | None = T0 + timedelta(days=8)) -> Episode:
    return Episode(dedup_key="govgate:reconcile:red:W43", opened_at=T0, closed_at=closed,
                   summary="red", source="govgate.reconcile", severity="critical",
                   missed=("W43", "W44", "W45"), missed_at_open=("W43", "W44"),
                   incident_key="incident:reconcile:red:W43", incident_data={"a": 1},
                   closed_by="run W46 passed")


@pytest.mark.parametrize(("as_of", "actions"), [
    (T0 - US, []),
    (T0, ["trigger"]),
    (T0 + timedelta(days=8) - US, ["trigger"]),
    (T0 + timedelta(days=8), ["trigger", "resolve"]),
])
def test_events_exist_from_their_own_instant(as_of: datetime, actions: list[str]) -> None:
    pages = episode_pages(episode(), as_of)
    assert [p.action for p in pages] == actions
    assert {p.dedup_key for p in pages} <= {"govgate:reconcile:red:W43"}
    records = incident_records(episode(), as_of)
    assert [r.kind for r in records] == ["incident", "incident_close"][:len(actions)]


def test_the_trigger_says_only_what_was_known_when_it_began() -> None:
    early = episode_pages(episode(closed=None), T0)[0]
    late = episode_pages(episode(), T0 + timedelta(days=30))[0]
    assert early == late and early.details == late.details
    assert early.details["missed_windows"] == ["W43", "W44"]


def test_the_resolve_counts_the_missed_windows_and_the_duration() -> None:
    trigger, resolve = episode_pages(episode(), T0 + timedelta(days=9))
    assert (resolve.action, resolve.dedup_key, resolve.severity) == (
        "resolve", trigger.dedup_key, "info")
    assert resolve.at == T0 + timedelta(days=8)
    assert "3 scheduled windows missed (W43, W44, W45)" in resolve.summary
    assert "run W46 passed" in resolve.summary and "P8D" in resolve.summary
    assert resolve.details["missed_count"] == 3
    assert resolve.details["duration_seconds"] == 8 * 86400
    one = resolve_page(trigger, T0 + timedelta(hours=1), ["W43"])
    assert "1 scheduled window missed (W43)" in one.summary


def test_state_replay_opens_grows_and_closes() -> None:
    t = [T0 + timedelta(days=i) for i in range(6)]
    states = {t[0]: StateAt(False), t[1]: StateAt(True, ("A", "B")),
              t[2]: StateAt(True, ("A", "B", "C")), t[3]: StateAt(False, reason="pass"),
              t[4]: StateAt(True, ("D", "E")), t[5]: StateAt(True, ("D", "E"))}
    got = state_episodes(reversed(list(states)), states.__getitem__)
    assert got == [(t[1], t[3], ("A", "B", "C"), "pass"), (t[4], None, ("D", "E"), "")]


def test_gap_episodes_open_strictly_after_the_limit() -> None:
    limit = timedelta(days=7, hours=12)
    first = T0
    # A PASS exactly at the limit closes nothing: the gap never exceeded it.
    assert gap_episodes([(T0 + limit, "r1")], first, limit, T0 + limit) == []
    got = gap_episodes([(T0 + limit + US, "r1")], first, limit, T0 + limit + US)
    assert got == [("never", T0 + limit, T0 + limit + US, T0)]
    # An open gap: since the last PASS, longer than the limit at as-of.
    as_of = T0 + 2 * limit + timedelta(seconds=1)
    got = gap_episodes([(T0, "r0")], first, limit, as_of)
    assert got == [("r0", T0 + limit, None, T0)]


def test_unknown_actions_are_refused() -> None:
    from govgate.sinks import intent_key

    with pytest.raises(ValueError, match="unknown page action"):
        intent_key(Page("k", "s", "src", "info", T0, action="acknowledge"))


@dataclass(frozen=True)
class OtherEpisode:
    """The shape of an episode model kept elsewhere (the schedule engine's)."""

    key: str
    opened_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    missed: tuple[str, ...]
    incident_key: str | None = None


@pytest.mark.parametrize(("closed_by", "text"), [
    ("W46", "run W46 passed"), ("override:AUD-1,AUD-2", "override AUD-1, AUD-2 covers"),
    (None, "")])
def test_another_episode_model_gets_the_same_lifecycle(closed_by: str | None,
                                                       text: str) -> None:
    from govgate.paging import lifecycle_events

    closed = T0 + timedelta(days=8)
    ep = OtherEpisode("k", T0, closed, closed_by, ("W43", "W44"), "incident:k")
    trigger = Page("k", "red", "govgate.reconcile", "critical", T0)
    assert lifecycle_events(trigger, ep, T0 - US) == ([], [])
    assert lifecycle_events(trigger, ep, closed - US) == ([trigger], [])
    pages, records = lifecycle_events(trigger, ep, closed)
    assert [p.action for p in pages] == ["trigger", "resolve"]
    assert text in pages[1].summary and "2 scheduled windows missed" in pages[1].summary
    assert [(r.kind, r.key, r.at) for r in records] == [
        ("incident_close", "incident:k:closed", closed)]
