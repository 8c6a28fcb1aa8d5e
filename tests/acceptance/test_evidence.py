"""Evidence a partner reviewer can verify: the manifest, ``govgate verify``, a weakened gate that
says so, and closed-period documents that say when they were amended."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
from tests.conftest import REPO, CliRun, run_cli

from govgate.weakened import RULE_FAMILIES

AS_OF = "2026-11-20T00:00:00Z"


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    root.mkdir()
    for name in ("govgate.yaml", "policies", "fixtures"):
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, root / name)
    return root


def gg(root: Path, *args: str, as_of: str = AS_OF) -> CliRun:
    """``govgate`` in ``root``; ``-o NAME`` is given as a path inside ``root`` (check resolves
    its -o against the process's folder)."""
    argv = list(args)
    if "-o" in argv:
        i = argv.index("-o") + 1
        argv[i] = str(root / argv[i])
    return run_cli(["--as-of", as_of, *argv], root)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- the manifest --------------------------------------------------------------------------


def test_manifest_names_every_input_and_output(demo: Path) -> None:
    run = gg(demo, "check", "--format", "text,json,sarif", "-o", "out")
    assert run.code == 1  # the demo's double skip
    raw = (demo / "out" / "manifest.json").read_bytes()
    manifest = json.loads(raw)
    assert str(demo) not in raw.decode()  # relative paths only: the folder can move
    assert manifest["as_of"] == AS_OF
    assert manifest["project"] == ".."
    paths = {e["path"]: e for e in manifest["inputs"]}
    for rel in ("govgate.yaml", "policies/backup-owner-policy-1.1.0.yaml",
                "fixtures/fatigue/signer_ack_event.csv",
                "fixtures/reconciliation/jobs/recon-2026-W44/partner_annex.json"):
        data = (demo / rel).read_bytes()
        assert (paths[rel]["size"], paths[rel]["sha256"]) == (len(data), sha(data))
    outputs = {e["path"]: e["sha256"] for e in manifest["outputs"]}
    for name in ("result.json", "summary.md", "heatmap.svg", "govgate.sarif"):
        assert outputs[name] == sha((demo / "out" / name).read_bytes())
    assert any(name.startswith("artifacts/diff/") for name in outputs)
    assert manifest["exit_code"] == 1
    assert manifest["block_states"] == ["red"]
    assert {"reconcile", "fatigue", "promote", "gate"} <= set(manifest["plugins"]["loaded"])
    assert manifest["plugins"]["disabled"] == []
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["python_version"])
    # The ledger head after the run: the last line's SHA-256 and its sequence number.
    lines = (demo / ".govgate" / "ledger.jsonl").read_bytes().splitlines()
    assert manifest["ledger"]["seq"] == len(lines)
    assert manifest["ledger"]["record_hash"] == sha(lines[-1])
    # Deterministic: the same run again gives the same manifest.
    assert gg(demo, "check", "--format", "text,json,sarif", "-o", "out").code == 1
    assert (demo / "out" / "manifest.json").read_bytes() == raw


