"""YAML/JSON documents with line numbers, validated against the JSON Schemas shipped here."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from ..decimals import MAX_DIGITS, text_problem
from ..errors import GovgateError
from ..sources.names import source_name
from .yamlfast import compose as compose_fast
from .yamlflat import parse_flat

#: Hostile YAML (billion laughs) is refused before it expands: no document needs more nodes.
MAX_NODES = 200_000
MAX_DEPTH = 64


@dataclass(frozen=True)
class Document:
    """A parsed document and, for YAML/JSON mappings, the line of each JSON pointer."""

    data: Any
    source: str
    lines: dict[str, int] = field(default_factory=dict, compare=False)
    #: YAML numbers as written, by JSON pointer: a YAML float is a binary approximation, and
    #: ``0.10000000000000000001`` must not become ``0.1``. (JSON numbers are Decimals already.)
    number_texts: dict[str, str] = field(default_factory=dict, compare=False)

    def number_text(self, pointer: str) -> str | None:
        """The text of the YAML number at ``pointer``, as the file writes it."""
        return self.number_texts.get(pointer)

    def line_of(self, pointer: str) -> int | None:
        """The 1-based line of ``pointer`` or of its nearest parent that has one."""
        while True:
            if pointer in self.lines:
                return self.lines[pointer]
            if not pointer:
                return None
            pointer = pointer.rsplit("/", 1)[0]


def pointer(parts: tuple[Any, ...] | list[Any]) -> str:
    """RFC 6901 JSON pointer of a path."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def parse_document(data: bytes, source: str) -> Document:
    """Parse YAML (or JSON, which is YAML) from bytes, keeping line numbers.

    ``source`` is the reference as written; the document is named by its source name (a signed
    URL's query string never reaches a message, a finding or a report).
    """
    import yaml

    source = source_name(source)

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise GovgateError(f"not UTF-8 text (byte {exc.start})", source=source) from None
    if source.partition("?")[0].endswith(".json"):
        return _parse_json(text, source)
    flat = parse_flat(text, _resolver())
    if flat is not None:  # a flat mapping of text (a job manifest): the same, sooner
        return Document(flat[0], source, flat[1], {})
    try:
        loader = _loader_class()(text)
        try:
            try:
                # libyaml's events when it can take the document (the same nodes, much sooner);
                # otherwise, and for every refusal, PyYAML's own composer below.
                node = compose_fast(text, loader, MAX_DEPTH) or loader.get_single_node()
            except _TooDeep as exc:
                raise GovgateError(
                    f"document nested deeper than {MAX_DEPTH} levels", source=source,
                    where=f"line {exc.mark.line + 1}, column {exc.mark.column + 1}",
                ) from None
            if node is None:
                raise GovgateError("empty document", source=source, where="line 1")
            lines: dict[str, int] = {}
            numbers: dict[str, str] = {}
            _walk(node, (), lines, [0], source, loader.resolve, numbers)
            try:
                value = loader.construct_document(node)
            except (ValueError, TypeError, OverflowError):  # defensive: _walk refuses tags
                raise GovgateError("invalid YAML: a value cannot be built",
                                   source=source) from None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        raise GovgateError(f"invalid YAML: {exc.problem or exc.context}", source=source,
                           where=where) from None
    except yaml.YAMLError as exc:
        raise GovgateError(f"invalid YAML: {exc}", source=source) from None
    return Document(value, source, lines, numbers)


@cache
def _resolver() -> Any:
    """The implicit-tag resolver of govgate's loader (it reads no stream: one serves all)."""
    return _loader_class()("").resolve


