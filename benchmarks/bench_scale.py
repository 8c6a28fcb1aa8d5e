"""Every command against ``govgate heatmap`` on generated projects, side by side in one run.

Projects come from ``gen_project.py`` (written once into ``benchmarks/data/``):

* ``studio``: a realistic studio -- 50 signers, 300,000 events over 3 years, 3 years of weekly
  jobs with 50 metrics. Target: every command at most 1.5 x ``govgate heatmap``.
* ``daily-1y`` and ``daily-10y``: daily reconciliation windows for 1 and 10 years (5 metrics,
  few events). Target: ``check`` on 10 years under 5 x its time on 1 year (linear growth).
* ``signers-5k``: 5,000 signers over 3 years. Target: every command at most 300 MB peak.

Each command runs in a fresh process, the commands taking turns round by round; the figures
are the median wall time, the median CPU time (user + system, which shows growth through the
noise of a busy machine) and the highest peak RSS.

    python benchmarks/bench_scale.py                     # all projects, 3 rounds
    python benchmarks/bench_scale.py --projects studio --rounds 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
AS_OF = "2026-11-20T00:00:00Z"

PROJECTS: dict[str, list[str]] = {
    "studio": ["--years", "3", "--period-days", "7", "--metrics", "50", "--events", "300000",
               "--signers", "50"],
    "daily-1y": ["--years", "1", "--period-days", "1", "--metrics", "5", "--events", "2000",
                 "--signers", "10"],
    "daily-10y": ["--years", "10", "--period-days", "1", "--metrics", "5", "--events", "2000",
                  "--signers", "10"],
    "signers-5k": ["--years", "3", "--period-days", "7", "--metrics", "5", "--events", "300000",
                   "--signers", "5000"],
}
COMMANDS: dict[str, list[str]] = {
    "heatmap": ["heatmap", "--format", "json"],
    "check": ["check", "--no-deliver", "--format", "json"],
    "promote": ["promote", "--no-deliver"],
    "readback": ["readback", "--quarter", "2026-Q3"],
    "review": ["review", "--month", "2026-10"],
    # The month replayed under two candidate policies (one with other thresholds).
    "review-sim": ["review", "--month", "2026-10", "--simulate", "candidates/same.yaml",
                   "--simulate", "candidates/lower.yaml"],
}


def _project(name: str) -> Path:
    path = DATA / name
    if not (path / "govgate.yaml").exists():
        subprocess.run([sys.executable, str(HERE / "gen_project.py"), "--out", str(path),
                        *PROJECTS[name]], check=True)
    _candidates(path)
    return path


def _candidates(project: Path) -> None:
    """Two what-if candidates beside the project: its backup owner policy as a new version, once
    as it is and once with lower red thresholds (``review-sim``)."""
    folder = project / "candidates"
    if (folder / "lower.yaml").exists():
        return
    (policy,) = sorted((project / "policies").glob("backup-owner-policy-*.yaml"))[-1:]
    text = policy.read_text()
    version = next(line for line in text.splitlines() if line.startswith("version:"))
    folder.mkdir(exist_ok=True)
    (folder / "same.yaml").write_text(text.replace(version, "version: 9.0.0"))
    (folder / "lower.yaml").write_text(text.replace(version, "version: 9.1.0")
                                       + "thresholds:\n  red_min_windows: 2\n"
                                         "  amber_ratio: \"0.6\"\n")


def _run(project: Path, args: list[str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and peak RSS (KiB) of one fresh govgate process."""
    import tempfile

    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "govgate", *args, "--as-of", AS_OF],
                                cwd=project, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in (0, 1):
            err.seek(0)
            raise SystemExit(f"{' '.join(args)} in {project.name}: exit {proc.returncode}: "
                             f"{err.read().decode(errors='replace').strip()}")
    # wait4 reports this child alone (worker processes it forked are included in its CPU
    # time once reaped; their memory is not: see bench_heatmap.py for that).
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", default=",".join(PROJECTS))
    parser.add_argument("--commands", default=",".join(COMMANDS))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    projects = [p for p in args.projects.split(",") if p]
    commands = [c for c in args.commands.split(",") if c]
    env_note = os.environ.get("GOVGATE_JOBS", "auto")
    print(f"as-of {AS_OF}; {args.rounds} rounds; GOVGATE_JOBS={env_note}")
    for name in projects:
        project = _project(name)
        figures: dict[str, list[tuple[float, float, int]]] = {c: [] for c in commands}
        for _ in range(args.rounds):
            for command in commands:
                figures[command].append(_run(project, COMMANDS[command]))
        base = statistics.median(f[1] for f in figures.get("heatmap", [(1, 1, 0)]))
        print(f"\n{name}")
        print(f"  {'command':<10} {'wall s':>8} {'cpu s':>8} {'x heatmap':>10} {'peak MB':>8}")
        for command in commands:
            wall = statistics.median(f[0] for f in figures[command])
            cpu = statistics.median(f[1] for f in figures[command])
            peak = max(f[2] for f in figures[command]) / 1024
            ratio = f"{cpu / base:.2f}" if "heatmap" in figures else "-"
            print(f"  {command:<10} {wall:8.2f} {cpu:8.2f} {ratio:>10} {peak:8.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
