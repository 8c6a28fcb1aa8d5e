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
         "jobs/w1/sub/b.json", "jobs//w1//a.json", "jobs/w1/./a.json", "jobs/w1/", "",
         "jobs/./w1/sub/b.json", "./jobs/w2/a.json"]


@pytest.mark.skipif(os.name != "posix", reason="symbolic links as POSIX has them")
@pytest.mark.parametrize("allow", [False, True])
def test_resolving_once_answers_as_resolving_every_time(tmp_path: Path, allow: bool) -> None:
    project = _tree(tmp_path)
    settings_ = {"allow_outside": allow}

    def answers() -> list[object]:
        out: list[object] = []
        absolute = [str(project / "jobs" / "w1" / "a.json"), str(tmp_path / "outside.json")]
        for ref in [*_REFS, *absolute]:
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


def _text_problem_counting(text: str) -> str | None:
    """text_problem as it was: every number's digits and exponent counted."""
    from decimal import InvalidOperation

    from govgate.decimals import _DECIMAL_TEXT, MAX_DIGITS, MAX_EXPONENT, number_problem

    if len(text) > 4 * MAX_DIGITS:
        return f"is longer than {4 * MAX_DIGITS} characters"
    if not _DECIMAL_TEXT.fullmatch(text):
        return "is not a decimal number written with the digits 0-9"
    try:
        number = Decimal(text)
    except InvalidOperation:
        return f"is out of range (at most 1e{MAX_EXPONENT} and at least 1e-{MAX_EXPONENT})"
    return number_problem(number)


@settings(max_examples=1500, deadline=None)
@given(st.one_of(
    st.from_regex(r"[+-]?[0-9]{0,12}(\.[0-9]{0,12})?([eE][+-]?[0-9]{1,5})?", fullmatch=True),
    st.builds(lambda lead, zeros, tail: f"{lead}{'0' * zeros}{tail}",
              st.sampled_from(["", "-", "0.", "-0.", "1", "9."]), st.integers(0, 1100),
              st.sampled_from(["", "1", "5", ".5", "e3", "E-2"])),
    st.text(max_size=8)))
def test_decimal_text_bounds_without_counting_digits(text: str) -> None:
    from govgate.decimals import parse_decimal, text_problem
    from govgate.errors import GovgateError

    assert text_problem(text) == _text_problem_counting(text)
    if _text_problem_counting(text) is None:
        assert parse_decimal(text, source="f", where="w") == Decimal(text)
        assert str(parse_decimal(text, source="f", where="w")) == str(Decimal(text))
    else:
        with pytest.raises(GovgateError):
            parse_decimal(text, source="f", where="w")


@pytest.mark.parametrize("schema", [
    {"enum": ["PASS", "FAIL", None]}, {"enum": ["a", "b"]}, {"enum": ["1", 1, True]},
    {"const": "UTC"}, {"const": 1}, {"type": "array", "uniqueItems": True},
])
def test_text_enums_consts_and_unique_items_agree_with_jsonschema(schema: dict) -> None:
    import jsonschema

    from govgate.loaders.fastcheck import compile_schema

    fast = compile_schema(schema, lambda p: __import__("re").compile(p))
    assert fast is not None
    validator = jsonschema.Draft202012Validator(schema)
    for value in [None, "PASS", "a", "b", "UTC", "1", 1, 1.0, True, False, Decimal("1"), [],
                  {}, ["a", "a"], ["a", "b"], [1, True], [1, 1.0], ["1", 1], [None, None],
                  [[1], [1]], [{"a": 1}, {"a": 1}]]:
        assert fast(value) == validator.is_valid(value), (schema, value)


@pytest.mark.skipif(os.name != "posix", reason="symbolic links as POSIX has them")
def test_manifest_walk_lists_what_rglob_lists(tmp_path: Path) -> None:
    from govgate.manifest import _walk

    project = _tree(tmp_path)
    (project / "jobs" / ".hidden").write_text("x")
    (project / "jobs" / "w1" / "sub" / "deeper").mkdir()
    (project / "jobs" / "w1" / "sub" / "deeper" / "c.json").write_text("{}")
    for target in (project / "jobs", project / "jobs" / "w1", project,
                   project / "jobs" / "w1" / "a.json", project / "missing"):
        expected = sorted(
            str(p.relative_to(project)) for p in
            (target.rglob("*") if target.is_dir() else [target] if target.is_file() else [])
            if p.is_file())
        walked = _walk(target, project)
        assert sorted(rel for rel, _full, _st in walked) == expected
        for rel, full, info in walked:
            assert Path(full) == project / rel and info.st_size == (project / rel).stat().st_size


def test_a_source_plugin_still_reads_plain_paths(tmp_path: Path) -> None:
    """Plain paths skip the hook only while the built-in sources alone are registered: a
    plugin's own source (a vault, a cache) is asked first as before."""
    from govgate.config import Config
    from govgate.hookspecs import hookimpl
    from govgate.loaders.io import read_ref
    from govgate.plugins import get_plugin_manager

    (tmp_path / "a.json").write_text("{}")
    config = Config(path=None, base=tmp_path, data={})
    pm = get_plugin_manager(load_entrypoints=False)
    assert read_ref(config, pm.hook, "a.json") == b"{}"

    class Vault:
        @hookimpl(tryfirst=True)
        def govgate_read_source(self, ref: str) -> bytes | None:
            return b'{"from": "vault"}' if ref == "a.json" else None

    pm.register(Vault())
    assert read_ref(config, pm.hook, "a.json") == b'{"from": "vault"}'
