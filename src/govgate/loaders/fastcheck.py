"""A yes/no schema check compiled into closures: the fast path of :func:`documents.validate`.

jsonschema walks a document keyword by keyword through generic machinery (about 3 ms for a
50-metric export, most of ``govgate check``'s load time on a few years of weekly jobs). govgate's
schemas use a small set of keywords, so each schema is compiled once into nested closures that
only answer "valid or not". A valid document returns at once; an invalid one (or a schema using
a keyword this module does not know) goes through jsonschema as before, so every error message
is unchanged. Valid here must mean valid there: ``tests/unit/loaders/test_fastcheck.py`` compares
both on mutated documents of every kind.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable
from typing import Any

__all__ = ["compile_schema"]

Check = Callable[[Any], bool]

#: Keywords that carry no constraint.
_ANNOTATIONS = frozenset({"$schema", "$id", "title", "description", "examples", "default",
                          "$comment"})


class _Unsupported(Exception):
    """The schema uses a keyword the fast path does not implement."""


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


def _is_integer(value: Any) -> bool:
    # jsonschema (draft 6 and later): an int that is not a bool, or a float with no fraction.
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


_TYPES: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "number": _is_number,
    "integer": _is_integer,
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def compile_schema(schema: Any, regex: Callable[[str], re.Pattern[str]]) -> Check | None:
    """A function that says whether a value is valid, or None if the schema cannot be compiled.

    :param regex: Compiles a ``pattern`` with the same semantics jsonschema is given.
    """
    try:
        return _compile(schema, regex, _equal, _uniq)
    except _Unsupported:
        return None


def _equal(one: Any, two: Any) -> bool:
    """jsonschema's own ``equal`` (imported when first needed: most schemas compare text only,
    and importing jsonschema is a noticeable part of a short command's start-up)."""
    from jsonschema._utils import equal

    return bool(equal(one, two))


def _uniq(values: Any) -> bool:
    """jsonschema's own ``uniq``, imported when first needed (text items: a set says it)."""
    if all(type(item) is str for item in values):
        return len(set(values)) == len(values)
    from jsonschema._utils import uniq

    return bool(uniq(values))


def _compile(schema: Any, regex: Callable[[str], re.Pattern[str]],
             equal: Callable[[Any, Any], bool], uniq: Callable[[Any], bool]) -> Check:
    if schema is True:
        return lambda v: True
    if schema is False:
        return lambda v: False
    if not isinstance(schema, dict):
        raise _Unsupported(repr(schema))
    fused = _fused(schema, regex, equal, uniq)
    if fused is not None:
        return fused
    checks: list[Check] = []
    for key, value in schema.items():
        if key in _ANNOTATIONS:
            continue
        checks.append(_keyword(key, value, schema, regex, equal, uniq))
    if not checks:
        return lambda v: True
    if len(checks) == 1:
        return checks[0]
    # Loops in plain functions, not all() over generators: a generator frame per value was
    # most of the cost on documents of thousands of small objects.
    every = tuple(checks)

    def all_of(v: Any) -> bool:
        for check in every:  # noqa: SIM110 - no generator frame per value (see above)
            if not check(v):
                return False
        return True

    return all_of


_OBJECT_KEYS = frozenset({"type", "properties", "required", "additionalProperties"})
_STRING_KEYS = frozenset({"type", "minLength", "maxLength", "pattern"})


def _fused(schema: dict[str, Any], regex: Callable[[str], re.Pattern[str]],
           equal: Callable[[Any, Any], bool], uniq: Callable[[Any], bool]) -> Check | None:
    """One function for the two shapes most values have, or None for the keyword by keyword
    path: an object with ``properties``, ``required`` and a closed ``additionalProperties``,
    and a string with length bounds and a ``pattern``. The same answers (the type is checked
    once, then each keyword as :func:`_keyword` checks it), without a call per keyword."""
    keys = frozenset(schema) - _ANNOTATIONS
    kind = schema.get("type")
    if kind == "object" and keys <= _OBJECT_KEYS and schema.get("additionalProperties",
                                                                   False) is False:
        props = tuple((name, _compile(s, regex, equal, uniq))
                      for name, s in schema.get("properties", {}).items())
        known = frozenset(name for name, _ in props)
        closed = "additionalProperties" in schema
        required = tuple(schema.get("required", ()))

        def an_object(v: Any) -> bool:
            if not isinstance(v, dict):
                return False
            for n in required:
                if n not in v:
                    return False
            if closed:
                for k in v:
                    if k not in known:
                        return False
            for name, check in props:  # noqa: SIM110 - no generator frame per value
                if name in v and not check(v[name]):
                    return False
            return True

        return an_object
    names = [kind] if isinstance(kind, str) else kind
    if (isinstance(names, list) and "string" in names and keys <= _STRING_KEYS
            and all(n in _TYPES for n in names)):
        low = schema.get("minLength")
        high = schema.get("maxLength")
        search = regex(schema["pattern"]).search if "pattern" in schema else None
        others = tuple(_TYPES[n] for n in names if n != "string")

        def a_string(v: Any) -> bool:
            if not isinstance(v, str):
                # Another type the schema allows: the string keywords do not apply to it.
                for test in others:  # noqa: SIM110 - no generator frame per value
                    if test(v):
                        return True
                return False
            if (low is not None and len(v) < low) or (high is not None and len(v) > high):
                return False
            return search is None or search(v) is not None

        return a_string
    return None