@cache
def _loader_class() -> Any:
    """SafeLoader that keeps timestamps as text (govgate parses them strictly, offset required)
    and refuses NaN/infinity, which no governance number can be."""
    import yaml

    class Loader(yaml.SafeLoader):
        # PyYAML composes recursively: bound the depth here, before Python's own recursion
        # limit turns a deeply nested document into a RecursionError (an internal error).
        _depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            self._depth += 1
            try:
                if self._depth > MAX_DEPTH + 1:
                    raise _TooDeep(self.peek_event().start_mark)  # type: ignore[no-untyped-call]
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1

    Loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_float(loader: Any, node: Any) -> float:
        value = yaml.SafeLoader.construct_yaml_float(loader, node)
        if value != value or value in (float("inf"), float("-inf")):
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value!r} is not a finite number", node.start_mark)
        return float(value)

    Loader.add_constructor("tag:yaml.org,2002:float", construct_float)
    return Loader


class _TooDeep(Exception):
    def __init__(self, mark: Any) -> None:
        super().__init__()
        self.mark = mark


class _Constant(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _reject_constant(name: str) -> Any:
    raise _Constant(name)


class _BadNumber(Exception):
    def __init__(self, token: str, problem: str) -> None:
        super().__init__(token)
        self.token = token
        self.problem = problem


def _json_float(token: str) -> Decimal:
    """JSON numbers with a fraction or exponent are exact decimals, never binary floats
    (PostgreSQL's ``row_to_json`` writes NUMERIC ``1234567890.123456789`` as a bare number)."""
    if len(token) <= 40 and "e" not in token and "E" not in token:
        return Decimal(token)  # the JSON grammar's digits, short, no exponent: in bounds
    problem = text_problem(token)
    if problem:
        raise _BadNumber(token, problem)
    return Decimal(token)


def _json_int(token: str) -> int:
    # int() of more than 4,300 digits raises ValueError (CPython's conversion limit): bound first.
    if len(token.lstrip("-")) > MAX_DIGITS:
        raise _BadNumber(token, f"has more than {MAX_DIGITS} digits")
    return int(token)


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?')


def _json_number_line(text: str, token: str) -> int | None:
    """The line of the first number ``token`` outside strings (error path only)."""
    for match in _JSON_TOKEN.finditer(text):
        if match.group() == token:
            return text.count("\n", 0, match.start()) + 1
    return None


def loads_json(text: str, source: str) -> Any:
    """``json.loads`` for every JSON input: exact numbers (Decimal; ints bounded before
    ``int()`` meets its 4,300-digit limit), no NaN/Infinity, unique keys. Every refusal is a
    GovgateError naming ``source`` and a line, except RecursionError, which the caller turns
    into its own depth message (:func:`parse_document` bounds depth further)."""
    try:
        return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_keys,
                          parse_float=_json_float, parse_int=_json_int)
    except _BadNumber as exc:
        line = _json_number_line(text, exc.token)
        shown = exc.token if len(exc.token) <= 40 else exc.token[:37] + "..."
        raise GovgateError(f"number {shown} {exc.problem}", source=source,
                           where=f"line {line}" if line else None) from None
    except _DuplicateKey as exc:
        where = _json_duplicate(text)
        raise GovgateError(f"duplicate key {exc.key!r}", source=source, where=where) from None
    except json.JSONDecodeError as exc:
        raise GovgateError(
            f"invalid JSON: {exc.msg}", source=source, where=f"line {exc.lineno}"
        ) from None
    except _Constant as exc:
        name = exc.name
        line = _json_line(text, lambda depth, token: token == name)
        raise GovgateError(f"{name} is not a number govgate accepts", source=source,
                           where=f"line {line}" if line else None) from None


