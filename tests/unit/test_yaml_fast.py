"""The libyaml path of YAML parsing gives what PyYAML's own composer gives, or steps aside.

:mod:`govgate.loaders.yamlfast` composes libyaml's events into nodes; whenever it answers, the
node tree must be the pure-Python composer's (tags, values, scalar styles, the line and column
where every node starts, the same aliasing), and ``parse_document`` must give the same data, the
same line numbers and the same refusal, word for word. Checked on every YAML file of the
repository (the hostile corpus included), on documents PyYAML itself writes in every style, and
on mutated documents (hostile tokens inserted, bytes dropped): the class of failure is "the fast
path says something the pure path does not", whatever the document.
``GOVGATE_FUZZ_EXAMPLES=20000`` runs the generated documents longer, with fresh examples.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from govgate.errors import GovgateError
from govgate.loaders import documents, yamlfast
from govgate.loaders.documents import MAX_DEPTH, parse_document

REPO = Path(__file__).resolve().parents[2]
#: ``GOVGATE_FUZZ_EXAMPLES=20000`` runs the generated cases longer, with fresh random examples.
_LONG = int(os.environ.get("GOVGATE_FUZZ_EXAMPLES", "0"))

pytestmark = pytest.mark.skipif(yamlfast._parser_class() is None,
                                reason="PyYAML is built without libyaml here")


@contextlib.contextmanager
def _pure_only() -> Iterator[None]:
    with mock.patch.object(documents, "compose_fast", lambda *args: None):
        yield


def _outcome(data: bytes, source: str = "doc.yaml") -> tuple[Any, ...]:
    try:
        doc = parse_document(data, source)
    except GovgateError as exc:
        return ("error", str(exc))
    return ("ok", repr(doc.data), doc.lines, doc.number_texts)


def _tree(node: Any) -> Any:
    """A node tree as plain values, aliases as back-references (recursion included)."""
    seen: dict[int, int] = {}

    def walk(n: Any) -> Any:
        if id(n) in seen:
            return ("alias", seen[id(n)])
        seen[id(n)] = len(seen)
        # Where a node starts is what govgate reads (line numbers, messages); its end mark is
        # read by nothing, and libyaml puts a block collection's end at the next line when the
        # file has no final line break, where PyYAML keeps it on the last line.
        marks = (n.start_mark.line, n.start_mark.column)
        if isinstance(n, yaml.ScalarNode):
            return ("scalar", n.tag, n.value, n.style, marks)
        # flow_style is left out: only PyYAML's emitter reads it, and its pure parser leaves it
        # None on an indentless sequence (``key:\n- item``) where libyaml says False (block).
        if isinstance(n, yaml.SequenceNode):
            return ("seq", n.tag, marks, [walk(i) for i in n.value])
        return ("map", n.tag, marks, [(walk(k), walk(v)) for k, v in n.value])

    return walk(node)


def _pure_tree(text: str) -> Any:
    loader = documents._loader_class()(text)
    try:
        return _tree(loader.get_single_node())
    finally:
        loader.dispose()


def _assert_same(data: bytes) -> bool:
    """Both paths agree on ``data``; True when the fast path answered."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    try:
        loader = documents._loader_class()(text)
    except yaml.YAMLError:
        return False  # the reader refuses it before either composer runs
    fast = yamlfast.compose(text, loader, MAX_DEPTH)
    if fast is not None:
        # Whatever the fast path composes, the pure path composes identically, without error.
        assert _tree(fast) == _pure_tree(text)
    with _pure_only():
        expected = _outcome(data)
    assert _outcome(data) == expected
    return fast is not None


def _repository_yaml() -> list[Path]:
    skip = {".venv", ".git", "node_modules", ".hypothesis", "data"}
    return sorted(p for p in REPO.rglob("*")
                  if p.suffix in {".yaml", ".yml"} and p.is_file()
                  and not skip.intersection(p.relative_to(REPO).parts))


