"""The flat-mapping shortcut gives what the ordinary YAML path gives, or steps aside.

:mod:`govgate.loaders.yamlflat` reads ``key: value`` documents of text (job manifests) without
PyYAML. Whatever the document, ``parse_document`` must give the same data, the same line of
every field and the same refusal, word for word, with and without it: checked on generated
documents built from the lines YAML reads in surprising ways (booleans, nulls, numbers,
sexagesimals, indicators, quotes, comments, spacing, line breaks) and on every YAML file of the
repository.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govgate.errors import GovgateError
from govgate.loaders import documents
from govgate.loaders.documents import parse_document
from govgate.loaders.yamlflat import parse_flat

REPO = Path(__file__).resolve().parents[2]

_KEYS = ["job_run_id", "a", "yes", "No", "on", "null", "y", "n", "true", "x1", "_k", "Key",
         "start_inclusive", "off", "NULL", "e", "inf"]
_VALUES = [
    "recon-00000", "lr-recon-00000", "1.0.0", "UTC", "'2016-11-22T00:00:00Z'",
    "2016-11-22T00:00:00Z", "2016-11-22", "1:30", "190:20:30", "0x1F", "0o17", "017", "1_000",
    "12", "-12", "+12", "1.5", "1e3", "1.5e+3", ".inf", "-.inf", ".NaN", "~", "null", "Null",
    "yes", "Off", "y", "-", "-a", "--", "a:b", "a:", ":a", "a::b", "'it''s'", "''", "' '",
    "'a # b'", "'x'y'", "\"double\"", "a b", "a #b", "a#b", "[1]", "{a: 1}", "&x a", "*x",
    "!!str x", "|", ">", "?", "%", "@", "`", "tuple-1ba953d4fddb", "sha256:abc", "é", "'é'",
    ".", "..", "+", "_", "0", "0.0", "-0", "1.", ".5", "0b101", "1__0",
]
_LINES = st.one_of(
    st.builds(lambda k, v: f"{k}: {v}", st.sampled_from(_KEYS), st.sampled_from(_VALUES)),
    st.sampled_from(["", " ", "# comment", "---", "...", "a:  b", "a: b ", " a: b", "a:b",
                     "a: b\r", "a:\tb", "- a", "a: b # c", "a:", "'a': b", "\"a\": b"]),
)


@contextmanager
def _ordinary() -> Iterator[None]:
    with mock.patch.object(documents, "parse_flat", lambda text, resolve: None):
        yield


def _outcome(text: str) -> object:
    try:
        doc = parse_document(text.encode(), "jobs/w/manifest.yaml")
    except GovgateError as exc:
        return ("error", str(exc))
    return ("ok", doc.data, doc.lines, doc.number_texts)


def _same(text: str) -> None:
    fast = _outcome(text)
    with _ordinary():
        slow = _outcome(text)
    assert fast == slow, text


@settings(max_examples=1500, deadline=None)
@given(st.lists(_LINES, min_size=1, max_size=9), st.sampled_from(["", "\n", "\n\n"]))
def test_flat_documents_read_as_the_ordinary_path_reads_them(lines: list[str], end: str) -> None:
    _same("\n".join(lines) + end)


@pytest.mark.parametrize("value", _VALUES)
def test_every_value_alone(value: str) -> None:
    _same(f"key: {value}\n")
    _same(f"job_run_id: r1\nkey: {value}\n")


def test_a_job_manifest_takes_the_shortcut_with_its_lines() -> None:
    text = ("job_run_id: recon-00000\nepsilon_policy_version: 1.0.0\n\n"
            "start_inclusive: '2016-11-22T00:00:00Z'\nwindow_tz_policy: UTC\n")
    flat = parse_flat(text, documents._resolver())
    assert flat == ({"job_run_id": "recon-00000", "epsilon_policy_version": "1.0.0",
                     "start_inclusive": "2016-11-22T00:00:00Z", "window_tz_policy": "UTC"},
                    {"": 1, "/job_run_id": 1, "/epsilon_policy_version": 2,
                     "/start_inclusive": 4, "/window_tz_policy": 5})
    _same(text)


@pytest.mark.parametrize("text", ["a: b\na: c\n", "a: yes\n", "12: b\n", "a: 1.5\n",
                                  "a: b\n# note\n", "\na: b\n", "a: b\r\n", ""])
def test_what_the_shortcut_leaves_to_the_ordinary_path(text: str) -> None:
    assert parse_flat(text, documents._resolver()) is None
    _same(text)


def test_every_yaml_file_of_the_repository() -> None:
    # The repository's own files: not a virtual environment or generated benchmark data.
    files = [p for p in REPO.rglob("*.y*ml")
             if not {".venv", ".git"} & set(p.parts)
             and "benchmarks/data" not in p.relative_to(REPO).as_posix()]
    assert files
    for path in files:
        try:
            text = path.read_text("utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        _same(text)
