"""The C-accelerated way to compose a YAML document, for the documents it can take.

PyYAML's pure-Python scanner and parser cost most of the time of ``govgate check`` on a long
schedule (one job manifest per window). libyaml's parser (``yaml.CParser``) produces the same
events about twenty times faster. Its own composer recurses in C, so a deeply nested document
could exhaust the C stack: the events are composed here instead, iteratively, with the same
depth bound as the pure-Python composer in :mod:`govgate.loaders.documents`.

This path only ever answers for a document it composed without trouble: anything else (libyaml
missing, any parse error, an undefined or duplicate anchor, nesting past the bound, a second
document) answers None, and the caller runs the pure-Python path, which then gives the one
refusal and message govgate has always given. The nodes are the same ``yaml`` node objects
with the same tags, values, styles and marks (tests/unit/test_yaml_fast.py compares both
composers node by node on the corpus, the repository's YAML and generated documents), so every
check made on the node tree afterwards (tags, keys, node count, line numbers) is unchanged.
"""

from __future__ import annotations

import re
from typing import Any

#: The pure-Python composer refuses a node at depth ``MAX_DEPTH + 2`` (the root is at depth 1;
#: see ``documents``): this path gives up at the same node.
_PURE_DEPTH_LIMIT_OFFSET = 1


#: What libyaml reads otherwise than PyYAML, and what no job manifest needs, is left to the
#: pure-Python path, found anywhere in the text (inside a quoted value too: the cost is only
#: time). Each was seen to differ (tests/unit/test_yaml_fast.py):
#:
#: * a tab: libyaml takes ``a:\tb`` as a separator, PyYAML refuses it;
#: * flow collections: libyaml 0.2.5 reads ``?`` and ``:`` inside flow plain scalars where
#:   PyYAML ends or refuses them;
#: * tags (libyaml ends a local tag at a flow indicator) and directives;
#: * block scalars: libyaml takes a comment glued to the header (``>#``), PyYAML refuses it;
#: * an explicit key ``?``: the empty nodes around it are marked at other places;
#: * a byte order mark: PyYAML counts no column for one, libyaml does.
_STEP_ASIDE = re.compile("[\t\\[{!|>?\ufeff]|^%", re.MULTILINE)


def compose(text: str, loader: Any, max_depth: int) -> Any | None:
    """The root node of ``text`` as ``loader``'s pure-Python composer would build it, or None
    when the pure-Python path must decide (no libyaml, an error, too deep, not one document).

    ``loader`` is a pure-Python loader: only its ``resolve`` is used, so the implicit tags
    (govgate's, without timestamps) are resolved by the very same code.
    """
    parser_class = _parser_class()
    if parser_class is None or loader.yaml_path_resolvers:
        return None  # no libyaml; or path resolvers, which would need the composer's descent
    if _STEP_ASIDE.search(text):
        return None
    try:
        parser = parser_class(text)
    except Exception:
        return None
    try:
        return _compose(parser, loader.resolve, max_depth + _PURE_DEPTH_LIMIT_OFFSET)
    except Exception:
        return None
    finally:
        parser.dispose()


def _parser_class() -> Any | None:
    try:
        from yaml._yaml import CParser
    except ImportError:  # PyYAML built without libyaml
        return None
    return CParser


def _compose(parser: Any, resolve: Any, limit: int) -> Any | None:
    from yaml import events, nodes

    scalar, alias = events.ScalarEvent, events.AliasEvent
    seq_start, map_start = events.SequenceStartEvent, events.MappingStartEvent
    seq_end, map_end = events.SequenceEndEvent, events.MappingEndEvent
    get = parser.get_event
    if type(get()) is not events.StreamStartEvent:
        return None
    if type(get()) is not events.DocumentStartEvent:
        return None  # an empty stream: "empty document", worded by the pure path
    anchors: dict[str, Any] = {}
    # The open collections, innermost last: [node, the key waiting for its value or None].
    stack: list[list[Any]] = []
    while True:
        event = get()
        cls = type(event)
        if cls is seq_end or cls is map_end:
            node = stack.pop()[0]
            node.end_mark = event.end_mark
            if not stack:
                break
            continue
        # The pure composer counts the depth of every node, aliases included.
        if len(stack) >= limit:
            return None  # too deep: the pure path refuses it, naming the place
        if cls is alias:
            node = anchors.get(event.anchor)
            if node is None:
                return None  # an undefined alias
        else:
            anchor = event.anchor
            if anchor is not None and anchor in anchors:
                return None  # a duplicate anchor
            tag = event.tag
            if cls is scalar:
                if tag is None or tag == "!":
                    tag = resolve(nodes.ScalarNode, event.value, event.implicit)
                # libyaml calls the plain style '', PyYAML None (``documents`` tells a plain
                # scalar by its None style).
                node = nodes.ScalarNode(tag, event.value, event.start_mark, event.end_mark,
                                        style=event.style or None)
            elif cls is seq_start:
                if tag is None or tag == "!":
                    tag = resolve(nodes.SequenceNode, None, event.implicit)
                node = nodes.SequenceNode(tag, [], event.start_mark, None,
                                          flow_style=event.flow_style)
            elif cls is map_start:
                if tag is None or tag == "!":
                    tag = resolve(nodes.MappingNode, None, event.implicit)
                node = nodes.MappingNode(tag, [], event.start_mark, None,
                                         flow_style=event.flow_style)
            else:
                return None  # no node starts with this event
            if anchor is not None:
                anchors[anchor] = node
        if stack:
            frame = stack[-1]
            parent = frame[0]
            if type(parent) is nodes.MappingNode:
                if frame[1] is None:
                    frame[1] = node
                else:
                    parent.value.append((frame[1], node))
                    frame[1] = None
            else:
                parent.value.append(node)
        if cls is seq_start or cls is map_start:
            stack.append([node, None])
        elif not stack:
            break  # a scalar (or alias) document
    if type(get()) is not events.DocumentEndEvent:
        return None
    if type(get()) is not events.StreamEndEvent:
        return None  # a second document: the pure path refuses it
    return node
