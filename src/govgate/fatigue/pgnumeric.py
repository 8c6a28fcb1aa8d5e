"""PostgreSQL NUMERIC arithmetic, exactly, for the few operations the heat-map needs.

The seed's SQL computes ``ack_latency_hours`` as ``NUMERIC(8,2)``, divides it by
``sla_target_hours`` (``NUMERIC(5,2)``) per row and averages both with ``AVG``. PostgreSQL (14 and
later, where ``EXTRACT(EPOCH ...)`` is NUMERIC) does each division exactly and rounds it half away
from zero at a result scale it picks from the operands (``select_div_scale`` in ``numeric.c``).
Reproducing that scale, rather than using exact fractions, is what makes a threshold such as
``avg_latency_ratio_14d >= 0.75`` come out as PostgreSQL decides it even when a row's ratio does not
terminate (1.00 / 0.75), and makes the averages equal to the view's digit for digit.

Values are plain integers with an implied scale: ``123`` at scale 2 is 1.23.
"""

from __future__ import annotations

from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal

__all__ = [
    "MAX_LATENCY_CENTIHOURS",
    "MICROS_PER_CENTIHOUR",
    "RATIO_SCALE",
    "avg_decimal",
    "avg_scaled",
    "div_round",
    "latency_centihours",
    "ratio_scaled",
    "select_div_scale",
    "to_decimal",
]

#: One hundredth of an hour in microseconds.
MICROS_PER_CENTIHOUR = 36_000_000
#: ``NUMERIC(8,2)`` holds at most 999999.99.
MAX_LATENCY_CENTIHOURS = 99_999_999
#: Every per-row ratio ``latency / sla`` is kept at this scale. PostgreSQL picks 12, 16, 20 or 24
#: digits for those operands (0.00..999999.99 over 0.01..999.99), so 24 holds each one exactly.
RATIO_SCALE = 24

# Constants of numeric.c.
_MIN_SIG_DIGITS = 16  # NUMERIC_MIN_SIG_DIGITS
_DEC_DIGITS = 4  # decimal digits per base-10000 digit
_MAX_DISPLAY_SCALE = 1000  # NUMERIC_MAX_DISPLAY_SCALE


def latency_centihours(micros: int) -> int:
    """``ack_latency_hours`` in hundredths: the exact latency rounded half away from zero.

    PostgreSQL computes ``EXTRACT(EPOCH FROM ack - request) / 3600`` at a result scale of 12 or
    more for every latency that fits ``NUMERIC(8,2)`` and only then rounds to 2 decimals. The
    exact quotient is ``k / (9 * 10**10)``: past its tenth decimal it repeats one digit 0..8, never
    9, so that first rounding cannot carry a value across a .005 boundary and one rounding of the
    exact value gives the same result.

    Only whole seconds matter: every boundary ``k * 36 s + 18 s`` is a whole second, so
    ``(seconds + 18) // 36`` equals ``(micros + 18_000_000) // 36_000_000`` (the loader's fast
    path uses the former).
    """
    if micros < 0:
        return -latency_centihours(-micros)
    return (micros + MICROS_PER_CENTIHOUR // 2) // MICROS_PER_CENTIHOUR


_POW10 = [10**i for i in range(400)]
# Context wide enough that scaleb never rounds: an exact decimal from (integer, scale).
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)


def _pow10(exponent: int) -> int:
    return _POW10[exponent] if exponent < len(_POW10) else int(pow(10, exponent))


def _decimal_digits(value: int) -> int:
    """Number of decimal digits of ``value`` > 0 (from its bit length: no str())."""
    estimate = ((value.bit_length() - 1) * 1233) >> 12  # floor((bits - 1) * log10(2))
    if estimate + 1 < len(_POW10):
        return estimate + 1 + int(value >= _POW10[estimate + 1])
    return len(str(value))  # pragma: no cover - beyond any NUMERIC(8,2) sum


def _weight_and_first_digit(value: int, scale: int) -> tuple[int, int]:
    """Base-10000 weight and first non-zero base-10000 digit of ``value * 10**-scale``.

    Zero has weight 0 and first digit 0, as ``select_div_scale`` sees it.
    """
    value = abs(value)
    if value == 0:
        return 0, 0
    digits = _decimal_digits(value)
    weight = (digits - scale - 1) // _DEC_DIGITS
    shift = scale + _DEC_DIGITS * weight
    first = value // _pow10(shift) if shift >= 0 else value * _pow10(-shift)
    return weight, first


