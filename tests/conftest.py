"""Shared fixtures: a small govgate project on disk, a CLI runner and a fresh plugin manager.

The project is written by ``govgate.simulation.write_scenario`` (what ``govgate simulate``
writes) with a copy of the repository's ``policies/``; helpers edit its rows and documents so a
test states only what differs from a clean weekly schedule.

Schedule of the shipped reconciliation policy 1.0.0: windows of seven days from
2026-09-21T00:00:00Z; the job of week ``k`` (1-based) runs at ``end(k) + 6h`` and the simulated
run completes 25 minutes later. The constants are written here on purpose (not read from the
policy) so that a changed policy fails the tests instead of silently moving them.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import pluggy
import pytest
import yaml

from govgate.cli import main
from govgate.plugins import get_plugin_manager

REPO = Path(__file__).resolve().parents[1]
POLICIES = REPO / "policies"
RECON_POLICY_KINDS = frozenset({"reconciliation_policy", "epsilon_policy", "metric_dictionary"})

ANCHOR = datetime(2026, 9, 21, tzinfo=UTC)
PERIOD = timedelta(days=7)
RUN_OFFSET = timedelta(hours=6)
RUN_DURATION = timedelta(minutes=25)
US = timedelta(microseconds=1)
RUN_COLUMNS = ("job_run_id", "scheduled_at", "started_at", "completed_at", "skip_reason",
               "artifact_uri", "status")


def iso(dt: datetime) -> str:
    """Canonical UTC text, written independently of govgate's own formatter."""
    dt = dt.astimezone(UTC)
    text = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if dt.microsecond:
        text += f".{dt.microsecond:06d}"
    return text + "Z"


class Schedule:
    """Instants of the shipped weekly schedule, by 1-based week number."""

    anchor = ANCHOR
    period = PERIOD
    run_offset = RUN_OFFSET
    us = US

    @staticmethod
    def start(week: int) -> datetime:
        return ANCHOR + (week - 1) * PERIOD

    @classmethod
    def end(cls, week: int) -> datetime:
        return cls.start(week) + PERIOD

    @classmethod
    def scheduled(cls, week: int) -> datetime:
        return cls.end(week) + RUN_OFFSET

    @classmethod
    def completed(cls, week: int) -> datetime:
        return cls.scheduled(week) + RUN_DURATION

    @classmethod
    def run_id(cls, week: int) -> str:
        year, number, _ = cls.start(week).isocalendar()
        return f"recon-{year}-W{number:02d}"

    @classmethod
    def window_ref(cls, week: int) -> str:
        return f"window@{iso(cls.start(week))}"

    @classmethod
    def after(cls, week: int) -> datetime:
        """An instant when week ``week`` is the latest window and its run has completed."""
        return cls.completed(week) + timedelta(hours=1)

    iso = staticmethod(iso)


