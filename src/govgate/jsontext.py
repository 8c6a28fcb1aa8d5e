"""Indented JSON text, byte for byte what ``json.dumps(value, indent=2, ensure_ascii=False)``
writes, without the standard library's pure-Python indenting encoder.

``json.dumps`` uses its C encoder only when ``indent`` is None; with an indent every value goes
through a chain of Python generators, which made the pretty-printed reports, diff artifacts and
manifests a tenth of ``govgate check``'s time on a long schedule. Here containers are joined
with ``str.join`` and every scalar is encoded by the C encoder. Anything this module does not
handle exactly as ``json`` does (non-text keys, NaN and infinities, a type ``json`` converts
through a ``default``) goes to ``json.dumps`` for the whole value, so the result is always
``json``'s.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring  # the C function when _json is available
from typing import Any

__all__ = ["pretty"]


class _Fallback(Exception):
    """A value this encoder leaves to ``json.dumps``."""


def pretty(value: Any, *, sort_keys: bool = False) -> str:
    """``json.dumps(value, indent=2, sort_keys=sort_keys, ensure_ascii=False)``."""
    try:
        return _encode(value, "\n", sort_keys)
    except _Fallback:
        return json.dumps(value, indent=2, sort_keys=sort_keys, ensure_ascii=False)


def _encode(value: Any, newline: str, sort_keys: bool) -> str:
    # Exact types only: a str, int or dict subclass may encode differently (json checks
    # isinstance, but a subclass's __repr__ or items() could differ from what is seen here).
    kind = type(value)
    if kind is str:
        return encode_basestring(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is int:
        return int.__repr__(value)
    if kind is float and value - value == 0:  # finite (NaN and infinities: json decides)
        return float.__repr__(value)
    inner = newline + "  "
    if kind is dict:
        if not value:
            return "{}"
        items = value.items()
        if sort_keys:
            if not all(type(key) is str for key in value):
                raise _Fallback
            items = sorted(items)
        elif not all(type(key) is str for key in value):
            raise _Fallback
        # Text values (most of them) encoded here, without a call per value.
        parts = [encode_basestring(key) + ": " + (encode_basestring(item) if type(item) is str
                                                  else "null" if item is None
                                                  else _encode(item, inner, sort_keys))
                 for key, item in items]
        return "{" + inner + ("," + inner).join(parts) + newline + "}"
    if kind is list or kind is tuple:
        if not value:
            return "[]"
        parts = [encode_basestring(item) if type(item) is str else _encode(item, inner, sort_keys)
                 for item in value]
        return "[" + inner + ("," + inner).join(parts) + newline + "]"
    raise _Fallback
