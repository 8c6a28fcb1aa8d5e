"""Write a realistic ``signer_ack_event`` export for benchmarks (and for trying govgate out).

The file looks exactly like ``COPY signer_ack_event TO STDOUT WITH (FORMAT csv, HEADER)`` from a
PostgreSQL session in UTC: ``2026-10-01 10:00:00.123456+00`` timestamps, NULL as an empty field,
``sla_target_hours`` with two decimals, generated columns omitted.

The shape follows lesson 174's autumn overlap: a few hundred signers with Zipf-like skewed load
(a handful of people named on every route), about 30 cert windows on five platforms that open and
close over the 90 days (most signers work on one platform's windows, the busiest on two or three),
a few percent of acks still pending, log-normal latencies around each route's SLA with some
breaches. The output is a pure function of ``--events``, ``--seed`` and ``--ids``.

``--ids ordered`` (the default) numbers events in request order (``ae-00000042``), as a serial
key exported in insertion order; ``--ids random`` gives each a random UUID instead, so the file is
in no key order (the loader's duplicate check then cannot take its shortcut).

    python benchmarks/gen_events.py --events 1000000 --out benchmarks/data/events-1m.csv
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import math
import random
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

HEADER = (
    "ack_event_id,signer_id,owner_route,cert_window_id,request_dt_utc,ack_dt_utc,"
    "ack_outcome,sla_target_hours\n"
)
#: Route, share of the traffic, SLA hours, median latency as a fraction of the SLA.
ROUTES = (
    ("publish_gate", 0.40, 0.5, 0.35),
    ("faq_rewrite", 0.25, 4.0, 0.40),
    ("freeze_bypass", 0.20, 2.0, 0.35),
    ("exec_readback", 0.15, 24.0, 0.30),
)
OUTCOMES = (("approved", 0.80), ("rejected", 0.08), ("reroute_requested", 0.07), ("timeout", 0.05))
PLATFORMS = ("steam-deck", "quest", "ps-indies", "xbox-preview", "switch-lotcheck", "ios-review")


def pg_timestamp(dt: datetime) -> str:
    """Render like PostgreSQL's timestamptz output in a UTC session."""
    text = dt.strftime("%Y-%m-%d %H:%M:%S")
    if dt.microsecond:
        text += f".{dt.microsecond:06d}".rstrip("0")
    return text + "+00"


def generate(
    n_events: int, *, seed: int, end: datetime, days: int, signers: int, ids: str = "ordered"
) -> Iterator[str]:
    """Yield the CSV lines (header first) of ``n_events`` events ending at ``end``."""
    rng = random.Random(seed)
    id_rng = random.Random(seed + 1)  # its own stream: the rows are the same either way
    start = end - timedelta(days=days)
    span_s = days * 86400
    # Zipf-like load: weight 1/rank^1.1, the first few signers carry a large share.
    signer_ids = [f"sgn-{rng.getrandbits(24):06x}-{i:03d}" for i in range(signers)]
    signer_cum = list(itertools.accumulate(1.0 / (rank + 1) ** 1.1 for rank in range(signers)))
    # 30 cert windows: per platform, one every ~15 days, each open for 2-4 weeks.
    windows = []
    for platform in PLATFORMS:
        opens = rng.randint(-10, 5) * 86400
        for k in range(30 // len(PLATFORMS)):
            length = rng.randint(14, 28) * 86400
            windows.append((f"cw-{platform}-2026-{k:02d}", platform, opens, opens + length))
            opens += rng.randint(12, 20) * 86400
    # The busiest signers cover several platforms: that is how three windows pile up on one.
    home = [
        set(rng.sample(PLATFORMS, 3 if rank < signers // 20 else 2 if rank < signers // 5 else 1))
        for rank in range(signers)
    ]
    route_cum = list(itertools.accumulate(r[1] for r in ROUTES))
    outcome_cum = list(itertools.accumulate(o[1] for o in OUTCOMES))

    yield HEADER
    offsets = sorted(rng.randrange(span_s * 1_000_000) for _ in range(n_events))
    for i, offset_us in enumerate(offsets):
        request = start + timedelta(microseconds=offset_us)
        rank = bisect.bisect(signer_cum, rng.random() * signer_cum[-1])
        signer = signer_ids[rank]
        route, _, sla, median = ROUTES[bisect.bisect(route_cum, rng.random() * route_cum[-1])]
        offset_s = offset_us // 1_000_000
        open_now = [w[0] for w in windows if w[2] <= offset_s < w[3] and w[1] in home[rank]]
        window = rng.choice(open_now) if open_now and rng.random() > 0.08 else ""
        latency_h = sla * median * math.exp(rng.gauss(0.0, 0.75))
        ack_at = request + timedelta(microseconds=int(latency_h * 3_600_000_000))
        # A few percent still pending at the end of the export, more among the newest.
        pending = ack_at > end or rng.random() < 0.025
        if pending:
            ack_text = outcome = ""
        else:
            ack_text = pg_timestamp(ack_at)
            outcome = OUTCOMES[bisect.bisect(outcome_cum, rng.random() * outcome_cum[-1])][0]
        if ids == "ordered":
            event_id = f"ae-{i:08d}"
        else:
            digits = f"{id_rng.getrandbits(128):032x}"
            event_id = "-".join((digits[:8], digits[8:12], digits[12:16], digits[16:20],
                                 digits[20:]))  # fmt: skip
        yield (
            f"{event_id},{signer},{route},{window},{pg_timestamp(request)},{ack_text},"
            f"{outcome},{sla:.2f}\n"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000, help="number of events")
    parser.add_argument("--seed", type=int, default=174, help="random seed")
    parser.add_argument("--days", type=int, default=90, help="period length in days")
    parser.add_argument("--signers", type=int, default=300, help="number of signers")
    parser.add_argument(
        "--end", default="2026-11-20T00:00:00+00:00", help="end of the period (ISO 8601, UTC)"
    )
    parser.add_argument(
        "--ids", choices=("ordered", "random"), default="ordered",
        help="ack_event_id: numbered in request order, or random UUIDs (default: ordered)",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=None, help="output file (default: stdout)")
    args = parser.parse_args(argv)
    end = datetime.fromisoformat(args.end).astimezone(UTC)
    lines = generate(
        args.events, seed=args.seed, end=end, days=args.days, signers=args.signers, ids=args.ids
    )
    if args.out is None:
        sys.stdout.writelines(lines)
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("w", encoding="utf-8", newline="") as handle:
            handle.writelines(lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