def _keyword(key: str, value: Any, schema: dict[str, Any],
             regex: Callable[[str], re.Pattern[str]], equal: Callable[[Any, Any], bool],
             uniq: Callable[[Any], bool]) -> Check:
    def sub(s: Any) -> Check:
        return _compile(s, regex, equal, uniq)

    if key == "type":
        names = [value] if isinstance(value, str) else list(value)
        if any(n not in _TYPES for n in names):
            raise _Unsupported(f"type {value!r}")
        tests = [_TYPES[n] for n in names]
        if len(tests) == 1:
            return tests[0]
        return lambda v: any(t(v) for t in tests)
    if key == "properties":
        props = tuple((name, sub(s)) for name, s in value.items())

        def properties(v: Any) -> bool:
            if isinstance(v, dict):
                for name, check in props:
                    if name in v and not check(v[name]):
                        return False
            return True

        return properties
    if key == "additionalProperties":
        known = frozenset(schema.get("properties", {}))
        # jsonschema matches patternProperties with Python's re.search, not ECMA semantics.
        patterns = [re.compile(p).search for p in schema.get("patternProperties", {})]

        def additional(k: str) -> bool:
            return k not in known and not any(search(k) for search in patterns)

        if value is False:
            if not patterns:
                def closed(v: Any) -> bool:
                    if isinstance(v, dict):
                        for k in v:
                            if k not in known:
                                return False
                    return True

                return closed
            return lambda v: not isinstance(v, dict) or not any(additional(k) for k in v)
        extra = sub(value)
        return lambda v: not isinstance(v, dict) or all(
            extra(item) for k, item in v.items() if additional(k))
    if key == "patternProperties":
        rules = [(re.compile(p).search, sub(s)) for p, s in value.items()]
        return lambda v: not isinstance(v, dict) or all(
            check(item) for k, item in v.items() for search, check in rules if search(k))
    if key == "required":
        required = tuple(value)

        def has_required(v: Any) -> bool:
            if isinstance(v, dict):
                for n in required:
                    if n not in v:
                        return False
            return True

        return has_required
    if key == "dependentRequired":
        pairs = tuple((name, tuple(needs)) for name, needs in value.items())
        return lambda v: not isinstance(v, dict) or all(
            n in v for name, needs in pairs if name in v for n in needs)
    if key == "items":
        if not isinstance(value, dict | bool):
            raise _Unsupported("items as a list")
        each = sub(value)

        def items(v: Any) -> bool:
            if isinstance(v, list):
                for item in v:
                    if not each(item):
                        return False
            return True

        return items
    if key == "pattern":
        search = regex(value).search
        return lambda v: not isinstance(v, str) or search(v) is not None
    if key == "minLength":
        return lambda v: not isinstance(v, str) or len(v) >= value
    if key == "maxLength":
        return lambda v: not isinstance(v, str) or len(v) <= value
    if key == "minimum":
        return lambda v: not _is_number(v) or not v < value
    if key == "maximum":
        return lambda v: not _is_number(v) or not v > value
    if key == "exclusiveMinimum":
        return lambda v: not _is_number(v) or not v <= value
    if key == "minItems":
        return lambda v: not isinstance(v, list) or len(v) >= value
    if key == "minProperties":
        return lambda v: not isinstance(v, dict) or len(v) >= value
    if key == "uniqueItems":
        if not value:
            return lambda v: True
        return lambda v: not isinstance(v, list) or bool(uniq(v))
    if key == "enum":
        options = list(value)
        if all(type(option) is str or option is None for option in options):
            # jsonschema's equal() is == as soon as one side is text, and null equals only null.
            texts = frozenset(option for option in options if option is not None)
            if None in options:
                return lambda v: v is None or (isinstance(v, str) and v in texts)
            return lambda v: isinstance(v, str) and v in texts
        return lambda v: any(equal(option, v) for option in options)
    if key == "const":
        if type(value) is str:
            return lambda v: isinstance(v, str) and v == value
        return lambda v: bool(equal(v, value))
    raise _Unsupported(key)
