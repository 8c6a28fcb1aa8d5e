"""The shortest way through the simplest YAML: a flat mapping of text values, one per line.

A job manifest (one per reconciliation window) is eight lines of ``key: value``, every value
text. Composing, walking and constructing it through PyYAML took a quarter of loading a long
schedule. This module reads exactly such documents itself and answers None for anything else,
which then goes the ordinary way (:func:`govgate.loaders.documents.parse_document`), with every
refusal and message as before.

What it takes, line by line (``\\n`` line breaks, ASCII, nothing else on a line, no blank
line before the first key):

* ``key: value``: the key an identifier, the value a plain scalar of letters, digits and
  ``_ . + -`` (``:`` only between two such characters) that does not start with ``-``
  followed by nothing else, or a single-quoted scalar (``''`` for a quote) on the line;
* blank lines after the first key.

Keys and plain values are resolved by the loader's own implicit resolvers: a key or value that
would be anything but text (``yes``, ``null``, ``12``, ``1.5``, ``.inf``) sends the document
the ordinary way, as does a repeated key. The result is what the ordinary way gives, value for
value, with the same line of every field (tests/unit/test_yaml_flat.py compares both).
"""

from __future__ import annotations

import re
from typing import Any

_STR = "tag:yaml.org,2002:str"
#: At most this many fields (well under the node bound of the ordinary way).
MAX_FIELDS = 256

_LINE = re.compile(
    r"([A-Za-z_][A-Za-z0-9_]*): "
    r"(?:'((?:[ -&(-~]|'')*)'"                              # single-quoted, printable ASCII
    r"|((?!-$)(?:[A-Za-z0-9_.+-]|:(?=[A-Za-z0-9_.+-]))+))"  # plain: no space, no '#'
)


def parse_flat(text: str, resolve: Any) -> tuple[dict[str, str], dict[str, int]] | None:
    """The mapping and the line of each field (``/key`` and the root ``""``), or None.

    ``resolve`` is a PyYAML loader's ``resolve`` (the implicit tags govgate's loader uses).
    """
    if not text.isascii() or text[:1] in ("", "\n"):
        return None
    from yaml import ScalarNode

    data: dict[str, str] = {}
    lines: dict[str, int] = {}
    for number, line in enumerate(text.split("\n"), 1):
        if not line:
            continue
        match = _LINE.fullmatch(line)
        if match is None:
            return None
        key, quoted, plain = match.groups()
        if key in data or len(data) >= MAX_FIELDS:
            return None
        if resolve(ScalarNode, key, (True, False)) != _STR:
            return None
        if plain is not None:
            if resolve(ScalarNode, plain, (True, False)) != _STR:
                return None
            value = plain
        else:
            value = quoted.replace("''", "'")
        if not lines:
            lines[""] = number
        data[key] = value
        lines["/" + key] = number
    return (data, lines) if data else None
