"""The epsilon rule at its boundaries: |p - l| <= max(abs_tol, rel_tol * |l|), exactly."""

from __future__ import annotations

from decimal import Decimal

import pytest

from govgate.hookspecs import hookimpl
from govgate.recon.engine import compare_metric
from govgate.recon.model import DiffRow, Tolerance

D = Decimal
# The shipped 1.1.0 tolerance of tickets_p95: abs 0.05, rel 0.25 %; both equal at |l| = 20.
TICKETS = Tolerance(abs_tol=D("0.05"), rel_tol=D("0.0025"), owner_route="support-ops")


def up(value: Decimal) -> Decimal:
    """One unit in the last place more (28 significant digits, Decimal's default context)."""
    return value.next_plus()


def down(value: Decimal) -> Decimal:
    return value.next_minus()


@pytest.mark.parametrize(
    ("leadership", "tolerance_used"),
    [
        (D("1000"), D("2.5")),  # rel_tol dominates when |l| is large
        (D("611.01"), D("1.527525")),
        (D("20"), D("0.05")),  # the crossover: both give 0.05
        (D("10"), D("0.05")),  # abs_tol dominates when |l| is small
        (D("0.001"), D("0.05")),
        (D("0"), D("0.05")),  # leadership 0: only abs_tol can apply
        (D("-1000"), D("2.5")),  # negative values: |l| is used
        (D("-10"), D("0.05")),
    ],
)
def test_exactly_at_the_tolerance_passes_one_ulp_more_fails(
    leadership: Decimal, tolerance_used: Decimal
) -> None:
    for sign in (1, -1):
        at = leadership + sign * tolerance_used
        row = compare_metric("tickets_p95", leadership, at, TICKETS)
        assert row.result == "pass", (leadership, at)
        assert row.tolerance_used == tolerance_used
        assert row.delta == sign * tolerance_used
        assert row.owner_route is None

        beyond = up(at) if sign > 0 else down(at)
        assert abs(beyond - leadership) > tolerance_used
        row = compare_metric("tickets_p95", leadership, beyond, TICKETS)
        assert row.result == "fail", (leadership, beyond)
        assert row.owner_route == "support-ops"
        assert row.tolerance_used == tolerance_used


def test_abs_tol_dominates_for_small_leadership_values() -> None:
    # A rel-only rule would allow 0.025 here and fail 10.05; an abs-only rule is tested below.
    assert compare_metric("m", D("10"), D("10.05"), TICKETS).result == "pass"
    assert compare_metric("m", D("10"), D("10.0500001"), TICKETS).result == "fail"


def test_rel_tol_dominates_for_large_leadership_values() -> None:
    # An abs-only rule would fail 1002.5 (0.05 allowed); min() instead of max() fails it too.
    assert compare_metric("m", D("1000"), D("1002.5"), TICKETS).result == "pass"
    assert compare_metric("m", D("1000"), D("1002.5000001"), TICKETS).result == "fail"


def test_relative_tolerance_is_taken_on_leadership_not_partner() -> None:
    # rel_tol * |p| would be 0.0025 * 1002.6 = 2.5065 and pass; the reference is leadership.
    row = compare_metric("m", D("1000"), D("1002.506"), TICKETS)
    assert row.result == "fail"
    assert row.tolerance_used == D("2.5")


def test_leadership_zero_has_no_relative_delta() -> None:
    row = compare_metric("m", D("0"), D("0.05"), TICKETS)
    assert row.result == "pass"
    assert row.relative_delta is None
    assert compare_metric("m", D("0"), D("-0.05"), TICKETS).result == "pass"
    assert compare_metric("m", D("0"), up(D("0.05")), TICKETS).result == "fail"
    assert compare_metric("m", D("0"), down(D("-0.05")), TICKETS).result == "fail"


def test_zero_tolerances_demand_equality() -> None:
    exact = Tolerance(D("0"), D("0"), "route")
    assert compare_metric("m", D("5"), D("5.000"), exact).result == "pass"
    assert compare_metric("m", D("5"), up(D("5")), exact).result == "fail"


def test_delta_and_relative_delta_are_exact_and_signed() -> None:
    row = compare_metric("tickets_p95", D("611.01"), D("614.07"), TICKETS)
    assert row.delta == D("3.06")
    assert row.relative_delta == (D("3.06") / D("611.01")).quantize(D("1e-10"))
    assert row.result == "fail"
    assert row.owner_route == "support-ops"
    row = compare_metric("tickets_p95", D("-200"), D("-201"), TICKETS)
    assert row.delta == D("-1")
    assert row.relative_delta == D("-0.005")
    assert row.tolerance_used == D("0.5")
    assert row.result == "fail"


@pytest.mark.parametrize(("leadership", "partner"), [(D("1"), None), (None, D("1")),
                                                      (None, None)])
def test_a_metric_on_one_side_only_fails(leadership: Decimal | None,
                                         partner: Decimal | None) -> None:
    row = compare_metric("tickets_p95", leadership, partner, TICKETS)
    assert row.result == "fail"
    assert row.owner_route == "support-ops"
    assert row.delta is None
    assert row.tolerance_used is None
    assert (row.leadership_value, row.partner_value) == (leadership, partner)


def test_no_float_rounding_in_the_comparison() -> None:
    # 0.1 + 0.2 != 0.3 in binary floats; in Decimal the boundary is exact.
    tol = Tolerance(D("0.2"), D("0"), "r")
    assert compare_metric("m", D("0.1"), D("0.3"), tol).result == "pass"
    assert compare_metric("m", D("0.1"), up(D("0.3")), tol).result == "fail"


# -- through the hook ----------------------------------------------------------------------


def call(pm, leadership: Decimal | None, partner: Decimal | None) -> DiffRow:
    row: DiffRow = pm.hook.govgate_compare_metric(metric_id="tickets_p95", leadership=leadership,
                                                  partner=partner, tolerance=TICKETS)
    return row


def test_builtin_hook_applies_the_same_boundaries(pm) -> None:
    assert call(pm, D("1000"), D("1002.5")).result == "pass"
    assert call(pm, D("1000"), up(D("1002.5"))).result == "fail"
    assert call(pm, D("10"), D("9.95")).result == "pass"
    assert call(pm, D("10"), down(D("9.95"))).result == "fail"
    assert call(pm, None, D("1")).result == "fail"


def test_a_plugin_implementation_wins_over_the_builtin(pm) -> None:
    class Lenient:
        @hookimpl
        def govgate_compare_metric(self, metric_id, leadership, partner, tolerance):
            return DiffRow(metric_id, leadership, partner, None, None, None, "pass", None)

    pm.register(Lenient(), name="lenient")
    assert call(pm, D("1"), D("1000")).result == "pass"
    assert call(pm, None, D("1")).result == "pass"


def test_a_plugin_returning_none_falls_through_to_the_builtin(pm) -> None:
    seen: list[str] = []

    class Observer:
        @hookimpl
        def govgate_compare_metric(self, metric_id, leadership, partner, tolerance):
            seen.append(metric_id)

    pm.register(Observer(), name="observer")
    assert call(pm, D("1000"), up(D("1002.5"))).result == "fail"
    assert seen == ["tickets_p95"]
