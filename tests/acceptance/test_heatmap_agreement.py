"""For the same instant, every command shows the same heat-map refresh and snapshot hash.

The rule (docs/heatmap.md): at an instant T, the heat-map is the nightly refresh at the last
00:00 UTC at or before T, classified with the thresholds of the backup owner policy in force at
that midnight. ``heatmap``, ``check`` (result.json), ``readback`` and the evidence of
``promote``'s heatmap_red promotes must agree, at midnight and at any hour of the day, also on
the day a policy with other thresholds is approved, and whether the events come from the
configuration or from ``--events``.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.conftest import run_cli

from govgate.fatigue.events import load_events
from govgate.fatigue.heatmap import heatmap
from govgate.fatigue.model import Thresholds
from govgate.timeutil import format_instant

REPO = Path(__file__).resolve().parents[2]
#: A policy with stricter thresholds, approved mid-morning.
APPROVED = "2026-11-18T10:00:00Z"
INSTANTS = [
    "2026-11-17T00:00:00Z",
    "2026-11-18T09:59:59Z",  # before the approval
    "2026-11-18T10:30:00Z",  # after it, same refresh: the policy in force at 00:00 applies
    "2026-11-19T00:00:00Z",  # the first refresh under the new policy
    "2026-11-19T13:37:42.5Z",
    "2026-11-20T23:59:59.999999Z",
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("agreement")
    for name in ("fixtures", "policies"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "govgate.yaml", root / "govgate.yaml")
    policy = yaml.safe_load((REPO / "policies" / "backup-owner-policy-1.1.0.yaml").read_text())
    policy.update(version="1.2.0", approved_dt_utc=APPROVED, signed_ack="ack-tl-2026-1118",
                  thresholds={"amber_ratio": 0.3, "red_min_windows": 2, "amber_min_windows": 2})
    (root / "policies" / "backup-owner-policy-1.2.0.yaml").write_text(
        yaml.safe_dump(policy, sort_keys=False), encoding="utf-8")
    return root


def cli(root: Path, *args: str) -> Any:
    result = run_cli(list(args), root)
    assert result.code in (0, 1), result.err
    return result


def refresh_of(instant: str) -> str:
    at = datetime.fromisoformat(instant.replace("Z", "+00:00"))
    return format_instant(at.replace(hour=0, minute=0, second=0, microsecond=0))


@pytest.mark.parametrize("instant", INSTANTS)
def test_heatmap_check_and_readback_agree(demo: Path, instant: str) -> None:
    shown = json.loads(cli(demo, "heatmap", "--as-of", instant, "--format", "json").out)
    given = json.loads(cli(demo, "heatmap", "--as-of", instant, "--format", "json", "--events",
                           "fixtures/fatigue/signer_ack_event.csv").out)
    checked = cli(demo, "check", "--as-of", instant, "--format", "json", "--no-deliver").json()
    fatigue = checked["sections"]["fatigue"]
    start = format_instant(datetime(2026, 10, 1, tzinfo=UTC))
    cli(demo, "readback", "--from", start, "--to", "2027-01-01T00:00:00Z", "--as-of", instant,
        "-o", "rb")
    (readback_file,) = [p for p in (demo / "rb").glob("readback-*.json")
                        if not p.name.endswith(".manifest.json")]
    readback = json.loads(readback_file.read_text(encoding="utf-8"))["fatigue"]

    assert shown["as_of"] == fatigue["refresh"] == readback["heatmap_refresh"] == refresh_of(
        instant)
    assert shown["snapshot_hash"] == fatigue["snapshot_hash"] == readback["snapshot_hash"]
    assert given == shown  # --events and fatigue.events: one rule
    assert shown["classification_counts"] == fatigue["heatmap"]["classification_counts"]
    assert {r["signer_id"]: r["classification"] for r in shown["rows"]} == {
        r["signer_id"]: r["classification"] for r in fatigue["heatmap"]["rows"]}


def test_the_policy_thresholds_are_the_ones_in_force_at_the_refresh(demo: Path) -> None:
    events = load_events(demo / "fixtures" / "fatigue" / "signer_ack_event.csv")

    def hash_at(instant: str) -> str:
        return str(json.loads(cli(demo, "heatmap", "--as-of", instant, "--format", "json").out)[
            "snapshot_hash"])

    strict = Thresholds(amber_ratio=Decimal("0.3"), red_min_windows=2, amber_min_windows=2)
    first = datetime(2026, 11, 19, tzinfo=UTC)  # the first refresh after the approval

    def in_force(at: datetime) -> Thresholds:
        return strict if at >= first else Thresholds()

    for instant in INSTANTS:
        at = datetime.fromisoformat(refresh_of(instant).replace("Z", "+00:00"))
        assert hash_at(instant) == heatmap(events, at, in_force).snapshot_hash, instant
    # The stricter policy does classify differently, so the agreement above means something.
    assert heatmap(events, first, Thresholds()).snapshot_hash != hash_at(
        "2026-11-19T00:00:00Z")


def test_a_policy_approved_later_never_changes_an_earlier_refresh(demo: Path) -> None:
    # Each refresh of the history is classified under the policy in force at its own midnight:
    # the days before the approval read the same evaluated before or after it.
    def history(instant: str) -> dict[str, str]:
        section = cli(demo, "check", "--as-of", instant, "--format", "json",
                      "--no-deliver").json()["sections"]["fatigue"]["history"]
        return dict(zip(section["days"], section["snapshot_hashes"], strict=True))

    before, after = history("2026-11-18T09:00:00Z"), history("2026-11-24T12:00:00Z")
    common = sorted(set(before) & set(after))  # the sections carry the last 28 refreshes
    assert len(common) >= 20
    assert [before[day] for day in common] == [after[day] for day in common]


def test_promote_evidence_names_the_refresh_heatmap_shows(demo: Path) -> None:
    # A heatmap_red promote pins the refresh it was triggered at; promote evaluated at any
    # instant of that day shows the same hash as heatmap at the same instant.
    promotes = cli(demo, "promote", "--as-of", "2026-11-20T00:00:00Z", "--format", "json",
                   "--no-deliver").json()["promotes"]
    triggered = [p["promoted_at_dt_utc"] for p in promotes if p["trigger_type"] == "heatmap_red"]
    assert triggered, "the demo has heatmap_red promotes"
    for at in triggered:
        later = format_instant(datetime.fromisoformat(at.replace("Z", "+00:00"))
                               + timedelta(hours=7, minutes=13))
        for instant in (at, later):
            shown = json.loads(cli(demo, "heatmap", "--as-of", instant, "--format", "json").out)
            then = cli(demo, "promote", "--as-of", instant, "--format", "json",
                       "--no-deliver").json()["promotes"]
            (ref,) = [p["trigger_evidence_ref"] for p in then if p["promoted_at_dt_utc"] == at]
            assert ref == f"heatmap:sha256:{shown['snapshot_hash']}@{at}", instant