class CliRun(NamedTuple):
    """What ``run_cli`` returns: unpacks as ``(code, out, err)``."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def run_cli(args: Sequence[str], cwd: Path) -> CliRun:
    """Run ``govgate`` in-process with captured streams (a fresh plugin manager every call)."""
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in args], out=out, err=err, cwd=cwd)
    return CliRun(int(code), out.getvalue(), err.getvalue())


@cache
def _policies() -> tuple[Any, dict[str, Any], list[str]]:
    from govgate.config import Config
    from govgate.loaders.policies import load_policies
    from govgate.recon.loader import load_epsilon_policies, load_recon_policy

    config = Config(path=None, base=REPO, data={"policies": "policies"})
    policies = load_policies(config, get_plugin_manager().hook)
    policy = load_recon_policy(policies, ANCHOR + 52 * PERIOD)
    # Only what a reconciliation project needs: the lesson-174 backup owner policies of the
    # shipped demo would add their own findings (the cross-route audit) to every project.
    files = [d.source for d in policies.docs if d.kind in RECON_POLICY_KINDS]
    return policy, load_epsilon_policies(policies), files


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write_csv(path: Path, rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: "" if row.get(c) is None else row.get(c) for c in columns})
    path.write_text(buffer.getvalue(), encoding="utf-8")


def sha256_lines(values: dict[str, str]) -> str:
    """The ingest hash, recomputed from its documented definition (not govgate's code)."""
    import hashlib
    from decimal import Decimal

    def canonical(text: str) -> str:
        # With a precision of its own: the default context's 28 digits would round the value.
        from decimal import Context

        number = Decimal(text)
        return "0" if number == 0 else format(Context(prec=5000).normalize(number), "f")

    body = "".join(f"{m},{canonical(values[m])}\n" for m in sorted(values))
    return "sha256:" + hashlib.sha256(body.encode()).hexdigest()


@dataclass
class Project:
    """A project folder with the helpers tests use to shape it."""

    root: Path

    # -- running --------------------------------------------------------------------------

    def run(self, *args: Any, cwd: Path | None = None) -> CliRun:
        return run_cli([str(a) for a in args], cwd or self.root)

    def check(self, as_of: datetime | str, *extra: Any, fmt: str = "json") -> CliRun:
        when = as_of if isinstance(as_of, str) else iso(as_of)
        return self.run("check", "--as-of", when, "--format", fmt, *extra)

    # -- outputs --------------------------------------------------------------------------

    @property
    def output(self) -> Path:
        return self.root / "govgate-out"

    @property
    def ledger(self) -> Path:
        return self.root / ".govgate" / "ledger.jsonl"

    @property
    def outbox(self) -> Path:
        return self.root / ".govgate" / "pager-outbox.jsonl"

    def result(self) -> Any:
        return json.loads((self.output / "result.json").read_text(encoding="utf-8"))

    @staticmethod
    def jsonl(path: Path) -> list[dict[str, Any]]:
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip()]

    def ledger_records(self, kind: str | None = None) -> list[dict[str, Any]]:
        return [r for r in self.jsonl(self.ledger) if kind is None or r["kind"] == kind]

    def output_files(self, *, manifests: bool = True) -> dict[str, bytes]:
        """The output folder's files; ``manifests=False`` leaves out the evidence manifests,
        which digest the input files (so inputs equal in meaning but not in bytes differ)."""
        if not self.output.exists():
            return {}
        return {str(p.relative_to(self.output)): p.read_bytes()
                for p in sorted(self.output.rglob("*")) if p.is_file()
                and (manifests or not p.name.endswith("manifest.json"))}

    # -- configuration --------------------------------------------------------------------

    @property
    def config_path(self) -> Path:
        return self.root / "govgate.yaml"

    def config(self) -> dict[str, Any]:
        data: dict[str, Any] = yaml.safe_load(self.config_path.read_text(encoding="utf-8"))
        return data

    def write_config(self, data: dict[str, Any]) -> None:
        self.config_path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")

    def update_config(self, **changes: Any) -> None:
        data = self.config()
        for key, value in changes.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        self.write_config(data)

    def set_recon(self, **refs: str | None) -> None:
        data = self.config()
        section = data.setdefault("reconciliation", {})
        for key, value in refs.items():
            if value is None:
                section.pop(key, None)
            else:
                section[key] = value
        self.write_config(data)

    # -- scheduler rows -------------------------------------------------------------------

    @property
    def runs_path(self) -> Path:
        return self.root / "scheduler_runs.csv"

    def runs(self) -> list[dict[str, str]]:
        return read_csv(self.runs_path)

    def write_runs(self, rows: Iterable[dict[str, Any]]) -> None:
        write_csv(self.runs_path, rows, RUN_COLUMNS)

    def _run_key(self, week_or_id: int | str) -> str:
        return Schedule.run_id(week_or_id) if isinstance(week_or_id, int) else week_or_id

    def edit_run(self, week_or_id: int | str, **changes: Any) -> None:
        """Change cells of one scheduler row (datetimes are written canonically)."""
        key = self._run_key(week_or_id)
        rows = self.runs()
        hit = [r for r in rows if r["job_run_id"] == key]
        assert hit, f"no scheduler row {key}"
        for column, value in changes.items():
            hit[0][column] = iso(value) if isinstance(value, datetime) else (
                "" if value is None else str(value))
        self.write_runs(rows)

    def remove_run(self, week_or_id: int | str) -> None:
        key = self._run_key(week_or_id)
        self.write_runs(r for r in self.runs() if r["job_run_id"] != key)
        job = self.root / "jobs" / key
        if job.exists():
            shutil.rmtree(job)

    def skip(self, week: int, reason: str = "maintenance") -> None:
        """Turn week ``week`` into a SKIPPED row (and drop its job folder)."""
        key = Schedule.run_id(week)
        job = self.root / "jobs" / key
        if job.exists():
            shutil.rmtree(job)
        self.edit_run(week, status="SKIPPED", skip_reason=reason, started_at=None,
                      completed_at=None, artifact_uri=None)

    # -- job documents --------------------------------------------------------------------

    def job(self, week_or_id: int | str) -> Path:
        return self.root / "jobs" / self._run_key(week_or_id)

    def read_doc(self, rel: str | Path) -> Any:
        path = self.root / rel
        text = path.read_text(encoding="utf-8")
        return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)

    def write_doc(self, rel: str | Path, data: Any) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".json":
            path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        else:
            path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")

    def edit_doc(self, rel: str | Path, fn: Callable[[Any], Any]) -> None:
        data = self.read_doc(rel)
        result = fn(data)
        self.write_doc(rel, data if result is None else result)

    def export_path(self, week_or_id: int | str, side: str) -> Path:
        name = "leadership.json" if side == "leadership" else "partner_annex.json"
        return (self.job(week_or_id) / name).relative_to(self.root)

    def values(self, week_or_id: int | str, side: str) -> dict[str, str]:
        doc = self.read_doc(self.export_path(week_or_id, side))
        return {r["metric_id"]: str(r["value"]) for r in doc["rows"]}

    def ingest_hash(self, week_or_id: int | str, side: str) -> str:
        """The ingest hash of one export's rows, recomputed from its documented definition."""
        return sha256_lines(self.values(week_or_id, side))

    def set_value(self, week_or_id: int | str, side: str, metric_id: str, value: str,
                  *, rehash: bool = True) -> None:
        """Set one metric value of one export, keeping its declared ingest_hash consistent."""
        rel = self.export_path(week_or_id, side)

        def edit(doc: dict[str, Any]) -> None:
            for row in doc["rows"]:
                if row["metric_id"] == metric_id:
                    row["value"] = value
            if rehash:
                values = {r["metric_id"]: str(r["value"]) for r in doc["rows"]}
                if "footer" in doc:
                    doc["footer"]["ingest_hash"] = sha256_lines(values)
                else:
                    doc["ingest_hash"] = sha256_lines(values)

        self.edit_doc(rel, edit)

    # -- side tables ----------------------------------------------------------------------

    def add_acks(self, *acks: dict[str, Any]) -> None:
        """Signer acks (ack_id, job_run_id, signer_id, ack_dt_utc) as ``acks.csv``."""
        self._table("acks", "acks.csv", acks, ("ack_id", "job_run_id", "signer_id",
                                               "ack_dt_utc"))

    def add_evidence(self, *rows: dict[str, Any]) -> None:
        self._table("evidence", "evidence.csv", rows, ("evidence_id", "job_run_id",
                                                       "attached_at"))

    def add_comms(self, *rows: dict[str, Any]) -> None:
        self._table("partner_comms", "partner_comms.csv", rows,
                    ("comms_id", "sent_at", "window_start", "channel"))

    def add_overrides(self, *rows: dict[str, Any]) -> None:
        """Override packets (a list field, so YAML rows)."""
        path = self.root / "overrides.yaml"
        existing = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else []
        existing += [{k: iso(v) if isinstance(v, datetime) else v for k, v in r.items()}
                     for r in rows]
        path.write_text(yaml.safe_dump(existing, sort_keys=False), encoding="utf-8")
        self.set_recon(overrides="overrides.yaml")

    def _table(self, key: str, name: str, rows: Iterable[dict[str, Any]],
               columns: Sequence[str]) -> None:
        path = self.root / name
        existing = read_csv(path) if path.exists() else []
        fresh = [{k: iso(v) if isinstance(v, datetime) else v for k, v in r.items()}
                 for r in rows]
        write_csv(path, [*existing, *fresh], columns)
        self.set_recon(**{key: name})


