"""accepted_overlaps: an overlap the team accepts is one info finding until it expires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

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


def test_on_a_project_it_is_recorded_once_and_left_out_of_the_monthly_review(
        tmp_path: Path) -> None:
    import json

    from tests.conftest import iso, run_cli

    as_of = datetime(2026, 12, 2, 6, 40, 52, tzinfo=UTC)
    folder = tmp_path / "p"
    assert run_cli(["init", str(folder), "--as-of", iso(as_of)], tmp_path).code == 0
    for day in (0, 1):
        check = run_cli(["check", "--as-of", iso(as_of + timedelta(days=day))], folder)
        assert check.code == 0, check.err
    ledger = [json.loads(line) for line in
              (folder / ".govgate/ledger.jsonl").read_text(encoding="utf-8").splitlines()]
    accepted = [r for r in ledger if r["kind"] == "overlap_accepted"]
    assert sorted(r["data"]["signer_id"] for r in accepted) == ["alex", "dana", "morgan", "pat"]
    review = run_cli(["--as-of", iso(as_of), "review", "--month", "2026-11"], folder)
    assert review.code == 0 and "several owner-routes" not in review.out
    policy = folder / "policies/backup-owner-policy-1.0.0.yaml"
    text = policy.read_text(encoding="utf-8")
    policy.write_text(text.replace("until: 2027-05-08T00:00:00Z",
                                   "until: 2026-11-20T00:00:00Z"), encoding="utf-8")
    review = run_cli(["--as-of", iso(as_of), "review", "--month", "2026-11"], folder)
    assert review.out.count("several owner-routes") == 4  # expired: a mistake again
