"""Versioned policy documents: every file declares its ``kind`` and a semver ``version``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import GovgateError
from ..semver import parse_semver
from ..timeutil import parse_instant
from .documents import Document, parse_document, policy_kinds, validate
from .io import read_ref

if TYPE_CHECKING:
    import pluggy

    from ..config import Config

POLICY_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class PolicyDoc:
    """One version of one policy kind."""

    kind: str
    version: str
    key: tuple[int, int, int]
    approved_dt_utc: datetime | None
    document: Document

    @property
    def data(self) -> Any:
        return self.document.data

    @property
    def source(self) -> str:
        return self.document.source


@dataclass(frozen=True)
class PolicySet:
    """All policy documents of a project, by kind and version."""

    docs: tuple[PolicyDoc, ...]

    def of_kind(self, kind: str) -> list[PolicyDoc]:
        return sorted((d for d in self.docs if d.kind == kind), key=lambda d: d.key)

    def get(self, kind: str, version: str) -> PolicyDoc | None:
        return next((d for d in self.docs if d.kind == kind and d.version == version), None)

    def active(self, kind: str, as_of: datetime) -> PolicyDoc | None:
        """The highest version of ``kind`` approved at or before ``as_of``; a draft (no
        ``approved_dt_utc``) is never in force."""
        candidates = [
            d for d in self.of_kind(kind)
            if d.approved_dt_utc is not None and d.approved_dt_utc <= as_of
        ]
        return candidates[-1] if candidates else None


def parse_policy(data: bytes, source: str) -> PolicyDoc:
    """Parse and validate one policy document (its schema is chosen by its ``kind``)."""
    doc = parse_document(data, source)
    if not isinstance(doc.data, dict) or not isinstance(doc.data.get("kind"), str):
        raise GovgateError("a policy document must be a mapping with a 'kind'", source=source,
                           where="/kind")
    kind = doc.data["kind"]
    if kind not in policy_kinds():
        line = doc.line_of("/kind")
        raise GovgateError(
            f"unknown policy kind {kind!r} (expected one of {', '.join(policy_kinds())})",
            source=source, where=f"line {line}, /kind" if line else "/kind",
        )
    validate(doc.data, kind, source, doc)
    key = parse_semver(doc.data["version"], source=source, where="/version")
    approved = doc.data.get("approved_dt_utc")
    approved_at = (
        parse_instant(approved, source=source, where="/approved_dt_utc") if approved else None
    )
    return PolicyDoc(kind, doc.data["version"], key, approved_at, doc)


def load_policies(config: Config, hook: pluggy.HookRelay) -> PolicySet:
    """Load every policy file under the configured ``policies`` folder (or listed files)."""
    setting = config.data.get("policies", "policies")
    refs: list[str]
    if isinstance(setting, list):
        refs = [str(s) for s in setting]
    else:
        from ..sources.files import kind_of, resolve_path

        # Refused before it is listed: a folder outside the project is not walked at all.
        folder = resolve_path(str(setting), config.base, config.section("sources"))
        if kind_of(folder, str(setting)) != "folder":
            raise GovgateError("policies folder not found", source=str(setting))
        refs = sorted(relative(config, p) for p in policy_files(folder, str(setting)))
    docs = [parse_policy(read_ref(config, hook, ref), ref) for ref in refs]
    seen: dict[tuple[str, str], str] = {}
    for d in docs:
        previous = seen.setdefault((d.kind, d.version), d.source)
        if previous != d.source:
            raise GovgateError(
                f"{d.kind} version {d.version} is also defined in {previous}",
                source=d.source, where="/version",
            )
    return PolicySet(tuple(docs))


def policy_files(folder: Path, ref: str) -> list[Path]:
    """Every policy file under ``folder``; what cannot be listed or followed is an error.

    A policy that is not read cannot decide a run, so nothing is skipped: a sub-folder that
    cannot be listed (no permission), a sub-folder that is a symbolic link (it could lead
    anywhere, and ``rglob`` would silently not follow it), a link that leads nowhere and a
    ``*.yaml`` that is not a regular file (a FIFO, a device) all stop the run with exit 2.
    A symbolic link to a file is read like any reference (inside the project only).
    """
    import os
    import stat

    found: list[Path] = []
    pending = [folder]
    while pending:
        current = pending.pop()
        try:
            with os.scandir(current) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            raise GovgateError("cannot list this folder: "
                               f"{exc.strerror or 'I/O error'}",
                               source=_shown(ref, folder, current)) from None
        for entry in entries:
            path = Path(entry.path)
            try:
                if entry.is_symlink():
                    target = os.stat(path).st_mode  # FileNotFoundError for a dangling link
                    if stat.S_ISDIR(target):
                        raise GovgateError(f"{entry.name} is a symbolic link to a folder "
                                           "(policies are not looked for through links)",
                                           source=_shown(ref, folder, path))
                    mode = target
                else:
                    mode = entry.stat(follow_symlinks=False).st_mode
            except OSError as exc:
                raise GovgateError(f"cannot read {entry.name}: {exc.strerror or 'I/O error'}",
                                   source=_shown(ref, folder, path)) from None
            if stat.S_ISDIR(mode):
                pending.append(path)
            elif path.suffix in POLICY_SUFFIXES:
                if not stat.S_ISREG(mode):
                    raise GovgateError("a policy file must be a regular file",
                                       source=_shown(ref, folder, path))
                found.append(path)
    return found


def _shown(ref: str, folder: Path, path: Path) -> str:
    """``path`` as the configuration would name it (never the machine's absolute path)."""
    inner = path.relative_to(folder).as_posix()
    return ref if inner == "." else f"{ref.rstrip('/')}/{inner}"


def relative(config: Config, path: Path) -> str:
    # as_posix: a policy's name appears in results and reports, the same bytes on Windows.
    return (path.relative_to(config.base).as_posix() if path.is_relative_to(config.base)
            else str(path))
