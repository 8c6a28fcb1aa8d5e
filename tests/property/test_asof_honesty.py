"""As-of honesty: no output at ``--as-of T`` states a fact from after T.

The property: for a project P and an instant T, let P@T be P with every row that could not exist
at T removed from its files (``tests/support/asof_files.py``, written on the files, independently
of govgate's own as-of view). Every command run at T on P and on P@T prints the same bytes, exits
with the same code and writes byte-identical files.

Two things legitimately differ and are masked: the evidence manifests (they list the input files'
SHA-256, and the files differ by construction) and the manifest's evidence digest that the
documents cite.

Checked on the shipped demo at a dozen instants (rule boundaries among them: the instant a run is
scheduled, an ack is given, a freeze is lifted, a policy is approved) and on generated projects.
"""

from __future__ import annotations

import random
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import REPO, Schedule, iso, make_project, run_cli
from tests.support.asof_files import truncate_project

FORMATS = "text,json,junit,sarif,github,markdown,openmetrics,svg"

#: Instants of the demo: nightly refreshes and the exact instants at which a fact appears.
DEMO_INSTANTS = (
    "2026-09-22T00:00:00Z",
    "2026-09-28T06:00:00Z",  # recon-2026-W39 scheduled
    "2026-10-03T00:00:00Z",
    "2026-10-05T06:00:00Z",  # recon-2026-W40 scheduled
    "2026-10-13T08:00:00Z",  # freeze gate decided
    "2026-10-14T00:00:00Z",
    "2026-10-14T10:00:00Z",  # freeze gate lifted
    "2026-10-16T10:00:00Z",  # backup_owner_policy 1.1.0 approved
    "2026-10-20T10:00:00Z",  # ack-0004 (no job_run_id)
    "2026-10-29T00:00:00Z",
    "2026-11-02T00:00:00Z",
    "2026-11-02T06:03:00Z",  # recon-2026-W44 due, not started yet
    "2026-11-02T06:10:00Z",  # recon-2026-W44 running: its job folder does not exist yet
    "2026-11-20T00:00:00Z",
)

_DIGEST = re.compile(r"((?:Evidence manifest digest: `)|(?:\"evidence_digest\": \"))[0-9a-f]{64}")


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _commands(at: datetime, root: Path) -> list[list[str]]:
    quarter = f"{at.year}-Q{(at.month - 1) // 3 + 1}"
    previous = (at.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    commands = [
        # check resolves -o against the process's folder, not the project's: give it whole.
        ["check", "--format", FORMATS, "-o", str(root / "out" / "check"), "--no-deliver"],
        ["promote", "--no-deliver", "--format", "json"],
        ["promote", "--effective"],
        ["readback", "--quarter", quarter, "-o", "out/readback", "--no-deliver"],
        ["review", "--month", f"{at:%Y-%m}", "-o", "out/review", "--no-deliver"],
        ["review", "--month", previous, "-o", "out/review", "--no-deliver"],
        ["checklist", "-o", "out/checklist"],
        ["faq", "-o", "out/faq"],
    ]
    if at == at.replace(hour=0, minute=0, second=0, microsecond=0):
        commands.append(["heatmap", "--format", "json", "--output", "out/heatmap"])
        commands.append(["heatmap"])
    return commands


def _outputs(root: Path, at: datetime) -> dict[str, str]:
    stamp = iso(at)
    seen: dict[str, str] = {}
    for cmd in _commands(at, root):
        run = run_cli(["--as-of", stamp, *cmd], root)
        seen[" ".join(cmd).replace(str(root), "ROOT")] = f"exit {run.code}\n{run.out}\n{run.err}"
    for path in sorted((root / "out").rglob("*")):
        if path.is_file() and not path.name.endswith("manifest.json"):
            seen[str(path.relative_to(root))] = path.read_text(encoding="utf-8")
    return {k: _DIGEST.sub(r"\1<digest>", v) for k, v in seen.items()}


def assert_as_of_honest(project: Path, at: datetime, scratch: Path) -> None:
    full = scratch / "full"
    shutil.copytree(project, full)
    cut = truncate_project(project, scratch / "cut", at)
    now, then = _outputs(full, at), _outputs(cut, at)
    assert sorted(now) == sorted(then)
    for name in sorted(now):
        assert now[name] == then[name], f"{name} at {iso(at)} states a later fact"
    assert any(text.startswith("exit 0") or text.startswith("exit 1") for text in now.values())
    assert any(name.startswith("out/check/") for name in now)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    for name in ("govgate.yaml", "policies", "fixtures"):
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, root / name)
    return root