def make_project(base: Path, *, weeks: int = 6, skips: dict[int, str] | None = None,
                 silent: Iterable[int] = (), drifts: dict[tuple[int, str], str] | None = None,
                 seed: int = 166, bootstrap: bool = True, epsilon: str = "1.1.0") -> Project:
    """Write a project folder under ``base`` with ``govgate.simulation.write_scenario``.

    ``skips`` maps a 1-based week to a skip_reason, ``silent`` weeks have no scheduler row,
    ``drifts`` maps ``(week, metric_id)`` to a percent drift of the partner value.
    """
    from govgate.simulation import Scenario, write_scenario

    policy, epsilons, files = _policies()
    base.mkdir(parents=True, exist_ok=True)
    scenario = Scenario(weeks=weeks, skips=dict(skips or {}), silent=set(silent),
                        drifts=dict(drifts or {}), seed=seed, bootstrap=bootstrap)
    write_scenario(base, scenario, policy, epsilons[epsilon], files, REPO)
    return Project(base)


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def sched() -> type[Schedule]:
    """Instants of the weekly schedule: ``sched.scheduled(3)``, ``sched.run_id(3)``, ..."""
    return Schedule


@pytest.fixture(name="make_project")
def make_project_fixture(tmp_path: Path) -> Callable[..., Project]:
    """``make_project(**scenario)`` (or ``make_project(folder, **scenario)``) -> Project."""
    counter = iter(range(1000))

    def factory(base: Path | None = None, **scenario: Any) -> Project:
        return make_project(base or tmp_path / f"project{next(counter)}", **scenario)

    return factory


