"""The signer_ack_event loader: formats it accepts, what it keeps, and how it refuses rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from tests.unit.fatigue.factories import AS_OF, HEADER, Event, csv_text, write_csv

from govgate.errors import GovgateError
from govgate.fatigue.events import load_events
from govgate.fatigue.heatmap import heatmap

T0 = AS_OF - timedelta(days=3, hours=14)  # 2026-11-16 10:00 UTC
GOOD = f"{','.join(HEADER)}\n"


def load_text(tmp_path: Path, text: str, name: str = "events.csv", **kwargs: object) -> object:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return load_events(path, **kwargs)  # type: ignore[arg-type]


def refuse(tmp_path: Path, text: str, *, name: str = "events.csv") -> GovgateError:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    with pytest.raises(GovgateError) as caught:
        load_events(path)
    assert caught.value.source == str(path)
    return caught.value


def only_row(tmp_path: Path, events: list[Event], **kwargs: object) -> dict:
    path = write_csv(tmp_path / "e.csv", events)
    log = load_events(path, refresh_anchor=AS_OF, **kwargs)  # type: ignore[arg-type]
    refresh = heatmap(log, AS_OF)
    assert len(refresh.rows) == 1
    row = refresh.rows[0]
    return {
        "count": row.ack_count_14d,
        "breached": row.breached_count_14d,
        "windows": row.concurrent_window_count_14d,
        "latency": row.avg_latency_hours_14d,
        "ratio": row.avg_latency_ratio_14d,
        "pending": row.pending_acks_now,
    }


# -- accepted formats ----------------------------------------------------------------------


def test_postgresql_copy_csv_with_and_without_fractions(tmp_path: Path) -> None:
    text = GOOD + (
        "a1,alex,publish_gate,cw-1,2026-11-16 10:00:00+00,2026-11-16 10:15:00.5+00,approved,0.50\n"
        "a2,alex,faq_rewrite,,2026-11-16 11:00:00.123456+00,,,4.00\n"
    )
    log = load_text(tmp_path, text, refresh_anchor=AS_OF)
    assert log.event_count == 2
    assert log.signer_ids == ("alex",)
    assert log.cert_windows == ("cw-1",)
    row = heatmap(log, AS_OF).rows[0]
    assert (row.ack_count_14d, row.pending_acks_now, row.concurrent_window_count_14d) == (2, 1, 1)
    assert row.avg_latency_hours_14d == Decimal("0.25")


def test_iso_t_z_and_other_offsets(tmp_path: Path) -> None:
    text = GOOD + (
        "a1,alex,publish_gate,cw-1,2026-11-16T10:00:00Z,2026-11-16T12:30:00+02:00,approved,0.50\n"
    )
    row = heatmap(load_text(tmp_path, text, refresh_anchor=AS_OF), AS_OF).rows[0]
    assert row.avg_latency_hours_14d == Decimal("0.5")  # 12:30+02 is 10:30Z


def test_crlf_line_endings_and_a_byte_order_mark(tmp_path: Path) -> None:
    text = "\ufeff" + GOOD + "a1,alex,publish_gate,,2026-11-16 10:00:00+00,,,0.50\n"
    path = tmp_path / "e.csv"
    path.write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    assert load_events(path).event_count == 1


def test_quoted_fields_with_commas_and_quotes(tmp_path: Path) -> None:
    signer = 'o"neil, the second'
    path = write_csv(tmp_path / "e.csv", [Event("a1", signer, T0), Event("a2", "bob", T0)])
    log = load_events(path)
    assert log.signer_ids == ("bob", signer)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("signer_id", "\x1b[31malex"),
        ("ack_event_id", "a\x1b]0;pwned\x07"),
        ("cert_window_id", "cw\tone"),
        ("signer_id", "al\nex"),
        ("signer_id", "alex\u202e"),  # right-to-left override: a format character
    ],
)
def test_identifiers_must_be_printable(tmp_path: Path, column: str, value: str) -> None:
    fields = dict(zip(HEADER, ROW.split(","), strict=True)) | {column: value}
    quoted = ",".join(f'"{v}"' if "\n" in v else v for v in fields.values())
    error = refuse(tmp_path, GOOD + ROW.replace("a1", "a0") + "\n" + quoted + "\n")
    assert error.where == f"row 3, column {column}"
    assert "control character" in error.message


def test_missing_sla_column_uses_route_defaults(tmp_path: Path) -> None:
    header = HEADER[:-1]
    events = [Event("a1", "alex", T0, T0 + timedelta(hours=3), owner_route="faq_rewrite")]
    path = write_csv(tmp_path / "e.csv", events, header)
    row = heatmap(load_events(path, refresh_anchor=AS_OF), AS_OF).rows[0]
    assert row.avg_latency_ratio_14d == Decimal("0.75")  # 3.00 / 4.00


def test_empty_sla_uses_the_given_default(tmp_path: Path) -> None:
    events = [Event("a1", "alex", T0, T0 + timedelta(hours=3), owner_route="faq_rewrite", sla=None)]
    row = only_row(tmp_path, events, default_sla={"faq_rewrite": Decimal("6")})
    assert row["ratio"] == Decimal("0.5")


def test_columns_in_another_order(tmp_path: Path) -> None:
    header = tuple(reversed(HEADER))
    path = write_csv(
        tmp_path / "e.csv", [Event("a1", "alex", T0, T0 + timedelta(minutes=6))], header
    )
    row = heatmap(load_events(path, refresh_anchor=AS_OF), AS_OF).rows[0]
    assert row.avg_latency_hours_14d == Decimal("0.1")


def test_json_array_and_rows_object(tmp_path: Path) -> None:
    record = {
        "ack_event_id": "a1", "signer_id": "alex", "owner_route": "publish_gate",
        "cert_window_id": None, "request_dt_utc": "2026-11-16T10:00:00Z",
        "ack_dt_utc": "2026-11-16T10:30:00Z", "ack_outcome": "approved", "sla_target_hours": 0.5,
    }  # fmt: skip
    for name, data in (("a.json", [record]), ("b.json", {"rows": [record]})):
        path = tmp_path / name
        path.write_text(json.dumps(data), encoding="utf-8")
        row = heatmap(load_events(path, refresh_anchor=AS_OF), AS_OF).rows[0]
        assert row.avg_latency_ratio_14d == Decimal("1")


def test_generated_columns_are_checked_when_present(tmp_path: Path) -> None:
    header = (*HEADER, "ack_latency_hours", "breached")
    base = "a1,alex,publish_gate,,2026-11-16 10:00:00+00,2026-11-16 10:30:18+00,approved,0.50"
    assert load_text(tmp_path, ",".join(header) + f"\n{base},0.51,t\n").event_count == 1
    error = refuse(tmp_path, ",".join(header) + f"\n{base},0.50,f\n")
    assert error.where == "row 2, column ack_latency_hours"
    error = refuse(tmp_path, ",".join(header) + f"\n{base},0.51,f\n")
    assert error.where == "row 2, column breached"


def test_json_generated_columns_are_checked(tmp_path: Path) -> None:
    record = {
        "ack_event_id": "a1", "signer_id": "alex", "owner_route": "publish_gate",
        "cert_window_id": None, "request_dt_utc": "2026-11-16T10:00:00Z", "ack_dt_utc": None,
        "ack_outcome": None, "sla_target_hours": "0.50", "ack_latency_hours": 1.5,
        "breached": False,
    }  # fmt: skip
    path = tmp_path / "e.json"
    path.write_text(json.dumps([record]), encoding="utf-8")
    with pytest.raises(GovgateError) as caught:
        load_events(path)
    assert caught.value.where == "row 0, column ack_latency_hours"


def test_a_non_midnight_grid(tmp_path: Path) -> None:
    as_of = AS_OF + timedelta(hours=9, minutes=30)
    events = [Event("a1", "alex", as_of - timedelta(days=14)), Event("a2", "alex", as_of)]
    log = load_events(write_csv(tmp_path / "e.csv", events), refresh_anchor=as_of)
    refresh = heatmap(log, as_of)
    assert refresh.at == as_of
    assert refresh.rows[0].ack_count_14d == 1  # a1 in (exactly 14 days), a2 out (at as-of)
    with pytest.raises(ValueError, match="refresh grid"):
        heatmap(log, AS_OF)


# -- what is kept for promotions -----------------------------------------------------------


def test_pending_keeps_open_and_late_events_only(tmp_path: Path) -> None:
    events = [
        Event("on-time", "alex", T0, T0 + timedelta(minutes=29)),
        Event("rounded-up", "alex", T0, T0 + timedelta(minutes=30, seconds=1)),  # 0.50, in SLA? no
        Event("late", "alex", T0, T0 + timedelta(hours=2)),
        Event("open", "alex", T0 + timedelta(hours=1)).pending(),
        Event("null-outcome", "alex", T0, T0 + timedelta(minutes=5), outcome=None),
        Event("timeout", "alex", T0, None, outcome="timeout"),
    ]
    log = load_events(write_csv(tmp_path / "e.csv", events))
    pending = {p.ack_event_id: p for p in log.pending}
    assert set(pending) == {"rounded-up", "late", "open", "null-outcome"}
    assert pending["late"].ack_dt_utc == T0 + timedelta(hours=2)
    assert pending["null-outcome"].ack_dt_utc is None  # pending at every refresh, as SQL says
    assert pending["open"].sla_target_hours == Decimal("0.50")
    assert [p.ack_event_id for p in log.pending] == ["late", "null-outcome", "rounded-up", "open"]


# -- refused rows --------------------------------------------------------------------------

ROW = "a1,alex,publish_gate,cw-1,2026-11-16 10:00:00+00,2026-11-16 10:15:00+00,approved,0.50"


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        (ROW.replace("10:15:00+00", "09:59:59.999999+00"), "ack_dt_utc", "before request_dt_utc"),
        (ROW.replace("publish_gate", "publish"), "owner_route", "unknown owner_route"),
        (ROW.replace("approved", "ok"), "ack_outcome", "unknown ack_outcome"),
        (ROW.replace("10:00:00+00", "10:00:00"), "request_dt_utc", "no UTC offset"),
        (ROW.replace("10:15:00+00", "10:15:00"), "ack_dt_utc", "no UTC offset"),
        (ROW.replace("2026-11-16 10:00:00+00", "yesterday"), "request_dt_utc", "not an ISO"),
        (ROW.replace("a1,alex", "a1,"), "signer_id", "empty"),
        (ROW.replace("2026-11-16 10:00:00+00,2026", ",2026"), "request_dt_utc", "empty"),
        (ROW.replace(",0.50", ",0.505"), "sla_target_hours", "more than 2 decimals"),
        (ROW.replace(",0.50", ",0"), "sla_target_hours", "out of range"),
        (ROW.replace(",0.50", ",1000"), "sla_target_hours", "out of range"),
        (ROW.replace(",0.50", ",half"), "sla_target_hours", "not a number"),
        (ROW.replace(",0.50", ",NaN"), "sla_target_hours", "not a number"),
        (ROW.replace("cw-1", '""'), "cert_window_id", "empty string is not NULL"),
        (
            ROW.replace("2026-11-16 10:15:00+00", "2141-01-16 10:15:00+00"),
            "ack_dt_utc",
            "999999.99",
        ),
    ],
)
def test_bad_rows_name_file_row_and_column(
    tmp_path: Path, row: str, column: str, message: str
) -> None:
    text = GOOD + ROW.replace("a1", "a0") + "\n" + row + "\n"
    error = refuse(tmp_path, text)
    assert error.where == f"row 3, column {column}"
    assert message in error.message
    assert str(error).startswith(f"{tmp_path / 'events.csv'}: row 3, column {column}: ")


def test_wrong_number_of_fields(tmp_path: Path) -> None:
    error = refuse(tmp_path, GOOD + ROW + "\n" + ROW.replace("a1", "a2") + ",extra\n")
    assert error.where == "row 3"
    assert "expected 8 fields" in error.message


def test_wrong_width_in_the_middle_of_a_big_file_is_found(tmp_path: Path) -> None:
    rows = [ROW.replace("a1", f"a{i}") for i in range(5000)]
    rows[3000] = rows[3000].replace(",cw-1", "")  # one field short, later rows shifted
    error = refuse(tmp_path, GOOD + "\n".join(rows) + "\n")
    assert error.where == "row 3002"


def test_duplicate_ids_name_both_rows(tmp_path: Path) -> None:
    rows = [ROW.replace("a1", f"a{i}") for i in range(3000)]
    rows[2500] = rows[2500].replace("a2500", "a17")
    error = refuse(tmp_path, GOOD + "\n".join(rows) + "\n")
    assert error.where == "row 2502, column ack_event_id"
    assert "rows 19 and 2502" in error.message


def test_empty_id(tmp_path: Path) -> None:
    error = refuse(tmp_path, GOOD + ROW + "\n" + ROW.replace("a1", "") + "\n")
    assert error.where == "row 3, column ack_event_id"


def test_missing_stray_and_repeated_columns(tmp_path: Path) -> None:
    header = ",".join(h for h in HEADER if h not in ("signer_id", "ack_dt_utc"))
    error = refuse(tmp_path, header + "\n")
    assert "missing required columns: signer_id, ack_dt_utc" in error.message
    assert error.where == "row 1"
    error = refuse(tmp_path, GOOD.rstrip("\n") + ",comment\n")
    assert "stray column 'comment'" in error.message
    assert error.where == "row 1, column comment"
    error = refuse(tmp_path, GOOD.rstrip("\n") + ",signer_id\n")
    assert "appears twice" in error.message


def test_json_errors_use_the_array_index(tmp_path: Path) -> None:
    good = {h: None for h in HEADER} | {
        "ack_event_id": "a1", "signer_id": "alex", "owner_route": "publish_gate",
        "request_dt_utc": "2026-11-16T10:00:00Z",
    }  # fmt: skip
    bad = good | {"ack_event_id": "a2", "owner_route": "nope"}
    error = refuse(tmp_path, json.dumps([good, bad]), name="e.json")
    assert error.where == "row 1, column owner_route"
    error = refuse(tmp_path, json.dumps([good, good | {"extra": 1}]), name="e.json")
    assert error.where == "row 1, column extra"
    error = refuse(
        tmp_path, json.dumps({"rows": [good | {"sla_target_hours": [1]}]}), name="e.json"
    )
    assert error.where == "row 0, column sla_target_hours"
    error = refuse(tmp_path, json.dumps([good, good]), name="e.json")
    assert "rows 0 and 1" in error.message


def test_unreadable_files(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_bytes(GOOD.encode() + b"a1,\xff\xfe,publish_gate,,2026-11-16 10:00:00+00,,,0.50\n")
    with pytest.raises(GovgateError, match="not UTF-8"):
        load_events(path)
    with pytest.raises(GovgateError, match="file not found"):
        load_events(tmp_path / "missing.csv")
    refuse(tmp_path, "")
    refuse(tmp_path, GOOD + 'a1,"unterminated\n')
    refuse(tmp_path, "{not json", name="e.json")


def test_a_traceback_never_leaks_for_odd_timestamps(tmp_path: Path) -> None:
    for stamp in ("infinity", "2026-11-16 25:00:00+00", "0001-01-01 00:00:00+01"):
        error = refuse(tmp_path, GOOD + ROW.replace("2026-11-16 10:00:00+00", stamp) + "\n")
        assert error.where == "row 2, column request_dt_utc"


def test_source_name_can_be_given(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text(GOOD + ROW.replace("approved", "meh") + "\n", encoding="utf-8")
    with pytest.raises(GovgateError) as caught:
        load_events(path, source="https://example.invalid/e.csv")
    assert caught.value.source == "https://example.invalid/e.csv"


def test_csv_text_helper_round_trips(tmp_path: Path) -> None:
    when = datetime(2026, 11, 16, 10, 0, 0, 500000, tzinfo=UTC)
    assert "2026-11-16 10:00:00.5+00" in csv_text([Event("a", "b", when)])


def test_wrong_width_after_a_repeated_row(tmp_path: Path) -> None:
    # The loop fails while unpacking the short row, still holding the values of the row before;
    # that row also appears earlier: the diagnosis must still name the short row.
    text = GOOD + ROW + "\n" + ROW + "\n" + ROW.replace(",cw-1", "") + "\n"
    error = refuse(tmp_path, text)
    assert error.where == "row 4"
    assert "expected 8 fields" in error.message


def test_row_numbers_count_lines_inside_quoted_fields(tmp_path: Path) -> None:
    # A quoted line break spans lines 3-4; the error is reported at the record's first line.
    multi = ROW.replace("a1", "a2").replace("alex", '"al\nex"')
    error = refuse(tmp_path, GOOD + ROW + "\n" + multi + "\n")
    assert error.where == "row 3, column signer_id"


def test_timestamps_the_history_cannot_hold(tmp_path: Path) -> None:
    for stamp in ("0001-01-01T00:00:00+23:59", "0001-01-01T12:00:00Z", "9999-12-31T12:00:00Z"):
        error = refuse(tmp_path, GOOD + ROW.replace("2026-11-16 10:00:00+00", stamp) + "\n")
        assert error.where == "row 2, column request_dt_utc"
        assert "out of range" in error.message


def test_quoted_records_across_chunk_boundaries(tmp_path: Path) -> None:
    events = [
        Event(f"a{i}", f'"quoted", {i % 7}' if i % 37 == 0 else f"s{i % 5}", T0)
        for i in range(6000)
    ]
    path = write_csv(tmp_path / "e.csv", events)
    assert path.stat().st_size > 5 * 65536
    log = load_events(path)
    assert log.event_count == 6000
    assert len(log.signer_ids) == 5 + 7
    lines = path.read_text(encoding="utf-8").count("\n")
    path.write_text(path.read_text(encoding="utf-8") + ROW.replace("approved", "x") + "\n")
    error = refuse(tmp_path, path.read_text(encoding="utf-8"))
    assert error.where == f"row {lines + 1}, column ack_outcome"


def test_pending_false_keeps_the_heatmap_and_refuses_pending(tmp_path: Path) -> None:
    """``govgate heatmap`` loads without the late rows; nothing it prints may change."""
    events = [
        Event("a1", "alex", T0, T0 + timedelta(hours=3)),  # late: would be kept
        Event("a2", "alex", T0 + timedelta(hours=1)).pending(),
        Event("a3", "bo", T0, T0 + timedelta(minutes=5)),
    ]
    path = write_csv(tmp_path / "e.csv", events)
    full = load_events(path, refresh_anchor=AS_OF)
    lean = load_events(path, refresh_anchor=AS_OF, pending=False)
    assert [p.ack_event_id for p in full.pending] == ["a1", "a2"]
    assert heatmap(lean, AS_OF) == heatmap(full, AS_OF)
    with pytest.raises(RuntimeError, match="pending=False"):
        _ = lean.pending
