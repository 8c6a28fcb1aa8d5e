"""The evidence manifest: what one run read, with what, and what it wrote (``manifest.json``).

A reviewer who holds the manifest can prove a run: every input file with its size and SHA-256,
the govgate and Python versions, the plugins that ran and the ones disabled, the block states and
waivers applied, the as-of instant, each output's SHA-256 and the ledger head after the run.
``govgate verify DIR`` re-runs the command from it and compares byte for byte.

The manifest is deterministic (no clock, no absolute path): paths of inputs are relative to the
configuration's folder (``project``, itself relative to the manifest's folder), written with
forward slashes. Its ``evidence_digest`` is SHA-256 of the canonical JSON (sorted keys, compact,
UTF-8) of every member except ``evidence_digest``, ``outputs``, ``exit_code`` and ``ledger``: the
part known before the outputs are written, which a document (the readback) can therefore cite.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import stat
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from .jsontext import pretty
from .sources import digests

if TYPE_CHECKING:
    import pluggy

    from .commands import Session
    from .config import Config
    from .evaluation import Evaluation
    from .model import GateResult
    from .reporters import ReportContext, Reporter

__all__ = [
    "DIGEST_EXCLUDED",
    "MANIFEST_FILE",
    "MANIFEST_KIND",
    "build_manifest",
    "canonical",
    "command_args",
    "digest_of",
    "evidence_digest",
    "finish_manifest",
    "input_entries",
    "input_files",
    "sha256_hex",
    "write_check_manifest",
]

MANIFEST_FILE = "manifest.json"
MANIFEST_KIND = "govgate_evidence_manifest"
#: Members the evidence digest does not cover (they are only known after the outputs).
DIGEST_EXCLUDED = frozenset({"evidence_digest", "outputs", "exit_code", "ledger"})

#: Per command, the options that change its outputs (replayed by ``govgate verify``).
_OPTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "check": (("format", "--format"), ("block_on", "--block-on")),
    "readback": (("quarter", "--quarter"), ("start", "--from"), ("end", "--to")),
    "review": (("month", "--month"), ("simulate", "--simulate")),
}


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical(obj: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the form every digest of the manifest is taken of."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _posix(path: str) -> str:
    return str(PurePosixPath(*Path(path).parts)) if path not in ("", ".") else "."


def _walk(path: Path, base: Path) -> list[tuple[str, str, os.stat_result]]:
    """The files in the folder ``path`` (or ``path`` itself), each as its path relative to
    ``base`` (``/`` separators), its path and its ``stat``: what ``path.rglob("*")`` finds that
    is a file, in no particular order (the entries are sorted by their relative path).

    ``os.scandir`` rather than ``rglob``: the same files (folder links listed, not entered;
    file links and hidden files included; unreadable folders skipped), without building and
    comparing a ``Path`` per file, which cost as much as hashing on a long schedule. Relative
    paths are built as text from the folder's.
    """
    found: list[tuple[str, str, os.stat_result]] = []
    if path.is_dir():
        rel_top = _posix(os.path.relpath(path, base))
        stack = [(str(path), "" if rel_top == "." else rel_top + "/")]
        while stack:
            folder, prefix = stack.pop()
            try:
                with os.scandir(folder) as listing:
                    entries = list(listing)
            except OSError:
                continue  # an unreadable folder is skipped, as rglob and os.walk skip it
            for entry in entries:
                try:
                    if entry.is_dir():
                        if not entry.is_symlink():  # a folder link is listed, not entered
                            stack.append((entry.path, f"{prefix}{entry.name}/"))
                        continue
                    st = entry.stat()
                except OSError:
                    continue  # a dangling link or a file gone: not a file (as is_file says)
                if stat.S_ISREG(st.st_mode):
                    found.append((prefix + entry.name, entry.path, st))
    elif path.is_file():
        found.append((_posix(os.path.relpath(path, base)), str(path), os.stat(path)))
    return found


def input_files(config: Config) -> list[tuple[str, str]]:
    """``(role, reference)`` of every input the configuration names, files and folders.

    Roles are the configuration's keys (``policies``, ``reconciliation.runs``, ...).
    """
    refs: list[tuple[str, str]] = []
    if config.path is not None:
        refs.append(("config", config.path.name))
    policies = config.data.get("policies", "policies")
    for ref in policies if isinstance(policies, list) else [policies]:
        refs.append(("policies", str(ref)))
    for section in ("reconciliation", "fatigue"):
        for key, ref in sorted(config.section(section).items()):
            if isinstance(ref, str):
                refs.append((f"{section}.{key}", ref))
    if isinstance(config.data.get("waivers"), str):
        refs.append(("waivers", str(config.data["waivers"])))
    return refs


def input_entries(config: Config,
                  extra: Iterable[tuple[str, Path]] = ()) -> list[dict[str, Any]]:
    """The manifest's ``inputs``: every file the configuration names (folders file by file) and
    ``extra`` files, each with its path relative to the configuration's folder, role, size and
    SHA-256, in path order."""
    entries: dict[str, dict[str, Any]] = {}
    for role, ref in input_files(config):
        if "://" in ref and not ref.startswith("file://"):
            # Not a file govgate can re-read byte for byte: named (as every output names a
            # source: no query string, no user-info), not digested.
            from .sources.names import source_name

            shown = source_name(ref)
            entries[shown] = {"path": shown, "role": role, "size": None, "sha256": None}
            continue
        target = config.base / ref.removeprefix("file://")
        files = _walk(target, config.base)
        if not files:
            entries[_posix(ref)] = {"path": _posix(ref), "role": role, "size": None,
                                    "sha256": None}
        for rel, file, st in files:
            entries[rel] = _digest(rel, role, file, st)
    for role, extra_file in extra:
        rel = _posix(os.path.relpath(extra_file, config.base))
        entries[rel] = _digest(rel, role, str(extra_file), None)
    return [entries[k] for k in sorted(entries)]


def _digest(rel: str, role: str, file: str, st: os.stat_result | None) -> dict[str, Any]:
    try:
        # A file the loaders read and that is unchanged since: the digest of those bytes.
        info = st if st is not None else os.stat(file)
        known = digests.known(info)
        if known is not None:
            return {"path": rel, "role": role, "size": info.st_size, "sha256": known}
        with open(file, "rb") as handle:
            # Streamed through a fixed buffer: an event export of many megabytes is not held
            # (and paged in) whole just to be digested.
            digest = hashlib.file_digest(handle, "sha256")
            size = handle.tell()
    except OSError as exc:
        from .errors import GovgateError

        raise GovgateError(f"cannot read: {exc.strerror or exc}", source=rel) from None
    return {"path": rel, "role": role, "size": size, "sha256": digest.hexdigest()}


def command_args(name: str, options: Mapping[str, Any]) -> list[str]:
    """The command's own arguments that shape its outputs, as a command line."""
    args: list[str] = []
    for attr, flag in _OPTIONS.get(name, ()):
        value = options.get(attr)
        if value is None or value == []:
            continue
        for item in value if isinstance(value, list) else [value]:
            text = str(item)
            if "://" in text:  # a reference (--events, --simulate): never its secrets
                from .sources.names import source_name

                text = source_name(text)
            args += [flag, text]
    return args


