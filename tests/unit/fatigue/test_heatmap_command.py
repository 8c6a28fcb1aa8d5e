"""``govgate heatmap``: the command module on its own (the CLI wires it in)."""

from __future__ import annotations

import argparse
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from tests.unit.fatigue.factories import AS_OF, Event, write_csv

from govgate.commands import Session
from govgate.commands import heatmap as command
from govgate.errors import UsageError

EVENTS = [
    Event("a1", "alex", AS_OF - timedelta(hours=5), AS_OF - timedelta(hours=4)),
    Event("a2", "alex", AS_OF - timedelta(hours=3), cert_window_id="cw-2").pending(),
    Event("b1", "bo,b", AS_OF - timedelta(days=2), AS_OF - timedelta(days=2, minutes=-6)),
]


def run(tmp_path: Path, *argv: str, as_of=AS_OF, plugins=()) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    args = parser.parse_args(list(argv))
    out = io.StringIO()
    session = Session(as_of=as_of, out=out, err=io.StringIO(), cwd=tmp_path, plugins=list(plugins))
    return command.run(args, session), out.getvalue()


@pytest.fixture
def events(tmp_path: Path) -> str:
    return str(write_csv(tmp_path / "signer_ack_event.csv", EVENTS))


def test_json_output(tmp_path: Path, events: str) -> None:
    code, out = run(tmp_path, "--events", events, "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["as_of"] == "2026-11-20T00:00:00Z"
    assert [r["signer_id"] for r in data["rows"]] == ["alex", "bo,b"]
    alex = data["rows"][0]
    assert (alex["ack_count_14d"], alex["pending_acks_now"], alex["avg_latency_hours_14d"]) == (
        2, 1, 1.0)  # fmt: skip
    assert len(data["snapshot_hash"]) == 64


def test_text_and_csv_output(tmp_path: Path, events: str) -> None:
    _, text = run(tmp_path, "--events", events)
    assert text.startswith("signer_fatigue_heatmap_14d at 2026-11-20T00:00:00Z\n")
    assert "snapshot sha256: " in text
    assert "signers: " in text
    _, csv_out = run(tmp_path, "--events", events, "--format", "csv")
    assert csv_out.splitlines()[2] == '"bo,b",1,0,1,0.1000,0.2000,0,green'


def test_output_folder_gets_json_and_csv(tmp_path: Path, events: str) -> None:
    _, out = run(tmp_path, "--events", events, "--format", "json", "--output",
                 str(tmp_path / "out"))  # fmt: skip
    assert (tmp_path / "out" / command.OUTPUT_JSON).read_text(encoding="utf-8") == out
    assert (
        (tmp_path / "out" / command.OUTPUT_CSV).read_text(encoding="utf-8").startswith("signer_id,")
    )


def test_events_are_required_without_a_configuration(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--events REF is required"):
        run(tmp_path)


def test_events_named_by_the_configuration(tmp_path: Path, events: str) -> None:
    (tmp_path / "govgate.yaml").write_text("fatigue:\n  events: signer_ack_event.csv\n")
    (tmp_path / "policies").mkdir()  # no backup owner policy: the seed's thresholds
    code, out = run(tmp_path, "--format", "json")
    assert code == 0
    assert len(json.loads(out)["rows"]) == 2


def test_a_non_midnight_as_of_shows_the_nightly_refresh_in_force(tmp_path: Path, events: str
                                                                  ) -> None:
    # The heat-map is a nightly refresh at 00:00 UTC (DOMAIN.md): at 19:30 the one of 00:00.
    _code, out = run(tmp_path, "--events", events, "--format", "json",
                    as_of=AS_OF - timedelta(hours=4, minutes=30))  # fmt: skip
    _code, midnight = run(tmp_path, "--events", events, "--format", "json",
                          as_of=AS_OF - timedelta(days=1))  # fmt: skip
    assert json.loads(out)["as_of"] == "2026-11-19T00:00:00Z"
    assert out == midnight


PLUGIN = """
from govgate import hookimpl

@hookimpl
def govgate_classify_signer(windows, breaches, ratio, previous, quiet_streak, thresholds):
    return "amber" if windows else None
"""


def test_a_plugin_classifies(tmp_path: Path, events: str, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "gg_amber_plugin.py").write_text(PLUGIN, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    _, out = run(tmp_path, "--events", events, "--format", "json", plugins=["gg_amber_plugin"])
    assert {r["signer_id"]: r["classification"] for r in json.loads(out)["rows"]} == {
        "alex": "amber",
        "bo,b": "amber",
    }
