"""PostgreSQL push-down equals the Python scanner, byte for byte, on random exports.

A throwaway cluster holds ``signer_ack_event`` (``sql/schema.sql``, in a namespace per test);
the reduction runs inside the database and must give the reduction, history, snapshot hashes,
heat-map bytes and promotes the Python scanner gives on the same rows as a CSV export. Rows the
push-down does not vouch for make it step aside: the table is then read through the
``postgresql`` source, so the result (or the error naming the bad row) is the Python path's.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from tests.integration.test_heatmap_postgres import TABLE
from tests.support.postgres import PostgresCluster
from tests.unit.fatigue.engine_checks import assert_same_everything
from tests.unit.fatigue.factories import AS_OF, HEADER, SLA, Event, csv_text, random_events

from govgate.cli import main
from govgate.engines import postgres_engine
from govgate.fatigue.events import EventLog, default_slas, event_log, load_events

pytestmark = pytest.mark.postgres

SCHEMA = Path(__file__).resolve().parents[2] / "sql" / "schema.sql"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresCluster]:
    with PostgresCluster.start_in(tmp_path_factory.mktemp("pg")) as pg:
        yield pg


class Db:
    """A namespace holding one ``signer_ack_event`` table."""

    def __init__(self, cluster: PostgresCluster, conn: Any, namespace: str) -> None:
        self.cluster, self.conn, self.namespace = cluster, conn, namespace

    @property
    def ref(self) -> str:
        options = quote(f"-c search_path={self.namespace}", safe="")
        return (f"postgresql:///postgres?host={self.cluster.socket_dir}&port={self.cluster.port}"
                f"&user={self.cluster.user}&options={options}&table=signer_ack_event")

    def load(self, events: list[Event]) -> None:
        self.conn.execute("TRUNCATE signer_ack_event")
        with self.conn.cursor() as cur, cur.copy(
            f"COPY signer_ack_event ({', '.join(HEADER)}) FROM STDIN WITH (FORMAT csv, HEADER)"
        ) as copy:
            copy.write(csv_text(events))

    def pushed(self, anchor: datetime | None = AS_OF, pending: bool = True) -> EventLog:
        """The push-down's own result (it raises instead of stepping aside)."""
        reduction = postgres_engine.reduce_table(self.ref, {}, default_slas(None, "t"), anchor,
                                                 pending)
        return event_log(reduction, self.ref)


def _namespace(cluster: PostgresCluster, ddl: str) -> Iterator[Db]:
    import psycopg

    namespace = f"gg_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(cluster.conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{namespace}"')
        conn.execute(f'SET search_path TO "{namespace}"')
        conn.execute(ddl)
        yield Db(cluster, conn, namespace)
        conn.execute(f'DROP SCHEMA "{namespace}" CASCADE')


@pytest.fixture
def db(cluster: PostgresCluster) -> Iterator[Db]:
    """``sql/schema.sql`` as shipped."""
    yield from _namespace(cluster, SCHEMA.read_text(encoding="utf-8"))


@pytest.fixture
def loose(cluster: PostgresCluster) -> Iterator[Db]:
    """The seed's table without the constraints sql/schema.sql adds (rows govgate refuses fit)."""
    yield from _namespace(cluster, TABLE)


def with_slas(events: list[Event]) -> list[Event]:
    """The table's sla_target_hours is NOT NULL: the route's default where the export has none."""
    return [e if e.sla else replace(e, sla=SLA[e.owner_route]) for e in events]


def python(events: list[Event], tmp_path: Path, anchor: datetime | None = AS_OF) -> EventLog:
    """The Python scanner on the rows as the ``postgresql`` source exports them (key order)."""
    path = tmp_path / "export.csv"
    path.write_text(csv_text(sorted(events, key=lambda e: e.ack_event_id)), encoding="utf-8")
    return load_events(path, refresh_anchor=anchor, source="t")


