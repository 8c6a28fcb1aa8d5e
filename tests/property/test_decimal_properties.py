"""The epsilon rule and the ingest hash against oracles written with exact fractions and text.

Values have up to 90 significant digits and exponents from -60 to 60, and partners are placed on
the tolerance boundary and a few units of the last place either side of it, where a rounding
context (Python's default keeps 28 digits) decides wrongly.
"""

from __future__ import annotations

import hashlib
from decimal import Context, Decimal
from fractions import Fraction

from hypothesis import example, given, settings
from hypothesis import strategies as st

from govgate.recon import engine
from govgate.recon.loader import ingest_hash
from govgate.recon.model import Tolerance

WIDE = Context(prec=5000)  # only to *build* exact test values; the oracle is Fraction
EXAMPLES = settings(max_examples=400, deadline=None, derandomize=True)


@st.composite
def decimals(draw: st.DrawFn, *, signed: bool = True, max_digits: int = 90) -> Decimal:
    digits = draw(st.text("0123456789", min_size=1, max_size=max_digits))
    exponent = draw(st.integers(-60, 60))
    sign = draw(st.sampled_from("-+")) if signed else "+"
    return Decimal(f"{sign}{digits}e{exponent}")


def oracle_pass(lead: Decimal, partner: Decimal, tol: Tolerance) -> bool:
    used = max(Fraction(tol.abs_tol), Fraction(tol.rel_tol) * abs(Fraction(lead)))
    return abs(Fraction(partner) - Fraction(lead)) <= used


def oracle_relative(lead: Decimal, partner: Decimal) -> Fraction:
    """(partner - lead) / |lead| rounded half-even to 10 decimals (Python's round on Fraction)."""
    exact = (Fraction(partner) - Fraction(lead)) / abs(Fraction(lead))
    return Fraction(round(exact * 10**10), 10**10)


@st.composite
def boundary_cases(draw: st.DrawFn) -> tuple[Decimal, Decimal, Tolerance]:
    lead = draw(decimals())
    tol = Tolerance(draw(decimals(signed=False, max_digits=40)),
                    draw(decimals(signed=False, max_digits=40)), "route")
    used = max(tol.abs_tol, WIDE.multiply(tol.rel_tol, WIDE.abs(lead)))
    side = draw(st.sampled_from([-1, 1]))
    # A nudge far below the 28th digit of the values, or none: the boundary itself.
    nudge = Decimal(draw(st.sampled_from([-1, 0, 1]))).scaleb(-draw(st.integers(0, 150)))
    partner = WIDE.add(WIDE.add(lead, WIDE.multiply(Decimal(side), used)), nudge)
    return lead, partner, tol


@given(boundary_cases())
@EXAMPLES
@example((Decimal("123456789012345678.9"), Decimal("123580245801358024.5789000000000000000001"),
          Tolerance(Decimal("0.01"), Decimal("0.001"), "route")))
@example((Decimal("0.001"), Decimal("1E+15"), Tolerance(Decimal(0), Decimal(0), "route")))
def test_the_epsilon_rule_agrees_with_exact_fractions(
        case: tuple[Decimal, Decimal, Tolerance]) -> None:
    lead, partner, tol = case
    row = engine.compare_metric("m", lead, partner, tol)
    assert (row.result == "pass") is oracle_pass(lead, partner, tol)
    assert row.delta is not None and Fraction(row.delta) == Fraction(partner) - Fraction(lead)
    assert row.tolerance_used is not None
    assert Fraction(row.tolerance_used) == max(Fraction(tol.abs_tol),
                                               Fraction(tol.rel_tol) * abs(Fraction(lead)))
    if lead:
        assert row.relative_delta is not None
        assert Fraction(row.relative_delta) == oracle_relative(lead, partner)
        assert row.relative_delta.as_tuple().exponent == -10
    else:
        assert row.relative_delta is None


@given(decimals(), decimals(), decimals(signed=False), decimals(signed=False))
@EXAMPLES
def test_the_epsilon_rule_agrees_with_exact_fractions_anywhere(
        lead: Decimal, partner: Decimal, abs_tol: Decimal, rel_tol: Decimal) -> None:
    tol = Tolerance(abs_tol, rel_tol, "route")
    assert (engine.compare_metric("m", lead, partner, tol).result == "pass") is (
        oracle_pass(lead, partner, tol))


def text_canonical(value: Decimal) -> str:
    """The documented canonical number text, built from the digits alone (no Decimal maths):
    plain notation, no exponent, no trailing zeros after the point, no point when nothing
    follows it, every zero written ``0``."""
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits)).lstrip("0")
    if not text:
        return "0"
    if exponent >= 0:
        body = text + "0" * exponent
    else:
        places = -exponent
        text = text.rjust(places + 1, "0")
        body = (text[:-places] + "." + text[-places:]).rstrip("0").rstrip(".")
    return ("-" if sign else "") + body


@given(st.dictionaries(st.text("abcdefghij_", min_size=1, max_size=8), decimals(),
                       min_size=1, max_size=12))
@EXAMPLES
@example({"m": Decimal("1234567890123456789012345678.9")})
@example({"m": Decimal("-0.00"), "n": Decimal("1E+3")})
def test_ingest_hash_is_the_documented_text(values: dict[str, Decimal]) -> None:
    body = "".join(f"{m},{text_canonical(values[m])}\n" for m in sorted(values))
    assert ingest_hash(values) == "sha256:" + hashlib.sha256(body.encode()).hexdigest()


@given(st.dictionaries(st.text("abcdefghij_", min_size=1, max_size=8),
                       st.builds(lambda sign, digits, frac, exp: f"{sign}{digits}{frac}{exp}",
                                 st.sampled_from(["", "-"]),
                                 st.from_regex(r"\A(0|[1-9][0-9]{0,60})\Z"),
                                 st.sampled_from(["", ".5", ".000", ".1234567890123456789"]),
                                 st.sampled_from(["", "e3", "E-7", "e+0"])),
                       min_size=1, max_size=8))
@EXAMPLES
def test_a_json_number_and_its_string_read_the_same_and_hash_the_same(
        rows: dict[str, str]) -> None:
    """The loader path: a value written as a bare JSON number (PostgreSQL's row_to_json) is the
    same exact decimal as the value written as a string, and hashes the same."""
    from govgate.loaders.documents import parse_document
    from govgate.recon.loader import to_decimal

    bare = "[" + ", ".join(f'{{"m": "{m}", "v": {v}}}' for m, v in rows.items()) + "]"
    items = parse_document(bare.encode(), "x.json").data
    read = {item["m"]: to_decimal(item["v"], "x.json", "/v") for item in items}
    assert read == {m: Decimal(v) for m, v in rows.items()}
    plain = {m: v for m, v in rows.items() if "e" not in v.lower()}  # the schema's string form
    strings = {m: to_decimal(v, "x.json", "/v") for m, v in plain.items()}
    assert ingest_hash(strings) == ingest_hash({m: read[m] for m in plain})
    body = "".join(f"{m},{text_canonical(Decimal(v))}\n" for m, v in sorted(rows.items()))
    assert ingest_hash(read) == "sha256:" + hashlib.sha256(body.encode()).hexdigest()