def _parse_json(text: str, source: str) -> Document:
    """JSON, strictly: no NaN/Infinity, nesting bounded like YAML's, errors with a line."""
    try:
        value = loads_json(text, source)
    except RecursionError:
        value = None  # deeper than the decoder's own limit: located below
    # Every level of nesting opens a bracket: with few brackets the walk cannot find more.
    if value is None or (text.count("[") + text.count("{") > MAX_DEPTH
                         and _json_depth(value) > MAX_DEPTH):
        line = _json_line(text, lambda depth, token: depth > MAX_DEPTH)
        if value is None or line:
            raise GovgateError(f"document nested deeper than {MAX_DEPTH} levels",
                               source=source, where=f"line {line}" if line else None)
    return Document(value, source)


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class _Pairs(list):  # type: ignore[type-arg]
    """A JSON object as the list of its pairs (to find where a duplicate key is)."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json keeps the last of two equal keys silently; a second "value" must not override.
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return result


def _json_duplicate(text: str) -> str | None:
    """The JSON pointer of the first duplicate key, in document order (error path only)."""
    try:
        stack: list[tuple[Any, tuple[Any, ...]]] = [
            (json.loads(text, object_pairs_hook=_Pairs), ())]
    except (ValueError, RecursionError):  # broken further on: the key is named without a place
        return None
    while stack:
        item, path = stack.pop()
        if isinstance(item, _Pairs):
            seen: set[str] = set()
            for key, _ in item:
                if key in seen:
                    return pointer((*path, key))
                seen.add(key)
            stack.extend((v, (*path, k)) for k, v in reversed(item))
        elif isinstance(item, list):
            stack.extend((v, (*path, i)) for i, v in reversed(list(enumerate(item))))
    return None


def _json_depth(value: Any) -> int:
    """Nesting depth of a decoded JSON value (iteratively: the value may be deep)."""
    # Level by level, keeping only containers: scalars (most of a document) end a branch.
    if not isinstance(value, dict | list):
        return 0
    depth, level = 0, [value]
    while any(level):  # some container here has children, one level deeper
        depth += 1
        level = [v for item in level
                 for v in (item.values() if isinstance(item, dict) else item)
                 if isinstance(v, dict | list)]
    return depth


def _json_line(text: str, hit: Any) -> int | None:
    """The 1-based line of the first token outside strings for which ``hit(depth, token)``
    holds; tokens are brackets (after opening) and bare words. Only used on error paths."""
    depth, line, index, size = 0, 1, 0, len(text)
    while index < size:
        char = text[index]
        if char == "\n":
            line += 1
        elif char == '"':
            index += 1
            while index < size and text[index] != '"':
                index += 2 if text[index] == "\\" else 1
        elif char in "[{":
            depth += 1
            if hit(depth, char):
                return line
        elif char in "]}":
            depth -= 1
        elif char.isalpha() or char == "-":
            end = index
            while end < size and (text[end].isalnum() or text[end] == "-"):
                end += 1
            word = text[index:end]
            if hit(depth, word):
                return line
            index = end
            continue
        index += 1
    return None


_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_IMPLICIT_COLLECTION_TAGS = {"MappingNode": "tag:yaml.org,2002:map",
                             "SequenceNode": "tag:yaml.org,2002:seq"}


def _check_tag(node: Any, resolve: Any, source: str) -> None:
    """Refuse explicit tags (``!!int x``, ``!!binary``, ``!!set``): no govgate input needs one,
    and they build values (bytes, sets, datetimes) or errors no schema expects."""
    import yaml

    if isinstance(node, yaml.ScalarNode):
        plain = node.style is None
        expected = resolve(yaml.ScalarNode, node.value, (plain, not plain))
    else:
        expected = _IMPLICIT_COLLECTION_TAGS.get(type(node).__name__)
    if node.tag != expected and node.tag != _STR:  # !!str is just text
        tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
        mark = node.start_mark
        raise GovgateError(f"YAML tag {tag[:40]!r} is not accepted: write a plain value",
                           source=source, where=f"line {mark.line + 1}, column {mark.column + 1}")


_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


def _walk(node: Any, path: tuple[Any, ...], lines: dict[str, int], count: list[int],
          source: str, resolve: Any, numbers: dict[str, str]) -> None:
    import yaml

    # Aliases are walked again at every use, so this bound also stops alias bombs.
    count[0] += 1
    if count[0] > MAX_NODES or len(path) > MAX_DEPTH:
        raise GovgateError(
            f"document too large or too deeply nested (over {MAX_NODES} nodes or depth "
            f"{MAX_DEPTH}, aliases counted at every use)",
            source=source, where=f"line {node.start_mark.line + 1}",
        )
    lines.setdefault(pointer(path), node.start_mark.line + 1)
    _check_tag(node, resolve, source)
    if isinstance(node, yaml.ScalarNode) and node.tag in _NUMBER_TAGS:
        if len(node.value) > MAX_DIGITS + 2:
            # Refused before PyYAML builds it: int() of 5,000 digits raises ValueError.
            mark = node.start_mark
            raise GovgateError(f"number with more than {MAX_DIGITS} digits",
                               source=source,
                               where=f"line {mark.line + 1}, column {mark.column + 1}")
        numbers[pointer(path)] = node.value
    if isinstance(node, yaml.MappingNode):
        seen: dict[tuple[str, Any], int] = {}
        for key, value in node.value:
            _check_tag(key, resolve, source)
            if key.tag not in (_STR, _MERGE):
                # JSON's keys are text; YAML's `0:`, `-0:` or `yes:` would be numbers and
                # booleans that no schema names and that cannot be sorted with text keys.
                mark = key.start_mark
                label = (repr(str(key.value)[:40]) if isinstance(key, yaml.ScalarNode)
                         else "(a list or mapping)")
                raise GovgateError(
                    f"key {label} is not text: quote it",
                    source=source, where=f"line {mark.line + 1}, column {mark.column + 1}")
            if key.tag != _MERGE:
                # YAML keeps the last of two equal keys silently: a second `status:` or
                # `block_states:` further down must not quietly override the first.
                line = key.start_mark.line + 1
                if (key.tag, key.value) in seen:
                    raise GovgateError(
                        f"duplicate key {key.value!r} (first on line "
                        f"{seen[(key.tag, key.value)]})",
                        source=source, where=f"line {line}, {pointer((*path, key.value))}")
                seen[(key.tag, key.value)] = line
                # A field's place is the line of its key (a block value starts below it).
                lines.setdefault(pointer((*path, key.value)), line)
            _walk(value, (*path, key.value), lines, count, source, resolve, numbers)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), lines, count, source, resolve, numbers)


@cache
def load_schema(kind: str) -> dict[str, Any]:
    """The shipped JSON Schema for ``kind`` (also printed by ``govgate schema KIND``)."""
    name = f"{kind}.schema.json"
    if kind not in schema_kinds():  # also keeps a hostile kind ("../x") inside the package
        raise GovgateError(f"unknown kind {kind!r}; see 'govgate schema'")
    try:
        text = resources.files("govgate.loaders").joinpath("schemas", name).read_text("utf-8")
    except FileNotFoundError:
        raise GovgateError(f"unknown kind {kind!r}; see 'govgate schema'") from None
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def schema_kinds() -> list[str]:
    folder = resources.files("govgate.loaders").joinpath("schemas")
    return sorted(
        p.name.removesuffix(".schema.json")
        for p in folder.iterdir()
        if p.name.endswith(".schema.json")
    )


def policy_kinds() -> list[str]:
    """The kinds a policy document may declare: the schemas that have a ``kind`` field."""
    return [k for k in schema_kinds() if "kind" in load_schema(k).get("properties", {})]


@cache
def _ecma_regex(pattern: str) -> re.Pattern[str]:
    """A JSON Schema ``pattern`` compiled with ECMA-262's meaning of ``$``.

    In ECMA-262 (what JSON Schema specifies) ``$`` matches only at the end of the text; Python's
    ``$`` also matches before a final line feed, so ``"id\\n"`` would pass
    ``^[^\\x00-\\x1f]+$``. An unescaped ``$`` outside a character class becomes ``\\Z``.
    ECMA-262's ``\\d`` is ``[0-9]`` only; Python's also matches Arabic-Indic or full-width
    digits, which ``Decimal()`` and ``int()`` then accept as numbers: compiled with ASCII.
    """
    out: list[str] = []
    escaped = in_class = False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "$":
            out.append("\\Z")
            continue
        out.append(char)
    return re.compile("".join(out), re.ASCII)


@cache
def schema_validator(kind: str) -> Any:
    """A validator for the schema of ``kind``, with ECMA-262 ``pattern`` semantics."""
    import jsonschema

    schema = load_schema(kind)
    base = jsonschema.validators.validator_for(schema)

    def pattern(validator: Any, patrn: str, instance: Any, schema: Any) -> Any:
        if validator.is_type(instance, "string") and not _ecma_regex(patrn).search(instance):
            yield jsonschema.ValidationError(f"{instance!r} does not match {patrn!r}")

    cls = jsonschema.validators.extend(base, {"pattern": pattern})  # type: ignore[no-untyped-call]
    return cls(schema, format_checker=base.FORMAT_CHECKER)


@cache
def _fast_check(kind: str) -> Any:
    from .fastcheck import compile_schema

    return compile_schema(load_schema(kind), _ecma_regex)


def validate(data: Any, kind: str, source: str, doc: Document | None = None) -> None:
    """Validate ``data`` against the schema of ``kind``; the first error becomes a GovgateError."""
    source = source_name(source)
    fast = _fast_check(kind)
    try:
        if fast is not None and fast(data):
            return
    except Exception:  # whatever the fast path trips on, jsonschema decides
        pass
    validator = schema_validator(kind)
    errors = sorted(validator.iter_errors(data), key=lambda e: (list(map(str, e.absolute_path))))
    if not errors:
        return
    error = errors[0]
    ptr = pointer(list(error.absolute_path))
    where = ptr or "/"
    line = doc.line_of(ptr) if doc else None
    if error.validator == "additionalProperties" and doc and isinstance(error.instance, dict):
        # The line of the unexpected field itself, not of the mapping that holds it.
        known = set(error.schema.get("properties", {}))
        extra = sorted(str(k) for k in error.instance if k not in known)
        if extra:
            line = doc.line_of(f"{ptr}/{pointer([extra[0]]).lstrip('/')}") or line
    if line is not None:
        where = f"line {line}, {where}"
    raise GovgateError(_describe(error), source=source, where=where)


def _describe(error: Any) -> str:
    # jsonschema's messages quote the whole instance; keep the one line short and useful.
    validator = error.validator
    if validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"missing required field {missing!r}"
    if validator == "additionalProperties":
        return _unexpected(error)
    if validator == "dependentRequired":
        # "'approved_by' is a dependency of 'approved_dt_utc'": fields that go together.
        parts = error.message.split("'")
        if len(parts) >= 4:
            return f"missing field {parts[1]!r}: it goes with {parts[3]!r} (write both or neither)"
    if validator == "enum":
        allowed = ", ".join(repr(v) for v in error.validator_value)
        return f"expected one of {allowed}, got {_short(error.instance)}"
    if validator in {"type", "pattern", "format", "minimum", "maximum", "minLength", "const",
                     "minItems", "maxLength", "exclusiveMinimum"}:
        expected = error.schema.get("description") or f"{validator} {error.validator_value!r}"
        return f"expected {expected}, got {_short(error.instance)}"
    return str(error.message)[:200]


def _unexpected(error: Any) -> str:
    """``unexpected field: 'x'``, with the closest known name when a typo is likely."""
    import difflib

    known = sorted(str(k) for k in error.schema.get("properties", {}))
    instance = error.instance if isinstance(error.instance, dict) else {}
    extra = sorted(str(k) for k in instance if k not in known)
    if not extra:  # defensive: jsonschema's own wording
        return f"unexpected field: {error.message.split('(')[-1].rstrip(')')}"
    parts = []
    for name in extra:
        close = difflib.get_close_matches(name, known, n=1)
        parts.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    noun = "field" if len(extra) == 1 else "fields"
    return f"unexpected {noun}: {', '.join(parts)}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