@pytest.mark.parametrize("seed", range(4))
def test_push_down_equals_python_on_random_exports(db: Db, tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    events = with_slas(random_events(rng, rng.choice([60, 800, 4000]),
                                     days=rng.choice([20, 40, 300])))
    db.load(events)
    for anchor, as_of in ((AS_OF, AS_OF), (AS_OF - timedelta(days=6), AS_OF - timedelta(days=6)),
                          (None, AS_OF - timedelta(days=1))):
        assert_same_everything(db.pushed(anchor), python(events, tmp_path, anchor), as_of)


def test_ratio_scale_boundaries_are_postgresql_s_own(db: Db, tmp_path: Path) -> None:
    centis = [0, 1, 99, 100, 101, 9_999, 10_000, 999_999, 1_000_000, 66_667, 99_999_999]
    slas = ["0.01", "0.07", "0.50", "0.99", "1.00", "3.00", "24.00", "100.00", "999.99"]
    start = AS_OF - timedelta(days=12_000)
    events = [Event(f"r{i:03d}-{j}", f"s{j}", start + i * timedelta(minutes=7),
                    start + i * timedelta(minutes=7) + timedelta(seconds=36 * c), sla=s)
              for i, c in enumerate(centis) for j, s in enumerate(slas)]
    db.load(events)
    assert_same_everything(db.pushed(), python(events, tmp_path), AS_OF)


def test_hostile_ids_and_unicode(loose: Db, tmp_path: Path) -> None:
    events = with_slas(random_events(random.Random(9), 600))
    names = ['o"neil, jr', "zoë 🙂", "semi;colon", "back\\slash", " lead"]
    events = [replace(e, signer_id=names[i % 5], cert_window_id=f"cw «{i % 3}»")
              if i % 4 == 0 else e for i, e in enumerate(events)]
    events = [replace(e, ack_event_id=f"ünï-{i}") if i % 7 == 0 else e
              for i, e in enumerate(events)]  # checked in Python, still pushed down
    loose.load(events)
    assert_same_everything(loose.pushed(), python(events, tmp_path), AS_OF)


def _heatmap(tmp_path: Path, ref: str, capsys: pytest.CaptureFixture[str],
             *extra: str) -> tuple[int, str, str]:
    (tmp_path / "govgate.yaml").write_text(f"fatigue:\n  events: '{ref}'\n", encoding="utf-8")
    code = main(["heatmap", "--as-of", "2026-11-20T00:00:00Z", "--format", "json", *extra],
                cwd=tmp_path)
    out = capsys.readouterr()
    return int(code), out.out, out.err


def test_the_configured_reference_is_pushed_down(
    db: Db, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    events = with_slas(random_events(random.Random(21), 1500))
    db.load(events)
    export = tmp_path / "export.csv"
    export.write_text(csv_text(sorted(events, key=lambda e: e.ack_event_id)), encoding="utf-8")
    assert main(["heatmap", "--events", str(export), "--as-of", "2026-11-20T00:00:00Z",
                 "--format", "json"], cwd=tmp_path) == 0
    expected = capsys.readouterr().out
    # Pushed down: the rows are never read through the source.
    monkeypatch.setattr("govgate.sources.postgres.read_table_csv", _no_rows)
    assert _heatmap(tmp_path, db.ref, capsys) == (0, expected, "")
    # engine: python reads the rows through the source instead, with the same result.
    monkeypatch.undo()
    assert _heatmap(tmp_path, db.ref, capsys, "--engine", "python") == (0, expected, "")


def _no_rows(*_: object) -> bytes:
    raise AssertionError("the rows were pulled to the runner")


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("owner_route", "legal_review", "unknown owner_route 'legal_review'"),
        ("ack_outcome", "maybe", "unknown ack_outcome 'maybe'"),
        ("sla_target_hours", "0", "sla_target_hours 0.00 is out of range"),
        ("signer_id", "bad\x07bell", "signer_id contains a control character (U+0007)"),
        ("ack_event_id", "tab\tid", "ack_event_id contains a control character (U+0009)"),
        ("ack_event_id", "rtl\u202eid", "ack_event_id contains a control character (U+202E)"),
        ("ack_dt_utc", "2026-01-01 00:00:00+00", "is before request_dt_utc"),
    ],
)
def test_a_bad_row_is_named_as_the_python_loader_names_it(
    loose: Db, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    column: str, value: str, message: str,
) -> None:
    events = with_slas(random_events(random.Random(2), 100))
    bad = replace(events[40], **{
        {"owner_route": "owner_route", "ack_outcome": "outcome", "sla_target_hours": "sla",
         "signer_id": "signer_id", "ack_event_id": "ack_event_id",
         "ack_dt_utc": "ack"}[column]:
        (datetime.fromisoformat(value) if column == "ack_dt_utc" else value)})
    if column == "ack_dt_utc":
        bad = replace(bad, outcome="approved")
    events[40] = bad
    loose.load(events)
    with pytest.raises(postgres_engine._StepAside):
        loose.pushed()
    code, out, err = _heatmap(tmp_path, loose.ref, capsys)
    assert (code, out) == (2, "")
    assert message in err and ", column " in err


