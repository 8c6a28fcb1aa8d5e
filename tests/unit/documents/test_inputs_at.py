"""A document's earlier instant evaluated on inputs loaded for a later one equals a fresh load.

The readback evaluates the period's open on the inputs it loaded for the close; the as-of view
must cut them again, or the opening would know runs, acks and policies from after it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from govgate.config import load_config
from govgate.documents.snapshots import evaluate_at, inputs_at
from govgate.plugins import get_plugin_manager
from govgate.reporters.jsonreport import plain

REPO = Path(__file__).resolve().parents[3]


def _at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


@pytest.mark.parametrize(("opening", "close"), [
    ("2026-10-01", "2026-11-20"), ("2026-10-14", "2026-11-20"),
    ("2026-11-02T06:10:00", "2026-11-20"), ("2026-10-01", "2026-10-20")])
def test_reused_inputs_give_what_a_fresh_load_gives(opening: str, close: str) -> None:
    pm = get_plugin_manager()
    config = load_config(REPO / "govgate.yaml", cwd=REPO)
    closed = evaluate_at(config, pm, _at(close))
    reused = evaluate_at(config, pm, _at(opening), inputs_at(closed.evaluation.inputs,
                                                             _at(opening)))
    fresh = evaluate_at(config, pm, _at(opening))
    assert (json.dumps(plain(reused.result), sort_keys=True, default=str)
            == json.dumps(plain(fresh.result), sort_keys=True, default=str))


def test_inputs_cannot_be_viewed_at_a_later_instant() -> None:
    pm = get_plugin_manager()
    config = load_config(REPO / "govgate.yaml", cwd=REPO)
    closed = evaluate_at(config, pm, _at("2026-10-20"))
    with pytest.raises(ValueError, match="later"):
        inputs_at(closed.evaluation.inputs, _at("2026-11-20"))


@pytest.mark.parametrize("opening", [
    "2026-08-31T23:59:59", "2026-09-01", "2026-10-01", "2026-10-16T09:59:59",
    "2026-10-16T10:00:00", "2026-11-02T06:10:00"])
def test_the_readback_reads_the_version_at_the_open_an_evaluation_there_gives(
        opening: str) -> None:
    """The readback reads one thing of its opening, the promote section's policy version; it is
    taken from the close's policy versions, as a fresh evaluation at the open states it."""
    import types

    from govgate.commands.readback import opening as opening_of
    from govgate.errors import GovgateError

    pm = get_plugin_manager()
    config = load_config(REPO / "govgate.yaml", cwd=REPO)
    closed = evaluate_at(config, pm, _at("2026-11-20"))
    session = types.SimpleNamespace(pm=pm)
    got = opening_of(config, session, _at(opening), closed)  # type: ignore[arg-type]
    try:
        want = evaluate_at(config, pm, _at(opening)).section("promote").get("policy_version")
    except GovgateError:  # nothing loads at the open: no version was in force then either
        want = None
    assert got.at == _at(opening)
    assert got.section("promote").get("policy_version") == want
