"""The corpus of hostile inputs (``tests/corpus/``): each file is refused with one line, or is
harmless in every output.

Each case is described in ``tests/corpus/expected.yaml``: where the file goes in a fresh project
and what must happen. A refused input exits 2 with exactly one line on stderr that names the file
and the place in it, with no traceback and no control character, and writes nothing (no output
folder, no ledger, no pager outbox). An accepted one exits 0 or 1 with nothing on stderr; a
hostile value that is accepted (a formula in an id) must not start a cell of any CSV or markdown
file govgate writes from it.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.conftest import REPO, Project, make_project

CORPUS = REPO / "tests" / "corpus"
EXPECTED = CORPUS / "expected.yaml"
AS_OF = "2026-11-02T07:25:00Z"  # week 6 (recon-2026-W44) completed an hour earlier
JOB = "jobs/recon-2026-W41"
EVENTS = (
    "ack_event_id,signer_id,owner_route,cert_window_id,request_dt_utc,ack_dt_utc,ack_outcome,"
    "sla_target_hours\n"
    "e1,alex,publish_gate,cw1,2026-10-20T07:00:00Z,2026-10-20T08:00:00Z,approved,0.50\n"
    "e2,alex,publish_gate,cw2,2026-10-21T07:00:00Z,,,0.50\n"
    "e3,pat,faq_rewrite,cw1,2026-10-22T07:00:00Z,2026-10-22T09:00:00Z,approved,4\n"
)
#: A spreadsheet evaluates a cell that starts with one of these (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def load_cases() -> dict[str, dict[str, Any]]:
    cases: dict[str, dict[str, Any]] = yaml.safe_load(EXPECTED.read_text(encoding="utf-8"))
    return cases


CASES = load_cases()


def params(outcomes: set[str], xfail_key: str = "xfail",
           keep: Callable[[dict[str, Any]], bool] = lambda case: True) -> list[Any]:
    out = []
    for name, case in sorted(CASES.items()):
        if case.get("outcome", "error") not in outcomes or not keep(case):
            continue
        marks = ([pytest.mark.xfail(strict=True, reason=case[xfail_key])]
                 if xfail_key in case else [])
        out.append(pytest.param(name, case, id=name, marks=marks))
    return out


# -- building a project around a case -------------------------------------------------------


@cache
def _template(base: Path, drifts: tuple[tuple[int, str, str], ...]) -> Path:
    """A project with the fatigue inputs too, built once per scenario and copied per case."""
    folder = base / f"template-{len(list(base.iterdir()))}"
    project = make_project(folder, drifts={(w, m): pct for w, m, pct in drifts})
    shutil.copy(REPO / "policies" / "backup-owner-policy-1.0.0.yaml", folder / "policies")
    (folder / "events.csv").write_text(EVENTS, encoding="utf-8")
    config = project.config()
    config["fatigue"] = {"events": "events.csv"}
    project.write_config(config)
    return folder


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Callable[[dict[str, Any]], Path]:
    base = tmp_path_factory.mktemp("corpus-templates")

    def get(case: dict[str, Any]) -> Path:
        drifts = (case.get("scenario") or {}).get("drifts") or []
        return _template(base, tuple(tuple(d) for d in drifts))

    return get


def merge(target: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            merge(target[key], value)
        else:
            target[key] = value


def place(project: Project, outside: Path, name: str, case: dict[str, Any],
          source: Path | None = None) -> None:
    """Put the corpus file ``name`` where its ``slot`` says (``source``: other bytes, same name)."""
    src = source or CORPUS / name
    slot: str = case["slot"]
    if slot == "config":
        target = project.config_path
    elif slot.startswith("job:"):
        target = project.root / JOB / slot.removeprefix("job:")
    elif slot == "job-folder":
        # A bundle: every file of the job folder at once (a folder copied from another run).
        files: dict[str, str] = yaml.safe_load(src.read_text(encoding="utf-8"))
        for file_name, text in files.items():
            (project.root / JOB / file_name).write_text(text, encoding="utf-8")
        return
    elif slot == "policy":
        target = project.root / "policies" / name
    elif slot.startswith("policy:"):
        target = project.root / "policies" / slot.removeprefix("policy:")
    else:
        section, key = slot.split(".")
        target = project.root / name
        config = project.config()
        config.setdefault(section, {})[key] = name
        project.write_config(config)
    if case.get("outside"):
        outside.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, outside / name)
        target.unlink(missing_ok=True)
        target.symlink_to(outside / name)
    else:
        shutil.copy(src, target)
    if case.get("config"):
        config = project.config()
        merge(config, case["config"])
        project.write_config(config)


@pytest.fixture
def build(templates: Callable[[dict[str, Any]], Path], tmp_path: Path,
          ) -> Callable[..., Project]:
    counter = iter(range(100))

    def run(name: str, case: dict[str, Any], source: Path | None = None) -> Project:
        n = next(counter)
        root = tmp_path / f"project{n}"
        shutil.copytree(templates(case), root, symlinks=True)
        project = Project(root)
        place(project, tmp_path / f"outside{n}", name, case, source)
        return project

    return run


# -- checking outputs ------------------------------------------------------------------------


def formula_cells(name: str, text: str, payloads: list[str]) -> list[str]:
    """Cells of a CSV or markdown text that hold a payload and start like a formula."""
    cells: list[str] = []
    if name.endswith(".csv"):
        for row in csv.reader(io.StringIO(text, newline="")):
            cells += row
    else:
        for line in text.splitlines():
            stripped = line.strip()
            if stripped.startswith("|"):
                cells += [c.strip() for c in UNESCAPED_PIPE.split(stripped.strip("|"))]
            else:
                cells.append(stripped.removeprefix("- ").removeprefix("* "))
    return [c for c in cells if any(p in c for p in payloads) and c.startswith(FORMULA_START)]


def text_outputs(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text(encoding="utf-8")
            for p in sorted(folder.rglob("*")) if p.suffix in (".csv", ".md")}


def assert_refused(project: Project, run: Any, expect: str) -> None:
    assert run.code == 2, (run.code, run.out[:300], run.err)
    assert run.out == ""
    assert "Traceback" not in run.err
    assert run.err.startswith("govgate: error: "), run.err
    assert run.err.endswith("\n") and run.err.count("\n") == 1, run.err
    line = run.err[:-1]
    assert not CONTROL.search(line), f"control character in the message: {line!r}"
    assert re.search(expect, line), f"{expect!r} not in {line!r}"
    # A failed load decides nothing and writes nothing.
    assert not project.output.exists()
    assert not project.ledger.exists()
    assert not project.outbox.exists()


# -- tests -----------------------------------------------------------------------------------


def test_every_corpus_file_has_an_entry_and_every_entry_a_file() -> None:
    files = {p.name for p in CORPUS.iterdir() if p.is_file() and p != EXPECTED}
    assert files == set(CASES), (sorted(files - set(CASES)), sorted(set(CASES) - files))
    for name, case in CASES.items():
        outcome = case.get("outcome", "error")
        assert outcome in {"error", "accepted", "neutralised", "blocked"}, name
        assert ("expect" in case) == (outcome in ("error", "blocked")), name
        assert ("rule" in case) == (outcome == "blocked"), name
        assert ("payloads" in case) == (outcome == "neutralised"), name
        for key in ("xfail", "xfail_heatmap_csv"):
            assert str(case.get(key, "BUG: ")).startswith("BUG: "), name


def test_the_clean_project_passes(templates: Callable[[dict[str, Any]], Path],
                                  tmp_path: Path) -> None:
    # Every refusal below is caused by its corpus file, not by the project around it.
    root = tmp_path / "clean"
    shutil.copytree(templates({}), root)
    run = Project(root).check(AS_OF)
    assert (run.code, run.err) == (0, "")


@pytest.mark.parametrize(("name", "case"), params({"error"}))
def test_bad_input_is_refused_with_one_line(build: Callable[..., Project], name: str,
                                            case: dict[str, Any]) -> None:
    project = build(name, case)
    assert_refused(project, project.check(AS_OF), case["expect"])


@pytest.mark.parametrize("name", sorted(CASES))
def test_validate_never_crashes_on_a_corpus_file(run_cli: Any, name: str) -> None:
    # `govgate validate` checks shapes only (pre-commit): it may pass what the gate refuses for
    # a reason across files, but it answers every file with a verdict, never a traceback.
    run = run_cli(["validate", "--strict", name], CORPUS)
    assert run.code in (0, 2), (run.code, run.err)
    assert run.err == "" or run.err.startswith("govgate: error: "), run.err
    assert "Traceback" not in run.out + run.err
    assert not CONTROL.search(run.out.replace("\n", "")), run.out


@pytest.mark.parametrize(("name", "case"), params({"blocked"}))
def test_inputs_of_another_run_block_the_gate(build: Callable[..., Project], name: str,
                                              case: dict[str, Any]) -> None:
    """Well-formed inputs that cannot decide their run: the run FAILs and the gate blocks with a
    finding that says why (exit 1), and the finding is about this case, not the project."""
    project = build(name, case)
    run = project.check(AS_OF)
    assert (run.code, run.err) == (1, ""), (run.code, run.err)
    result = project.result()
    assert result["gate"] == "blocked"
    hits = [f for f in result["findings"]
            if f["rule"] == case["rule"] and f["blocking"] and re.search(case["expect"],
                                                                         f["message"])]
    assert hits, [(f["rule"], f["message"]) for f in result["findings"]]


@pytest.mark.parametrize(("name", "case"), params({"accepted"}))
def test_accepted_input_decides_like_its_plain_twin(build: Callable[..., Project],
                                                    tmp_path: Path, name: str,
                                                    case: dict[str, Any]) -> None:
    """BOM + CRLF is accepted, and decides exactly as the same file without them."""
    project = build(name, case)
    run = project.check(AS_OF)
    assert run.code in (0, 1) and run.err == "", (run.code, run.err)
    raw = (CORPUS / name).read_bytes()
    plain = tmp_path / "plain" / name
    plain.parent.mkdir()
    plain.write_bytes(raw.removeprefix(b"\xef\xbb\xbf").replace(b"\r\n", b"\n"))
    twin = build(name, case, plain)
    twin_run = twin.check(AS_OF)
    assert (twin_run.code, twin_run.err) == (run.code, "")
    assert twin.output_files(manifests=False) == project.output_files(manifests=False)


@pytest.mark.parametrize(("name", "case"), params({"neutralised"}))
def test_hostile_ids_never_start_a_cell(build: Callable[..., Project], name: str,
                                        case: dict[str, Any]) -> None:
    """Formulas in ids end up in the diff CSVs, summary.md and the readback only as text."""
    project = build(name, case)
    run = project.check(AS_OF)
    assert run.code in (0, 1) and run.err == "", (run.code, run.err)
    readback = project.run("readback", "--as-of", AS_OF, "--quarter", "2026-Q4")
    assert (readback.code, readback.err) == (0, "")
    written = b"".join(project.output_files().values()).decode("utf-8")
    for payload in case["payloads"]:
        assert payload in written, f"{payload!r} never reached an output: the case tests nothing"
    outputs = text_outputs(project.output)
    assert any(n.endswith(".csv") for n in outputs) and "summary.md" in outputs
    assert any(n.startswith("readback-") for n in outputs)
    found = {n: cells for n, text in outputs.items()
             if (cells := formula_cells(n, text, case["payloads"]))}
    assert found == {}


@pytest.mark.parametrize(("name", "case"), params(
    {"neutralised"}, "xfail_heatmap_csv", keep=lambda c: c["slot"] == "fatigue.events"))
def test_hostile_signer_ids_never_start_a_heatmap_csv_cell(
        build: Callable[..., Project], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        name: str, case: dict[str, Any]) -> None:
    from govgate.commands import COMMANDS
    from govgate.fatigue.events import load_events
    from govgate.fatigue.heatmap import heatmap, rows_to_csv

    as_of = datetime(2026, 11, 2, tzinfo=UTC)  # the nightly refresh at or before AS_OF
    refresh = heatmap(load_events(CORPUS / name), as_of)
    assert {p for p in case["payloads"] if any(p in r.signer_id for r in refresh.rows)}
    texts = {"rows_to_csv.csv": rows_to_csv(refresh)}
    if "heatmap" in COMMANDS:  # what `govgate heatmap --output` writes
        project = build(name, case)
        # A relative --output is the command's folder's, not the process's (it once was).
        elsewhere = tmp_path / "process-cwd"
        elsewhere.mkdir()
        monkeypatch.chdir(elsewhere)
        run = project.run("heatmap", "--as-of", "2026-11-02T00:00:00Z", "--output", "hm")
        assert run.code == 0, run.err
        assert list(elsewhere.iterdir()) == []
        written = text_outputs(project.root / "hm")
        assert len(written) == 1, written
        texts.update(written)
    found = {n: cells for n, text in texts.items()
             if (cells := formula_cells(n, text, case["payloads"]))}
    assert found == {}


# -- inputs too large to ship as files -------------------------------------------------------


GENERATED: dict[str, tuple[str, bytes, str]] = {
    # name: (slot, bytes, regex of the message)
    "very_deep.json": ("job:leadership.json", b"[" * 100_000 + b"]" * 100_000,
                       r"leadership\.json: line 1: document nested deeper than 64 levels"),
    "very_deep.yaml": ("reconciliation.overrides", b"[" * 100_000 + b"]" * 100_000,
                       r"very_deep\.yaml: line 1, column \d+: document nested deeper than 64"),
    "very_deep_block.yaml": ("reconciliation.bootstrap", b"- " * 20_000 + b"x\n",
                             r"very_deep_block\.yaml: line 1, column \d+: document nested"),
    "many_nodes.yaml": ("reconciliation.overrides", b"[" + b"1," * 250_000 + b"1]\n",
                        r"many_nodes\.yaml: line 1: document too large"),
    "very_deep_events.json": ("fatigue.events", b"[" * 100_000 + b"]" * 100_000,
                              r"very_deep_events\.json: document nested too deeply"),
    # int() of more than 4,300 digits raises ValueError: once exit 3 in every JSON input.
    "huge_int_events.json": ("fatigue.events",
                             b'[{"sla_target_hours": ' + b"9" * 5000 + b"}]",
                             r"huge_int_events\.json: line 1: number 9+\.\.\. has more than 1000"),
    "huge_int_runs.json": ("reconciliation.runs", b'{"rows": [' + b"1" * 5000 + b"]}",
                           r"huge_int_runs\.json: line 1: number 1+\.\.\. has more than 1000"),
    "huge_int_overrides.yaml": ("reconciliation.overrides", b"- " + b"1" * 5000 + b"\n",
                                r"huge_int_overrides\.yaml: line 1, column 3: number with more"),
    "long_cell_runs.csv": ("reconciliation.runs", b"job_run_id,scheduled_at,status\n"
                           + b"x" * 2_000_000 + b",2026-09-28T06:00:00Z,PASS\n",
                           r"long_cell_runs\.csv: row 2: invalid CSV: field larger than"),
}


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_hostile_input_is_refused(build: Callable[..., Project], tmp_path: Path,
                                            name: str) -> None:
    slot, data, expect = GENERATED[name]
    source = tmp_path / "generated" / name
    source.parent.mkdir()
    source.write_bytes(data)
    project = build(name, {"slot": slot}, source)
    assert_refused(project, project.check(AS_OF), expect)


def test_deeply_nested_pyproject_is_refused(tmp_path: Path, run_cli: Any) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.govgate]\npolicies = " + "[" * 50_000 + "]" * 50_000 + "\n", encoding="utf-8")
    run = run_cli(["check", "--as-of", AS_OF], tmp_path)
    assert run.code == 2 and run.err.count("\n") == 1, run
    assert "pyproject.toml" in run.err and "TOML" in run.err


def test_a_pyproject_number_of_5000_digits_is_refused(tmp_path: Path, run_cli: Any) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.govgate]\npolicies = " + "9" * 5000 + "\n", encoding="utf-8")
    run = run_cli(["check", "--as-of", AS_OF], tmp_path)
    assert run.code == 2 and run.err.count("\n") == 1, run
    assert "pyproject.toml" in run.err and "too many digits" in run.err


def test_a_symlink_loop_is_refused(project: Project) -> None:
    (project.root / "loop-a.csv").symlink_to(project.root / "loop-b.csv")
    (project.root / "loop-b.csv").symlink_to(project.root / "loop-a.csv")
    project.set_recon(runs="loop-a.csv")
    assert_refused(project, project.check(AS_OF), r"^govgate: error: loop-a\.csv: cannot ")


@pytest.mark.parametrize("period", ["PT0S", "PT1S"])
def test_a_degenerate_schedule_is_refused_not_run(project: Project, period: str) -> None:
    policy = project.root / "policies" / "reconciliation-policy-1.0.0.yaml"
    policy.write_text(policy.read_text(encoding="utf-8").replace("period: P7D",
                                                                 f"period: {period}"))
    assert_refused(project, project.check(AS_OF),
                   r"reconciliation-policy-1\.0\.0\.yaml: (line \d+, )?/schedule/period: ")


@pytest.mark.parametrize("as_of", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00+23:59"])
def test_an_as_of_at_the_end_of_time_is_refused(project: Project, as_of: str) -> None:
    assert_refused(project, project.check(as_of), r"(--as-of|/schedule/period): ")
