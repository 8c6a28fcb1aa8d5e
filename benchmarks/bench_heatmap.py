"""Time and peak memory of ``govgate heatmap`` against a plain parse loop, DuckDB and PostgreSQL.

For each size (100,000 and 1,000,000 events by default) the script writes realistic exports
with ``gen_events.py`` (once, into ``benchmarks/data/``): one whose ``ack_event_id`` values are
numbered in request order (a serial key exported in insertion order) and one with random UUIDs
(no key order: the loader's duplicate check cannot take its shortcut). It then runs, each in its
own process and several times, taking turns (the best wall time counts, the highest peak
memory):

* ``govgate heatmap``: load, replay the daily history (``recovering`` needs it), print JSON;
  with the worker processes it starts on a machine with several CPUs, and with
  ``GOVGATE_JOBS=1`` (one process). Its peak memory is the sum of the peak RSS of the main
  process and of every worker (each counts the pages it still shares with the main process:
  an upper bound);
* ``plain parse``: the csv module and ``datetime.fromisoformat`` on both timestamp columns, and
  nothing else: the floor any Python implementation starts from;
* ``duckdb``: the seed's view over the same file, when the ``duckdb`` package is installed;
* ``postgresql``: ``COPY ... FROM`` and the seed's view in a throwaway cluster, when
  ``initdb`` is installed (wall time of load + query; the server's memory is not measured).

Engines, each against the same tool doing the seed's heat-map itself (``x same tool``):

* ``govgate heatmap --engine duckdb`` against ``duckdb`` (DuckDB's own one-query heat-map on
  the same file, above), when the ``duckdb`` package is installed; in wall time, and at the end
  in CPU time too (less disturbed by a shared machine's load);
* ``govgate heatmap``, PostgreSQL push-down (``fatigue.events: postgresql://...``) against
  PostgreSQL refreshing the seed's materialized view, both on one table loaded once (as
  ``sql/schema.sql`` creates it: primary key, index on ``request_dt_utc``). The view reads the
  last 14 days through the index. The push-down reads the rows requested in the last 16 + 14
  days through the same index, plus the earlier rows of the signers those days do not settle
  (``recovering`` needs their history: docs/engines.md), and checks every other row (a bad
  row anywhere makes it step aside). For scale, ``postgresql (view, every row)`` is the seed's
  aggregate without the 14-day filter.

  Two figures per tool, side by side: the whole process's wall time (for govgate that
  includes the interpreter's start-up, imports and connecting: about the view's whole time by
  itself), and the **server's CPU time** for that process's queries (the cluster's postmaster
  and its backends, read from /proc before and after each run: the work PostgreSQL did, which
  other load on a shared machine does not inflate). The 1.2 x target for the push-down is
  read on the server CPU column (``x view``): the database's work for govgate's heat-map
  against its work for the seed's view. The client CPU times are printed at the end.

Targets at 1,000,000 events: govgate within 1.5 x the plain parse loop, under 100 MB; each
engine within 1.2 x its tool's own heat-map (PostgreSQL: in server CPU).

    python benchmarks/bench_heatmap.py            # both sizes, 3 runs each
    python benchmarks/bench_heatmap.py --sizes 100000 --runs 5
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"
AS_OF = "2026-11-20T00:00:00Z"

PLAIN_PARSE = """
import csv, sys
from datetime import datetime
parse = datetime.fromisoformat
with open(sys.argv[1], newline="", encoding="utf-8") as handle:
    reader = csv.reader(handle)
    next(reader)
    for row in reader:
        parse(row[4])
        if row[5]:
            parse(row[5])
"""

# ``govgate heatmap`` as its console script runs it, plus the peak RSS of the process and of each
# worker it waited for (read from wait4), written to stderr.
GOVGATE = """
import os, resource, sys
peaks = []
def waitpid(pid, options):
    pid, status, usage = os.wait4(pid, options)
    peaks.append(usage.ru_maxrss)
    return pid, status
os.waitpid = waitpid
sys.argv[0] = "govgate"
from govgate._entry import console_main
try:
    console_main()