def select_div_scale(
    num: int, num_scale: int, den: int, den_scale: int, *, num_dscale: int | None = None
) -> int:
    """The result scale PostgreSQL chooses for ``num / den`` (``select_div_scale``).

    :param num_dscale: The numerator's display scale when it differs from the scale we carry the
        integer at (an AVG's sum carries the largest scale of its terms).
    """
    weight1, first1 = _weight_and_first_digit(num, num_scale)
    weight2, first2 = _weight_and_first_digit(den, den_scale)
    qweight = weight1 - weight2
    if first1 <= first2:
        qweight -= 1
    rscale = _MIN_SIG_DIGITS - qweight * _DEC_DIGITS
    rscale = max(rscale, num_scale if num_dscale is None else num_dscale, den_scale, 0)
    return min(rscale, _MAX_DISPLAY_SCALE)


def div_round(num: int, num_scale: int, den: int, den_scale: int, rscale: int) -> int:
    """``num / den`` at ``rscale`` digits, rounded half away from zero, as an integer."""
    if den == 0:
        raise ZeroDivisionError("division by zero")
    exponent = rscale - num_scale + den_scale
    top = num * _pow10(exponent) if exponent >= 0 else num
    bottom = den if exponent >= 0 else den * _pow10(-exponent)
    negative = (top < 0) != (bottom < 0)
    top, bottom = abs(top), abs(bottom)
    quotient = (2 * top + bottom) // (2 * bottom)
    return -quotient if negative else quotient


def ratio_scaled(latency_c: int, sla_c: int) -> tuple[int, int]:
    """``ack_latency_hours / sla_target_hours`` for one row.

    :returns: ``(value, rscale)``: the value at :data:`RATIO_SCALE` and the scale PostgreSQL
        rounded it at (the ``dscale`` the row contributes to the AVG's sum).
    """
    rscale = select_div_scale(latency_c, 2, sla_c, 2)
    if rscale > RATIO_SCALE:  # pragma: no cover - impossible for NUMERIC(8,2) / NUMERIC(5,2)
        raise ValueError(f"ratio scale {rscale} exceeds {RATIO_SCALE}")
    value = div_round(latency_c, 2, sla_c, 2, rscale)
    return value * _pow10(RATIO_SCALE - rscale), rscale


def avg_scaled(total: int, total_scale: int, dscale: int, count: int) -> tuple[int, int]:
    """``AVG``'s final step: ``sum / count`` at PostgreSQL's scale.

    :param total: The exact sum, as an integer at ``total_scale``.
    :param dscale: The display scale of the sum: the largest scale among the summed values.
    :param count: The number of non-null values (> 0).
    :returns: ``(value, rscale)``, the average as an integer at ``rscale``.
    """
    rscale = select_div_scale(total, total_scale, count, 0, num_dscale=dscale)
    return div_round(total, total_scale, count, 0, rscale), rscale


def avg_decimal(total: int, total_scale: int, dscale: int, count: int) -> Decimal:
    """:func:`avg_scaled` as a :class:`~decimal.Decimal`, inlined: the heat-map calls it for
    every signer and day."""
    pow10 = _POW10
    if total:
        estimate = ((total.bit_length() - 1) * 1233) >> 12  # see _decimal_digits
        digits = estimate + 1 + int(total >= pow10[estimate + 1])
        weight1 = (digits - total_scale - 1) // _DEC_DIGITS
        shift = total_scale + _DEC_DIGITS * weight1
        first1 = total // pow10[shift] if shift >= 0 else total * pow10[-shift]
    else:
        weight1 = first1 = 0
    if count < 10_000:  # the number of rows: almost always one base-10000 digit
        weight2, first2 = 0, count
    else:
        weight2 = (_decimal_digits(count) - 1) // _DEC_DIGITS
        first2 = count // pow10[_DEC_DIGITS * weight2]
    qweight = weight1 - weight2 - (first1 <= first2)
    rscale = _MIN_SIG_DIGITS - qweight * _DEC_DIGITS
    if rscale < dscale:
        rscale = dscale
    exponent = rscale - total_scale
    if exponent >= 0:
        top, bottom = total * pow10[exponent], count
    else:
        top, bottom = total, count * pow10[-exponent]
    return Decimal((2 * top + bottom) // (2 * bottom)).scaleb(-rscale, _EXACT)


def to_decimal(value: int, scale: int) -> Decimal:
    """An exact :class:`~decimal.Decimal` with ``scale`` digits after the point (no rounding)."""
    return Decimal(value).scaleb(-scale, _EXACT)
