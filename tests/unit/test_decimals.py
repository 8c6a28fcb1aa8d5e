"""Exact numbers: strict parsing of input text, canonical text, exact comparison and rounding."""

from __future__ import annotations

import sys
import unicodedata
from dataclasses import replace
from decimal import Context, Decimal
from fractions import Fraction

import pytest

from govgate.decimals import (
    MAX_DIGITS,
    MAX_EXPONENT,
    canonical_text,
    parse_decimal,
    round_ratio,
)
from govgate.errors import GovgateError
from govgate.loaders.documents import parse_document, validate
from govgate.recon import engine
from govgate.recon.model import Tolerance

D = Decimal

#: One non-ASCII decimal digit of every script Python knows (category Nd), e.g. Arabic-Indic
#: U+0661, Devanagari U+0967, full-width U+FF11, mathematical bold U+1D7CF.
UNICODE_DIGITS = sorted(
    chr(c) for c in range(0x80, sys.maxunicode + 1)
    if unicodedata.category(chr(c)) == "Nd" and unicodedata.digit(chr(c)) == 1)


def parse(value: object, text: str | None = None) -> Decimal:
    return parse_decimal(value, source="f.json", where="/rows/0/value", text=text)


def refusal(value: object, text: str | None = None) -> str:
    with pytest.raises(GovgateError) as info:
        parse(value, text)
    message = str(info.value)
    assert message.startswith("f.json: /rows/0/value: expected a finite decimal number"), message
    assert "\n" not in message
    return message


# -- parsing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    ("12.50", D("12.50")), ("-0", D(0)), ("0.000", D(0)), (".5", D("0.5")), ("+3", D(3)),
    ("1e3", D(1000)), ("1E-3", D("0.001")), (7, D(7)), (D("1.5"), D("1.5")),
    ("1234567890.123456789012345678901234567890", D("1234567890.123456789012345678901234567890")),
])
def test_plain_decimals_are_read_exactly(value: object, expected: Decimal) -> None:
    assert parse(value) == expected


def test_a_yaml_float_is_read_from_its_text_not_its_binary_value() -> None:
    assert parse(0.1, "0.10000000000000000001") == D("0.10000000000000000001")
    assert parse(0.05, "0.05") == D("0.05")


@pytest.mark.parametrize("digit", UNICODE_DIGITS, ids=lambda d: f"U+{ord(d):04X}")
def test_every_non_ascii_digit_is_refused(digit: str) -> None:
    # Decimal() reads all of these as the digit 1: they are not what a partner's parser reads.
    assert Decimal(digit) == 1
    refusal(digit)
    refusal(f"1{digit}.5")
    refusal(f"0.{digit}")
    refusal(1, text=digit)


def test_the_unicode_digit_list_covers_the_scripts_named_in_the_issue() -> None:
    assert {"\u0661", "\uff11", "\u0967", "\U0001d7cf"} <= set(UNICODE_DIGITS)
    assert len(UNICODE_DIGITS) > 50


@pytest.mark.parametrize("text", [
    "NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf", "", " 1", "1 ", "1_000", "0x10",
    "1,5", "1.2.3", "--1", "e5", "1e", ".", "-", "١", "٫5", "1\u00a0", "\u22121",
])
def test_anything_but_plain_ascii_decimal_text_is_refused(text: str) -> None:
    refusal(text)


@pytest.mark.parametrize("value", [True, False, None, [], {}, float("nan"), float("inf")])
def test_non_numbers_are_refused(value: object) -> None:
    refusal(value)


def test_significant_digits_are_bounded_at_the_boundary() -> None:
    assert parse("9" * MAX_DIGITS) == D("9" * MAX_DIGITS)
    assert parse("0." + "0" * 500 + "1" * MAX_DIGITS) == D("0." + "0" * 500 + "1" * MAX_DIGITS)
    assert "1001 significant digits" in refusal("9" * (MAX_DIGITS + 1))
    # Leading and trailing zeros are not significant digits of the value, but trailing ones
    # after the point are kept by Decimal: 1.000 has 4.
    assert parse("0" * 3000 + "1") == 1
    assert parse(10**MAX_DIGITS - 1) == 10**MAX_DIGITS - 1
    assert "more than 1000 digits" in refusal(10**MAX_DIGITS)
    # int() -> str of 5,000 digits raises ValueError in CPython; it must be a refusal.
    assert "more than 1000 digits" in refusal(10**5000)


def test_exponents_are_bounded_at_the_boundary() -> None:
    assert parse(f"1e{MAX_EXPONENT}") == D(10) ** MAX_EXPONENT
    assert parse(f"1e-{MAX_EXPONENT}") == D(f"1e-{MAX_EXPONENT}")
    assert "out of range" in refusal(f"1e{MAX_EXPONENT + 1}")
    assert "out of range" in refusal(f"1e-{MAX_EXPONENT + 1}")
    assert "out of range" in refusal("1e999999999999999999999")
    assert parse("0e999999") == 0  # zero has no magnitude to bound