def test_the_evidence_digest_is_recomputable(demo: Path) -> None:
    """The evidence digest covers everything known before the outputs, and nothing else."""
    from govgate.manifest import evidence_digest

    assert gg(demo, "check", "--no-deliver", "-o", "out").code == 1
    manifest = json.loads((demo / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert evidence_digest(manifest) == manifest["evidence_digest"]
    recomputed = hashlib.sha256(json.dumps(
        {k: v for k, v in manifest.items()
         if k not in {"evidence_digest", "outputs", "exit_code", "ledger"}},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()
    assert recomputed == manifest["evidence_digest"]


# -- govgate verify ------------------------------------------------------------------------


def test_verify_accepts_an_untouched_run(demo: Path) -> None:
    assert gg(demo, "check", "--format", "json,junit", "-o", "out").code == 1
    run = gg(demo, "verify", "out")
    assert run.code == 0, run.out + run.err
    assert run.out.startswith("verified manifest.json:")
    assert not [p for p in demo.iterdir() if p.name.startswith(".govgate-verify-")]


@pytest.mark.parametrize("rel", [
    "fixtures/reconciliation/scheduler_runs.csv",
    "fixtures/fatigue/signer_ack_event.csv",
    "fixtures/reconciliation/jobs/recon-2026-W41/partner_annex.json",
    "policies/epsilon-policy-1.1.0.yaml",
    "govgate.yaml",
])
def test_verify_rejects_an_edited_input(demo: Path, rel: str) -> None:
    assert gg(demo, "check", "--no-deliver", "-o", "out").code == 1
    with (demo / rel).open("a", encoding="utf-8") as f:
        f.write("\n")
    run = gg(demo, "verify", "out")
    assert run.code == 1
    assert f"input {rel} was edited" in run.out


def test_verify_rejects_an_input_the_run_did_not_read(demo: Path) -> None:
    assert gg(demo, "check", "--no-deliver", "-o", "out").code == 1
    shutil.copy(demo / "policies" / "epsilon-policy-1.1.0.yaml",
                demo / "policies" / "epsilon-policy-9.9.9.yaml")
    run = gg(demo, "verify", "out")
    assert (run.code, "policies/epsilon-policy-9.9.9.yaml was not part" in run.out) == (1, True)


@pytest.mark.parametrize("name", ["result.json", "summary.md", "heatmap.svg"])
def test_verify_rejects_an_edited_output(demo: Path, name: str) -> None:
    assert gg(demo, "check", "--no-deliver", "-o", "out").code == 1
    path = demo / "out" / name
    path.write_bytes(path.read_bytes().replace(b"2026", b"2025", 1))
    run = gg(demo, "verify", "out")
    assert run.code == 1
    assert f"output {name} was edited" in run.out


def test_verify_rejects_an_edited_artifact_and_a_missing_output(demo: Path) -> None:
    assert gg(demo, "check", "--no-deliver", "-o", "out").code == 1
    artifact = sorted((demo / "out" / "artifacts").rglob("*.csv"))[0]
    artifact.write_text("metric_id\n", encoding="utf-8")
    assert gg(demo, "verify", "out").code == 1
    artifact.unlink()
    run = gg(demo, "verify", "out")
    assert (run.code, "is missing" in run.out) == (1, True)


def test_verify_rejects_an_edited_manifest(demo: Path) -> None:
    assert gg(demo, "check", "--no-deliver", "-o", "out").code == 1
    path = demo / "out" / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["block_states"] = ["red", "amber"]
    path.write_text(json.dumps(manifest), encoding="utf-8")
    run = gg(demo, "verify", "out")
    assert (run.code, "manifest.json was edited" in run.out) == (1, True)


def test_verify_rejects_a_rewritten_ledger(demo: Path) -> None:
    assert gg(demo, "check", "-o", "out").code == 1
    ledger = demo / ".govgate" / "ledger.jsonl"
    lines = ledger.read_bytes().splitlines(keepends=True)
    ledger.write_bytes(b"".join(lines[:-1]))  # the last record cut off: still a valid chain
    run = gg(demo, "verify", "out")
    assert (run.code, "no longer holds the recorded head" in run.out) == (1, True)


def test_verify_finds_a_result_that_no_longer_reproduces(demo: Path) -> None:
    """Outputs edited consistently with their recorded digests still fail the re-run."""
    assert gg(demo, "check", "--no-deliver", "-o", "out").code == 1
    path = demo / "out" / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["exit_code"] = 0  # not covered by the evidence digest, so only the re-run sees it
    path.write_text(json.dumps(manifest), encoding="utf-8")
    run = gg(demo, "verify", "out")
    assert (run.code, "the re-run exits 1, recorded 0" in run.out) == (1, True)


@pytest.mark.parametrize("text", ["{", "[]", '{"kind": "govgate_evidence_manifest"}',
                                  json.dumps({"kind": "other", "manifest_version": 1})])
def test_verify_refuses_a_malformed_manifest(demo: Path, text: str) -> None:
    (demo / "out").mkdir()
    (demo / "out" / "manifest.json").write_text(text, encoding="utf-8")
    run = gg(demo, "verify", "out")
    assert run.code == 2
    assert "manifest.json" in run.err and "\n" not in run.err.strip()


def test_verify_needs_a_manifest(demo: Path) -> None:
    (demo / "out").mkdir()
    assert gg(demo, "verify", "out").code == 2


def test_verify_documents(demo: Path) -> None:
    assert gg(demo, "readback", "--quarter", "2026-Q3", "-o", "docs").code == 0
    assert gg(demo, "review", "--month", "2026-10", "-o", "docs").code == 0
    run = gg(demo, "verify", "docs")
    assert run.code == 0, run.out + run.err
    assert run.out.count("verified ") == 2
    md = demo / "docs" / "review-2026-10.md"
    md.write_text(md.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    run = gg(demo, "verify", "docs")
    assert (run.code, "review-2026-10.md was edited" in run.out) == (1, True)


# -- a weakened gate says so -------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(RULE_FAMILIES))
def test_a_disabled_rule_family_blocks_unless_declared(demo: Path, name: str) -> None:
    run = gg(demo, "-p", f"no:{name}", "check", "--no-deliver", "--format", "json", "-o", "out")
    assert run.code == 1
    result = run.json()
    [finding] = [f for f in result["findings"] if f["rule"] == "gate.plugin-disabled"]
    assert (finding["subject"], finding["blocking"]) == (name, True)
    assert f"`gate.plugin-disabled`<br>{name}" in (demo / "out" / "summary.md").read_text()
    manifest = json.loads((demo / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert [d["name"] for d in manifest["plugins"]["disabled"]] == [name]
    assert name not in manifest["plugins"]["loaded"]


def test_no_reconcile_no_longer_passes_the_demo_green(demo: Path) -> None:
    at = "2026-10-03T00:00:00Z"
    run = gg(demo, "-p", "no:reconcile", "check", "--no-deliver", "-o", "out", as_of=at)
    assert run.code == 1
    assert "reconcile" in run.out and "BLOCKED" in run.out
    config = demo / "govgate.yaml"
    config.write_text(config.read_text(encoding="utf-8") + (
        "disabled_plugins:\n  - name: reconcile\n    reason: reconciled by the partner\n"),
        encoding="utf-8")
    # Declared by the configuration: the plugin is off without -p, and the gate says so.
    declared = gg(demo, "check", "--no-deliver", "--format", "json", "-o", "out", as_of=at)
    assert declared.code == 0
    [finding] = [f for f in declared.json()["findings"] if f["rule"] == "gate.plugin-disabled"]
    assert finding["severity"] == "warning" and "reconciled by the partner" in finding["message"]
    assert declared.json()["sections"]["plugins"]["disabled"][0]["declared"] is True
    for args in (["readback", "--quarter", "2026-Q4", "--no-deliver"], ["checklist"], ["faq"],
                 ["review", "--month", "2026-09", "--no-deliver"]):
        doc = gg(demo, *args, "-o", "docs", as_of=at)
        assert doc.code == 0, doc.err
        assert "**Weakened gate.**" in doc.out and "reconciled by the partner" in doc.out


def test_a_declaration_needs_a_reason(demo: Path) -> None:
    config = demo / "govgate.yaml"
    config.write_text(config.read_text(encoding="utf-8") +
                      "disabled_plugins:\n  - name: reconcile\n", encoding="utf-8")
    run = gg(demo, "check", "--no-deliver")
    assert run.code == 2
    assert "govgate.yaml" in run.err and "disabled_plugins" in run.err


# -- closed periods ------------------------------------------------------------------------


def _issues(root: Path) -> list[dict[str, object]]:
    lines = (root / ".govgate" / "ledger.jsonl").read_text(encoding="utf-8").splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == "document_issue"]


def test_readback_rows_recompute_the_snapshot_hash(demo: Path) -> None:
    assert gg(demo, "readback", "--quarter", "2026-Q3", "--no-deliver", "-o", "docs").code == 0
    data = json.loads((demo / "docs" / "readback-2026-Q3.json").read_text(encoding="utf-8"))
    rows = data["fatigue"]["snapshot_canonical_form"]
    assert sha(rows.encode()) == data["fatigue"]["snapshot_hash"]
    assert rows.startswith("signer_fatigue_heatmap_14d@2026-10-01T00:00:00Z\nalex,")
    text = (demo / "docs" / "readback-2026-Q3.md").read_text(encoding="utf-8")
    assert "8 heat-map rows the snapshot hash covers" in text
    manifest = json.loads((demo / "docs" / "readback-2026-Q3.manifest.json").read_text())
    assert f"Evidence manifest digest: `{manifest['evidence_digest']}`" in text


def test_a_closed_readback_is_issued_once_and_amended_when_late_data_changes_it(
        demo: Path) -> None:
    first = gg(demo, "readback", "--quarter", "2026-Q3", "-o", "docs")
    assert first.code == 0
    original = (demo / "docs" / "readback-2026-Q3.md").read_bytes()
    assert "Issued at `2026-11-20T00:00:00Z`" in first.out
    [issue] = _issues(demo)
    assert issue["data"]["files"]["readback-2026-Q3.md"] == sha(original)
    # Regenerated later, nothing changed: the same bytes, nothing new in the ledger.
    again = gg(demo, "readback", "--quarter", "2026-Q3", "-o", "later",
               as_of="2026-12-01T00:00:00Z")
    assert (demo / "later" / "readback-2026-Q3.md").read_bytes() == original
    assert again.code == 0 and len(_issues(demo)) == 1
    # A late row inside the quarter: the packet says amended, when and what, and the original.
    with (demo / "fixtures/fatigue/signer_ack_event.csv").open("a", encoding="utf-8") as f:
        f.write("pub-2026-99999,alex,publish_gate,,2026-09-30 07:24:00+00,"
                "2026-09-30 17:31:28+00,approved,0.50\n")
    amended = gg(demo, "readback", "--quarter", "2026-Q3", "-o", "amended",
                 as_of="2026-12-01T00:00:00Z")
    assert amended.code == 0
    assert "**Amended** at `2026-12-01T00:00:00Z`" in amended.out
    assert "first issue at `2026-11-20T00:00:00Z`" in amended.out
    assert f"original SHA-256 `{sha(original)}`" in amended.out
    assert "`fatigue.snapshot_hash`" in amended.out
    # ... and says it under the title too, so a reader does not meet the figures first.
    assert amended.out.split("\n\n")[1].startswith(
        "> **Amended** at `2026-12-01T00:00:00Z`: late data changed this document after its "
        "first issue at `2026-11-20T00:00:00Z`")
    assert "> **Amended**" not in first.out
    assert [i["data"]["issue"]["status"] for i in _issues(demo)] == ["issued", "amended"]
    # And the amendment, regenerated, is stable too.
    gg(demo, "readback", "--quarter", "2026-Q3", "-o", "again", as_of="2026-12-02T00:00:00Z")
    assert ((demo / "again" / "readback-2026-Q3.md").read_bytes()
            == (demo / "amended" / "readback-2026-Q3.md").read_bytes())
    assert len(_issues(demo)) == 2


def test_issue_records_after_as_of_are_not_known(demo: Path) -> None:
    assert gg(demo, "readback", "--quarter", "2026-Q3", "-o", "docs",
              as_of="2026-12-01T00:00:00Z").code == 0
    earlier = gg(demo, "readback", "--quarter", "2026-Q3", "--no-deliver", "-o", "before")
    assert "Not issued" in earlier.out and "2026-12-01" not in earlier.out


def test_open_or_undelivered_documents_record_nothing(demo: Path) -> None:
    open_ = gg(demo, "readback", "--quarter", "2026-Q4", "-o", "docs")
    assert open_.code == 0 and "Provisional" in open_.out
    draft = gg(demo, "review", "--month", "2026-10", "--no-deliver", "-o", "docs")
    assert draft.code == 0 and "Not issued" in draft.out
    assert not (demo / ".govgate" / "ledger.jsonl").exists() or _issues(demo) == []


def test_a_closed_review_is_recorded_and_amended(demo: Path) -> None:
    assert gg(demo, "review", "--month", "2026-09", "-o", "docs").code == 0
    original = (demo / "docs" / "review-2026-09.md").read_bytes()
    with (demo / "fixtures/fatigue/signer_ack_event.csv").open("a", encoding="utf-8") as f:
        f.write("pub-2026-99998,alex,publish_gate,cw-late,2026-09-29 07:24:00+00,"
                "2026-09-29 17:31:28+00,approved,0.50\n")
    run = gg(demo, "review", "--month", "2026-09", "-o", "docs2", as_of="2026-12-01T00:00:00Z")
    assert "**Amended**" in run.out and sha(original) in run.out
