"""Test data for the fatigue heat-map: events, CSV as PostgreSQL writes it, and a reference.

The reference heat-map is computed the slow, obvious way (every refresh, every event), straight
from the seed's SQL and DOMAIN.md, so the fast implementation can be compared with it on random
data. Its NUMERIC arithmetic comes from ``govgate.fatigue.pgnumeric``, which the PostgreSQL
integration test checks against the real thing.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from govgate.fatigue import pgnumeric
from govgate.fatigue.heatmap import classify
from govgate.fatigue.model import HeatmapRow, Thresholds

AS_OF = datetime(2026, 11, 20, tzinfo=UTC)
HEADER = (
    "ack_event_id",
    "signer_id",
    "owner_route",
    "cert_window_id",
    "request_dt_utc",
    "ack_dt_utc",
    "ack_outcome",
    "sla_target_hours",
)
SLA = {
    "publish_gate": "0.50",
    "faq_rewrite": "4.00",
    "freeze_bypass": "2.00",
    "exec_readback": "24.00",
}


@dataclass(frozen=True)
class Event:
    """One ``signer_ack_event`` row; ``sla`` None means the route's default (column empty)."""

    ack_event_id: str
    signer_id: str
    request: datetime
    ack: datetime | None = None
    outcome: str | None = "approved"
    owner_route: str = "publish_gate"
    cert_window_id: str | None = "cw-1"
    sla: str | None = "0.50"

    def pending(self) -> Event:
        return replace(self, ack=None, outcome=None)


