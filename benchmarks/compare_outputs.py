"""Run every command with two versions of govgate and compare what they write, byte for byte.

A change that only makes govgate faster or smaller must not change one byte of any output. This
runs each command (the heat-map, check with the HTML report, promote, readback, review with and
without candidate policies) at each as-of instant, once with each source tree, each run in its
own folder (outputs, ledger and outbox redirected there), and diffs the folders:

    python benchmarks/compare_outputs.py --old /path/to/old/src --new src \\
        --projects .,benchmarks/data/studio --as-of 2026-11-20T00:00:00Z,2026-10-15T00:00:00Z

Candidate policies for ``review-sim`` are the YAML files in ``<project>/candidates/`` (see
``bench_scale.py``). Prints one line per run (``same`` or ``DIFF`` and the exit code); exits 1
when any output differs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from tests.support.projects import relocated_config  # noqa: E402

COMMANDS: dict[str, list[str]] = {
    "heatmap": ["heatmap", "--format", "json"],
    "heatmap-text": ["heatmap"],
    "check": ["check", "--no-deliver", "--format", "html"],
    "promote": ["promote", "--no-deliver"],
    "readback": ["readback", "--quarter", "2026-Q3"],
    "review": ["review", "--month", "2026-10"],
    "review-nov": ["review", "--month", "2026-11"],
    "review-sim": ["review", "--month", "2026-10"],
}


def _run(src: Path, project: Path, as_of: str, command: str, dest: Path) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    config = relocated_config(project, dest)
    extra: list[str] = []
    candidates = project / "candidates"
    if command == "review-sim" and candidates.is_dir():
        extra = [arg for f in sorted(candidates.glob("*.yaml")) for arg in ("--simulate", str(f))]
    env = dict(os.environ, PYTHONPATH=str(src))
    proc = subprocess.run([sys.executable, "-m", "govgate", "-c", str(config), "--as-of", as_of,
                           *COMMANDS[command], *extra],
                          cwd=dest, env=env, capture_output=True, text=True, check=False)
    (dest / "stdout.txt").write_text(proc.stdout.replace(str(dest), "<run>"))
    (dest / "exit.txt").write_text(f"{proc.returncode}\n{proc.stderr.replace(str(dest), '<run>')}")
    config.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, required=True, help="the old source tree (src/)")
    parser.add_argument("--new", type=Path, default=Path("src"), help="the new source tree")
    parser.add_argument("--projects", default=".")
    parser.add_argument("--as-of", default="2026-11-20T00:00:00Z")
    parser.add_argument("--commands", default=",".join(COMMANDS))
    args = parser.parse_args(argv)
    differ = 0
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for project in (Path(p).resolve() for p in args.projects.split(",")):
            for as_of in args.as_of.split(","):
                for command in args.commands.split(","):
                    tag = f"{project.name}-{as_of[:10]}-{command}"
                    old, new = root / "old" / tag, root / "new" / tag
                    # Both in the same folder, moved aside afterwards: the configuration (and
                    # so its hash in the manifest) names the same paths for both runs.
                    for src, keep in ((args.old, old), (args.new, new)):
                        _run(src.resolve(), project, as_of, command, root / "run")
                        keep.parent.mkdir(parents=True, exist_ok=True)
                        shutil.move(root / "run", keep)
                    diff = subprocess.run(["diff", "-r", str(old), str(new)], capture_output=True,
                                          text=True, check=False)
                    code = (old / "exit.txt").read_text().split("\n", 1)[0]
                    print(f"{'same' if diff.returncode == 0 else 'DIFF'} {tag} exit={code}",
                          flush=True)
                    if diff.returncode:
                        differ += 1
                        print(diff.stdout[:2000])
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
