"""Start-up cost of govgate, which pre-commit runs on every commit.

Prints the wall time of ``govgate --version`` beside ``python -c pass`` on the same interpreter
(target: at most 1.5 x) and of ``govgate check`` on the demo project (target: under 1 s), as
the median and the best of several runs of a fresh process each.

    python benchmarks/bench_startup.py [--runs N] [--config FILE] [--as-of INSTANT]

Without ``--config`` it uses the repository's ``govgate.yaml`` when that has a
``reconciliation`` section, else it simulates the demo into a temporary folder (the weekly
schedule with drift in week 3, a skip in week 7 and a silent skip in week 8).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEMO_AS_OF = "2026-11-20T00:00:00Z"
VERSION_RATIO_TARGET = 1.5
CHECK_TARGET_SECONDS = 1.0


def govgate_command() -> list[str]:
    """The console script beside this interpreter (what pre-commit and CI run): the
    ``[project.scripts]`` entry point, ``govgate.exe`` on Windows."""
    script = Path(sys.executable).with_name("govgate.exe" if os.name == "nt" else "govgate")
    found = str(script) if script.exists() else shutil.which("govgate")
    return [found] if found else [sys.executable, "-m", "govgate"]


def timed(argv: Sequence[str], runs: int, cwd: Path, ok_codes: Sequence[int] = (0,)) -> list[float]:
    """Wall times of ``runs`` fresh processes (after one warm-up run for the file cache)."""
    env = {k: v for k, v in os.environ.items() if k != "GOVGATE_DEBUG"}
    times = []
    for index in range(runs + 1):
        start = time.perf_counter()
        proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True)
        elapsed = time.perf_counter() - start
        if proc.returncode not in ok_codes:
            sys.exit(f"{' '.join(argv)} exited {proc.returncode}:\n{proc.stderr.decode()}")
        if index:
            times.append(elapsed)
    return times


def demo_config(tmp: Path, as_of: str) -> Path:
    config = REPO / "govgate.yaml"
    if config.is_file() and "reconciliation:" in config.read_text(encoding="utf-8"):
        return config
    out = tmp / "demo"
    subprocess.run(
        [
            *govgate_command(),
            "simulate",
            "--out",
            str(out),
            "--drift",
            "tickets_p95:3:0.5",
            "--skip",
            "7",
            "--silent-skip",
            "8",
            "--as-of",
            as_of,
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    return out / "govgate.yaml"


def timed_in_turns(commands: Sequence[Sequence[str]], runs: int, cwd: Path) -> list[list[float]]:
    """Like :func:`timed` for several commands, taking turns run by run, so that a ratio
    compares runs made at about the same time on a machine whose speed drifts."""
    results: list[list[float]] = [[] for _ in commands]
    for index in range(runs + 1):
        for argv, times in zip(commands, results, strict=True):
            times.extend(timed(argv, 1, cwd) if index else [])
    return results


def wrapper_note(command: Sequence[str]) -> str:
    """Whether the console-script wrapper imports ``re``: pip before 25.0 writes one that
    does (about 5 ms, half a bare interpreter start); pip 25+ and uv do not."""
    script = Path(command[0])
    if len(command) != 1 or not script.is_file():
        return "(no console script: python -m govgate)"
    try:
        head = script.read_bytes()[:400]
    except OSError:
        return ""
    if b"import re\n" in head:
        return "(its wrapper imports re: installed by pip < 25; upgrade pip and reinstall)"
    return "(standard console-script wrapper)"


def row(label: str, times: list[float]) -> str:
    return (
        f"{label:44} median {statistics.median(times) * 1000:7.1f} ms   "
        f"best {min(times) * 1000:7.1f} ms"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--config", type=Path, help="configuration of the project to check")
    parser.add_argument("--as-of", default=DEMO_AS_OF)
    args = parser.parse_args(argv)
    govgate = govgate_command()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        config = (args.config or demo_config(tmp, args.as_of)).resolve()
        baseline, version = timed_in_turns(
            [[sys.executable, "-c", "pass"], [*govgate, "--version"]], args.runs, tmp)
        check = timed(
            [
                *govgate,
                "check",
                "-c",
                str(config),
                "--as-of",
                args.as_of,
                "--no-deliver",
                "-o",
                str(tmp / "out"),
            ],
            args.runs,
            tmp,
            ok_codes=(0, 1),
        )
    ratio = statistics.median(version) / statistics.median(baseline)
    check_median = statistics.median(check)
    print(
        f"python {sys.version.split()[0]}, {args.runs} runs each, demo: {config.name} in "
        f"{'the repository' if config.parent == REPO else 'a simulated folder'}"
    )
    print(row("python -c pass", baseline))
    print(
        row("govgate --version", version) + f"   {ratio:.2f} x python "
        f"(target <= {VERSION_RATIO_TARGET} x): "
        f"{'ok' if ratio <= VERSION_RATIO_TARGET else 'OVER'} {wrapper_note(govgate)}"
    )
    print(
        row(f"govgate check (demo, as of {args.as_of})", check)
        + f"   target < {CHECK_TARGET_SECONDS:.0f} s: "
        f"{'ok' if check_median < CHECK_TARGET_SECONDS else 'OVER'}"
    )
    return 0 if ratio <= VERSION_RATIO_TARGET and check_median < CHECK_TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
