"""The compiled schema check must agree with jsonschema on every document of every kind.

If the fast path called a document valid that jsonschema refuses, bad input would pass the
loaders: these tests draw documents guided by each shipped schema (mostly valid, with every kind
of wrong value mixed in) and compare both answers.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govgate.loaders.documents import (
    _ecma_regex,
    load_schema,
    schema_kinds,
    schema_validator,
    validate,
)
from govgate.loaders.fastcheck import compile_schema

ODD_STRINGS = ["", "x", "a\n", "\x00", "\x1f", "UTC", "utc", "2026-10-05T00:00:00Z", "1.0.0",
               "-0", "12.50", "1e5", "٣", "sha256:" + "a" * 64, "sha256:" + "A" * 64, " ",
               "PASS", "red", "publish_gate", "x" * 201]
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
    st.sampled_from([0, 1, -1, 0.5, 1.0, Decimal("0"), Decimal("2.50"), True, False]),
    st.text(max_size=8), st.sampled_from(ODD_STRINGS))
ANY = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=8)


def _valid_string(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    pattern = schema.get("pattern")
    base = st.from_regex(pattern, fullmatch=True) if pattern else st.text(min_size=1)
    return base.filter(lambda s: schema.get("minLength", 0) <= len(s)
                       <= schema.get("maxLength", math.inf))


def guided(schema: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values shaped by ``schema``: usually right, sometimes anything at all."""
    if not isinstance(schema, dict) or depth > 6:
        return ANY
    options: list[st.SearchStrategy[Any]] = [ANY]
    if "enum" in schema:
        options.append(st.sampled_from(schema["enum"]))
    if "const" in schema:
        options.append(st.just(schema["const"]))
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else types
    if "object" in types or "properties" in schema:
        props = schema.get("properties", {})
        required = schema.get("required", [])

        @st.composite
        def obj(draw: st.DrawFn) -> dict[str, Any]:
            out = {}
            for name, sub in props.items():
                if name in required or draw(st.booleans()):
                    out[name] = draw(guided(sub, depth + 1))
            if required and draw(st.integers(0, 9)) == 0:
                out.pop(draw(st.sampled_from(required)), None)
            if draw(st.integers(0, 9)) == 0:
                out[draw(st.text(max_size=6))] = draw(SCALARS)
            if schema.get("patternProperties") and draw(st.booleans()):
                key = draw(st.sampled_from(["x-plugin", "x-a_b", "x-", "x-A", "x-a\n", "y-a"]))
                out[key] = draw(SCALARS)
            return out

        options += [obj(), obj(), obj()]
    if "array" in types or "items" in schema:
        options.append(st.lists(guided(schema.get("items", {}), depth + 1), max_size=4))
    if "string" in types:
        options.append(_valid_string(schema))
    if "number" in types or "integer" in types:
        low = schema.get("minimum", schema.get("exclusiveMinimum", -100))
        options += [st.integers(int(low) - 1, int(low) + 100),
                    st.decimals(min_value=Decimal(str(low)) - 1, max_value=Decimal(1000),
                                allow_nan=False, places=2)]
    return st.one_of(*options)


def _agrees(kind: str, value: Any) -> None:
    fast = compile_schema(load_schema(kind), _ecma_regex)
    assert fast is not None, f"{kind}: the fast path does not cover this schema"
    slow = not any(True for _ in schema_validator(kind).iter_errors(value))
    assert fast(value) == slow, (kind, value)


@pytest.mark.parametrize("kind", schema_kinds())
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fast_check_agrees_with_jsonschema(kind: str, data: st.DataObject) -> None:
    _agrees(kind, data.draw(guided(load_schema(kind))))


def test_every_shipped_schema_compiles() -> None:
    for kind in schema_kinds():
        assert compile_schema(load_schema(kind), _ecma_regex) is not None, kind


def test_unknown_keyword_falls_back_to_jsonschema() -> None:
    assert compile_schema({"type": "object", "dependentSchemas": {}}, _ecma_regex) is None
    assert compile_schema({"type": "string", "format": "date"}, _ecma_regex) is None


def test_invalid_document_still_gets_the_jsonschema_message() -> None:
    from govgate.errors import GovgateError

    with pytest.raises(GovgateError, match="unexpected field"):
        validate({"job_run_id": "r", "extra": 1}, "bootstrap", "bootstrap.yaml")


@pytest.mark.parametrize("value,valid", [
    ({"type": "integer"}, [(1, True), (1.0, True), (1.5, False), (True, False),
                           (Decimal("1"), False)]),
    ({"type": "number"}, [(Decimal("1.5"), True), (True, False), ("1", False)]),
    ({"enum": [1, "a"]}, [(True, False), (1.0, True), ("a", True)]),
    ({"const": False}, [(0, False), (False, True)]),
    ({"pattern": "^a+$"}, [("aa", True), ("aa\n", False), (5, True)]),
])
def test_json_type_edges(value: dict[str, Any], valid: list[tuple[Any, bool]]) -> None:
    import jsonschema

    fast = compile_schema(value, _ecma_regex)
    assert fast is not None
    oracle = jsonschema.validators.extend(
        jsonschema.Draft202012Validator,
        {"pattern": lambda v, p, i, s: (
            [jsonschema.ValidationError("no")]
            if isinstance(i, str) and not _ecma_regex(p).search(i) else [])})(value)
    for instance, expected in valid:
        assert fast(instance) is expected, instance
        assert oracle.is_valid(instance) is expected, instance
