"""Memory and time of loading a large table (a scheduler export), per MB of input.

The loaders keep every row of a table (``loaders/tables.py``) and then the scheduler rows
(``recon/loader.py``); this prints what that costs for an export of ``--mb`` megabytes, with
``tracemalloc`` (the peak of Python allocations while loading, the input bytes excluded) and the
time. Figures only: nothing is asserted.

    python benchmarks/bench_table_memory.py --mb 16
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

ROW = ("recon-{n:08d},{at},{at},{done},,tuples/recon-{n:08d}/diff.json,PASS\n")
HEADER = "job_run_id,scheduled_at,started_at,completed_at,skip_reason,artifact_uri,status\n"


def export(megabytes: float) -> bytes:
    """A scheduler export of about ``megabytes`` MB: weekly PASS rows."""
    start = datetime(2026, 9, 28, 6, tzinfo=UTC)
    parts = [HEADER]
    size, n = len(HEADER), 0
    while size < megabytes * 1e6:
        at = start + timedelta(minutes=n)
        text = ROW.format(n=n, at=at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                          done=(at + timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%SZ"))
        parts.append(text)
        size += len(text)
        n += 1
    return "".join(parts).encode()


def measure(label: str, data: bytes, load: object) -> None:
    assert callable(load)
    gc.collect()
    tracemalloc.start()
    started = time.perf_counter()
    result = load(data)
    elapsed = time.perf_counter() - started
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    mb = len(data) / 1e6
    print(f"{label:34} {mb:7.1f} MB in: peak {peak / 1e6:8.1f} MB ({peak / len(data):5.1f} x), "
          f"kept {current / 1e6:7.1f} MB ({current / len(data):5.1f} x), {elapsed:6.2f} s, "
          f"{len(result):,} rows")  # type: ignore[arg-type]
    del result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=8.0, help="export size in MB (default 8)")
    args = parser.parse_args()

    from govgate.loaders.tables import read_table

    data = export(args.mb)
    measure("read_table (rows, validated)", data,
            lambda d: read_table(d, "scheduler_runs.csv", "scheduler_run"))

    from pathlib import Path
    from tempfile import TemporaryDirectory

    from govgate.config import Config
    from govgate.plugins import get_plugin_manager
    from govgate.recon.loader import load_runs

    with TemporaryDirectory() as folder:
        (Path(folder) / "runs.csv").write_bytes(data)
        config = Config(path=None, base=Path(folder),
                        data={"reconciliation": {"runs": "runs.csv"}})
        hook = get_plugin_manager([]).hook
        measure("load_runs (SchedulerRow objects)", data, lambda _: load_runs(config, hook))


if __name__ == "__main__":
    main()