finally:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sys.stderr.write(f"peak-kib {own + sum(peaks)}\\n")
"""

DUCKDB = """
import sys, duckdb
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
con.execute(f\"\"\"
CREATE TABLE signer_ack_event AS SELECT * FROM read_csv('{sys.argv[1]}', header = true,
  columns = {{'ack_event_id': 'VARCHAR', 'signer_id': 'VARCHAR', 'owner_route': 'VARCHAR',
  'cert_window_id': 'VARCHAR', 'request_dt_utc': 'TIMESTAMPTZ', 'ack_dt_utc': 'TIMESTAMPTZ',
  'ack_outcome': 'VARCHAR', 'sla_target_hours': 'DECIMAL(5,2)'}})\"\"\")
con.execute(\"\"\"ALTER TABLE signer_ack_event ADD COLUMN ack_latency_hours DECIMAL(8,2)\"\"\")
con.execute(\"\"\"UPDATE signer_ack_event SET ack_latency_hours =
  CAST(EXTRACT(EPOCH FROM (ack_dt_utc - request_dt_utc)) / 3600 AS DECIMAL(8,2))\"\"\")
con.execute(\"\"\"SELECT signer_id, COUNT(*), COUNT(*) FILTER (WHERE ack_latency_hours >
  sla_target_hours), COUNT(DISTINCT cert_window_id), AVG(ack_latency_hours),
  AVG(ack_latency_hours / sla_target_hours), COUNT(*) FILTER (WHERE ack_outcome IS NULL)
  FROM signer_ack_event WHERE request_dt_utc >= TIMESTAMPTZ '2026-11-20 00:00:00+00'
  - INTERVAL 14 DAY GROUP BY signer_id\"\"\").fetchall()
"""

POSTGRES_SQL = """
CREATE TABLE signer_ack_event (
ack_event_id TEXT PRIMARY KEY, signer_id TEXT NOT NULL, owner_route TEXT NOT NULL,
cert_window_id TEXT, request_dt_utc TIMESTAMPTZ NOT NULL, ack_dt_utc TIMESTAMPTZ,
ack_outcome TEXT, sla_target_hours NUMERIC(5,2) NOT NULL,
ack_latency_hours NUMERIC(8,2) GENERATED ALWAYS AS (CASE WHEN ack_dt_utc IS NULL THEN NULL
  ELSE EXTRACT(EPOCH FROM (ack_dt_utc - request_dt_utc)) / 3600 END) STORED,
breached BOOLEAN GENERATED ALWAYS AS (ack_dt_utc IS NOT NULL AND CAST(EXTRACT(EPOCH FROM
  (ack_dt_utc - request_dt_utc)) / 3600 AS NUMERIC(8,2)) > sla_target_hours) STORED);
\\copy signer_ack_event FROM pstdin WITH (FORMAT csv, HEADER)
CREATE MATERIALIZED VIEW signer_fatigue_heatmap_14d AS SELECT signer_id,
COUNT(*) AS ack_count_14d, COUNT(*) FILTER (WHERE breached = TRUE) AS breached_count_14d,
COUNT(DISTINCT cert_window_id) AS concurrent_window_count_14d,
AVG(ack_latency_hours) AS avg_latency_hours_14d,
AVG(ack_latency_hours / sla_target_hours) AS avg_latency_ratio_14d,
COUNT(*) FILTER (WHERE ack_outcome IS NULL) AS pending_acks_now
FROM signer_ack_event WHERE request_dt_utc >= TIMESTAMPTZ '2026-11-20 00:00:00+00'
- INTERVAL '14 days' GROUP BY signer_id;
DROP MATERIALIZED VIEW signer_fatigue_heatmap_14d;
DROP TABLE signer_ack_event;
"""


def measure(
    argv: list[str], env: dict[str, str] | None = None, stdin: Path | None = None
) -> tuple[float, float]:
    """Run ``argv`` once: (wall seconds, peak RSS in MB: the process's own, or what it reports
    on stderr as ``peak-kib N``). Its CPU seconds go to :data:`LAST_CPU`."""
    source = stdin.open("rb") if stdin else subprocess.DEVNULL
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        process = subprocess.Popen(
            argv, stdin=source, stdout=subprocess.DEVNULL, stderr=errors, env=env
        )
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        errors.seek(0)
        stderr = errors.read().decode("utf-8", "replace")
    if stdin:
        source.close()  # type: ignore[union-attr]
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.stderr.write(stderr)
        raise SystemExit(f"failed ({process.returncode}): {' '.join(argv)}")
    LAST_CPU[0] = usage.ru_utime + usage.ru_stime
    reported = [line.split()[1] for line in stderr.splitlines() if line.startswith("peak-kib ")]
    return wall, (int(reported[-1]) if reported else usage.ru_maxrss) / 1024  # KiB on Linux


#: The CPU time (user + system, the process and the children it waited for) of the last run.
LAST_CPU = [0.0]
#: The least CPU time per tool of :func:`best_interleaved`.
CPU: dict[str, float] = {}
#: The least server CPU time per tool (PostgreSQL rows), see :func:`server_cpu`.
SERVER_CPU: dict[str, float] = {}


def server_cpu(data_dir: Path) -> float:
    """CPU seconds (user + system) the cluster of ``data_dir`` has used so far: its postmaster,
    the backends it has reaped (a connection's backend ends with it) and those still running."""
    tick = os.sysconf("SC_CLK_TCK")
    pid = int((data_dir / "postmaster.pid").read_text().split()[0])

    def fields(proc: int) -> list[str]:
        return Path(f"/proc/{proc}/stat").read_text().rsplit(")", 1)[1].split()

    own = fields(pid)
    total = sum(int(value) for value in own[11:15])  # utime, stime, cutime, cstime
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            child = fields(int(entry.name))
        except OSError:
            continue
        if int(child[1]) == pid:  # field 4 (ppid), counted from the state field
            total += int(child[11]) + int(child[12])
    return total / tick


#: The least CPU time per tool of the last call of :func:`best_interleaved` only.
CALL_CPU: dict[str, float] = {}
#: An engine's least CPU time over its tool's own heat-map's, per size.
CPU_RATIOS: dict[str, float] = {}


def best(argv: list[str], runs: int, env: dict[str, str] | None = None) -> tuple[float, float]:
    results = [measure(argv, env) for _ in range(runs)]
    return min(w for w, _ in results), max(m for _, m in results)


def best_interleaved(
    tools: dict[str, tuple[list[str], dict[str, str] | None]], runs: int,
    server: Path | None = None,
) -> dict[str, tuple[float, float]]:
    """Like :func:`best` for several commands, taking turns run by run: on a shared machine
    whose speed drifts, each ratio then compares runs made at about the same time.

    :param server: A PostgreSQL data folder: also note each tool's least server CPU time.
    """
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in tools}
    CALL_CPU.clear()
    for _ in range(runs):
        for name, (argv, env) in tools.items():
            before = server_cpu(server) if server else 0.0
            results[name].append(measure(argv, env))
            if server:
                used = server_cpu(server) - before
                SERVER_CPU[name] = min(SERVER_CPU.get(name, float("inf")), used)
            CPU[name] = min(CPU.get(name, float("inf")), LAST_CPU[0])
            CALL_CPU[name] = min(CALL_CPU.get(name, float("inf")), LAST_CPU[0])
    return {
        name: (min(w for w, _ in got), max(m for _, m in got)) for name, got in results.items()
    }


def ensure_data(size: int, ids: str) -> Path:
    path = DATA / (f"events-{size}.csv" if ids == "ordered" else f"events-{size}-{ids}-ids.csv")
    if not path.exists():
        print(f"generating {path.name} ...", flush=True)
        subprocess.run(
            [sys.executable, str(HERE / "gen_events.py"), "--events", str(size), "--ids", ids,
             "--out", str(path)],
            check=True,
        )  # fmt: skip
    return path


def govgate_argv(path: Path) -> list[str]:
    return [sys.executable, "-c", GOVGATE, "heatmap", "--events", str(path), "--as-of", AS_OF,
            "--format", "json"]  # fmt: skip


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[tuple[Path, Any, list[str]] | None]:
    """A PostgreSQL cluster in a temporary folder: the folder, the cluster and a psql command
    line for it; None when no PostgreSQL is installed."""
    sys.path.insert(0, str(ROOT))
    from tests.support.postgres import PostgresCluster, pg_binaries

    if pg_binaries() is None:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="gg-bench-") as folder:
        root = Path(folder)
        os.chmod(root, 0o755)  # the cluster may run as the postgres user
        with PostgresCluster.start_in(root) as cluster:
            psql = [str(cluster.tools["psql"]), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h",
                    str(cluster.socket_dir), "-p", str(cluster.port), "-U", cluster.user,
                    "-d", "postgres"]  # fmt: skip
            yield root, cluster, psql


def postgres_run(path: Path, runs: int) -> float | None:
    with throwaway_cluster() as found:
        if found is None:
            return None
        root, cluster, psql = found
        script = root / "bench.sql"
        script.write_text(POSTGRES_SQL, encoding="utf-8")
        os.chmod(script, 0o644)
        argv = cluster._cmd([*psql, "-f", str(script)])
        return min(measure(argv, stdin=path)[0] for _ in range(runs))


# The seed's view at the benchmark's as-of, refreshed as the seed does it every night.
SEED_VIEW = """
CREATE MATERIALIZED VIEW signer_fatigue_heatmap_14d AS SELECT signer_id,
COUNT(*) AS ack_count_14d, COUNT(*) FILTER (WHERE breached = TRUE) AS breached_count_14d,
COUNT(DISTINCT cert_window_id) AS concurrent_window_count_14d,
AVG(ack_latency_hours) AS avg_latency_hours_14d,
AVG(ack_latency_hours / sla_target_hours) AS avg_latency_ratio_14d,
COUNT(*) FILTER (WHERE ack_outcome IS NULL) AS pending_acks_now
FROM signer_ack_event WHERE request_dt_utc >= TIMESTAMPTZ '2026-11-20 00:00:00+00'
- INTERVAL '14 days' GROUP BY signer_id;
"""


def duckdb_engine_rows(
    path: Path, runs: int, env: dict[str, str], size: int
) -> list[tuple[str, float, float]]:
    """``govgate heatmap --engine duckdb`` and DuckDB's own heat-map, taking turns."""
    measured = best_interleaved(
        {
            "duckdb (own heat-map)": ([sys.executable, "-c", DUCKDB, str(path)], None),
            "govgate --engine duckdb": ([*govgate_argv(path), "--engine", "duckdb"], env),
        },
        runs,
    )
    base = measured["duckdb (own heat-map)"][0]
    CPU_RATIOS[f"govgate --engine duckdb, {size:,} events"] = (
        CALL_CPU["govgate --engine duckdb"] / CALL_CPU["duckdb (own heat-map)"])
    return [(name, wall, wall / base) for name, (wall, _) in measured.items()]


def postgres_engine_rows(
    path: Path, runs: int, env: dict[str, str]
) -> list[tuple[str, float, float]] | None:
    """PostgreSQL refreshing the seed's view, and ``govgate heatmap`` pushed down, on one table
    loaded once."""
    with throwaway_cluster() as found:
        if found is None:
            return None
        root, cluster, psql = found
        load = root / "load.sql"
        schema = (ROOT / "sql" / "schema.sql").read_text(encoding="utf-8")
        load.write_text(schema + "\\copy signer_ack_event (ack_event_id, signer_id, "
                        "owner_route, cert_window_id, request_dt_utc, ack_dt_utc, ack_outcome, "
                        "sla_target_hours) FROM pstdin WITH (FORMAT csv, HEADER)\n"
                        "DROP MATERIALIZED VIEW signer_fatigue_heatmap_14d;\n" + SEED_VIEW +
                        "VACUUM ANALYZE signer_ack_event;\n", encoding="utf-8")
        os.chmod(load, 0o644)
        measure(cluster._cmd([*psql, "-f", str(load)]), stdin=path)
        project = root / "project"
        project.mkdir()
        ref = (f"postgresql:///postgres?host={cluster.socket_dir}&port={cluster.port}"
               f"&user={cluster.user}&table=signer_ack_event")
        (project / "govgate.yaml").write_text(f"fatigue:\n  events: '{ref}'\n",
                                              encoding="utf-8")
        pushed = [sys.executable, "-c", GOVGATE, "-c", str(project / "govgate.yaml"),
                  "heatmap", "--as-of", AS_OF, "--format", "json"]  # fmt: skip
        refresh = cluster._cmd(
            [*psql, "-c", "REFRESH MATERIALIZED VIEW signer_fatigue_heatmap_14d"])
        # For scale: the seed's aggregate over every row, as the history needs them all.
        every_row = SEED_VIEW.split(" AS ", 1)[1].split(" WHERE ")[0] + " GROUP BY signer_id"
        full = cluster._cmd([*psql, "-o", "/dev/null", "-c", every_row])
        measured = best_interleaved(
            {"postgresql (seed's view)": (refresh, None),
             "govgate push-down": (pushed, env),
             "postgresql (view, every row)": (full, None)},
            runs, server=cluster.data_dir,
        )  # fmt: skip
    base = measured["postgresql (seed's view)"][0]
    return [(name, wall, wall / base) for name, (wall, _) in measured.items()]


def print_engine_rows(size: int, rows: list[tuple[str, float, float]]) -> None:
    for tool, wall, ratio in rows:
        print(f"{size:>10,}  {'engine':<8} {tool:<28} {wall:>8.2f} {'-':>8} {'-':>8} "
              f"{ratio:>11.2f}")


def print_server_rows(size: int, rows: list[tuple[str, float, float]]) -> None:
    """The PostgreSQL rows again: whole-process wall time and server CPU, each x the view."""
    view = SERVER_CPU.get("postgresql (seed's view)")
    if not view:
        return
    print(f"{'events':>10}  {'postgresql':<28} {'wall s':>8} {'x view':>8} {'server cpu s':>13}"
          f" {'x view':>8}")
    for tool, wall, ratio in rows:
        cpu = SERVER_CPU.get(tool, float("nan"))
        print(f"{size:>10,}  {tool:<28} {wall:>8.2f} {ratio:>8.2f} {cpu:>13.2f} "
              f"{cpu / view:>8.2f}")
    print("note: the push-down's 1.2 x target is read on server cpu x view (the database's "
          "work); wall includes govgate's start-up")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=3, help="runs per tool (best time counts)")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--engines-only", action="store_true",
                        help="only the engine rows (DuckDB and PostgreSQL push-down)")
    args = parser.parse_args()
    paths = [str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    # Not imported here: a child's peak RSS on Linux includes this process's size when it forked.
    have_duckdb = importlib.util.find_spec("duckdb") is not None
    notes = []
    print(f"{'events':>10}  {'ids':<8} {'tool':<28} {'wall s':>8} {'peak MB':>8} {'x plain':>8}"
          f" {'x same tool':>11}")
    for size in args.sizes:
        path = ensure_data(size, "ordered")
        if have_duckdb:
            print_engine_rows(size, duckdb_engine_rows(path, args.runs, env, size))
        if not args.skip_postgres:
            pg_rows = postgres_engine_rows(path, args.runs, env)
            if pg_rows is None:
                notes.append("postgresql: initdb not found, skipped")
            else:
                print_engine_rows(size, pg_rows)
                print_server_rows(size, pg_rows)
        for ids in () if args.engines_only else ("ordered", "random"):
            path = ensure_data(size, ids)
            measured = best_interleaved(
                {
                    "govgate heatmap": (govgate_argv(path), env),
                    "govgate heatmap, GOVGATE_JOBS=1":
                        (govgate_argv(path), {**env, "GOVGATE_JOBS": "1"}),
                    "plain parse": ([sys.executable, "-c", PLAIN_PARSE, str(path)], None),
                },
                args.runs,
            )  # fmt: skip
            rows = [(name, wall, mem) for name, (wall, mem) in measured.items()]
            plain_wall = measured["plain parse"][0]
            if ids == "ordered" and have_duckdb:
                rows.append(("duckdb", *best([sys.executable, "-c", DUCKDB, str(path)], args.runs)))
            elif not have_duckdb:
                notes.append("duckdb: not installed, skipped")
            if ids == "ordered" and not args.skip_postgres:
                pg_wall = postgres_run(path, args.runs)
                if pg_wall is None:
                    notes.append("postgresql: initdb not found, skipped")
                else:
                    rows.append(("postgresql", pg_wall, float("nan")))
            for tool, wall, mem in rows:
                mem_text = "-" if mem != mem else f"{mem:.0f}"
                print(f"{size:>10,}  {ids:<8} {tool:<28} {wall:>8.2f} {mem_text:>8} "
                      f"{wall / plain_wall:>8.2f}")  # fmt: skip
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    notes.append(f"{cpus} CPUs available to this process (govgate starts up to that many)")
    for note in dict.fromkeys(notes):
        print("note:", note)
    print("note: postgresql is COPY + materialized view, server memory not measured")
    print("note: engine rows compare wall time with the same tool's own heat-map (x same tool)")
    print("cpu s (least, user + system of the client processes; a server's is not seen):")
    for name, cpu in CPU.items():
        print(f"  {cpu:8.2f}  {name}")
    for name, ratio in CPU_RATIOS.items():
        print(f"  {ratio:8.2f}  x same tool in CPU time: {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