def _block_states(config: Config, evaluation: Evaluation | None) -> list[str] | None:
    configured = config.data.get("block_states")
    if configured is not None:
        return sorted(str(s) for s in configured)
    recon = evaluation.inputs.get("reconciliation") if evaluation is not None else None
    policy = getattr(recon, "policy", None)
    return sorted(policy.block_states) if policy is not None else None


def build_manifest(session: Session, config: Config, command: str, output: Path, *,
                   evaluation: Evaluation | None = None, result: GateResult | None = None,
                   extra_inputs: Iterable[tuple[str, Path]] = ()) -> dict[str, Any]:
    """Everything but the outputs: the part a document can cite by its evidence digest."""
    from . import __version__
    from .timeutil import format_instant
    from .weakened import of_session

    pm: pluggy.PluginManager = session.pm
    waived = sorted({(f.waived_by, f.rule, f.subject) for f in (result.findings if result else ())
                     if f.waived_by is not None})
    manifest: dict[str, Any] = {
        "kind": MANIFEST_KIND,
        "manifest_version": 1,
        "command": {"name": command, "args": command_args(command, session.options),
                    "plugin_args": list(session.plugins)},
        "as_of": format_instant(session.as_of),
        "govgate_version": __version__,
        "python_version": platform.python_version(),
        "project": _posix(os.path.relpath(config.base, output)),
        "config": config.path.name if config.path else None,
        "inputs": input_entries(config, extra_inputs),
        "plugins": {"loaded": sorted(str(name) for name, plugin in pm.list_name_plugin()
                                     if plugin is not None),
                    "disabled": of_session(pm, config)},
        "block_states": _block_states(config, evaluation),
        "waivers_applied": [{"audit_id": a, "rule": r, "subject": s} for a, r, s in waived],
    }
    manifest["evidence_digest"] = evidence_digest(manifest)
    return manifest


def evidence_digest(manifest: Mapping[str, Any]) -> str:
    return sha256_hex(canonical({k: v for k, v in manifest.items()
                                 if k not in DIGEST_EXCLUDED}))


def digest_of(name: str, data: bytes) -> dict[str, Any]:
    return {"path": name, "size": len(data), "sha256": sha256_hex(data)}


def finish_manifest(manifest: dict[str, Any], config: Config,
                    outputs: Sequence[dict[str, Any]], exit_code: int) -> bytes:
    """The manifest's bytes with the outputs, the exit code and the ledger head after the run."""
    from .ledger_store import PG_SCHEMES, ledger_reference, open_ledger

    store = open_ledger(config)
    report = store.verify()
    # A file ledger by its path in the project; a PostgreSQL ledger as messages name it (never
    # a password: see ledger_store).
    where = (store.describe() if ledger_reference(config).startswith(PG_SCHEMES)
             else _posix(os.path.relpath(config.ledger_path, config.base)))
    full = {
        **manifest,
        "outputs": sorted(outputs, key=lambda o: str(o["path"])),
        "exit_code": exit_code,
        "ledger": {"path": where,
                   "seq": report.count, "record_hash": report.head, "intact": report.ok},
    }
    return (pretty(full, sort_keys=True) + "\n").encode()


def write_check_manifest(session: Session, config: Config, output: Path,
                         result: GateResult, evaluation: Evaluation,
                         reporters: Sequence[Reporter], always: Sequence[Reporter],
                         context: ReportContext) -> None:
    """``manifest.json`` of a ``govgate check`` run, from the files it just wrote.

    What the command printed is not an output of record: it is one of the written reports (or
    the text summary, which names the output folder and so depends on where it was written).
    """
    from .fsutil import write_atomic
    from .writing import RESULT_FILE

    manifest = build_manifest(session, config, "check", output, evaluation=evaluation,
                              result=result)
    names = {RESULT_FILE, *(r.filename for r in [*reporters, *always] if r.filename)}
    outputs = [digest_of(name, (output / name).read_bytes()) for name in sorted(names)]
    outputs += [digest_of(f"artifacts/{name}", data)
                for name, data in sorted(evaluation.artifacts.items())]
    code = 0 if result.passed else 1
    write_atomic(output / MANIFEST_FILE, finish_manifest(manifest, config, outputs, code))