@pytest.mark.parametrize("stamp", DEMO_INSTANTS)
def test_demo_outputs_know_nothing_after_as_of(demo: Path, stamp: str, tmp_path: Path) -> None:
    assert_as_of_honest(demo, _instant(stamp), tmp_path)


def test_the_examples_of_the_issue(demo: Path, tmp_path: Path) -> None:
    """The leaks that were found by hand, pinned: each names a fact from after as-of."""
    at = "2026-10-14T00:00:00Z"
    checklist = run_cli(["--as-of", at, "checklist", "-o", str(tmp_path / "c")], demo).out
    assert "ack-0004" not in checklist
    assert "2210 ack events" not in checklist
    assert "6 job runs" not in checklist
    readback = run_cli(["--as-of", at, "readback", "--quarter", "2026-Q4", "--no-deliver",
                        "-o", str(tmp_path / "r")], demo).out
    assert "lifted `2026-10-14T10:00:00Z`" not in readback
    assert "not lifted" in readback
    check = run_cli(["--as-of", "2026-10-03T00:00:00Z", "check", "--no-deliver", "--format",
                     "json", "-o", str(tmp_path / "k")], demo)
    artifacts = sorted(p.name for p in (tmp_path / "k" / "artifacts").rglob("*") if p.is_file())
    assert artifacts and all("W39" in name for name in artifacts)
    assert "2026-10-16T10:00:00Z" not in check.out  # backup_owner_policy 1.1.0's approval
    review = run_cli(["--as-of", "2026-10-01T00:00:00Z", "review", "--month", "2026-09",
                      "--no-deliver", "-o", str(tmp_path / "v")], demo)
    assert "2026-10-16T10:00:00Z" not in (tmp_path / "v" / "review-2026-09.json").read_text(
        encoding="utf-8")
    assert review.code == 0


# -- generated projects ------------------------------------------------------------------------


def _events(rng: random.Random, start: datetime, days: int) -> Iterator[str]:
    """A signer_ack_event export in request order, some answered late, some never."""
    routes = {"publish_gate": "0.50", "faq_rewrite": "4.00", "freeze_bypass": "2.00",
              "exec_readback": "24.00"}
    windows = ["", "", "cw-steam", "cw-quest", "cw-xbox"]
    requests = sorted(start + timedelta(minutes=rng.randrange(days * 24 * 60))
                      for _ in range(rng.randrange(40, 160)))
    yield ("ack_event_id,signer_id,owner_route,cert_window_id,request_dt_utc,ack_dt_utc,"
           "ack_outcome,sla_target_hours\n")
    for n, requested in enumerate(requests):
        route = rng.choice(sorted(routes))
        answered = requested + timedelta(minutes=rng.randrange(1, 60 * 30))
        outcome = rng.choice(["approved", "approved", "rejected", "timeout", ""])
        ack = "" if not outcome else answered.strftime("%Y-%m-%d %H:%M:%S+00")
        yield (f"ev-{n:05d},{rng.choice(['alex', 'pat', 'dana', 'quinn'])},{route},"
               f"{rng.choice(windows)},{requested:%Y-%m-%d %H:%M:%S}+00,{ack},{outcome},"
               f"{routes[route]}\n")


def _instants(rng: random.Random, weeks: int, count: int) -> list[datetime]:
    span = int((weeks * 7 + 7) * 24)
    return sorted(Schedule.anchor + timedelta(hours=rng.randrange(span), minutes=rng.randrange(60))
                  for _ in range(count))


