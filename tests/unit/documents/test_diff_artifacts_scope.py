"""``promote`` and ``review`` skip rendering the reconciliation's diff artifacts because none of
their outputs names one: every byte they write or print is the same as with the artifacts
rendered (``check`` and ``readback``, which name them, always render them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.support.projects import relocated_config

import govgate.evaluate
from govgate.evaluation import Evaluation

REPO = Path(__file__).resolve().parents[3]
AS_OF = "2026-11-20T00:00:00Z"


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != "govgate.yaml"}


def _run(tmp_path: Path, run_cli: Any, args: list[str]) -> tuple[int, str, str, dict[str, bytes]]:
    """Run in ``tmp_path/run`` (the same paths every time: the configuration, which names
    them, is digested into the evidence manifest), then clear the folder."""
    import shutil

    folder = tmp_path / "run"
    got = run_cli(["-c", relocated_config(REPO, folder), "--as-of", AS_OF, *args], tmp_path)
    files = _files(folder)
    shutil.rmtree(folder)
    return got.code, got.out, got.err, files


@pytest.mark.parametrize("args", [
    ["promote", "--no-deliver"], ["promote", "--no-deliver", "--format", "json"],
    ["review", "--month", "2026-10"], ["review", "--month", "2026-11"],
])
def test_outputs_do_not_depend_on_the_diff_artifacts(tmp_path: Path, run_cli: Any,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     args: list[str]) -> None:
    seen: list[bool] = []
    real = govgate.evaluate.evaluate

    def spy(*a: Any, **k: Any) -> Any:
        result = real(*a, **k)
        seen.append(result[1].diff_artifacts)
        return result

    monkeypatch.setattr(govgate.evaluate, "evaluate", spy)
    skipped = _run(tmp_path, run_cli, args)
    assert seen and not any(seen)  # the command did skip them

    def rendered(*a: Any, **k: Any) -> Any:
        k["diff_artifacts"] = True
        return real(*a, **k)

    monkeypatch.setattr(govgate.evaluate, "evaluate", rendered)
    assert _run(tmp_path, run_cli, args) == skipped
    assert skipped[3] or args[0] == "promote"  # a review writes its documents


def test_check_and_readback_render_them(tmp_path: Path, run_cli: Any,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Evaluation] = []
    real = govgate.evaluate.evaluate

    def spy(*a: Any, **k: Any) -> Any:
        result = real(*a, **k)
        seen.append(result[1])
        return result

    monkeypatch.setattr(govgate.evaluate, "evaluate", spy)
    for name, args in (("c", ["check", "--no-deliver"]),
                       ("r", ["readback", "--quarter", "2026-Q3"])):
        seen.clear()
        run_cli(["-c", relocated_config(REPO, tmp_path / name), "--as-of", AS_OF, *args], tmp_path)
        assert seen and all(e.diff_artifacts and e.artifacts for e in seen), args
