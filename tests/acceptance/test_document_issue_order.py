"""A closed period's document issued with delivery: a ledger that cannot take its issue record
is refused before the document is written (exit 2, nothing written); a record that fails after
the files were written is not a success (exit 4), never a document that claims a record the
ledger does not hold.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import REPO, run_cli

AS_OF = "2026-11-20T00:00:00Z"
DOCUMENTS = [("readback", "--quarter", "2026-Q3"), ("review", "--month", "2026-09")]


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    root.mkdir()
    for name in ("govgate.yaml", "policies", "fixtures"):
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, root / name)
    return root


def _lock_is_a_folder(root: Path) -> None:
    (root / ".govgate" / "ledger.jsonl.lock").mkdir(parents=True)


def _ledger_is_a_folder(root: Path) -> None:
    (root / ".govgate" / "ledger.jsonl").mkdir(parents=True)


def _ledger_is_broken(root: Path) -> None:
    (root / ".govgate").mkdir()
    (root / ".govgate" / "ledger.jsonl").write_text('{"seq": 7}\n', encoding="utf-8")


@pytest.mark.parametrize("command", DOCUMENTS, ids=lambda c: c[0])
@pytest.mark.parametrize("spoil", [_lock_is_a_folder, _ledger_is_a_folder, _ledger_is_broken])
def test_a_ledger_that_cannot_take_the_issue_is_refused_before_the_document(
        demo: Path, command: tuple[str, ...], spoil: Callable[[Path], None]) -> None:
    spoil(demo)
    before = sorted(p.relative_to(demo) for p in demo.rglob("*"))
    run = run_cli(["--as-of", AS_OF, *command], demo)
    assert run.code == 2, (run.code, run.err)
    assert len(run.err.strip().splitlines()) == 1 and "ledger" in run.err, run.err
    assert "paging.outbox" not in run.err  # the ledger is named as what it is
    assert sorted(p.relative_to(demo) for p in demo.rglob("*")) == before, "a refusal wrote"


@pytest.mark.parametrize("command", DOCUMENTS, ids=lambda c: c[0])
def test_without_delivery_the_ledger_is_not_needed(demo: Path, command: tuple[str, ...]) -> None:
    _lock_is_a_folder(demo)
    run = run_cli(["--as-of", AS_OF, *command, "--no-deliver"], demo)
    assert run.code == 0, run.err


@pytest.mark.parametrize("command", DOCUMENTS, ids=lambda c: c[0])
def test_an_issue_record_that_fails_after_the_files_is_exit_4(
        demo: Path, command: tuple[str, ...], monkeypatch: pytest.MonkeyPatch) -> None:
    from govgate.ledger import Ledger

    def full_disk(self: Ledger, records: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Ledger, "append", full_disk)
    run = run_cli(["--as-of", AS_OF, *command], demo)
    assert run.code == 4, (run.code, run.err)
    assert "No space left on device" in run.err and "Traceback" not in run.err
