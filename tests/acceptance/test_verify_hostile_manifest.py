"""``govgate verify`` on a manifest edited by someone else (its evidence digest recomputed, so
only the checks after it can object): any value in any member is exit 1 (a difference) or 2
(a manifest that cannot be read), never exit 3, and never a re-run that writes outside its
scratch folder.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import REPO, run_cli

from govgate.manifest import evidence_digest

AS_OF = "2026-11-20T00:00:00Z"
HOSTILE: list[Any] = ["a\x00b", "", "/", "..", "../../x", "\x1b[31m", -1, -100, 0, True, None,
                      1.5, [], {}, 10**30]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("recorded") / "demo"
    root.mkdir()
    for name in ("govgate.yaml", "policies", "fixtures"):
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, root / name)
    run = run_cli(["--as-of", AS_OF, "check", "-o", str(root / "out")], root)
    assert run.code == 1, run.err
    return root


def _setters() -> list[tuple[str, Callable[[dict[str, Any], Any], None]]]:
    def at(*path: str | int) -> Callable[[dict[str, Any], Any], None]:
        def put(m: dict[str, Any], value: Any) -> None:
            node: Any = m
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = value
        return put
    return [("project", at("project")), ("config", at("config")),
            ("inputs/0/path", at("inputs", 0, "path")),
            ("outputs/0/path", at("outputs", 0, "path")),
            ("ledger/path", at("ledger", "path")), ("ledger/seq", at("ledger", "seq")),
            ("ledger/record_hash", at("ledger", "record_hash")), ("as_of", at("as_of"))]


@pytest.mark.parametrize("value", HOSTILE, ids=repr)
@pytest.mark.parametrize(("member", "put"), _setters(), ids=[m for m, _ in _setters()])
def test_any_value_in_any_member_is_exit_1_or_2(recorded: Path, tmp_path: Path, member: str,
                                               put: Callable[[dict[str, Any], Any], None],
                                               value: Any) -> None:
    root = tmp_path / "demo"
    shutil.copytree(recorded, root, symlinks=True)
    path = root / "out" / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    before = json.dumps(manifest)
    put(manifest, value)
    if json.dumps(manifest) == before:
        pytest.skip("the recorded value itself")
    manifest["evidence_digest"] = evidence_digest(manifest)
    path.write_text(json.dumps(manifest), encoding="utf-8")
    run = run_cli(["verify", "out"], root)
    assert run.code in (1, 2), (run.code, run.out, run.err)
    assert "internal error" not in run.err and "Traceback" not in run.err
    assert "\x1b" not in run.out + run.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]


# -- what verify reads: regular files only, bounded JSON -------------------------------------


def _copy(recorded: Path, tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    shutil.copytree(recorded, root, symlinks=True)
    return root


@pytest.mark.parametrize("text", ["[" * 200_000, '{"a": ' + "9" * 5000 + "}", "\ufeff{}",
                                  "\xff\xfe"])
def test_a_manifest_too_deep_or_too_long_is_exit_2(recorded: Path, tmp_path: Path,
                                                   text: str) -> None:
    root = _copy(recorded, tmp_path)
    (root / "out" / "manifest.json").write_text(text, encoding="latin-1" if "\xff" in text
                                                else "utf-8")
    run = run_cli(["verify", "out"], root)
    assert run.code == 2, (run.code, run.err)
    assert "internal error" not in run.err and len(run.err.strip().splitlines()) == 1


@pytest.mark.parametrize("victim", ["out/manifest.json", "out/summary.md",
                                    "fixtures/reconciliation/run_acks.csv",
                                    ".govgate/ledger.jsonl"])
def test_a_fifo_where_verify_reads_is_refused_without_blocking(
        recorded: Path, tmp_path: Path, victim: str) -> None:
    """A FIFO would block a plain read for ever (no writer): it is refused, exit 1 or 2."""
    import os

    root = _copy(recorded, tmp_path)
    (root / victim).unlink()
    os.mkfifo(root / victim)
    run = run_cli(["verify", "out"], root)  # returns at all: nothing blocked
    assert run.code in (1, 2), (run.code, run.out, run.err)
    assert "internal error" not in run.err
