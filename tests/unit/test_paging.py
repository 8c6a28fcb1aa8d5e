"""The page lifecycle at its boundaries: which events exist at which as-of, and what they say."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from govgate.model import Episode, Page
from govgate.paging import lifecycle_events, resolve_page

T0 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
US = timedelta(microseconds=1)
CLOSED = T0 + timedelta(days=8)


def episode(closed: datetime | None = CLOSED) -> Episode:
    return Episode("reconcile.red", "govgate:reconcile:red:W43", T0, closed,
                   "W46" if closed else None, ("W43", "W44"), ("W43", "W44", "W45"),
                   "incident:reconcile:red:W43")


def trigger() -> Page:
    return Page("govgate:reconcile:red:W43", "red", "govgate.reconcile", "critical", T0,
                {"missed_windows": ["W43", "W44"]})


@pytest.mark.parametrize(("as_of", "actions"), [
    (T0 - US, []),
    (T0, ["trigger"]),
    (CLOSED - US, ["trigger"]),
    (CLOSED, ["trigger", "resolve"]),
])
def test_events_exist_from_their_own_instant(as_of: datetime, actions: list[str]) -> None:
    pages, records = lifecycle_events(trigger(), episode(), as_of)
    assert [p.action for p in pages] == actions
    assert {p.dedup_key for p in pages} <= {"govgate:reconcile:red:W43"}
    assert [r.kind for r in records] == (["incident_close"] if len(actions) == 2 else [])


def test_the_trigger_says_only_what_was_known_when_it_began() -> None:
    early = lifecycle_events(trigger(), episode(closed=None), T0)[0][0]
    late = lifecycle_events(trigger(), episode(), T0 + timedelta(days=30))[0][0]
    assert early == late and early.details == late.details
    assert early.details["missed_windows"] == ["W43", "W44"]


def test_the_resolve_counts_the_missed_windows_and_the_duration() -> None:
    (first, resolve), _ = lifecycle_events(trigger(), episode(), T0 + timedelta(days=9))
    assert (resolve.action, resolve.dedup_key, resolve.severity) == (
        "resolve", first.dedup_key, "info")
    assert resolve.at == CLOSED
    assert "3 scheduled windows missed (W43, W44, W45)" in resolve.summary
    assert "run W46 passed" in resolve.summary and "P8D" in resolve.summary
    assert resolve.details["missed_count"] == 3
    assert resolve.details["duration_seconds"] == 8 * 86400
    one = resolve_page(first, T0 + timedelta(hours=1), ["W43"])
    assert "1 scheduled window missed (W43)" in one.summary


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
