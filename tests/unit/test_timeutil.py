"""Strict UTC instants and ISO 8601 durations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from govgate.errors import GovgateError
from govgate.timeutil import format_duration, format_instant, parse_duration, parse_instant

NOV20 = datetime(2026, 11, 20, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2026-11-20T00:00:00Z", "2026-11-20T00:00:00+00:00",
                                  "2026-11-20T01:00:00+01:00", "2026-11-19T19:00:00-05:00",
                                  " 2026-11-20T00:00:00Z "])
def test_instants_with_an_offset_are_converted_to_utc(text: str) -> None:
    value = parse_instant(text)
    assert value == NOV20
    assert value.utcoffset() == timedelta(0)
    assert value.tzinfo is UTC


def test_microseconds_survive() -> None:
    assert parse_instant("2026-11-20T00:00:00.000001Z") == NOV20 + timedelta(microseconds=1)


@pytest.mark.parametrize("text", ["2026-11-20T00:00:00", "2026-11-20", "2026-11-20 00:00:00"])
def test_a_timestamp_without_offset_is_bad_input(text: str) -> None:
    with pytest.raises(GovgateError) as info:
        parse_instant(text, source="runs.csv", where="row 3, column scheduled_at")
    message = str(info.value)
    assert message.startswith("runs.csv: row 3, column scheduled_at: ")
    assert "offset" in message


@pytest.mark.parametrize("value", ["yesterday", "", "2026-13-01T00:00:00Z", 1732060800, None])
def test_garbage_is_bad_input_naming_the_place(value: object) -> None:
    with pytest.raises(GovgateError) as info:
        parse_instant(value, source="--as-of")
    assert str(info.value).startswith("--as-of: ")


def test_datetime_objects_need_an_offset_too() -> None:
    assert parse_instant(datetime(2026, 11, 20, 1, tzinfo=timezone(timedelta(hours=1)))) == NOV20
    with pytest.raises(GovgateError):
        parse_instant(datetime(2026, 11, 20))


def test_format_instant_is_canonical_utc() -> None:
    assert format_instant(NOV20) == "2026-11-20T00:00:00Z"
    assert format_instant(NOV20 + timedelta(microseconds=1)) == "2026-11-20T00:00:00.000001Z"
    assert format_instant(NOV20 + timedelta(microseconds=250000)) == "2026-11-20T00:00:00.250000Z"
    berlin = NOV20.astimezone(timezone(timedelta(hours=1)))
    assert format_instant(berlin) == "2026-11-20T00:00:00Z"


def test_format_then_parse_round_trips() -> None:
    for value in (NOV20, NOV20 + timedelta(microseconds=7), NOV20 - timedelta(days=400)):
        assert parse_instant(format_instant(value)) == value


@pytest.mark.parametrize(("text", "expected"), [
    ("P7D", timedelta(days=7)),
    ("PT12H", timedelta(hours=12)),
    ("P1W", timedelta(days=7)),
    ("P7DT12H", timedelta(days=7, hours=12)),
    ("PT0S", timedelta(0)),
    ("PT1M30S", timedelta(seconds=90)),
])
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "P", "PT", "7D", "P1M", "P1Y", "P7DT", "P-1D", "p7d",
                                  "P1.5D", None, 7])
def test_bad_durations_name_the_place(text: object) -> None:
    with pytest.raises(GovgateError) as info:
        parse_duration(text, source="policy.yaml", where="/paging/grace")
    assert str(info.value).startswith("policy.yaml: /paging/grace: ")


@pytest.mark.parametrize("delta", [timedelta(days=7), timedelta(hours=12),
                                   timedelta(days=7, hours=12, minutes=3, seconds=4),
                                   timedelta(0)])
def test_format_duration_round_trips(delta: timedelta) -> None:
    assert parse_duration(format_duration(delta)) == delta
    assert format_duration(timedelta(days=7, hours=12)) == "P7DT12H"
