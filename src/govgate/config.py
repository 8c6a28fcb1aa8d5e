"""Find and read the project configuration, the way pytest finds its ini file.

``govgate.yaml`` (or ``.govgate.yaml``) in the current folder or a parent, else ``[tool.govgate]``
in a ``pyproject.toml``; ``-c FILE`` names one explicitly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import GovgateError

CONFIG_NAMES = ("govgate.yaml", ".govgate.yaml")


@dataclass(frozen=True)
class Config:
    """The validated configuration of one run."""

    #: The configuration file, or None when running on bare inputs (``govgate heatmap --events``).
    path: Path | None
    #: Relative references resolve against this folder.
    base: Path
    data: Mapping[str, Any] = field(default_factory=dict)
    #: Command-line options of the run (plugins may read their own).
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def source_name(self) -> str:
        return self.path.name if self.path else "<no config>"

    def section(self, name: str) -> Mapping[str, Any]:
        value = self.data.get(name) or {}
        return value if isinstance(value, Mapping) else {}

    def path_of(self, ref: str, what: str = "paging.outbox", *, folder: bool = False) -> Path:
        """A local output path (output folder, ledger, outbox) resolved against the config's
        folder, which it may not leave, through no symbolic link (see :mod:`govgate.paths`)."""
        from .paths import config_output

        return config_output(ref, self.base, what=what, folder=folder)

    @property
    def output_dir(self) -> Path:
        return self.path_of(str(self.data.get("output", "govgate-out")), "output", folder=True)

    @property
    def ledger_path(self) -> Path:
        return self.path_of(str(self.data.get("ledger", ".govgate/ledger.jsonl")), "ledger")


def find_config(start: Path) -> Path | None:
    """Return the nearest configuration file at or above ``start``."""
    for folder in (start, *start.parents):
        for name in CONFIG_NAMES:
            if (folder / name).is_file():
                return folder / name
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and _pyproject_section(pyproject) is not None:
            return pyproject
    return None


def _pyproject_section(path: Path) -> dict[str, Any] | None:
    import tomllib

    from .sources.files import DEFAULT_MAX_BYTES, read_input

    try:  # a regular file only, within the size cap: a FIFO or a device would never end
        data = tomllib.loads(read_input(path, str(path), DEFAULT_MAX_BYTES).decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise GovgateError(f"cannot read TOML: {exc}", source=str(path)) from None
    except RecursionError:  # tomllib nests recursively
        raise GovgateError("cannot read TOML: nested too deeply", source=str(path)) from None
    except ValueError:  # int() of a number of more than 4,300 digits
        raise GovgateError("cannot read TOML: a number has too many digits",
                           source=str(path)) from None
    section = data.get("tool", {}).get("govgate")
    return section if isinstance(section, dict) else None


def load_config(
    path: Path | None, *, cwd: Path, options: Mapping[str, Any] | None = None
) -> Config:
    """Read and validate the configuration file (found from ``cwd`` when ``path`` is None)."""
    from .loaders.documents import parse_document, validate

    options = dict(options or {})
    if path is None:
        path = find_config(cwd)
        if path is None:
            raise GovgateError(
                "no configuration found: create govgate.yaml (or [tool.govgate] in "
                "pyproject.toml) or pass -c FILE",
                source=str(cwd),
            )
    else:
        from .sources.files import kind_of

        if kind_of(path, str(path)) != "file":
            raise GovgateError("configuration file not found", source=str(path))
    doc = None
    if path.name == "pyproject.toml":
        data: Any = _pyproject_section(path) or {}
    else:
        from .sources.files import DEFAULT_MAX_BYTES, read_input

        # A regular file only, within the size cap: a FIFO or a device would never end.
        raw = read_input(path, str(path), DEFAULT_MAX_BYTES)
        doc = parse_document(raw, str(path))  # its lines name the place
        data = doc.data
    validate(data, "config", str(path), doc)
    _check_references(data, str(path), doc)
    from .weakened import check_declarations

    check_declarations(data, str(path), doc)
    return Config(path=path.resolve(), base=path.resolve().parent, data=data, options=options)


def _check_references(data: Any, source: str, doc: Any) -> None:
    """Every text of the configuration can be a path or a URL: refuse what neither can hold.

    A NUL byte would be cut by the operating system (or raise deep in a source), and a URL that
    does not parse (an unclosed ``[``, a port that is not a number) would fail only when a
    source or sink uses it, after other work was done.
    """
    from urllib.parse import urlsplit

    from .loaders.documents import pointer

    def fail(parts: list[str | int], message: str) -> GovgateError:
        ptr = pointer(parts)
        line = doc.line_of(ptr) if doc is not None else None
        return GovgateError(message, source=source,
                            where=f"line {line}, {ptr}" if line else ptr)

    def walk(node: Any, parts: list[str | int]) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                walk(value, [*parts, str(key)])
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, [*parts, index])
        elif isinstance(node, str):
            if "\x00" in node:
                raise fail(parts, "contains a NUL byte, which no path or URL can hold")
            if "://" in node:
                try:
                    urlsplit(node).port  # noqa: B018 - raises ValueError when malformed
                except ValueError:
                    raise fail(parts, "malformed URL (an unclosed bracket, a port that is not "
                                      "a number, ...)") from None

    walk(data, [])
