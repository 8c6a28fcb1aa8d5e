"""The page lifecycle: a condition that pages has an episode, opened and (maybe) closed.

An :class:`Episode` is the interface between a rule that knows when its condition held and the
records and page events govgate writes about it: a ``trigger`` at ``opened_at``, a ``resolve``
with the same ``dedup_key`` at ``closed_at`` whose summary says how many windows were missed and
for how long, and for incidents an ``incident`` record and its ``incident_close`` record.

Every episode up to as-of is turned into events, closed ones included: the ledger's contents
are then a function of the inputs and as-of alone, so running at t1 and then at t2 leaves the
same records as one run at t2, and a re-run never adds one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from .model import LedgerRecord, Page
from .timeutil import format_duration, format_instant

__all__ = ["Episode", "EpisodeLike", "closed_by_text", "episode_pages", "gap_episodes",
           "incident_close_record", "incident_records", "lifecycle_events", "resolve_page",
           "state_episodes"]


@dataclass(frozen=True, slots=True)
class Episode:
    """One stretch of time during which a paging condition held.

    ``missed`` names the windows missed during the episode (references as the rule writes them),
    ``incident_key`` is set for conditions that open an incident (a red state).
    """

    dedup_key: str
    opened_at: datetime
    closed_at: datetime | None
    summary: str
    source: str
    severity: str
    missed: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    incident_key: str | None = None
    incident_data: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    #: Why it closed, in a few words ("a PASS run completed", "an override covers ...").
    closed_by: str = ""
    #: The windows known missed when it opened: all the trigger may say (it is a fact of then).
    missed_at_open: tuple[str, ...] = ()


def resolve_page(trigger: Page, closed_at: datetime, missed: Sequence[str],
                 closed_by: str = "", opened_at: datetime | None = None) -> Page:
    """The ``resolve`` of ``trigger`` (same ``dedup_key``), dated ``closed_at``.

    Its summary says how many windows were missed and for how long the condition held;
    ``custom_details`` carry the same as numbers. Any rule's episode model can call it.
    """
    opened = opened_at or trigger.at
    lasted = format_duration(closed_at - opened)
    count = len(missed)
    noun = "window" if count == 1 else "windows"
    listed = f" ({', '.join(missed)})" if missed else ""
    why = f": {closed_by}" if closed_by else ""
    summary = (f"Resolved at {format_instant(closed_at)}{why}; {count} scheduled {noun} "
               f"missed{listed}; the condition held for {lasted} "
               f"(since {format_instant(opened)})")
    details = {**trigger.details, "missed_windows": list(missed),
               "opened_at": format_instant(opened), "closed_at": format_instant(closed_at),
               "missed_count": count,
               "duration_seconds": int((closed_at - opened).total_seconds())}
    return Page(trigger.dedup_key, summary, trigger.source, "info", closed_at, details,
                action="resolve")


def incident_close_record(incident_key: str, opened_at: datetime, closed_at: datetime,
                          missed: Sequence[str], closed_by: str = "") -> LedgerRecord:
    """The ``incident_close`` record of the incident ``incident_key`` (key ``<key>:closed``)."""
    return LedgerRecord("incident_close", f"{incident_key}:closed", closed_at, {
        "incident_key": incident_key, "closed_at": format_instant(closed_at),
        "closed_by": closed_by, "missed_windows": list(missed),
        "duration_seconds": int((closed_at - opened_at).total_seconds()),
    })


def episode_pages(episode: Episode, as_of: datetime) -> list[Page]:
    """The trigger, and the resolve once the episode closed by ``as_of``.

    The trigger is sent for a closed episode too: a run after the episode must leave what runs
    during it left (and the resolve tells the receiver it is over).
    """
    if episode.opened_at > as_of:
        return []
    details = {**episode.details, "missed_windows": list(episode.missed_at_open)}
    trigger = Page(episode.dedup_key, episode.summary, episode.source, episode.severity,
                   episode.opened_at, details)
    if episode.closed_at is None or episode.closed_at > as_of:
        return [trigger]
    return [trigger, resolve_page(trigger, episode.closed_at, episode.missed,
                                  episode.closed_by)]


def incident_records(episode: Episode, as_of: datetime) -> list[LedgerRecord]:
    """The ``incident`` record at the opening and its ``incident_close`` at the closing."""
    key = episode.incident_key
    if key is None or episode.opened_at > as_of:
        return []
    out = [LedgerRecord("incident", key, episode.opened_at, dict(episode.incident_data))]
    if episode.closed_at is not None and episode.closed_at <= as_of:
        out.append(incident_close_record(key, episode.opened_at, episode.closed_at,
                                         episode.missed, episode.closed_by))
    return out


class EpisodeLike(Protocol):
    """What :func:`lifecycle_events` reads of another module's episode model."""

    @property
    def opened_at(self) -> datetime: ...
    @property
    def closed_at(self) -> datetime | None: ...
    #: The ``job_run_id`` of the PASS run that ended it, or ``override:<audit_id>,...``.
    @property
    def closed_by(self) -> str | None: ...
    @property
    def missed(self) -> tuple[str, ...]: ...
    @property
    def incident_key(self) -> str | None: ...


