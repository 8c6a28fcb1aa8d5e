"""Exact decimal numbers: strict parsing of input text, and arithmetic that never rounds.

Python's default decimal context keeps 28 significant digits, so a 29-digit value would be
rounded by ``abs()``, ``-``, ``*`` and ``normalize()`` without a word. Every number govgate reads
is bounded instead (:data:`MAX_DIGITS` significant digits, an adjusted exponent within
:data:`MAX_EXPONENT`), and every computation on them runs in :data:`EXACT`, whose precision holds
any sum, difference or product of two bounded numbers in full. Its traps turn any rounding into
an exception, so a value that could not be represented is an error, never a silently different
verdict.
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager
from decimal import (
    MAX_EMAX,
    MIN_EMIN,
    ROUND_HALF_EVEN,
    Clamped,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    Rounded,
    Subnormal,
    Underflow,
    localcontext,
)
from typing import Any

from .errors import GovgateError

#: Significant digits one input number may have.
MAX_DIGITS = 1000
#: Largest magnitude of a number's adjusted exponent (``1e1000``, ``1e-1000``).
MAX_EXPONENT = 1000
#: A sum of two bounded numbers needs at most 2 * MAX_EXPONENT + MAX_DIGITS + 2 digits, a product
#: 2 * MAX_DIGITS: this precision holds either with room to spare, so EXACT never rounds them.
PRECISION = 4 * (MAX_EXPONENT + MAX_DIGITS)

#: The context for every computation on input numbers; any rounding raises.
EXACT = Context(
    prec=PRECISION, rounding=ROUND_HALF_EVEN, Emax=MAX_EMAX, Emin=MIN_EMIN,
    traps=[InvalidOperation, DivisionByZero, Overflow, Underflow, Subnormal, Inexact, Rounded,
           Clamped],
)

#: Plain decimal text with ASCII digits only. ``Decimal()`` alone would also take Arabic-Indic
#: or full-width digits, underscores, surrounding blanks, ``NaN`` and ``Infinity``.
_DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?",
                           re.ASCII)


def exact() -> AbstractContextManager[Context]:
    """Run the block in :data:`EXACT` (a fresh copy, so flags never leak between callers:
    ``localcontext`` enters a copy of the context it is given)."""
    return localcontext(EXACT)


def number_problem(number: Decimal) -> str | None:
    """Why a finite decimal is outside govgate's bounds, or None when it is inside them."""
    if not number.is_finite():
        return "is not a finite number"
    if not number:
        return None
    digits = len(number.as_tuple().digits)
    if digits > MAX_DIGITS:
        return f"has {digits} significant digits (at most {MAX_DIGITS})"
    if abs(number.adjusted()) > MAX_EXPONENT:
        return f"is out of range (at most 1e{MAX_EXPONENT} and at least 1e-{MAX_EXPONENT})"
    return None


def text_problem(text: str) -> str | None:
    """Why ``text`` is not a bounded plain decimal number, or None when it is one."""
    return _text_number(text)[1]


def _text_number(text: str) -> tuple[Decimal | None, str | None]:
    """``text`` as a bounded Decimal and None, or None and why it is not one."""
    if len(text) > 4 * MAX_DIGITS:
        return None, f"is longer than {4 * MAX_DIGITS} characters"
    if not _DECIMAL_TEXT.fullmatch(text):
        return None, "is not a decimal number written with the digits 0-9"
    try:
        number = Decimal(text)
    except InvalidOperation:  # an exponent beyond what Decimal itself can hold
        return None, (f"is out of range (at most 1e{MAX_EXPONENT} and at least "
                      f"1e-{MAX_EXPONENT})")
    if len(text) <= MAX_DIGITS and "e" not in text and "E" not in text:
        # Without an exponent, a text this short has at most MAX_DIGITS digits and an
        # adjusted exponent within MAX_EXPONENT: in bounds without counting its digits.
        return number, None
    problem = number_problem(number)
    return (None, problem) if problem else (number, None)


def _shown(value: Any) -> str:
    if isinstance(value, int) and abs(value) >= 10**MAX_DIGITS:
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def parse_decimal(value: Any, *, source: str | None, where: str | None,
                  text: str | None = None) -> Decimal:
    """An input number as an exact, bounded, finite Decimal, or a GovgateError naming the place.

    ``text`` is the number as written in the file when the parser made something else of it
    (a YAML float): the text is what the author meant, the float only its nearest binary value.
    """
    problem: str | None
    number: Decimal | None = None
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        problem = "is not a number"
    elif text is not None or isinstance(value, str):
        raw = text if text is not None else str(value)
        number, problem = _text_number(raw)
    elif isinstance(value, float):
        # Only reached for a float whose text was not kept: its shortest repr is what was read.
        problem = text_problem(repr(value))
        number = None if problem else Decimal(repr(value))
    elif isinstance(value, int):
        # Compared, not converted to text: str() of a 5,000-digit int raises ValueError.
        problem = (None if abs(value) < 10**MAX_DIGITS else
                   f"has more than {MAX_DIGITS} digits")
        number = None if problem else Decimal(value)
    else:
        problem = number_problem(value)
        number = value
    if problem or number is None:
        shown = _shown(text if text is not None else value)
        raise GovgateError(f"expected a finite decimal number, got {shown}: it "
                           f"{problem or 'is not a number'}", source=source, where=where)
    return number


def canonical_text(value: Decimal) -> str:
    """Plain decimal text without exponent or trailing zeros; every zero (``-0.00``) is ``0``.

    ``12.50`` -> ``12.5``, ``1E+3`` -> ``1000``, ``-0.0`` -> ``0``. ``normalize()`` runs in
    :data:`EXACT`: in the default context it would round a 29-digit value to 28 digits.
    """
    if not value:
        return "0"
    if value.is_finite():
        # format(..., "f") without a precision prints the exact value in any context; only
        # the trailing zeros of a fraction are left to strip (four times faster than
        # normalize() in a fresh EXACT context, and this runs for every number of every diff).
        text = format(value, "f")
        if "." in text:
            text = text.rstrip("0").removesuffix(".")
        return text
    with exact():
        return format(value.normalize(), "f")


def round_ratio(numerator: Decimal, denominator: Decimal, places: int, *,
                half_up: bool = False) -> Decimal:
    """``numerator / denominator`` rounded to ``places`` decimals, exactly: half-even, or with
    ``half_up`` half away from zero (PostgreSQL's NUMERIC rounding).

    The quotient is formed from the exact integer ratios of both operands, so there is one
    rounding only (a decimal division followed by ``quantize`` would round twice, and
    ``quantize`` raises when the quotient has more digits than the context holds).
    """
    n1, d1 = numerator.as_integer_ratio()
    n2, d2 = denominator.as_integer_ratio()
    top, bottom = n1 * d2 * 10**places, d1 * n2
    if bottom < 0:
        top, bottom = -top, -bottom
    negative = top < 0
    quotient, rest = divmod(abs(top), bottom)
    if 2 * rest > bottom or (2 * rest == bottom and (half_up or quotient % 2)):
        quotient += 1
    if negative:
        quotient = -quotient
    with exact():
        return Decimal(quotient).scaleb(-places)
