"""PostgreSQL NUMERIC arithmetic: rounding, division scales, AVG."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from govgate.fatigue import pgnumeric

HOUR_US = 3_600_000_000


def test_latency_rounds_half_away_from_zero_at_hundredths() -> None:
    # 30 min 17 s = 0.504722 h -> 0.50; 0.505 h = 30 min 18 s -> 0.51
    assert pgnumeric.latency_centihours((30 * 60 + 17) * 1_000_000) == 50
    assert pgnumeric.latency_centihours((30 * 60 + 18) * 1_000_000) == 51
    assert pgnumeric.latency_centihours((30 * 60 + 18) * 1_000_000 - 1) == 50
    assert pgnumeric.latency_centihours(0) == 0
    assert pgnumeric.latency_centihours(17_999_999) == 0
    assert pgnumeric.latency_centihours(18_000_000) == 1


@given(st.integers(min_value=0, max_value=999_999 * HOUR_US))
def test_whole_seconds_decide_the_rounding(micros: int) -> None:
    # The loader rounds (seconds + 18) // 36: every boundary is a whole second.
    assert pgnumeric.latency_centihours(micros) == (micros // 1_000_000 + 18) // 36


def test_division_scale_follows_select_div_scale() -> None:
    # 1.00 / 0.75 = 1.3333333333333333 (16 digits); 0.50 / 3.00 at 20; 0.01 / 999.99 at 24.
    assert pgnumeric.select_div_scale(100, 2, 75, 2) == 16
    assert pgnumeric.select_div_scale(50, 2, 300, 2) == 20
    assert pgnumeric.select_div_scale(1, 2, 99999, 2) == 24
    assert pgnumeric.select_div_scale(10**8 - 1, 2, 1, 2) == 12
    value, scale = pgnumeric.ratio_scaled(100, 75)
    assert pgnumeric.to_decimal(value, pgnumeric.RATIO_SCALE) == Decimal("1.3333333333333333")
    assert scale == 16


def test_average_where_exact_fractions_and_postgresql_disagree() -> None:
    # Rows 1.00/0.75 and 0.50/3.00: exactly 0.75 as fractions, 0.7499... in PostgreSQL.
    rows = [pgnumeric.ratio_scaled(100, 75), pgnumeric.ratio_scaled(50, 300)]
    total = sum(value for value, _ in rows)
    dscale = max(scale for _, scale in rows)
    avg = pgnumeric.to_decimal(*pgnumeric.avg_scaled(total, pgnumeric.RATIO_SCALE, dscale, 2))
    assert avg == Decimal("0.74999999999999998334")
    assert avg < Decimal("0.75")


def test_average_of_latencies_has_postgresql_scale() -> None:
    value, scale = pgnumeric.avg_scaled(75, 2, 2, 2)  # AVG(0.50, 0.25)
    assert (value, scale) == (37500000000000000000, 20)
    assert format(pgnumeric.to_decimal(value, scale), "f") == "0.37500000000000000000"


@given(
    st.integers(min_value=0, max_value=10**40),
    st.sampled_from([2, 24]),
    st.sampled_from([2, 12, 16, 20, 24]),
    st.integers(min_value=1, max_value=10**9),
)
def test_inlined_average_equals_the_plain_one(
    total: int, total_scale: int, dscale: int, count: int
) -> None:
    expected = pgnumeric.to_decimal(*pgnumeric.avg_scaled(total, total_scale, dscale, count))
    got = pgnumeric.avg_decimal(total, total_scale, dscale, count)
    assert got == expected
    assert got.as_tuple().exponent == expected.as_tuple().exponent


def test_to_decimal_is_exact_beyond_the_default_context() -> None:
    value = 10**40 + 1
    assert pgnumeric.to_decimal(value, 30) == Decimal("10000000000.000000000000000000000000000001")