def _promote_domain(root: Path, rng: random.Random, weeks: int) -> dict[str, str]:
    """The demo's backup owner policies (1.1.0 approved at a random instant), and manual
    invocations, forced reverts and escalation decisions (freeze gates lifted or not) at random
    instants: the files of the promote domain, each row dated."""
    import yaml

    for source in sorted((REPO / "policies").glob("backup-owner-policy-*.yaml")):
        doc = yaml.safe_load(source.read_text(encoding="utf-8"))
        if doc["version"] != "1.0.0":
            doc["approved_dt_utc"] = iso(_instants(rng, weeks, 1)[0])
        else:
            doc["approved_dt_utc"] = iso(Schedule.anchor - timedelta(days=30))
        (root / "policies" / source.name).write_text(yaml.safe_dump(doc, sort_keys=False),
                                                     encoding="utf-8")
    routes = ["publish_gate", "faq_rewrite", "freeze_bypass", "exec_readback"]
    invoked = _instants(rng, weeks, 3)
    manual = [{"invocation_id": f"inv-{n}", "owner_route": rng.choice(routes),
               "invoked_at": iso(at), "until": iso(at + timedelta(days=rng.randrange(1, 6))),
               "audit_reason": "planned rest", "team_lead_ack_id": f"ack-tl-{n}"}
              for n, at in enumerate(invoked)]
    decisions = []
    for n, at in enumerate(_instants(rng, weeks, 3)):
        decision = {"page_key": f"govgate:rung2:bpe-publish_gate-{n}", "decided_by": "sam",
                    "decided_at": iso(at), "option": rng.choice(
                        ["freeze_gate", "freeze_gate", "tertiary_backup",
                         "deferred_decision_lane"])}
        if decision["option"] == "freeze_gate" and rng.random() < 0.7:
            decision["lifted_at"] = iso(at + timedelta(hours=rng.randrange(1, 120)))
            decision["lift_reason"] = "load shifted"
        decisions.append(decision)
    reverts = [{"owner_route": rng.choice(routes), "reverted_at": iso(at), "reason": "handover",
                "by": "sam"} for at in _instants(rng, weeks, 1)]
    files = {"manual_invocations": manual, "escalation_decisions": decisions,
             "forced_reverts": reverts}
    for name, rows in files.items():
        (root / f"{name}.yaml").write_text(yaml.safe_dump(rows, sort_keys=False),
                                           encoding="utf-8")
    return {"events": "events.csv", **{name: f"{name}.yaml" for name in files}}


@settings(max_examples=4, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), weeks=st.integers(3, 7),
       skips=st.sets(st.integers(1, 7), max_size=2), silent=st.sets(st.integers(1, 7),
                                                                     max_size=1),
       hours=st.lists(st.integers(0, 7 * 24 * 8), min_size=2, max_size=2))
def test_generated_projects_know_nothing_after_as_of(
        tmp_path_factory: pytest.TempPathFactory, seed: int, weeks: int, skips: set[int],
        silent: set[int], hours: list[int]) -> None:
    rng = random.Random(seed)
    base = tmp_path_factory.mktemp("generated")
    silent = {w for w in silent if w <= weeks and w not in skips}
    project = make_project(base / "project", weeks=weeks,
                           skips={w: "maintenance" for w in skips if w <= weeks}, silent=silent)
    acks = []
    for week in range(1, weeks + 1):
        if week not in skips and week not in silent:
            given_at = Schedule.scheduled(week) + timedelta(hours=rng.randrange(1, 60))
            acks.append({"ack_id": f"ack-{week:02d}", "job_run_id": Schedule.run_id(week),
                         "signer_id": "alex", "ack_dt_utc": given_at})
    acks.append({"ack_id": "ack-orphan", "job_run_id": "", "signer_id": "pat",
                 "ack_dt_utc": Schedule.start(rng.randrange(1, weeks + 1)) + timedelta(hours=5)})
    project.add_acks(*sorted(acks, key=lambda a: a["ack_dt_utc"]))
    project.add_evidence({"evidence_id": "EV-1", "job_run_id": Schedule.run_id(2),
                          "attached_at": Schedule.scheduled(2) + timedelta(days=2)})
    project.add_comms({"comms_id": "PC-1", "sent_at": Schedule.scheduled(weeks) - timedelta(days=1),
                       "window_start": Schedule.start(weeks - 1), "channel": "annex"})
    (project.root / "events.csv").write_text(
        "".join(_events(rng, Schedule.anchor, weeks * 7 + 7)), encoding="utf-8")
    project.update_config(fatigue=_promote_domain(project.root, rng, weeks))
    for n, offset in enumerate(sorted(hours)):
        at = (Schedule.anchor + timedelta(hours=offset)).astimezone(UTC)
        assert_as_of_honest(project.root, at, base / f"scratch{n}")
