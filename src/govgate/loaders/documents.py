"""YAML/JSON documents with line numbers, validated against the JSON Schemas shipped here."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from ..errors import GovgateError

#: Hostile YAML (billion laughs) is refused before it expands: no document needs more nodes.
MAX_NODES = 200_000
MAX_DEPTH = 64


@dataclass(frozen=True)
class Document:
    """A parsed document and, for YAML/JSON mappings, the line of each JSON pointer."""

    data: Any
    source: str
    lines: dict[str, int] = field(default_factory=dict, compare=False)

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
    """Parse YAML (or JSON, which is YAML) from bytes, keeping line numbers."""
    import yaml

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise GovgateError(f"not UTF-8 text (byte {exc.start})", source=source) from None
    if source.endswith(".json"):
        try:
            return Document(json.loads(text, parse_constant=_reject_constant), source)
        except json.JSONDecodeError as exc:
            raise GovgateError(
                f"invalid JSON: {exc.msg}", source=source, where=f"line {exc.lineno}"
            ) from None
        except GovgateError as exc:
            raise GovgateError(exc.message, source=source) from None
    try:
        loader = _loader_class()(text)
        try:
            node = loader.get_single_node()
            if node is None:
                raise GovgateError("empty document", source=source)
            lines: dict[str, int] = {}
            _walk(node, (), lines, [0], source)
            value = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        raise GovgateError(f"invalid YAML: {exc.problem or exc.context}", source=source,
                           where=where) from None
    except yaml.YAMLError as exc:
        raise GovgateError(f"invalid YAML: {exc}", source=source) from None
    return Document(value, source, lines)


@cache
def _loader_class() -> Any:
    """SafeLoader that keeps timestamps as text (govgate parses them strictly, offset required)
    and refuses NaN/infinity, which no governance number can be."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

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


def _reject_constant(name: str) -> Any:
    raise GovgateError(f"{name} is not a number govgate accepts")


def _walk(node: Any, path: tuple[Any, ...], lines: dict[str, int], count: list[int],
          source: str) -> None:
    import yaml

    # Aliases are walked again at every use, so this bound also stops alias bombs.
    count[0] += 1
    if count[0] > MAX_NODES or len(path) > MAX_DEPTH:
        raise GovgateError(
            f"document too large or too deeply nested (over {MAX_NODES} nodes or depth "
            f"{MAX_DEPTH}, aliases counted at every use)",
            source=source,
        )
    lines.setdefault(pointer(path), node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            _walk(value, (*path, key.value), lines, count, source)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), lines, count, source)


@cache
def load_schema(kind: str) -> dict[str, Any]:
    """The shipped JSON Schema for ``kind`` (also printed by ``govgate schema KIND``)."""
    name = f"{kind}.schema.json"
    try:
        text = resources.files("govgate.loaders").joinpath("schemas", name).read_text("utf-8")
    except FileNotFoundError:
        raise GovgateError(f"unknown kind {kind!r}; see 'govgate schema'") from None
    schema: dict[str, Any] = json.loads(text)
    return schema


def schema_kinds() -> list[str]:
    folder = resources.files("govgate.loaders").joinpath("schemas")
    return sorted(
        p.name.removesuffix(".schema.json")
        for p in folder.iterdir()
        if p.name.endswith(".schema.json")
    )


def validate(data: Any, kind: str, source: str, doc: Document | None = None) -> None:
    """Validate ``data`` against the schema of ``kind``; the first error becomes a GovgateError."""
    import jsonschema

    validator_cls = jsonschema.validators.validator_for(load_schema(kind))
    validator = validator_cls(load_schema(kind), format_checker=validator_cls.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(data), key=lambda e: (list(map(str, e.absolute_path))))
    if not errors:
        return
    error = errors[0]
    ptr = pointer(list(error.absolute_path))
    where = ptr or "/"
    line = doc.line_of(ptr) if doc else None
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
        return f"unexpected field: {error.message.split('(')[-1].rstrip(')')}"
    if validator == "enum":
        allowed = ", ".join(repr(v) for v in error.validator_value)
        return f"expected one of {allowed}, got {_short(error.instance)}"
    if validator in {"type", "pattern", "format", "minimum", "maximum", "minLength", "const",
                     "minItems", "maxLength", "exclusiveMinimum"}:
        expected = error.schema.get("description") or f"{validator} {error.validator_value!r}"
        return f"expected {expected}, got {_short(error.instance)}"
    return str(error.message)[:200]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