def pg_timestamp(value: datetime | None) -> str:
    """As PostgreSQL prints a timestamptz in a UTC session (``2026-10-01 10:00:00.5+00``)."""
    if value is None:
        return ""
    value = value.astimezone(UTC)
    text = value.strftime("%Y-%m-%d %H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    return text + "+00"


def csv_text(events: Iterable[Event], header: Sequence[str] = HEADER) -> str:
    """The events as ``COPY signer_ack_event TO STDOUT (FORMAT csv, HEADER)`` would write them."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for e in events:
        values = {
            "ack_event_id": e.ack_event_id,
            "signer_id": e.signer_id,
            "owner_route": e.owner_route,
            "cert_window_id": e.cert_window_id or "",
            "request_dt_utc": pg_timestamp(e.request),
            "ack_dt_utc": pg_timestamp(e.ack),
            "ack_outcome": e.outcome or "",
            "sla_target_hours": e.sla or "",
        }
        writer.writerow([values[name] for name in header])
    return buffer.getvalue()


def write_csv(path: Path, events: Iterable[Event], header: Sequence[str] = HEADER) -> Path:
    path.write_text(csv_text(events, header), encoding="utf-8", newline="")
    return path


def random_events(rng: random.Random, count: int, *, days: int = 40) -> list[Event]:
    """Events around AS_OF that hit the edges: grid instants, pending, late, NULL windows."""
    start = AS_OF - timedelta(days=days)
    signers = [f"s{i}" for i in range(6)] + ["a,b", "back\\slash"]
    windows = [None, "w1", "w2", "w3", "w4"]
    routes = list(SLA)
    events = []
    for i in range(count):
        if rng.random() < 0.15:  # exactly on a refresh instant
            request = start + timedelta(days=rng.randrange(days + 2))
        else:
            request = start + timedelta(microseconds=rng.randrange((days + 2) * 86_400_000_000))
        route = rng.choice(routes)
        sla = rng.choice([SLA[route], SLA[route], "0.75", "3.00", None])
        sla_hours = float(sla or SLA[route])
        choice = rng.random()
        if choice < 0.1:
            ack, outcome = None, None  # pending
        elif choice < 0.15:
            ack, outcome = None, "timeout"  # closed without an answer time
        else:
            latency = timedelta(hours=sla_hours * rng.choice([0.1, 0.5, 0.99, 1.0, 1.01, 2, 30]))
            if rng.random() < 0.2:  # answered exactly on a refresh instant
                ack = AS_OF - timedelta(days=rng.randrange(days))
                ack = max(ack, request)
            else:
                ack = request + latency + timedelta(microseconds=rng.randrange(-5, 6) * 1000)
                ack = max(ack, request)
            outcome = (
                None if rng.random() < 0.03 else rng.choice(["approved", "rejected", "timeout"])
            )
        events.append(
            Event(
                ack_event_id=f"e{i}",
                signer_id=rng.choice(signers),
                request=request,
                ack=ack,
                outcome=outcome,
                owner_route=route,
                cert_window_id=rng.choice(windows),
                sla=sla,
            )
        )
    return events


# -- the reference ------------------------------------------------------------------------------


def _centi(event: Event) -> int | None:
    if event.ack is None:
        return None
    return pgnumeric.latency_centihours((event.ack - event.request) // timedelta(microseconds=1))


def _sla_centi(event: Event) -> int:
    return int(Decimal(event.sla or SLA[event.owner_route]) * 100)


def reference_rows(events: Sequence[Event], at: datetime, window_days: int = 14) -> dict[str, dict]:
    """The view at ``at`` (as SQL computes it over the events as they were at ``at``)."""
    out: dict[str, dict] = {}
    for signer in sorted({e.signer_id for e in events}):
        mine = [e for e in events if e.signer_id == signer]
        inside = [e for e in mine if at - timedelta(days=window_days) <= e.request < at]
        if not inside:
            continue
        answered = [e for e in inside if e.ack is not None and e.ack <= at]
        pending = [e for e in inside if e.outcome is None or (e.ack is not None and e.ack > at)]
        latencies = [(_centi(e), _sla_centi(e)) for e in answered]
        row: dict = {
            "ack_count_14d": len(inside),
            "breached_count_14d": sum(1 for c, s in latencies if c is not None and c > s),
            "concurrent_window_count_14d": len({e.cert_window_id for e in inside} - {None}),
            "pending_acks_now": len(pending),
            "avg_latency_hours_14d": None,
            "avg_latency_ratio_14d": None,
        }
        if latencies:
            total = sum(c for c, _ in latencies if c is not None)
            row["avg_latency_hours_14d"] = pgnumeric.to_decimal(
                *pgnumeric.avg_scaled(total, 2, 2, len(latencies))
            )
            ratios = [pgnumeric.ratio_scaled(c, s) for c, s in latencies if c is not None]
            value, scale = pgnumeric.avg_scaled(
                sum(r for r, _ in ratios), pgnumeric.RATIO_SCALE, max(s for _, s in ratios),
                len(ratios),
            )  # fmt: skip
            row["avg_latency_ratio_14d"] = pgnumeric.to_decimal(value, scale)
        out[signer] = row
    return out


def reference_history(
    events: Sequence[Event], refreshes: Sequence[datetime], thresholds: Thresholds | None = None
) -> list[tuple[dict[str, dict], dict[str, str]]]:
    """(rows, classification) per refresh, classification by DOMAIN.md's words."""
    thresholds = thresholds or Thresholds()
    state: dict[str, str] = {}
    streak: dict[str, int] = {}
    result = []
    for at in refreshes:
        rows = reference_rows(events, at, thresholds.window_days)
        known = {e.signer_id for e in events if e.request < at}
        classes: dict[str, str] = {}
        for signer in sorted(known):
            row = rows.get(signer)
            windows = row["concurrent_window_count_14d"] if row else 0
            breaches = row["breached_count_14d"] if row else 0
            ratio = row["avg_latency_ratio_14d"] if row else None
            quiet = ratio is None or ratio < thresholds.quiet_ratio
            run = streak.get(signer, 0) + 1 if quiet else 0
            cls = classify(windows, breaches, ratio, state.get(signer), run, thresholds)
            streak[signer] = 0 if cls in ("red", "amber") else run
            state[signer] = classes[signer] = cls
            if row:
                row["classification"] = cls
        result.append((rows, classes))
    return result


def as_dict(row: HeatmapRow) -> dict:
    return {
        "ack_count_14d": row.ack_count_14d,
        "breached_count_14d": row.breached_count_14d,
        "concurrent_window_count_14d": row.concurrent_window_count_14d,
        "pending_acks_now": row.pending_acks_now,
        "avg_latency_hours_14d": row.avg_latency_hours_14d,
        "avg_latency_ratio_14d": row.avg_latency_ratio_14d,
        "classification": row.classification,
    }