def test_a_table_without_a_unique_key_is_read_the_ordinary_way(
    loose: Db, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events = with_slas(random_events(random.Random(8), 300))
    loose.conn.execute("ALTER TABLE signer_ack_event DROP CONSTRAINT signer_ack_event_pkey")
    loose.load([*events, events[7]])  # a duplicate the database did not refuse
    with pytest.raises(postgres_engine._StepAside):
        loose.pushed()
    tries: list[str] = []
    real = postgres_engine.reduce_table

    def counted(ref: str, *args: Any) -> Any:
        tries.append(ref)
        return real(ref, *args)

    monkeypatch.setattr(postgres_engine, "reduce_table", counted)
    code, _, err = _heatmap(tmp_path, loose.ref, capsys)
    assert code == 2 and f"duplicate ack_event_id '{events[7].ack_event_id}'" in err
    assert len(tries) == 1  # stepped aside once; the fetched rows are not pushed down again


def _deep_history(rng: random.Random, days: int) -> list[Event]:
    """Signers whose classification at AS_OF needs a long look-back: ratios between the quiet
    and amber thresholds for weeks (recovering or green depends on what came before), red long
    ago (three windows and a breach), quiet stretches, a signer seen only long ago."""
    start = AS_OF - timedelta(days=days)
    events: list[Event] = []
    for n in range(rng.randrange(4, 9)):
        signer = f"d{n}"
        hot_until = rng.choice([None, rng.randrange(days)])
        gap = rng.choice([0, 0, 3, 8])
        for day in range(days):
            if rng.random() < 0.2 or (gap and day % 20 < gap):
                continue  # some days without rows
            request = start + timedelta(days=day, seconds=rng.randrange(86_400))
            hot = hot_until is not None and day <= hot_until
            ratio = rng.choice([0.9, 1.2]) if hot else rng.choice([0.55, 0.6, 0.7, 0.3, 0.74])
            events.append(Event(f"{signer}-{day}", signer, request,
                                request + timedelta(hours=0.5 * ratio),
                                cert_window_id=f"w{day % 3}" if hot else "w0"))
    old = AS_OF - timedelta(days=days + 30)
    events.append(Event("gone-1", "gone", old, old + timedelta(hours=2)))  # red-free, long gone
    return events


@pytest.mark.parametrize("seed", range(6))
def test_the_recent_rows_give_the_heat_map_of_every_row(
    db: Db, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    seed: int
) -> None:
    """``govgate heatmap`` pushed down reads the rows since a recent instant when they decide
    the refresh (docs/engines.md): the same bytes as reading every row, whatever look-back the
    signers need (found anchored, read further back, or every row)."""
    from govgate.commands import heatmap as command
    from govgate.fatigue import lookback

    rng = random.Random(seed)
    days = rng.choice([30, 60, 120])
    events = with_slas(random_events(rng, rng.choice([200, 1500]), days=days))
    events += _deep_history(rng, days)
    if seed % 2:  # ids outside printable ASCII, checked in Python, read or left out
        events = [replace(e, ack_event_id=f"ünï-{i}") if i % 9 == 0 else e
                  for i, e in enumerate(events)]
    db.load(events)
    code, expected, err = _heatmap(tmp_path, db.ref, capsys, "--engine", "python")
    assert (code, err) == (0, "")
    deep = []
    real = lookback.unsettled

    def spy(*args: Any) -> Any:
        deep.append(real(*args))
        return deep[-1]

    monkeypatch.setattr(lookback, "unsettled", spy)
    monkeypatch.setattr("govgate.sources.postgres.read_table_csv", _no_rows)
    for first_days in (0, 1, 2, 7, 16, 40, 400):
        monkeypatch.setattr(command, "LOOKBACK_DAYS", first_days)
        assert _heatmap(tmp_path, db.ref, capsys) == (0, expected, "")
    assert any(deep)  # some signers needed their whole history (read in the same snapshot)


def test_a_bad_row_before_the_recent_rows_still_makes_it_step_aside(
    db: Db, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = with_slas(random_events(random.Random(5), 300, days=20))
    old = AS_OF - timedelta(days=400)
    db.load(events)
    _, expected, _ = _heatmap(tmp_path, db.ref, capsys)
    # An answer before its request, a year before the rows the heat-map needs: the push-down
    # steps aside and the ordinary read names the row, as it does without the look-back.
    db.conn.execute("INSERT INTO signer_ack_event (ack_event_id, signer_id, owner_route, "
                    "request_dt_utc, ack_dt_utc, ack_outcome, sla_target_hours) VALUES "
                    "('zz-bad', 's1', 'publish_gate', %s, %s, 'approved', 0.5)",
                    (old, old - timedelta(hours=1)))
    code, out, err = _heatmap(tmp_path, db.ref, capsys)
    assert code == 2 and out == "" and "zz-bad" not in expected
    assert "ack_dt_utc" in err
    db.conn.execute("DELETE FROM signer_ack_event WHERE ack_event_id = 'zz-bad'")
    # A signer id that is not printable, long ago: the same.
    db.conn.execute("INSERT INTO signer_ack_event (ack_event_id, signer_id, owner_route, "
                    "request_dt_utc, ack_outcome, sla_target_hours) VALUES "
                    "('zz-odd', E's\\u0007', 'publish_gate', %s, 'approved', 0.5)", (old,))
    code, out, _ = _heatmap(tmp_path, db.ref, capsys)
    assert code == 2 and out == ""


def test_the_recent_rows_and_the_whole_histories_add_up_to_every_row(db: Db) -> None:
    """``requested_since`` with every signer's whole history asked for: the reduction of every
    row, late rows included; since before the first row: simply every row."""
    events = with_slas(random_events(random.Random(13), 1200, days=60))
    db.load(events)
    full = postgres_engine.reduce_table(db.ref, {}, default_slas(None, "t"), AS_OF, True)
    since = AS_OF - timedelta(days=20)
    asked: list[frozenset[str]] = []

    def everyone(recent: Any) -> list[str]:
        asked.append(frozenset(recent.cells))
        return sorted({e.signer_id for e in events})

    both = postgres_engine.reduce_table(db.ref, {}, default_slas(None, "t"), AS_OF, True,
                                        since, everyone)
    assert asked and both.requested_since == since and both.unread_signers == frozenset()
    assert (both.count, both.cells, both.window_days) == (full.count, full.cells,
                                                         full.window_days)
    assert both.late == full.late
    recent = postgres_engine.reduce_table(db.ref, {}, default_slas(None, "t"), AS_OF, True,
                                          since)
    assert recent.requested_since == since and recent.count < full.count
    assert recent.unread_signers == frozenset(e.signer_id for e in events
                                              if e.request < since)
    every = postgres_engine.reduce_table(db.ref, {}, default_slas(None, "t"), AS_OF, True,
                                         AS_OF - timedelta(days=400), everyone)
    assert every.requested_since is None and every.cells == full.cells
