"""``govgate validate FILE...``: check policy, export and table files against their schemas.

Schema only: no configuration is read and nothing is evaluated, so it is quick enough for a
pre-commit hook on every changed file. The kind of each file comes from ``--kind``, else its
``kind`` field (policies), else its name (``govgate.yaml``, ``manifest.yaml``, ...), else the
fields or columns it has; a file that is no govgate input is skipped (an error with
``--strict``). One exception to "no configuration": a ``signer_ack_event`` export may use the
owner routes a ``backup_owner_policy`` declares (``owner_routes``), so those are read from the
project found from the current folder, when there is one.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ExitCode, GovgateError

if TYPE_CHECKING:
    from . import Session

NAME = "validate"
HELP = "check policy, export and table files against their JSON Schemas (no evaluation)"

#: File names whose kind is fixed by the job folder layout and the config discovery.
KIND_BY_NAME: dict[str, str] = {
    "govgate.yaml": "config",
    ".govgate.yaml": "config",
    "manifest.yaml": "job_manifest",
    "leadership.json": "leadership_rollup",
    "partner_annex.json": "partner_annex",
    "bootstrap.yaml": "bootstrap",
}
SUFFIXES = (".yaml", ".yml", ".json", ".csv", ".toml")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE",
                        help="files to check: paths, or references like the configuration's "
                             "(https://..., postgresql://...?table=NAME)")
    parser.add_argument("--kind", help="validate every FILE as this kind (see 'govgate schema')")
    parser.add_argument("--strict", action="store_true",
                        help="fail on a file whose kind cannot be told, instead of skipping it")


def _is_table_schema(schema: dict[str, Any]) -> bool:
    return str(schema.get("description", "")).startswith("One row of a table")


def _kinds() -> tuple[list[str], list[str]]:
    """Schema kinds split into (document kinds, table-row kinds); ``config`` is neither."""
    from ..loaders.documents import load_schema, schema_kinds

    docs: list[str] = []
    tables: list[str] = []
    for kind in schema_kinds():
        if kind == "config":
            continue
        (tables if _is_table_schema(load_schema(kind)) else docs).append(kind)
    return docs, tables


def _fits(kind: str, fields: set[str]) -> bool:
    from ..loaders.documents import load_schema

    schema = load_schema(kind)
    required = set(schema.get("required", ()))
    known = set(schema.get("properties", {}))
    closed = schema.get("additionalProperties") is False
    return required <= fields and (not closed or fields <= known)


def _columns(data: bytes, path: Path) -> tuple[set[str], bool] | None:
    """The field names of a file, and whether it is a table; None when it has none."""
    from ..loaders.documents import parse_document

    if path.suffix == ".csv":
        import csv
        import io

        try:
            header = next(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")), [])
        except (UnicodeDecodeError, csv.Error):
            return None
        return {h.strip() for h in header}, True
    value = parse_document(data, str(path)).data
    if isinstance(value, dict) and isinstance(value.get("rows"), list) and "kind" not in value \
            and len(value) == 1:
        value = value["rows"]
    if isinstance(value, list):
        fields: set[str] = set()
        for item in value:
            if isinstance(item, dict):
                fields |= {str(k) for k in item}
        return fields, True
    if isinstance(value, dict):
        return {str(k) for k in value}, False
    return None


def infer_kind(path: Path, data: bytes) -> str | None:
    """The schema kind of a file, or None when it is no govgate input."""
    from ..loaders.documents import parse_document, schema_kinds

    if path.name in KIND_BY_NAME:
        return KIND_BY_NAME[path.name]
    if path.name == "pyproject.toml":
        return "config"
    if path.suffix not in (".yaml", ".yml", ".json", ".csv"):
        return None
    if path.suffix != ".csv":
        try:
            value = parse_document(data, str(path)).data
        except GovgateError as exc:
            if _foreign_yaml(exc, data):
                return None
            raise
        if isinstance(value, dict) and isinstance(value.get("kind"), str) \
                and value["kind"] in schema_kinds():
            return str(value["kind"])
    shape = _columns(data, path)
    if shape is None:
        return None
    fields, is_table = shape
    docs, tables = _kinds()
    candidates = [k for k in (tables if is_table else docs) if _fits(k, fields)]
    if len(candidates) > 1:
        # Several schemas accept the fields: prefer the one whose name the file carries.
        named = [k for k in candidates if k.split("_")[0] in path.stem.lower()]
        candidates = named if len(named) == 1 else candidates
    return candidates[0] if len(candidates) == 1 else None


def _foreign_yaml(error: GovgateError, data: bytes) -> bool:
    """Whether a strict-parse failure is only YAML 1.1 reading a key as a boolean or number
    (GitHub workflows' ``on:``) in a file that declares no govgate ``kind``: such a file is
    someone else's, and the pre-commit hook must skip it rather than fail the commit."""
    import re

    if not error.message.startswith("key ") or not error.message.endswith("is not text: quote it"):
        return False
    return re.search(rb"^kind\s*:", data, re.MULTILINE) is None


def _declared_routes(cwd: Path) -> dict[str, Any] | None:
    """The owner routes (with default SLAs) of the project found from ``cwd``; None when there
    is none or it cannot be read (then the lesson's four apply, and an unknown route's error
    says how to declare it; ``govgate check`` reports what is wrong with the project)."""
    import dataclasses

    from ..config import find_config, load_config

    try:
        path = find_config(cwd)
        if path is None:
            return None
        config = load_config(path, cwd=cwd)
        if "policies" not in config.data and not (config.base / "policies").is_dir():
            return None
        from ..checks.fatigue import declared_route_slas
        from ..evaluation import Inputs
        from ..plugins import get_plugin_manager

        inputs = Inputs()
        inputs.put("hook", get_plugin_manager().hook)
        if "policies" not in config.data:  # the default folder, which exists (above)
            config = dataclasses.replace(config, data={**config.data, "policies": "policies"})
        return declared_route_slas(config, inputs)
    except GovgateError:
        return None


def validate_file(path: Path, kind: str | None, cwd: Path | None = None, *,
                  data: bytes | None = None, source: str | None = None) -> tuple[str, str]:
    """Validate one file: returns (``ok`` | ``skip``, detail); raises GovgateError when invalid.

    Errors name ``path`` as given (or ``source``); a relative one is read from ``cwd`` (default:
    the process's) unless its ``data`` is given (a reference read by a source).
    """
    from ..config import _pyproject_section
    from ..loaders.documents import load_schema, parse_document, validate
    from ..loaders.policies import parse_policy
    from ..loaders.tables import read_table
    from ..sources.files import DEFAULT_MAX_BYTES, read_input

    source = str(path) if source is None else source
    real = cwd / path if cwd is not None else path
    if data is None:
        # A regular file only, within the size cap: a FIFO or a device would never end.
        data = read_input(real, source, DEFAULT_MAX_BYTES)
    kind = kind or infer_kind(path, data)
    if kind is None:
        return "skip", "not a govgate input (pass --kind KIND to check it anyway)"
    schema = load_schema(kind)
    if path.name == "pyproject.toml":
        section = _pyproject_section(real)
        if section is None:
            return "skip", "no [tool.govgate] section"
        validate(section, "config", source)
        return "ok", "config ([tool.govgate])"
    if kind == "signer_ack_event":
        # The heat-map's own streaming loader, so validate refuses exactly what check refuses
        # (duplicate ids, an ack before its request, derived columns that disagree, ...).
        from ..fatigue.events import load_events

        log = load_events(real, source=source, pending=False,
                          default_sla=_declared_routes(cwd or Path.cwd()))
        return "ok", f"{kind}, {_rows(log.event_count)}"
    if _is_table_schema(schema):
        rows = read_table(data, source, kind)
        return "ok", f"{kind}, {_rows(len(rows))}"
    if "kind" in schema.get("properties", {}):
        policy = parse_policy(data, source)
        if policy.kind != kind:
            raise GovgateError(f"expected kind {kind!r}, found {policy.kind!r}", source=source,
                               where="/kind")
        return "ok", f"{kind} {policy.version}"
    doc = parse_document(data, source)
    validate(doc.data, kind, source, doc)
    return "ok", kind


def run(args: argparse.Namespace, session: Session) -> int:
    from ..loaders.documents import load_schema

    if args.kind is not None:
        load_schema(args.kind)  # an unknown --kind is a usage error before any file is read
    failed = skipped = 0
    for ref in args.files:
        try:
            status, detail = _validate_ref(ref, args.kind, session)
        except GovgateError as exc:
            failed += 1
            session.out.write(f"FAIL  {exc}\n")
            continue
        if status == "skip" and args.strict:
            failed += 1
            session.out.write(f"FAIL  {_name(ref)}: {detail}\n")
            continue
        skipped += status == "skip"
        session.out.write(f"{status:4}  {_name(ref)}: {detail}\n")
    total = len(args.files)
    session.out.write(f"{total} files: {total - failed - skipped} valid, {skipped} skipped, "
                      f"{failed} invalid\n")
    return ExitCode.USAGE_ERROR if failed else ExitCode.OK


def _name(ref: str) -> str:
    from ..sources.names import source_name

    return source_name(ref)


def _validate_ref(ref: str, kind: str | None, session: Session) -> tuple[str, str]:
    """A path is validated in place; any other reference is read through the sources first
    (see :mod:`govgate.sources.options`) and told apart by the name in its path."""
    from ..sources.options import is_local, read_option

    if is_local(ref):
        return validate_file(Path(ref.removeprefix("file://")), kind, session.cwd)
    from urllib.parse import urlsplit

    data = read_option(session, ref)
    name = Path(urlsplit(ref).path or "/").name or "export"
    if ref.partition("://")[0].lower() in ("postgresql", "postgres"):
        from ..sources.postgres import parse_ref

        name = f"{parse_ref(ref)[1].name}.csv"  # the table, which the source answers as CSV
    return validate_file(Path(name), kind, data=data, source=_name(ref))


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"
