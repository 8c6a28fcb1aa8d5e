"""The heat-map equals what PostgreSQL computes with the seed's own SQL, row for row.

A throwaway cluster gets the seed's ``signer_ack_event`` table and several thousand random
events (pending, late, NULL windows, odd SLAs, instants on the refresh grid, ids PostgreSQL must
quote). The seed's view runs with ``NOW()`` replaced by the as-of literal; for an as-of in the
past, over a CTE that replays the world as it was then. PostgreSQL's own COPY output is then fed
back to ``load_events``: that is the interoperability the loader exists for.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.support.postgres import PostgresCluster
from tests.unit.fatigue.factories import HEADER, Event, csv_text

from govgate.fatigue.events import load_events
from govgate.fatigue.heatmap import heatmap
from govgate.fatigue.model import Refresh
from govgate.fatigue.snapshot import fixed4

pytestmark = pytest.mark.postgres

T = datetime(2026, 11, 20, tzinfo=UTC)

# The seed's DDL. One correction, as in sql/schema.sql: PostgreSQL refuses a generated column
# that reads another one, so ``breached`` repeats the latency expression cast to NUMERIC(8,2)
# (it still compares the rounded latency, as the seed means).
TABLE = """
CREATE TABLE signer_ack_event (
ack_event_id TEXT PRIMARY KEY,
signer_id TEXT NOT NULL,
owner_route TEXT NOT NULL,
cert_window_id TEXT,
request_dt_utc TIMESTAMPTZ NOT NULL,
ack_dt_utc TIMESTAMPTZ,
ack_outcome TEXT,
sla_target_hours NUMERIC(5,2) NOT NULL,
ack_latency_hours NUMERIC(8,2)
GENERATED ALWAYS AS (
CASE
WHEN ack_dt_utc IS NULL THEN NULL
ELSE EXTRACT(EPOCH FROM (ack_dt_utc - request_dt_utc)) / 3600
END
) STORED,
breached BOOLEAN
GENERATED ALWAYS AS (
ack_dt_utc IS NOT NULL
AND CAST(EXTRACT(EPOCH FROM (ack_dt_utc - request_dt_utc)) / 3600 AS NUMERIC(8,2))
> sla_target_hours
) STORED
)
"""

# The seed's view body, NOW() replaced by the as-of, plus the seed's red/amber rules.
VIEW = """
SELECT
signer_id,
COUNT(*) AS ack_count_14d,
COUNT(*) FILTER (WHERE breached = TRUE) AS breached_count_14d,
COUNT(DISTINCT cert_window_id) AS concurrent_window_count_14d,
AVG(ack_latency_hours) AS avg_latency_hours_14d,
AVG(ack_latency_hours / sla_target_hours) AS avg_latency_ratio_14d,
COUNT(*) FILTER (WHERE ack_outcome IS NULL) AS pending_acks_now
FROM signer_ack_event
WHERE request_dt_utc >= %(as_of)s::timestamptz - INTERVAL '14 days'
GROUP BY signer_id
"""
CLASSIFIED = f"""
SELECT v.*, CASE
WHEN concurrent_window_count_14d >= 3 AND breached_count_14d >= 1 THEN 'red'
WHEN concurrent_window_count_14d >= 3 OR avg_latency_ratio_14d >= 0.75 THEN 'amber'
ELSE 'other' END AS seed_class
FROM ({VIEW}) v
"""
# The world as it was at an earlier as-of: later requests do not exist yet, later answers have
# not happened (no outcome, no latency, not breached).
REPLAY = """
WITH signer_ack_event AS (
SELECT signer_id, cert_window_id, request_dt_utc, sla_target_hours,
CASE WHEN ack_dt_utc > %(as_of)s THEN NULL ELSE ack_outcome END AS ack_outcome,
CASE WHEN ack_dt_utc > %(as_of)s THEN NULL ELSE ack_latency_hours END AS ack_latency_hours,
CASE WHEN ack_dt_utc > %(as_of)s THEN FALSE ELSE breached END AS breached
FROM public.signer_ack_event
WHERE request_dt_utc < %(as_of)s
)
"""


def make_events(seed: int, count: int) -> list[Event]:
    """Random events requested in the 30 days before T, all answered (if ever) by T.

    Each signer works in a few cert windows and answers at their own pace, so the seed's rules
    give every class: red, amber by windows, amber by ratio, and neither.
    """
    rng = random.Random(seed)
    signers = [f"sgn-{i:03d}" for i in range(150)] + ['o"neil, jr', "semi;colon", "back\\slash"]
    windows = [f"cw-{i}" for i in range(8)]
    profile = {
        s: (rng.sample(windows, rng.choice([1, 1, 2, 2, 3, 4])), rng.choice([0.2, 0.5, 0.9, 1.3]))
        for s in signers
    }
    weights = [1 / (rank + 1) for rank in range(len(signers))]
    slas = {"publish_gate": "0.50", "faq_rewrite": "4.00", "freeze_bypass": "2.00",
            "exec_readback": "24.00"}  # fmt: skip
    events = []
    for i in range(count):
        signer = rng.choices(signers, weights)[0]
        mine, pace = profile[signer]
        route = rng.choice(list(slas))
        sla = rng.choice([slas[route]] * 4 + ["0.75", "3.00", "0.01", "999.99", "1.50"])
        if rng.random() < 0.1:
            request = T - timedelta(days=rng.randrange(1, 31))  # on the refresh grid
        else:
            request = T - timedelta(microseconds=rng.randrange(1, 30 * 86_400_000_000))
        hours = float(sla) * pace * rng.choice([0.01, 0.3, 0.75, 0.99, 1.0, 1.0101, 1.5])
        ack: datetime | None = request + timedelta(hours=hours, microseconds=rng.randrange(10**6))
        if rng.random() < 0.05:  # answered exactly at a refresh instant
            ack = request.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        outcome = rng.choice(["approved", "approved", "rejected", "reroute_requested", "timeout"])
        if (ack is not None and ack > T) or rng.random() < 0.05:
            ack, outcome = None, None  # still pending at T
        elif rng.random() < 0.02:
            outcome = None  # answered, yet no outcome recorded: pending by the view's rule
        window = rng.choice(mine) if rng.random() > 0.1 else None
        events.append(Event(f"ae-{i:05d}", signer, request, ack, outcome, route, window, sla))
    edge = T - timedelta(days=14)
    events += [
        Event("edge-in", "sgn-00", edge, edge + timedelta(minutes=30, seconds=17)),
        Event("edge-out", "sgn-00", edge - timedelta(microseconds=1)),
        Event("ack-at-t", "sgn-01", T - timedelta(hours=1), T),
        Event("rounding", "sgn-01", T - timedelta(hours=2), T - timedelta(hours=2) + timedelta(
            minutes=30, seconds=18)),
    ]  # fmt: skip
    return events


@pytest.fixture(scope="module")
def pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with (
        PostgresCluster.start_in(tmp_path_factory.mktemp("pg")) as cluster,
        cluster.connect() as conn,
    ):
        conn.execute("SET TimeZone TO 'UTC'")
        yield conn


@pytest.fixture(scope="module")
def events(pg: Any) -> list[Event]:
    data = make_events(174, 6000)
    pg.execute(TABLE)
    with (
        pg.cursor() as cur,
        cur.copy(
            f"COPY signer_ack_event ({', '.join(HEADER)}) FROM STDIN WITH (FORMAT csv, HEADER)"
        ) as copy,
    ):
        copy.write(csv_text(data))
    return data


def sql_rows(pg: Any, as_of: datetime, replay: bool) -> dict[str, dict[str, Any]]:
    query = (REPLAY + CLASSIFIED) if replay else CLASSIFIED
    with pg.cursor() as cur:
        cur.execute(query, {"as_of": as_of})
        names = [d.name for d in cur.description]
        return {row[0]: dict(zip(names, row, strict=True)) for row in cur.fetchall()}


def copy_out(pg: Any, query: str, path: Path) -> Path:
    with pg.cursor() as cur, cur.copy(f"COPY {query} TO STDOUT WITH (FORMAT csv, HEADER)") as copy:
        path.write_bytes(b"".join(bytes(chunk) for chunk in copy))
    return path


def assert_same(refresh: Refresh, expected: dict[str, dict[str, Any]]) -> None:
    ours = {row.signer_id: row for row in refresh.rows}
    assert set(ours) == set(expected)
    for signer, sql in expected.items():
        row = ours[signer]
        for column in ("ack_count_14d", "breached_count_14d", "concurrent_window_count_14d",
                       "pending_acks_now"):  # fmt: skip
            assert getattr(row, column) == sql[column], (signer, column)
        for column in ("avg_latency_hours_14d", "avg_latency_ratio_14d"):
            value: Decimal | None = sql[column]
            assert fixed4(getattr(row, column)) == fixed4(value), (signer, column)
            assert getattr(row, column) == value, (signer, column)  # exactly, in fact
        mine = row.classification if row.classification in ("red", "amber") else "other"
        assert mine == sql["seed_class"], signer


def test_postgresql_copy_output_loads(pg: Any, events: list[Event], tmp_path: Path) -> None:
    exported = copy_out(pg, "signer_ack_event", tmp_path / "copy.csv")
    ours = tmp_path / "ours.csv"
    ours.write_text(csv_text(events), encoding="utf-8")
    from_pg = heatmap(load_events(exported, refresh_anchor=T), T)
    assert from_pg == heatmap(load_events(ours, refresh_anchor=T), T)
    assert len(from_pg.rows) > 20


def test_generated_columns_agree_row_by_row(pg: Any, events: list[Event], tmp_path: Path) -> None:
    # SELECT * includes ack_latency_hours and breached: the loader checks both on every row.
    exported = copy_out(pg, "(SELECT * FROM signer_ack_event)", tmp_path / "all.csv")
    assert load_events(exported).event_count == len(events)


def test_heatmap_equals_the_seed_view_at_as_of(
    pg: Any, events: list[Event], tmp_path: Path
) -> None:
    log = load_events(copy_out(pg, "signer_ack_event", tmp_path / "e.csv"), refresh_anchor=T)
    expected = sql_rows(pg, T, replay=False)
    assert {row["seed_class"] for row in expected.values()} == {"red", "amber", "other"}
    assert_same(heatmap(log, T), expected)


@pytest.mark.parametrize("back", [timedelta(days=6), timedelta(days=9, hours=7, microseconds=3)])
def test_heatmap_equals_the_replayed_view_in_the_past(
    pg: Any, events: list[Event], tmp_path: Path, back: timedelta
) -> None:
    as_of = T - back
    log = load_events(copy_out(pg, "signer_ack_event", tmp_path / "e.csv"), refresh_anchor=as_of)
    expected = sql_rows(pg, as_of, replay=True)
    assert any(row["pending_acks_now"] for row in expected.values())
    assert_same(heatmap(log, as_of), expected)
