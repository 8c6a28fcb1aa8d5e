"""accepted_overlaps: an overlap the team accepts is one info finding until it expires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.unit.promote.factories import POLICY_YAML, parse_policy_text

from govgate.errors import GovgateError
from govgate.model import Severity
from govgate.promote import cross_route_audit

UNTIL = datetime(2026, 12, 1, tzinfo=UTC)
# bob: backup on publish_gate and primary on faq_rewrite (an overlap of two routes).
OVERLAP = POLICY_YAML.replace("primary_signer: dana", "primary_signer: bob") + """\
accepted_overlaps:
  - signer_id: bob
    accepted_by: tl-sam
    reason: two signers for two routes until the new hire starts
    until: "2026-12-01T00:00:00Z"
"""


def audit(text: str, at: datetime | None) -> dict[str, tuple[str, Severity, str]]:
    return {f.subject: (f.rule, f.severity, f.message)
            for f in cross_route_audit(parse_policy_text(text), at)}


def test_an_accepted_overlap_is_one_info_finding_naming_who_why_and_until() -> None:
    found = audit(OVERLAP, UNTIL - timedelta(microseconds=1))
    rule, severity, message = found["bob"]
    assert (rule, severity) == ("policy.cross-route-accepted", Severity.INFO)
    assert "accepted by tl-sam until 2026-12-01T00:00:00Z" in message
    assert "new hire" in message


def test_from_until_on_the_warning_is_back_and_says_the_acceptance_ended() -> None:
    rule, severity, message = audit(OVERLAP, UNTIL)["bob"]
    assert (rule, severity) == ("policy.cross-route", Severity.WARNING)
    assert "the acceptance by tl-sam ended 2026-12-01T00:00:00Z" in message


def test_without_an_acceptance_it_is_a_warning() -> None:
    text = POLICY_YAML.replace("primary_signer: dana", "primary_signer: bob")
    assert audit(text, UNTIL)["bob"][:2] == ("policy.cross-route", Severity.WARNING)


def test_an_acceptance_limited_to_routes_does_not_cover_a_third_route() -> None:
    text = OVERLAP.replace("    until:", "    routes: [publish_gate, faq_rewrite]\n    until:")
    assert audit(text, UNTIL - timedelta(days=1))["bob"][0] == "policy.cross-route-accepted"
    third = text.replace("tertiary_signers: [carol]", "tertiary_signers: [carol]") \
        .replace("  - owner_route: faq_rewrite", "  - owner_route: exec_readback\n"
                 "    primary_signer: bob\n    backup_signer: zoe\n"
                 "    promote_trigger: manual_invocation\n    revert_condition: green_7d\n"
                 "  - owner_route: faq_rewrite")
    rule, _, message = audit(third, UNTIL - timedelta(days=1))["bob"]
    assert rule == "policy.cross-route"
    assert "covers only faq_rewrite, publish_gate" in message


@pytest.mark.parametrize(("change", "where", "text"), [
    (("until: \"2026-12-01T00:00:00Z\"", "until: \"2026-12-01T00:00:00\""),
     "/accepted_overlaps/0/until", "offset"),
    (("    until:", "    routes: [publish_gate, store_listing]\n    until:"),
     "/accepted_overlaps/0/routes/1", "no row"),
    (("    accepted_by: tl-sam\n", ""), "/accepted_overlaps/0", "accepted_by"),
])
def test_a_broken_acceptance_is_refused_with_its_place(change: tuple[str, str], where: str,
                                                      text: str) -> None:
    with pytest.raises(GovgateError) as info:
        parse_policy_text(OVERLAP.replace(*change))
    assert info.value.where is not None and info.value.where.endswith(where), info.value
    assert text in str(info.value)


def test_the_same_person_accepted_twice_is_refused() -> None:
    twice = OVERLAP + """\
  - signer_id: bob
    accepted_by: tl-sam
    reason: again
    until: "2027-01-01T00:00:00Z"
"""
    with pytest.raises(GovgateError, match="accepted twice"):
        parse_policy_text(twice)
