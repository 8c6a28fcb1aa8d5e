"""Fuzz the loaders and the CLI: mutated inputs give a result or one error line, never a crash.

Every input kind of a project (the configuration, as ``govgate.yaml`` and as ``[tool.govgate]``
in ``pyproject.toml``; the policies; the scheduler rows, acks, evidence, overrides and partner
comms of lesson 166; the job documents; the signer ack events and the team lead's files of
lesson 174), in each of its formats (CSV, JSON, YAML), is mutated by hypothesis (hostile tokens
swapped in, bytes inserted, flipped or deleted, lines dropped, duplicated or swapped, the file
truncated) and fed to ``govgate check`` through :func:`govgate.cli.main`. The only outcomes
allowed:

* exit 0 or 1, nothing on stderr, a JSON result on stdout;
* exit 2, exactly one line on stderr that starts ``govgate: error: ``, holds no control
  character and names an input file, nothing on stdout, and no output folder written.

Anything else, exit 3 or an exception escaping ``main`` (``GOVGATE_DEBUG`` is set, so an internal
error surfaces as its traceback), fails. ``govgate validate`` must answer the mutated file too.

The default run is small and derandomised (the same examples every time, well under a minute).
``GOVGATE_FUZZ_EXAMPLES=2000 pytest -m fuzz tests/fuzz`` runs longer, with fresh random examples.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from tests.conftest import REPO, Project, make_project

from govgate.cli import main

pytestmark = pytest.mark.fuzz

AS_OF = "2026-11-02T07:25:00Z"
_LONG = os.environ.get("GOVGATE_FUZZ_EXAMPLES")
FUZZ = settings(
    max_examples=int(_LONG) if _LONG else 12,
    deadline=None,
    derandomize=not _LONG,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large],
)
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# -- the project -------------------------------------------------------------------------------


EVENTS = """\
ack_event_id,signer_id,owner_route,cert_window_id,request_dt_utc,ack_dt_utc,ack_outcome,sla_target_hours
e1,alex,publish_gate,cw1,2026-10-20T07:00:00Z,2026-10-20T08:00:00Z,approved,0.50
e2,alex,publish_gate,cw2,2026-10-21 07:00:00+00,,,0.50
e3,pat,faq_rewrite,cw1,2026-10-22T07:00:00Z,2026-10-22T09:00:00Z,approved,4
e4,alex,exec_readback,cw3,2026-10-23T07:00:00Z,2026-10-25T09:00:00.5Z,rejected,24
e5,quinn,publish_gate,,2026-10-28T12:00:00Z,2026-10-28T12:30:17Z,timeout,
"""
MANUAL = """\
- invocation_id: inv-1
  owner_route: faq_rewrite
  invoked_at: '2026-10-24T09:00:00Z'
  until: '2026-10-30T00:00:00Z'
  audit_reason: 'alex on leave: dana signs faq rewrites'
  team_lead_ack_id: ack-tl-1
"""
FORCED = """\
- owner_route: faq_rewrite
  reverted_at: '2026-10-29T12:00:00Z'
  reason: alex is back
  by: sam
"""
DECISIONS = """\
- promote_event_id: bpe-publish_gate-20261024T000000Z
  option: freeze_gate
  decided_by: sam
  decided_at: '2026-10-25T08:00:00Z'
  lifted_at: '2026-10-26T08:00:00Z'
  lift_reason: load shifted
"""
WINDOWS = """\
- cert_window_id: cw1
  platform: steam
  opens_at: '2026-10-01T00:00:00Z'
  closes_at: '2026-11-19T00:00:00Z'
  critical_routes: [publish_gate, freeze_bypass]
- cert_window_id: cw2
  platform: quest
  opens_at: '2026-10-15T00:00:00Z'
  closes_at: '2026-12-01T00:00:00Z'
  critical_routes: [publish_gate]
