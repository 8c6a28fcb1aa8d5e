"""Closed-period issue records: every issue recorded once, whatever the facts did before.

The class: a closed period's facts change with late data in any order, including back to an
earlier version (a late row, then its correction). Each time the facts differ from the last
issue known at the run, a delivering run is a new issue whose record must reach the ledger;
each regeneration with unchanged facts must render that last issue again, byte for byte.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from govgate.documents.issue import KIND, decide_issue, record_for
from govgate.ledger import Ledger

T0 = datetime(2026, 11, 10, tzinfo=UTC)
NAME = "readback-2026-Q3"


def _issue(ledger: Ledger, facts: int, at: datetime) -> dict[str, object]:
    issue = decide_issue(ledger, NAME, {"x": facts}, closed=True, as_of=at,
                         evidence_digest="e", deliver=True)
    record = record_for(issue, {f"{NAME}.md": str(facts).encode()}, at)
    if record is not None:
        assert ledger.append([record]) == [record], "a new issue's record was not written"
    return issue.info


def test_facts_that_return_to_an_earlier_version_are_a_recorded_amendment(
        tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.jsonl")
    seen = [_issue(ledger, facts, T0 + timedelta(days=k))
            for k, facts in enumerate([1, 2, 1, 1])]
    assert [i["status"] for i in seen] == ["issued", "amended", "amended", "amended"]
    # The fourth run changed nothing since the third: it is the third issue, not a new one.
    assert seen[3] == seen[2]
    assert seen[2]["issued_at"] == "2026-11-12T00:00:00Z"
    assert len([r for r in ledger.records() if r.kind == KIND]) == 3


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 2), min_size=1, max_size=8),
       st.lists(st.booleans(), min_size=8, max_size=8))
def test_every_change_of_facts_is_one_record_and_a_repeat_changes_nothing(
        tmp_path_factory: object, sequence: list[int], repeat: list[bool]) -> None:
    import tempfile

    ledger = Ledger(Path(tempfile.mkdtemp()) / "ledger.jsonl")
    at, last, changes = T0, None, 0
    for k, facts in enumerate(sequence):
        at += timedelta(days=1)
        info = _issue(ledger, facts, at)
        changes += facts != last
        if repeat[k]:
            # Regenerated later with the same facts: the same issue, nothing recorded.
            at += timedelta(hours=1)
            assert _issue(ledger, facts, at) == info
        last = facts
    assert len([r for r in ledger.records() if r.kind == KIND]) == changes