@pytest.fixture
def project(make_project: Callable[..., Project]) -> Project:
    """Six clean weeks, all PASS, bootstrap documented."""
    return make_project()


@pytest.fixture(name="run_cli")
def run_cli_fixture() -> Callable[[Sequence[str], Path], CliRun]:
    return run_cli


@pytest.fixture
def simulate(tmp_path: Path) -> Callable[..., Project]:
    """Run ``govgate simulate ARGS`` from a folder holding a config and the repository's
    policies; returns the simulated project."""
    home = tmp_path / "simulate-home"
    shutil.copytree(POLICIES, home / "policies")
    (home / "govgate.yaml").write_text("policies: policies\n", encoding="utf-8")
    counter = iter(range(1000))

    def run(*args: str) -> Project:
        out = tmp_path / f"sim{next(counter)}"
        result = run_cli(["simulate", "--out", str(out), *args], home)
        assert result.code == 0, result.err
        return Project(out)

    return run


@pytest.fixture
def pm() -> pluggy.PluginManager:
    """A fresh plugin manager with the built-in plugins (no third-party entry points)."""
    return get_plugin_manager(load_entrypoints=False)


@pytest.fixture(autouse=True)
def _no_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    # GOVGATE_DEBUG re-raises internal errors; the exit-code tests need the shipped behaviour.
    monkeypatch.delenv("GOVGATE_DEBUG", raising=False)


@pytest.fixture
def plugin_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                  ) -> Iterator[Callable[[str, str], str]]:
    """Write an importable plugin module and return its (unique) name for ``-p``."""
    import importlib
    import sys

    folder = tmp_path / "plugin_modules"
    folder.mkdir(exist_ok=True)
    monkeypatch.syspath_prepend(str(folder))
    names: list[str] = []

    def write(stem: str, source: str) -> str:
        name = f"gg_test_{stem}_{abs(hash(str(tmp_path))) % 10**8}"
        (folder / f"{name}.py").write_text(source, encoding="utf-8")
        names.append(name)
        importlib.invalidate_caches()
        return name

    yield write
    for name in names:
        sys.modules.pop(name, None)