@pytest.mark.parametrize("path", _repository_yaml(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_yaml_file_of_the_repository(path: Path) -> None:
    _assert_same(path.read_bytes())


def test_the_fast_path_answers_for_ordinary_documents() -> None:
    # Otherwise every check above passes vacuously.
    assert _assert_same(b"job_run_id: r1\nstart_inclusive: '2026-01-01T00:00:00Z'\n")
    assert _assert_same(b"metrics:\n  m:\n    abs_tol: 0.01\n    rel_tol: 1e-3\nl:\n- a\n- 'b'\n")
    assert _assert_same(b"a: &x\n  - 1\nb: *x\nc: 'multi\n  line'\nd: \"\\u00e9\"\n")


@pytest.mark.parametrize("text", [
    "a: [1]\n", "a: {b: 1}\n", "a:\tb\n", "a: !!str x\n", "%YAML 1.1\n---\na: 1\n",
    "a: 'quoted [ is enough'\n", "c: |\n  text\n", "? k\n: v\n", "\ufeffa: 1\n",
])
def test_what_libyaml_reads_otherwise_is_left_to_the_pure_path(text: str) -> None:
    loader = documents._loader_class()(text)
    assert yamlfast.compose(text, loader, MAX_DEPTH) is None
    _assert_same(text.encode())


@pytest.mark.parametrize("text", [
    "",                                   # empty
    "# only a comment\n",
    "a: 1\n---\nb: 2\n",                  # two documents
    "a: *missing\n",                      # undefined alias
    "a: &x 1\nb: &x 2\n",                 # duplicate anchor
    "a: &x [*x]\n",                       # recursive alias
    "a: [1, 2\nb: 3\n",                   # unclosed flow sequence
    "a: 1\n b: 2\n",                      # bad indentation
    "a:\tb\n",                            # tab
    "\tkey: value\n",
    "a: !!binary aGVsbG8=\n",             # explicit tags
    "a: !custom x\n",
    "%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n",
    "a: 1\na: 2\n",                       # duplicate key
    "? [a, b]\n: c\n",                    # complex key
    "0: a\n",                             # non-text key
    "<<: {a: 1}\nb: 2\n",                 # merge key
    "a: .nan\n",                          # refused constant
    "a: 1e400\n",
    "a: 2026-11-20\n",                    # timestamps stay text
    "a: " + "9" * 5000 + "\n",           # too many digits
    "k" * 1100 + ": v\n",                 # a simple key past 1024 characters
    "é" * 600 + ": v\n",
    "a: 'it''s'\nb: \"\\u00e9\\x41\\n\"\n",
    "a: >\n  folded\n  text\n\n  more\nb: |-\n  kept\n",
    "- a\n- - b\n  - c\n-\n",
    "a:\n- 1\n- 2\n",                     # indentless sequence
    "{a: 1, b: [2, {c: 3}]}\n",
    "[a: 1, b]\n",                        # single-pair mappings in a flow sequence
    "{a:1}\n",
    "a: b: c\n",
    "\ufeffa: 1\n",                      # BOM
    "a: 1\r\nb: 2\r\n",                   # CRLF
    "a: 1\rb: 2\r",
    "a: x\u2028y\n",
    "a: \x85\n",
    "--- !!map\na: 1\n",
    "%YAML 1.1\n---\na: 1\n",
    "%YAML 1.2\n---\na: 1\n",
    "a: 1\n...\n",
    "a: 1\n... junk\n",
    "- [" * 70 + "]" * 70 + "\n",        # deeper than the bound
    "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n",
    "[" * (MAX_DEPTH + 2) + "]" * (MAX_DEPTH + 2) + "\n",
    "[" * 100_000 + "\n",                 # deep and broken
    "- " * (MAX_DEPTH - 1) + "x\n",        # block nesting around the bound
    "- " * MAX_DEPTH + "x\n",
    "- " * (MAX_DEPTH + 1) + "x\n",
    "- " * 5000 + "x\n",
    "".join(f"{'  ' * i}a:\n" for i in range(MAX_DEPTH + 3)),
    "".join(f"{' ' * i}- a:\n" for i in range(0, 2 * (MAX_DEPTH + 3), 2)),
    "a: &x\n  b: &y\n    c: *x\n",       # an alias to an ancestor: a cycle
    "a: 'unterminated\n",
    "a: \"bad \\q escape\"\n",
    "'a': 1\n\"b\": 2\n",
    "a: null\nb: ~\nc:\nd: yes\ne: on\nf: 0x1F\ng: 0o17\nh: 1_000\ni: 0b101\nj: 1:20\n",
    "? a\n? b\n",
    "a: - b\n",
    "- &a a\n- *a\n- &b [*a, *a]\n- [*b, *b]\n",
    "x: [a, b]: c\n",
    "a: @b\n",
    "a: `b\n",
    "a: b #c\nd: e# f\n",
])
def test_edge_cases(text: str) -> None:
    _assert_same(text.encode())


def test_alias_bombs_take_the_same_refusal() -> None:
    lines = ["a0: &a0", *["  - x"] * 10]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i}")
        lines += [f"  - *a{i - 1}"] * 10
    data = "\n".join(lines).encode()
    assert _assert_same(data)  # composed at once: the nodes are shared, not expanded
    with pytest.raises(GovgateError, match="document too large or too deeply nested"):
        parse_document(data, "bomb.yaml")


_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["yes", "no", "on", "0x1F", "1_000", "1:20", "2026-11-20", "~", "-", "?",
                     ": ", "#", "- a", "'", '"', "\\", "a\nb", " lead", "trail ", "\t", "*a",
                     "&a", "!x", "%", "@", "`", "{", "[", "0.10000000000000000001", "-0", ".5"]),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=20,
)
_STYLES = st.fixed_dictionaries({
    "default_flow_style": st.sampled_from([False, True, None]),
    "default_style": st.sampled_from([None, "'", '"', "|", ">"]),
    "allow_unicode": st.booleans(),
    "indent": st.integers(2, 6),
    "width": st.sampled_from([20, 80, 1000]),
    "explicit_start": st.booleans(),
    "canonical": st.booleans(),
})