# -- JSON and YAML numbers --------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "1234567890.123456789", "0.1", "1234567890123456789012345678.9",
    "12345678901234567890123456789012345678901234567890.000000000000000000001", "-0.0", "1E+2",
    "5e-324",
])
def test_json_numbers_are_exact_decimals(text: str) -> None:
    doc = parse_document(f'{{"rows": [{{"metric_id": "m", "value": {text}}}]}}'.encode(), "x.json")
    value = doc.data["rows"][0]["value"]
    assert isinstance(value, Decimal) and value == D(text) and str(value) == str(D(text))


def test_json_integers_stay_integers_and_are_bounded() -> None:
    assert parse_document(b'{"a": ' + b"9" * 1000 + b"}", "x.json").data["a"] == int("9" * 1000)
    with pytest.raises(GovgateError) as info:
        parse_document(b'{"a":\n\n ' + b"9" * 5000 + b"}", "x.json")
    assert str(info.value).startswith("x.json: line 3: number 999")
    assert "more than 1000 digits" in str(info.value)


def test_a_json_number_inside_a_string_does_not_misplace_the_line() -> None:
    big = "9" * 1001
    text = f'{{"note": "{big}",\n "a": {big}}}'
    with pytest.raises(GovgateError) as info:
        parse_document(text.encode(), "x.json")
    assert str(info.value).startswith("x.json: line 2: number")


def test_yaml_numbers_keep_their_text() -> None:
    doc = parse_document(b"m:\n  abs_tol: 0.10000000000000000001\n  rel_tol: 2\n", "p.yaml")
    assert doc.number_text("/m/abs_tol") == "0.10000000000000000001"
    assert doc.number_text("/m/rel_tol") == "2"
    assert doc.number_text("/m") is None


def test_a_yaml_integer_of_5000_digits_is_refused_with_its_place() -> None:
    with pytest.raises(GovgateError) as info:
        parse_document(b"a: 1\nb: " + b"9" * 5000 + b"\n", "p.yaml")
    assert str(info.value) == "p.yaml: line 2, column 4: number with more than 1000 digits"


@pytest.mark.parametrize("digit", ["\u0665", "\uff15", "\u096b"])
def test_schema_patterns_match_ascii_digits_only(digit: str) -> None:
    # ECMA-262's \d is [0-9]; Python's re matched every Unicode digit.
    data = {"leadership_rollup_query_id": "q", "tuple_revision_hash": "t",
            "window_tz_policy": "UTC", "start_inclusive": "2026-10-05T00:00:00Z",
            "end_exclusive": "2026-10-12T00:00:00Z", "ingest_hash": "sha256:" + "0" * 64,
            "rows": [{"metric_id": "m", "value": f"1{digit}.5"}]}
    with pytest.raises(GovgateError) as info:
        validate(data, "leadership_rollup", "leadership.json")
    assert "/rows/0/value" in str(info.value)


# -- canonical text and exact arithmetic ----------------------------------------------------


@pytest.mark.parametrize(("value", "text"), [
    ("12.50", "12.5"), ("-0.00", "0"), ("-0", "0"), ("0E+5", "0"), ("1E+3", "1000"),
    ("100", "100"), ("-3.10", "-3.1"), ("0.000123000", "0.000123"),
    ("1234567890123456789012345678.9", "1234567890123456789012345678.9"),
    ("9" * 29 + ".50", "9" * 29 + ".5"), ("1e-40", "0." + "0" * 39 + "1"),
])
def test_canonical_text(value: str, text: str) -> None:
    assert canonical_text(D(value)) == text


def test_canonical_text_never_rounds() -> None:
    for digits in (28, 29, 30, 100, MAX_DIGITS):
        text = "1" * (digits - 1) + "3"
        assert canonical_text(D(text)) == text
        assert canonical_text(D(text[:-1] + "." + text[-1])) == text[:-1] + "." + text[-1]


@pytest.mark.parametrize(("num", "den", "expected"), [
    ("1", "3", "0.3333333333"), ("2", "3", "0.6666666667"), ("-2", "3", "-0.6666666667"),
    ("0.00000000005", "1", "0E-10"), ("0.00000000015", "1", "2E-10"),
    ("0.00000000025", "1", "2E-10"), ("-0.00000000025", "1", "-2E-10"),
    ("999999999999999.999", "0.001", "999999999999999999.0000000000"),
])
def test_round_ratio_is_one_half_even_rounding(num: str, den: str, expected: str) -> None:
    result = round_ratio(D(num), D(den), 10)
    assert result == D(expected)
    assert result.as_tuple().exponent == -10


# -- the comparison --------------------------------------------------------------------------


TOL = Tolerance(D("0.01"), D("0.001"), "live-ops")


