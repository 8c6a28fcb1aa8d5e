"""docs/canonical.md is enough to recompute an ingest hash: its reference code and its worked
examples agree with govgate, so a partner following the page agrees byte for byte."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import REPO

from govgate.loaders.documents import parse_document
from govgate.recon.loader import ingest_hash

DOC = (REPO / "docs" / "canonical.md").read_text(encoding="utf-8")


def reference() -> dict[str, Any]:
    code = re.search(r"```python\n(.*?)```", DOC, re.S)
    assert code, "docs/canonical.md has no reference implementation"
    namespace: dict[str, Any] = {}
    exec(compile(code.group(1), "docs/canonical.md", "exec"), namespace)
    return namespace


REF = reference()


def worked_examples() -> list[tuple[str, str]]:
    """(canonical text block, the sha256 named right after it) for every worked example."""
    return re.findall(r"```text\n((?:(?!```).)*)```\n\n(?:\(bytes [^)]*\),\n)?"
                      r"`(sha256:[0-9a-f]{64})`", DOC, re.S)


def test_every_worked_example_hashes_as_written() -> None:
    import hashlib

    examples = worked_examples()
    assert len(examples) == 3
    for text, digest in examples:
        assert "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest() == digest
        rows = dict(line.split(",", 1) for line in text.splitlines())
        assert ingest_hash({m: Decimal(v) for m, v in rows.items()}) == digest
        assert REF["ingest_hash"](rows) == digest


def test_the_first_example_read_from_json_as_the_page_says() -> None:
    text = ('{"rows": [{"metric_id": "tickets_p95", "value": "273.90"}, {"metric_id": '
            '"crash_free_sessions", "value": 99.50}, {"metric_id": "build_upload_success", '
            '"value": 1E+3}, {"metric_id": "incident_mttr_minutes", "value": "-0.00"}]}')
    raw = json.loads(text, parse_float=str, parse_int=str)["rows"]
    theirs = REF["ingest_hash"]({r["metric_id"]: str(r["value"]) for r in raw})
    doc = parse_document(text.encode(), "leadership.json")
    ours = ingest_hash({r["metric_id"]: Decimal(r["value"]) for r in doc.data["rows"]})
    assert theirs == ours == worked_examples()[0][1]


def test_the_demo_annex_hash_named_on_the_page() -> None:
    annex = json.loads((REPO / "fixtures" / "reconciliation" / "jobs" / "recon-2026-W41"
                        / "partner_annex.json").read_text(encoding="utf-8"))
    assert annex["footer"]["ingest_hash"] in DOC
    assert REF["ingest_hash"]({r["metric_id"]: r["value"] for r in annex["rows"]}) == (
        annex["footer"]["ingest_hash"])


@given(st.dictionaries(
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x2FF, exclude_characters=","),
            min_size=1, max_size=6),
    st.builds(lambda sign, digits, exponent: f"{sign}{digits}e{exponent}",
              st.sampled_from(["", "-"]), st.text("0123456789", min_size=1, max_size=60),
              st.integers(-40, 40)),
    max_size=10))
@settings(max_examples=300, deadline=None, derandomize=True)
def test_the_reference_code_agrees_with_govgate(rows: dict[str, str]) -> None:
    assert REF["ingest_hash"](rows) == ingest_hash({m: Decimal(v) for m, v in rows.items()})


@pytest.mark.parametrize(("value", "text"), [
    ("12.50", "12.5"), ("-0.00", "0"), ("1E+3", "1000"), ("0.5", "0.5"), ("100.000", "100"),
    ("1e-7", "0.0000001"), ("00.5", "0.5"),
])
def test_the_rules_listed_on_the_page(value: str, text: str) -> None:
    assert REF["canonical"](value) == text
    assert f"`{text}`" in DOC or text in ("0.0000001",)