@settings(max_examples=_LONG or 300, deadline=None, derandomize=not _LONG,
          suppress_health_check=[HealthCheck.too_slow])
@given(_VALUES, _STYLES)
def test_documents_pyyaml_writes(value: Any, style: dict[str, Any]) -> None:
    text = yaml.safe_dump(value, **style)
    _assert_same(text.encode())


_TOKENS = st.sampled_from([
    ":", ": ", "-", "- ", " ", "  ", "\n", "\t", "\r", "\r\n", "#", " #", "'", '"', "\\", "[",
    "]", "{", "}", ",", "?", "? ", "|", ">", "&a ", "*a", "*a ", "&b ", "*b", "!", "!!str ",
    "!!int ", "%", "@", "`", "---", "...", "--- ", "\n---\n", "\n...\n", "\ufeff", "é", "\u2028",
    "\x85", "\u2029", "<<: ", "<<: *a\n", "0: ", "a: ", "a:", "k" * 1030, "é" * 520, "\n  ",
    "\n- ", "\n    ", "'2026-01-01T00:00:00Z'", "1e400", ".nan", "- [", "{a: ", "]]]", "\\u00e9",
    "\\x41", "\\", "\\\n", "''", '""', " '", "' ", "\"\n", "'\n", "\n\n", "~", "null", "-1",
    "0x", "1_0", "\x00", "\x07", "\ud7ff", "\U0001f600", "\ue000", "\ufffd",
])
# Block style mostly: the documents the fast path answers for (a flow seed checks the rest).
_SEEDS = [
    "job_run_id: r1\nstart_inclusive: '2026-01-01T00:00:00Z'\nrows:\n  - metric_id: m\n"
    "    value: 1.5\n  - metric_id: n\n    value: '2'\n",
    "a: &x\n  - 1\n  - 2\nb: *x\nc: |\n  text\n  more\nd: >-\n  folded\n  on\n",
    "kind: epsilon_policy\nmetrics:\n  m:\n    abs_tol: 0.01\n    rel_tol: 0.001\n",
    "- a\n- - b\n  - c\n- x:\n  - 1\n  y: \"q\\n\"\n? k\n",
    "---\nkey: \"multi\n  line\" # c\nplain: multi\n  line\n\n  para\n...\n",
    "m: {abs_tol: 0.01, rel_tol: 0.001}\n",
]


@st.composite
def _mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(_SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        if draw(st.booleans()):
            text = text[:at] + draw(_TOKENS) + text[at:]
        else:
            text = text[:at] + text[at + draw(st.integers(1, 3)):]
    return text


@settings(max_examples=_LONG or 600, deadline=None, derandomize=not _LONG,
          suppress_health_check=[HealthCheck.too_slow])
@given(_mutated())
@example("a: 1\n---\n")
def test_mutated_documents(text: str) -> None:
    _assert_same(text.encode())