def test_a_delta_1e_22_beyond_the_tolerance_fails() -> None:
    # In the default 28-digit context partner - leadership rounds to exactly the tolerance.
    lead = D("123456789012345678.9")
    used = Fraction(TOL.rel_tol) * Fraction(lead)
    exactly = D("123580245801358024.5789")
    assert Fraction(exactly) - Fraction(lead) == used
    assert engine.compare_metric("m", lead, exactly, TOL).result == "pass"
    partner = D("123580245801358024.5789000000000000000001")
    assert Fraction(partner) - Fraction(lead) - used == Fraction(1, 10**22)
    assert engine.compare_metric("m", lead, partner, TOL).result == "fail"
    below = D("123580245801358024.5788999999999999999999")
    assert engine.compare_metric("m", lead, below, TOL).result == "pass"


def test_a_huge_relative_delta_is_reported_not_raised() -> None:
    # (10^15 - 0.001) / 0.001 has 29 digits before the rounding place: quantize raised.
    row = engine.compare_metric("m", D("0.001"), D("1e15"), TOL)
    assert row.result == "fail"
    assert row.relative_delta == D("999999999999999999")
    assert row.relative_delta is not None and row.relative_delta.as_tuple().exponent == -10
    row = engine.compare_metric("m", D("1e-1000"), D("1e1000"), TOL)
    assert row.relative_delta is not None
    assert Fraction(row.relative_delta) == 10**2000 - 1


def test_numbers_beyond_the_bounds_are_bad_input_naming_file_and_metric() -> None:
    # Values built in code can exceed what parsing admits; the exact context's trap must be a
    # refusal naming the partner file and the metric, never an internal error.
    from tests.unit.recon.test_recon_jobs import INPUTS, LEAD, export, job

    huge = D("1" * 5000)
    j = job(lead=export("leadership", {**LEAD, "tickets_p95": huge}),
            part=export("partner", {**LEAD, "tickets_p95": huge}))
    eps = INPUTS.epsilon_policies["1.1.0"]
    tolerances = {**eps.tolerances, "tickets_p95": Tolerance(D("0"), D("0." + "1" * 5000), "x")}
    inputs = replace(INPUTS, epsilon_policies={"1.1.0": replace(eps, tolerances=tolerances)})
    with pytest.raises(GovgateError) as info:
        engine.evaluate_job(j, inputs, engine.compare_metric)
    message = str(info.value)
    assert message.startswith("jobs/run-1/partner.json: line ")
    assert "metric_id 'tickets_p95' cannot be compared exactly" in message


def test_the_boundary_of_a_thousand_digit_value_is_exact() -> None:
    lead = D("7" * 999 + ".5")
    tol = Tolerance(D("0"), D("0." + "3" * 999), "x")
    used = Fraction(tol.rel_tol) * Fraction(lead)
    wide = Context(prec=10_000)
    for nudge in (D("-1e-2500"), D(0), D("1e-2500")):
        value = wide.add(wide.add(lead, wide.multiply(tol.rel_tol, lead)), nudge)
        assert Fraction(value) == Fraction(lead) + used + Fraction(nudge)
        row = engine.compare_metric("m", lead, value, tol)
        assert row.result == ("pass" if nudge <= 0 else "fail")


# -- every other parser of numbers in input text ---------------------------------------------


@pytest.mark.parametrize("digit", ["\u0667", "\uff17", "\u096d"])
def test_durations_semvers_slas_and_thresholds_take_ascii_digits_only(digit: str) -> None:
    from govgate.fatigue.validate import parse_sla
    from govgate.promote.policy import parse_thresholds
    from govgate.semver import parse_semver
    from govgate.timeutil import parse_duration

    with pytest.raises(GovgateError):
        parse_duration(f"P{digit}D")
    with pytest.raises(GovgateError):
        parse_semver(f"1{digit}.2.0")
    assert isinstance(parse_sla(f"0.{digit}"), str)  # an error message, not a value
    assert isinstance(parse_sla(f"{digit}"), str)
    doc = parse_document(f"thresholds:\n  amber_ratio: '0.{digit}'\n".encode(), "p.yaml")
    with pytest.raises(GovgateError) as info:
        parse_thresholds(doc, doc.data["thresholds"])
    assert str(info.value).startswith("p.yaml: line 2, /thresholds/amber_ratio: expected a")


def test_a_threshold_is_read_from_its_yaml_text() -> None:
    from govgate.promote.policy import parse_thresholds

    doc = parse_document(b"thresholds:\n  amber_ratio: 0.75000000000000000001\n", "p.yaml")
    assert parse_thresholds(doc, doc.data["thresholds"]).amber_ratio == D(
        "0.75000000000000000001")


@pytest.mark.parametrize("text", ["P" + "9" * 5000 + "D", "P99999999999999999999D",
                                  "PT99999999999999999999S"])
def test_a_duration_out_of_range_is_refused(text: str) -> None:
    from govgate.timeutil import parse_duration

    with pytest.raises(GovgateError) as info:
        parse_duration(text, source="p.yaml", where="/schedule/period")
    assert str(info.value).startswith("p.yaml: /schedule/period: duration ")
    assert "out of range" in str(info.value)


def test_a_semver_of_5000_digits_is_refused() -> None:
    from govgate.semver import parse_semver

    with pytest.raises(GovgateError):
        parse_semver("1.2." + "9" * 5000)
