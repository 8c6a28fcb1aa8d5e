"""``govgate verify DIR``: prove runs from their evidence manifests, byte for byte.

Checks, in order, and stops at the first difference (exit 1, naming it):

1. the manifest's ``evidence_digest`` matches its content (the manifest was not edited);
2. every recorded input still has its size and SHA-256, and the configuration names no input
   the run did not read;
3. every recorded output file in DIR still has its SHA-256;
4. the ledger still holds the recorded head (the record at ``seq`` hashes to ``record_hash``);
5. the command, re-run from the recorded inputs at the recorded as-of into a scratch folder
   beside DIR (without delivery), writes byte-identical outputs and exits with the same code.

A manifest that cannot be read or lacks a member is bad input (exit 2).
"""

from __future__ import annotations

import argparse
import io
import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ExitCode, GovgateError

if TYPE_CHECKING:
    from . import Session

NAME = "verify"
HELP = ("re-run a recorded evaluation from DIR/manifest.json and check that every input and "
        "output is byte-identical")

_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "kind": str, "manifest_version": int, "command": dict, "as_of": str, "project": str,
    "config": str, "inputs": list, "outputs": list, "exit_code": int, "ledger": dict,
    "evidence_digest": str, "plugins": dict,
}


_HASH = re.compile(r"[0-9a-f]{64}")
_MANIFEST_MAX_BYTES = 64 * 1024 * 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class _Different(Exception):
    """The first difference found; its message is the report."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", metavar="DIR",
                        help="an output folder (every manifest.json and NAME.manifest.json in "
                             "it is verified) or one manifest file")


def _load(path: Path) -> dict[str, Any]:
    from ..manifest import MANIFEST_KIND
    from ..sources.files import read_input

    raw = read_input(path, str(path), _MANIFEST_MAX_BYTES)  # a regular file: a FIFO never ends
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        # ValueError: not JSON, not UTF-8, or an integer past Python's digit limit; a deep nest
        # is a RecursionError. None is a manifest govgate wrote.
        raise GovgateError(f"not a JSON manifest: {type(exc).__name__}", source=str(path)
                           ) from None
    if not isinstance(data, dict):
        raise GovgateError("expected a JSON object", source=str(path))
    for key, kind in _REQUIRED.items():
        if not isinstance(data.get(key), kind) or isinstance(data.get(key), bool):
            raise GovgateError(f"expected member {key!r} ({getattr(kind, '__name__', kind)})",
                               source=str(path), where=f"/{key}")
    if data["kind"] != MANIFEST_KIND or data["manifest_version"] != 1:
        raise GovgateError(f"expected kind {MANIFEST_KIND} version 1", source=str(path),
                           where="/kind")
    command = data["command"]
    if not isinstance(command.get("name"), str) or not all(
            isinstance(command.get(k), list) and all(isinstance(a, str) for a in command[k])
            for k in ("args", "plugin_args")):
        raise GovgateError("expected name, args and plugin_args", source=str(path),
                           where="/command")
    for pointer in ("inputs", "outputs"):
        for i, entry in enumerate(data[pointer]):
            if not (isinstance(entry, dict) and isinstance(entry.get("path"), str)
                    and (entry.get("sha256") is None or isinstance(entry.get("sha256"), str))):
                raise GovgateError("expected an object with path and sha256", source=str(path),
                                   where=f"/{pointer}/{i}")
    head = data["ledger"]
    seq = head.get("seq")
    if not (isinstance(head.get("path"), str) and isinstance(seq, int)
            and not isinstance(seq, bool) and seq >= 0
            and isinstance(head.get("record_hash"), str)
            and _HASH.fullmatch(head["record_hash"])):
        raise GovgateError("expected path, seq (a whole number, 0 or more) and record_hash "
                           "(64 hexadecimal digits)", source=str(path), where="/ledger")
    # Every path the checks open or print: a NUL cannot name a file, a control character
    # would reach the terminal in the report.
    texts = [("/project", data["project"]), ("/config", data["config"]),
             ("/ledger/path", head["path"]),
             *((f"/{p}/{i}/path", e["path"]) for p in ("inputs", "outputs")
               for i, e in enumerate(data[p]))]
    for where, text in texts:
        if _CONTROL.search(text):
            raise GovgateError("expected a path without control characters", source=str(path),
                               where=where)
    return data


def _sha(data: bytes) -> str:
    from ..manifest import sha256_hex

    return sha256_hex(data)


def _inside(root: Path, rel: str, what: str, *, outside: bool = False) -> Path:
    """``rel`` under ``root``; a recorded path may not be absolute, nor lead out of ``root``
    unless ``outside`` (an input a project reads from beyond its folder, ``allow_outside``)."""
    if rel.startswith("/") or (not outside and ".." in Path(rel).parts):
        raise _Different(f"{what} {rel}: a recorded path must stay inside its folder")
    return (root / rel).resolve()


def _file_sha(path: Path, what: str) -> str:
    """SHA-256 of the regular file ``path``, read in blocks; anything else is a difference
    (a FIFO would block for ever, a device would never end)."""
    import hashlib

    from ..sources.files import open_input

    try:
        with open_input(path, what, 1 << 62) as handle:
            digest = hashlib.sha256()
            while block := handle.read(1 << 20):
                digest.update(block)
    except GovgateError as exc:
        raise _Different(f"{what} is missing or not a regular file ({exc.message})") from None
    except OSError as exc:
        raise _Different(f"{what} cannot be read ({exc.strerror or 'I/O error'})") from None
    return digest.hexdigest()


def _check_inputs(manifest: dict[str, Any], project: Path) -> None:
    from ..config import load_config
    from ..manifest import input_entries

    for entry in manifest["inputs"]:
        rel = entry["path"]
        if entry.get("sha256") is None:
            raise _Different(f"input {rel} was not read from a local file (remote or missing at "
                             "the run): it cannot be verified byte for byte")
        digest = _file_sha(_inside(project, rel, "input", outside=True), f"input {rel}")
        if digest != entry["sha256"]:
            raise _Different(f"input {rel} was edited: sha256 {digest}, recorded "
                             f"{entry['sha256']}")
    config = load_config(project / manifest["config"], cwd=project)
    recorded = {e["path"] for e in manifest["inputs"]}
    for entry in input_entries(config):
        if entry["path"] not in recorded and entry.get("sha256") is not None:
            raise _Different(f"input {entry['path']} was not part of the recorded run")


def _check_outputs(manifest: dict[str, Any], folder: Path) -> None:
    for entry in manifest["outputs"]:
        digest = _file_sha(_inside(folder, entry["path"], "output"), f"output {entry['path']}")
        if digest != entry["sha256"]:
            raise _Different(f"output {entry['path']} was edited: sha256 {digest}, "
                             f"recorded {entry['sha256']}")


def _check_ledger(manifest: dict[str, Any], project: Path) -> None:
    from ..config import load_config
    from ..ledger import ZERO_HASH, Ledger
    from ..ledger_store import PG_SCHEMES, LedgerStore, open_ledger

    head = manifest["ledger"]
    seq, record_hash, where = head.get("seq"), head.get("record_hash"), head.get("path")
    if not isinstance(seq, int) or not isinstance(record_hash, str) or not isinstance(where, str):
        raise GovgateError("expected path, seq and record_hash", source="manifest.json",
                           where="/ledger")
    store: LedgerStore
    if where.startswith(("env:", *PG_SCHEMES)):
        # A PostgreSQL ledger is named as messages name it (never its password): it is found
        # where the project's configuration keeps it, and must be the one the manifest names.
        store = open_ledger(load_config(project / manifest["config"], cwd=project))
        if store.describe() != where:
            raise _Different(f"the configuration's ledger is {store.describe()}, the run's was "
                             f"{where}")
    else:
        ledger_path = _inside(project, where, "ledger")
        if ledger_path.exists() and not ledger_path.is_file():
            raise _Different(f"ledger {where} is not a regular file")  # a FIFO would block
        store = Ledger(ledger_path)
    report = store.verify()
    if not report.ok:
        raise _Different(f"ledger {where} is broken at line "
                         f"{report.first_bad_line}: {report.problem}")
    if seq == 0:
        if record_hash != ZERO_HASH:
            raise _Different("ledger head: seq 0 must have the zero hash")
        return
    lines = store.raw().split(b"\n")
    if seq > report.count or _sha(lines[seq - 1]) != record_hash:
        raise _Different(f"ledger {where} no longer holds the recorded head: record "
                         f"{seq} should hash to {record_hash}")


def _rerun(manifest: dict[str, Any], project: Path, scratch: Path) -> int:
    from ..cli import main

    command = manifest["command"]
    argv = ["--as-of", manifest["as_of"], "-c", str(project / manifest["config"])]
    for plugin in command["plugin_args"]:
        argv += ["-p", plugin]
    argv += [command["name"], *command["args"], "-o", str(scratch)]
    if command["name"] in ("check", "readback", "review"):
        argv.append("--no-deliver")
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, out=out, err=err, cwd=project)
    if code in (ExitCode.USAGE_ERROR, ExitCode.INTERNAL_ERROR):
        raise _Different(f"the re-run failed (exit {int(code)}): {err.getvalue().strip()}")
    return int(code)


def _compare(manifest: dict[str, Any], scratch: Path, code: int) -> None:
    if code != manifest["exit_code"]:
        raise _Different(f"the re-run exits {code}, recorded {manifest['exit_code']}")
    for entry in manifest["outputs"]:
        name = entry["path"]
        digest = _file_sha(_inside(scratch, name, "output"), f"output {name} of the re-run")
        if digest != entry["sha256"]:
            raise _Different(f"output {name} differs on re-run: sha256 {digest}, "
                             f"recorded {entry['sha256']}")


def manifests_in(target: Path) -> list[Path]:
    """``target`` itself when it is a file, else every manifest in the folder: ``manifest.json``
    of ``govgate check`` and ``NAME.manifest.json`` of each document."""
    from ..manifest import MANIFEST_FILE

    if target.is_file():
        return [target]
    if not target.is_dir():
        raise GovgateError("no such folder or manifest file", source=str(target))
    found = sorted(p for p in target.iterdir()
                   if p.name == MANIFEST_FILE or p.name.endswith("." + MANIFEST_FILE))
    if not found:
        raise GovgateError(f"no {MANIFEST_FILE} (nor NAME.{MANIFEST_FILE}) in this folder",
                           source=str(target))
    return found


def verify(path: Path) -> str:
    """Run every check of one manifest; return the success line, raise :class:`_Different`."""
    from ..manifest import evidence_digest

    folder = path.parent
    manifest = _load(path)
    if evidence_digest(manifest) != manifest["evidence_digest"]:
        raise _Different("manifest.json was edited: its evidence_digest does not match its "
                         "content")
    project = (folder / manifest["project"]).resolve()
    _check_inputs(manifest, project)
    _check_outputs(manifest, folder)
    _check_ledger(manifest, project)
    # Beside DIR, so that links from the outputs to the ledger come out the same.
    scratch = Path(tempfile.mkdtemp(prefix=".govgate-verify-", dir=folder.resolve().parent))
    try:
        _compare(manifest, scratch, _rerun(manifest, project, scratch))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    n = len(manifest["outputs"])
    return (f"verified {path.name}: {len(manifest['inputs'])} inputs unchanged, {n} outputs "
            f"byte-identical on re-run at {manifest['as_of']}, ledger head "
            f"{manifest['ledger']['seq']} intact")


def run(args: argparse.Namespace, session: Session) -> int:
    paths = manifests_in(session.cwd / args.dir)
    # Every manifest is read before anything is re-run: a malformed one is exit 2 up front.
    for path in paths:
        _load(path)
    for path in paths:
        try:
            line = verify(path)
        except _Different as exc:
            # One line: the re-run's error or a recorded value must not forge or colour lines.
            text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(exc))
            session.out.write(f"verify FAILED: {path.name}: {text}\n")
            return ExitCode.GATE_BLOCKED
        session.out.write(line + "\n")
    return ExitCode.OK