"""


def build_template(root: Path) -> Project:
    project = make_project(root, skips={5: "maintenance"}, drifts={(3, "tickets_p95"): "3"})
    shutil.copy(REPO / "policies" / "backup-owner-policy-1.0.0.yaml", root / "policies")
    project.add_acks(
        {"ack_id": "ack-1", "job_run_id": "recon-2026-W39", "signer_id": "alex",
         "ack_dt_utc": "2026-09-28T09:00:00Z"},
        {"ack_id": "ack-2", "job_run_id": None, "signer_id": "pat",
         "ack_dt_utc": "2026-10-13T09:00:00Z"},
        {"ack_id": "ack-3", "job_run_id": "recon-2026-W42", "signer_id": "alex",
         "ack_dt_utc": "2026-10-21T09:00:00Z"})
    project.add_evidence({"evidence_id": "EV-1", "job_run_id": "recon-2026-W42",
                          "attached_at": "2026-10-20T09:00:00Z"})
    project.add_overrides({"audit_id": "AUD-1",
                           "covers": ["recon-2026-W43", "window@2026-10-19T00:00:00Z"],
                           "approved_by": "vp", "approved_at": "2026-10-27T00:00:00Z",
                           "reason": "maintenance agreed with partners"})
    project.add_comms({"comms_id": "PC-1", "sent_at": "2026-10-28T12:00:00Z",
                       "window_start": "2026-10-19T00:00:00Z", "channel": "annex"})
    for name, text in (("events.csv", EVENTS), ("manual_invocations.yaml", MANUAL),
                       ("forced_reverts.yaml", FORCED),
                       ("escalation_decisions.yaml", DECISIONS),
                       ("cert_windows.yaml", WINDOWS)):
        (root / name).write_text(text, encoding="utf-8")
    config = project.config()
    config["fatigue"] = {"events": "events.csv", "manual_invocations": "manual_invocations.yaml",
                         "forced_reverts": "forced_reverts.yaml",
                         "escalation_decisions": "escalation_decisions.yaml",
                         "cert_windows": "cert_windows.yaml"}
    project.write_config(config)
    return project


def _rows(path: Path) -> list[dict[str, Any]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [{k: (v if v != "" else None) for k, v in row.items()}
                for row in csv.DictReader(handle)]


def _csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else ";".join(v) if isinstance(v, list) else v)
                         for k, v in row.items()})
    return buffer.getvalue()


def convert(section: str, key: str, src: str, dst: str) -> Callable[[Project], None]:
    """A setup step: rewrite the table ``src`` in the format of ``dst`` and point the config
    at it (CSV -> JSON/YAML lists, YAML list -> CSV)."""

    def setup(project: Project) -> None:
        source = project.root / src
        if src.endswith(".csv"):
            rows = _rows(source)
            text = (json.dumps(rows, indent=1) + "\n" if dst.endswith(".json")
                    else yaml.safe_dump(rows, sort_keys=False))
        else:
            text = _csv(yaml.safe_load(source.read_text(encoding="utf-8")))
        (project.root / dst).write_text(text, encoding="utf-8")
        config = project.config()
        config[section][key] = dst
        project.write_config(config)

    return setup


def to_pyproject(project: Project) -> None:
    import tomllib  # noqa: F401  (the format govgate reads it with)

    def toml(value: Any) -> str:
        if isinstance(value, dict):
            return "{" + ", ".join(f"{k} = {toml(v)}" for k, v in value.items()) + "}"
        if isinstance(value, list):
            return "[" + ", ".join(toml(v) for v in value) + "]"
        return json.dumps(value)

    config = project.config()
    lines = ["[project]", 'name = "fuzzed"', "", "[tool.govgate]"]
    lines += [f"{key} = {toml(value)}" for key, value in config.items()]
    (project.root / "pyproject.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    project.config_path.unlink()


@dataclass(frozen=True)
class Target:
    """One input file to mutate, after an optional setup that puts it in place."""

    path: str
    setup: Callable[[Project], None] | None = None


JOB = "jobs/recon-2026-W41"
TARGETS: dict[str, Target] = {
    "config-yaml": Target("govgate.yaml"),
    "config-pyproject": Target("pyproject.toml", to_pyproject),
    "policy-reconciliation": Target("policies/reconciliation-policy-1.0.0.yaml"),
    "policy-epsilon": Target("policies/epsilon-policy-1.1.0.yaml"),
    "policy-metric-dictionary": Target("policies/metric-dictionary-1.0.0.yaml"),
    "policy-backup-owner": Target("policies/backup-owner-policy-1.0.0.yaml"),
    "runs-csv": Target("scheduler_runs.csv"),
    "runs-json": Target("scheduler_runs.json",
                        convert("reconciliation", "runs", "scheduler_runs.csv",
                                "scheduler_runs.json")),
    "acks-csv": Target("acks.csv"),
    "acks-yaml": Target("acks.yaml", convert("reconciliation", "acks", "acks.csv", "acks.yaml")),
    "evidence-csv": Target("evidence.csv"),
    "overrides-yaml": Target("overrides.yaml"),
    "partner-comms-csv": Target("partner_comms.csv"),
    "partner-comms-json": Target("partner_comms.json",
                                 convert("reconciliation", "partner_comms", "partner_comms.csv",
                                         "partner_comms.json")),
    "bootstrap-yaml": Target("bootstrap.yaml"),
    "manifest-yaml": Target(f"{JOB}/manifest.yaml"),
    "leadership-json": Target(f"{JOB}/leadership.json"),
    "partner-annex-json": Target(f"{JOB}/partner_annex.json"),
    "events-csv": Target("events.csv"),
    "events-json": Target("events.json", convert("fatigue", "events", "events.csv",
                                                 "events.json")),
    "manual-invocations-yaml": Target("manual_invocations.yaml"),
    "manual-invocations-csv": Target("manual_invocations.csv",
                                     convert("fatigue", "manual_invocations",
                                             "manual_invocations.yaml",
                                             "manual_invocations.csv")),
    "forced-reverts-yaml": Target("forced_reverts.yaml"),
    "escalation-decisions-yaml": Target("escalation_decisions.yaml"),
    "cert-windows-yaml": Target("cert_windows.yaml"),
    "cert-windows-csv": Target("cert_windows.csv", convert("fatigue", "cert_windows",
                                                           "cert_windows.yaml",
                                                           "cert_windows.csv")),
}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_template(tmp_path_factory.mktemp("fuzz-template") / "project").root


# -- mutations ---------------------------------------------------------------------------------


HOSTILE: list[bytes] = [
    b"", b" ", b"NaN", b".nan", b"-.inf", b"Infinity", b"1e999", b"-0", b"0", b"-1",
    b"99999999999999999999999999", b"0.000000000000000000001", b"null", b"~", b"[]", b"{}",
    b'"', b"'", b"\\", b"\x00", b"\x1b[31m", b"\r", b"\r\n", b"\n", b",", b";", b"=HYPERLINK(1)",
    b"@SUM(1)", b"+1", b"-2+3", b"*a", b"&a [*a, *a, *a]", b"!!python/object:os.system",
    b"!!binary AAAA", b"!!int x", b"!!float y", b"!!timestamp 2026-01-01", b"<<: *a",
    b"2026-13-45T99:99:99Z", b"2026-10-12T06:00:00", b"2026-10-12T06:00:00+05:00",
    b"0001-01-01T00:00:00+23:59", b"9999-12-31T23:59:59Z", b"1970-01-01T00:00:00Z",
    b"2026-10-12 06:00:00+00", b"1.2", b"1.2.3.4", b"01.0.0", b"999.999.999", b"P0D",
    b"PT0S", b"PT1S", b"P99999999D", b"green_0d", b"green_999d", b"../../etc/passwd",
    b"/etc/passwd", b"file:///etc/passwd", b"https://127.0.0.1:1/x.csv", b"postgresql:///x",
    b"\xff\xfe", b"\xef\xbb\xbf", "é".encode(), "\u2028".encode(), "\U0001f600".encode(),
    b"x" * 300, b"---", b"...", b"%YAML 1.1", b"? ", b": ", b"- ", b"#", b"|", b">",
    b"true", b"yes", b"PASS", b"FAIL", b"SKIPPED", b"red", b"amber", b"publish_gate",
    b"recon-2026-W41", b"recon-2026-W99", b"window@2026-10-19T00:00:00Z", b"alex", b"pat",
]
# Words, and whole values (a timestamp, a URL) that a colon does not split.
_TOKENS = (re.compile(rb"[^\s,:\[\]{}\"']+"), re.compile(rb"[^\s,\[\]{}\"']+"))


@st.composite
def mutation(draw: Any) -> tuple[str, int, int, bytes]:
    kind = draw(st.sampled_from(["token", "token", "token", "insert", "delete", "flip",
                                 "truncate", "drop_line", "dup_line", "swap_lines"]))
    payload = draw(st.one_of(st.sampled_from(HOSTILE), st.binary(max_size=8)))
    return kind, draw(st.integers(0, 10**6)), draw(st.integers(0, 10**6)), payload


def mutate(data: bytes, edits: list[tuple[str, int, int, bytes]]) -> bytes:
    for kind, a, b, payload in edits:
        if kind == "token":
            spans = [m.span() for m in _TOKENS[b % 2].finditer(data)]
            if spans:
                start, end = spans[a % len(spans)]
                data = data[:start] + payload + data[end:]
        elif kind == "insert":
            at = a % (len(data) + 1)
            data = data[:at] + payload + data[at:]
        elif kind == "delete":
            at = a % (len(data) + 1)
            data = data[:at] + data[at + 1 + b % 16:]
        elif kind == "flip" and data:
            at = a % len(data)
            data = data[:at] + bytes([data[at] ^ (1 + b % 255)]) + data[at + 1:]
        elif kind == "truncate":
            data = data[:a % (len(data) + 1)]
        else:
            lines = data.splitlines(keepends=True)
            if not lines:
                continue
            i, j = a % len(lines), b % len(lines)
            if kind == "drop_line":
                del lines[i]
            elif kind == "dup_line":
                lines.insert(j, lines[i])
            else:
                lines[i], lines[j] = lines[j], lines[i]
            data = b"".join(lines)
    return data


# -- running -----------------------------------------------------------------------------------


@contextlib.contextmanager
def debug_mode() -> Iterator[None]:
    """``GOVGATE_DEBUG=1``: an internal error escapes ``main`` with its traceback."""
    old = os.environ.get("GOVGATE_DEBUG")
    os.environ["GOVGATE_DEBUG"] = "1"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("GOVGATE_DEBUG", None)
        else:
            os.environ["GOVGATE_DEBUG"] = old


def cli(args: list[str], cwd: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with debug_mode():
        code = main(args, out=out, err=err, cwd=cwd)
    return int(code), out.getvalue(), err.getvalue()


def input_names(root: Path) -> set[str]:
    """Every way a message may name an input of the project."""
    names = {"govgate.yaml", "pyproject.toml", "policies"}
    for path in root.rglob("*"):
        if path.is_file() and "govgate-out" not in path.parts:
            names.add(str(path.relative_to(root)))
    return names


def names_a_file(err: str, names: set[str], mutated: bytes) -> bool:
    """The message names an input file, or the reference the mutated file itself wrote (a
    configuration that now points at ``s cheduler_runs.csv`` gets that name back)."""
    from govgate.errors import GovgateError

    if any(name in err for name in names):
        return True
    source = err.removeprefix("govgate: error: ").split(": ", 1)[0]
    # The message escapes control characters: compare with the file escaped the same way.
    written = str(GovgateError(mutated.decode("utf-8", "replace")))
    return bool(source.strip()) and source in written


def assert_allowed(code: int, out: str, err: str, root: Path, names: set[str],
                   mutated: bytes = b"") -> None:
    assert code in (0, 1, 2), (code, err)
    if code == 2:
        assert out == "", out[:500]
        assert err.startswith("govgate: error: ") and err.endswith("\n"), err
        assert err.count("\n") == 1, err
        assert not CONTROL.search(err[:-1]), repr(err)
        assert names_a_file(err, names, mutated), f"names no input file: {err!r}"
        assert not (root / "govgate-out").exists(), "a refused input wrote outputs"
    else:
        assert err == "", err
        assert json.loads(out)["gate"] in ("pass", "blocked")


@pytest.fixture
def project_for(template: Path, tmp_path: Path) -> Callable[[Target], Project]:
    def make(target: Target) -> Project:
        root = tmp_path / "project"
        shutil.copytree(template, root)
        project = Project(root)
        if target.setup is not None:
            target.setup(project)
        code, _, err = cli(["check", "--as-of", AS_OF, "--format", "json", "--no-deliver"],
                           root)
        assert code in (0, 1) and err == "", (code, err)  # the unmutated file is valid
        shutil.rmtree(root / "govgate-out")
        return project

    return make


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_mutated_input_gives_a_result_or_one_error_line(
        project_for: Callable[[Target], Project], name: str) -> None:
    target = TARGETS[name]
    project = project_for(target)
    root = project.root
    path = root / target.path
    original = path.read_bytes()
    names = input_names(root)

    @FUZZ
    @given(edits=st.lists(mutation(), min_size=1, max_size=4))
    def run(edits: list[tuple[str, int, int, bytes]]) -> None:
        mutated = mutate(original, edits)
        path.write_bytes(mutated)
        try:
            code, out, err = cli(
                ["check", "--as-of", AS_OF, "--format", "json", "--no-deliver"], root)
            assert_allowed(code, out, err, root, names, mutated)
            code, out, err = cli(["validate", target.path], root)
            assert code in (0, 2) and "Traceback" not in out + err, (code, out, err)
        finally:
            path.write_bytes(original)
            shutil.rmtree(root / "govgate-out", ignore_errors=True)

    run()


# -- the command line itself -------------------------------------------------------------------


WORDS = ["check", "validate", "schema", "ledger", "verify", "readback", "review", "checklist",
         "faq", "promote", "simulate", "--as-of", "-c", "--config", "-p", "--format", "-o",
         "--output", "--block-on", "--no-deliver", "--quarter", "--from", "--to", "--kind",
         "--strict", "--help", "-h", "--version", "no:files", "no:gate", "no:reconcile",
         "no:fatigue", "no:promote", "not_a_plugin_xyz", "json", "text", "markdown,json", "red",
         "amber", "2026-Q4", "2026-Q9", AS_OF, "2026-11-02T07:25:00", "9999-12-31T23:59:59Z",
         "0001-01-01T00:00:00+23:59", "govgate.yaml", "missing.yaml", "scheduler_runs.csv",
         "policies", ".govgate/ledger.jsonl", "bootstrap", "epsilon_policy", "../../etc/passwd",
         "", "-", "--", "\x00", "\x1b[2J", "é"]


@FUZZ
@given(argv=st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=12)), max_size=6))
@example(argv=["check", "\x1f"])  # found: argparse quoted the control character raw
def test_any_command_line_gives_a_result_or_one_error_line(template: Path,
                                                           argv: list[str]) -> None:
    # Commands that write go to a fresh copy; --as-of is given unless the line sets its own, so
    # that no example reads the clock.
    if "--as-of" not in argv:
        argv = [*argv, "--as-of", AS_OF]
    if any(word in argv for word in ("simulate", "-o", "--output")):
        return  # they write where the arguments say; simulate has its own tests
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "project"
        shutil.copytree(template, root)
        code, out, err = cli(argv, root)
        assert code in (0, 1, 2), (code, err)
        if code == 2 and err:
            assert err.startswith("govgate: error: ") or err.startswith("usage:"), err
            assert err.count("\n") == 1, err
            assert not CONTROL.search(err[:-1]), repr(err)
        assert "Traceback" not in out + err