def closed_by_text(closed_by: str | None) -> str:
    """``override:A,B`` -> ``override A, B covers the missed windows``; a run id -> passed."""
    if not closed_by:
        return ""
    if closed_by.startswith("override:"):
        audits = ", ".join(closed_by.removeprefix("override:").split(","))
        return f"override {audits} covers the missed windows"
    return f"run {closed_by} passed"


def lifecycle_events(trigger: Page, episode: EpisodeLike, as_of: datetime,
                     ) -> tuple[list[Page], list[LedgerRecord]]:
    """The trigger (for open and closed episodes alike), and once the episode ended by
    ``as_of`` its resolve and, when it opened an incident, the incident's closing record."""
    if episode.opened_at > as_of:
        return [], []
    closed = episode.closed_at
    if closed is None or closed > as_of:
        return [trigger], []
    why = closed_by_text(episode.closed_by)
    pages = [trigger, resolve_page(trigger, closed, episode.missed, why, episode.opened_at)]
    records = []
    if episode.incident_key is not None:
        records.append(incident_close_record(episode.incident_key, episode.opened_at, closed,
                                             episode.missed, why))
    return pages, records


@dataclass(frozen=True, slots=True)
class StateAt:
    """What :func:`state_episodes` needs to know of the state at one instant."""

    red: bool
    #: While red: the references of the consecutive missed windows, oldest first.
    missed: tuple[str, ...] = ()
    #: When not red: why (for the resolve summary).
    reason: str = ""


def state_episodes(instants: Iterable[datetime], state_at: Callable[[datetime], StateAt],
                   ) -> list[tuple[datetime, datetime | None, tuple[str, ...], str]]:
    """Replay the state at each instant where it can change; return the red stretches.

    Each is ``(opened_at, closed_at, missed, closed_by)``; ``missed`` starts with the two
    windows that made it red (their first names the episode, so a red that returns after an
    override is a new episode with a key of its own) and gains every window missed until it
    closed.
    """
    out: list[tuple[datetime, datetime | None, tuple[str, ...], str]] = []
    opened: datetime | None = None
    missed: list[str] = []
    for t in sorted(set(instants)):
        now = state_at(t)
        if now.red and opened is None:
            opened, missed = t, list(now.missed[-2:])
        elif now.red:
            missed += [ref for ref in now.missed if ref not in missed]
        elif opened is not None:
            out.append((opened, t, tuple(missed), now.reason))
            opened, missed = None, []
    if opened is not None:
        out.append((opened, None, tuple(missed), ""))
    return out


def gap_episodes(passes: Sequence[tuple[datetime, str]], first_due: datetime | None,
                 limit: timedelta, as_of: datetime,
                 ) -> list[tuple[str, datetime, datetime | None, datetime]]:
    """Stretches with no successful completion for longer than ``limit``.

    ``passes`` are ``(completed_at, job_run_id)`` of PASS runs completed by as-of. Each stretch
    is ``(last_pass_id or "never", opened_at, closed_at, baseline)``: opened once ``limit`` has
    passed since the baseline (the last PASS, or the first scheduled window when none), closed
    by the next PASS.
    """
    ordered = sorted(passes)
    out: list[tuple[str, datetime, datetime | None, datetime]] = []
    baseline, last_id = first_due, "never"
    for completed, job_id in [*ordered, (None, "")]:
        if baseline is not None:
            end = completed if completed is not None else as_of
            if end - baseline > limit:
                out.append((last_id, baseline + limit, completed, baseline))
        if completed is None:
            break
        baseline, last_id = completed, job_id
    return out
