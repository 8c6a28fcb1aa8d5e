"""The page lifecycle: a condition that pages has an episode, opened and (maybe) closed.

An episode (:class:`govgate.model.Episode`, or any object shaped like :class:`EpisodeLike`) is
the interface between a rule that knows when its condition held and the records and page events
govgate writes about it: a ``trigger`` at ``opened_at``, a ``resolve``
with the same ``dedup_key`` at ``closed_at`` whose summary says how many windows were missed and
for how long, and for incidents an ``incident`` record and its ``incident_close`` record.

Every episode up to as-of is turned into events, closed ones included: the ledger's contents
are then a function of the inputs and as-of alone, so running at t1 and then at t2 leaves the
same records as one run at t2, and a re-run never adds one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from .model import LedgerRecord, Page
from .timeutil import format_duration, format_instant

__all__ = ["EpisodeLike", "closed_by_text", "incident_close_record", "lifecycle_events",
           "resolve_page"]


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
