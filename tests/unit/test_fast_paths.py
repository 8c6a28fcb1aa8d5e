"""The shortcuts that make long schedules cheap give exactly what the plain code gives.

Each fast path is checked against the code it replaces, on random values: the indented JSON
writer against ``json.dumps``, ``canonical_text`` against ``normalize()`` in the exact context,
the JSON nesting depth against a plain walk, and the file resolution that reuses a resolved
folder against ``Path.resolve`` (symbolic links included).
"""

from __future__ import annotations

import json
import os
from decimal import Decimal, localcontext
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govgate.decimals import canonical_text, exact
from govgate.errors import SourceError
from govgate.jsontext import pretty
from govgate.loaders.documents import MAX_DEPTH, _json_depth, parse_document
from govgate.sources.files import resolve_path, resolving_once

_scalars = (st.none() | st.booleans() | st.integers() | st.text()
            | st.floats(allow_nan=False, allow_infinity=False))
_json_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(_json_values, st.booleans())
def test_pretty_is_json_dumps_with_an_indent(value: object, sort_keys: bool) -> None:
    assert pretty(value, sort_keys=sort_keys) == json.dumps(
        value, indent=2, sort_keys=sort_keys, ensure_ascii=False)


def test_pretty_leaves_what_it_does_not_know_to_json() -> None:
    # Non-text keys, subclasses and floats: json.dumps decides (and raises where it raises).
    class Text(str):
        pass

    for value in ({1: "a", "b": [True, None]}, {"a": Text("x")}, [1.5, float("inf")],
                  {"k": {None: 2}}):
        assert pretty(value) == json.dumps(value, indent=2, ensure_ascii=False)
    with pytest.raises(TypeError):
        pretty({"a": Decimal("1")})
    with pytest.raises(TypeError):
        pretty({"a": 1, 2: 3}, sort_keys=True)


def _normalized(value: Decimal) -> str:
    if not value:
        return "0"
    with exact():
        return format(value.normalize(), "f")


@settings(max_examples=2000, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False, places=None)
       | st.builds(lambda digits, exp, neg: Decimal(f"{'-' if neg else ''}{digits}E{exp}"),
                   st.integers(0, 10**60), st.integers(-80, 80), st.booleans()))
def test_canonical_text_is_the_normalized_value(value: Decimal) -> None:
    expected = _normalized(value)
    assert canonical_text(value) == expected
    with localcontext() as ctx:  # the caller's context never matters
        ctx.prec = 3
        assert canonical_text(value) == expected


@pytest.mark.parametrize(("text", "shown"), [
    ("12.50", "12.5"), ("1E+3", "1000"), ("-0.00", "0"), ("100", "100"), ("0E-7", "0"),
    ("-12.000", "-12"), ("1.10", "1.1"), ("5E-7", "0.0000005"),
    ("1234567890123456789012345678901.50", "1234567890123456789012345678901.5"),
])
def test_canonical_text_at_its_edges(text: str, shown: str) -> None:
    assert canonical_text(Decimal(text)) == shown


def _walk_depth(value: object) -> int:
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest


@settings(max_examples=500, deadline=None)
@given(st.recursive(st.none() | st.integers(),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=3), inner, max_size=3), max_leaves=40))
def test_json_depth_is_the_deepest_value(value: object) -> None:
    assert _json_depth(value) == _walk_depth(value)


@pytest.mark.parametrize("depth", [MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1])
def test_json_nesting_limit_at_its_boundary(depth: int) -> None:
    # A few brackets (the shortcut) and many (the walk) give the same verdict at the limit.
    for padding in (0, 200):
        text = "[" * depth + "0" + "]" * depth
        if padding:
            text = "[" + ",".join(["{}"] * padding + [text]) + "]"
        levels = depth + (1 if padding else 0)
        if levels > MAX_DEPTH:
            with pytest.raises(Exception, match="nested deeper"):
                parse_document(text.encode(), "deep.json")
        else:
            assert parse_document(text.encode(), "deep.json").data is not None


def _tree(root: Path) -> Path:
    project = root / "project"
    (project / "jobs" / "w1").mkdir(parents=True)
    (project / "jobs" / "w1" / "a.json").write_text("{}")
    (root / "outside.json").write_text("{}")
    (project / "jobs" / "w1" / "link-out.json").symlink_to(root / "outside.json")
    (project / "jobs" / "w1" / "link-in.json").symlink_to(project / "jobs" / "w1" / "a.json")
    (project / "jobs" / "w2").symlink_to(project / "jobs" / "w1")
    (project / "jobs" / "loop.json").symlink_to(project / "jobs" / "loop.json")
    (project / "jobs" / "w1" / "sub").mkdir()
    (project / "jobs" / "w1" / "sub" / "b.json").write_text("{}")
    (project / "jobs" / "dangling").symlink_to(project / "nowhere")
    (project / "jobs" / "escape").symlink_to(root)
    return project


_REFS = ["jobs/w1/a.json", "jobs/w1/link-out.json", "jobs/w1/link-in.json", "jobs/w2/a.json",
         "jobs/w1/missing.json", "jobs/none/x.json", "jobs/w1/../w1/a.json", "jobs/w1/.",
         "jobs/w1/..", "jobs/loop.json", "../outside.json", "jobs/w2/link-out.json",
         "jobs/w2/sub/b.json", "jobs/w1/sub/../a.json", "jobs/dangling/x.json",
         "jobs/escape/outside.json", "jobs/escape/project/jobs/w1/a.json", "jobs/none/deep/x.json",
         "jobs/w1/sub/b.json"]


@pytest.mark.skipif(os.name != "posix", reason="symbolic links as POSIX has them")
@pytest.mark.parametrize("allow", [False, True])
def test_resolving_once_answers_as_resolving_every_time(tmp_path: Path, allow: bool) -> None:
    project = _tree(tmp_path)
    settings_ = {"allow_outside": allow}

    def answers() -> list[object]:
        out: list[object] = []
        for ref in _REFS:
            try:
                out.append(resolve_path(ref, project, settings_))
            except SourceError as exc:
                out.append(str(exc))
        return out

    plain = answers()
    with resolving_once():
        cached = answers()
        again = answers()  # the folders now come from the cache
    assert cached == plain == again
    assert any(isinstance(a, str) and "escapes" in a for a in plain) != allow
