"""Issuing a closed period's document: its digest in the ledger, and "amended" when late data
changed it.

A readback (or a monthly review) for a period that has closed is a document a partner keeps.
When it is issued with delivery, a ``document_issue`` ledger record holds the SHA-256 of its
files, of its facts (the JSON data before this section) and of each part of them. Regenerated
later:

* with the same facts, it renders from the latest record and so has the same bytes;
* with other facts (late rows arrived), it says **amended**, with the date of the first issue,
  the original digest (of the first issue's markdown file) and the parts that changed; issued
  with delivery, the amendment is recorded in turn.

Only records dated at or before the as-of instant count (an issue after T is not known at T).
A period still open, or a closed one generated without delivery and never issued, is marked
provisional or not issued: nothing is recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..manifest import canonical, sha256_hex
from ..model import LedgerRecord
from ..timeutil import format_instant
from . import md

if TYPE_CHECKING:
    from ..commands import Session
    from ..config import Config
    from ..ledger_store import LedgerStore
    from .periods import Period
    from .snapshots import Snapshot

__all__ = ["KIND", "Issue", "decide_issue", "manifest_name", "publish", "record_for",
           "render_evidence"]

KIND = "document_issue"


@dataclass(frozen=True)
class Issue:
    """What the evidence section says, and the record to append when it is a new issue."""

    #: Rendered into the document (JSON values only); from the ledger when already issued.
    info: dict[str, Any]
    #: Set when this run issues a new version (first issue or amendment).
    new: dict[str, Any] | None
    #: How many issues of the document were known at the run (the new one's place).
    number: int = 0


def parts_of(data: Mapping[str, Any]) -> dict[str, str]:
    """SHA-256 of each part of the facts, two levels deep (``fatigue.promotes``, ...)."""
    parts: dict[str, str] = {}
    for key, value in sorted(data.items()):
        if isinstance(value, Mapping) and value:
            for sub, inner in sorted(value.items()):
                parts[f"{key}.{sub}"] = sha256_hex(canonical(inner))
        else:
            parts[key] = sha256_hex(canonical(value))
    return parts


def decide_issue(ledger: LedgerStore, name: str, data: Mapping[str, Any], *, closed: bool,
                 as_of: datetime, evidence_digest: str, deliver: bool) -> Issue:
    """The issue state of document ``name`` whose facts are ``data``."""
    facts = sha256_hex(canonical(data))
    if not closed:
        return Issue({"status": "provisional", "evidence_digest": evidence_digest}, None)
    records = [r for r in ledger.records()
               if r.kind == KIND and r.data.get("document") == name and r.at <= as_of]
    if records and records[-1].data.get("facts_sha256") == facts:
        return Issue(dict(records[-1].data["issue"]), None)
    if not deliver:
        info: dict[str, Any] = {"status": "not issued", "evidence_digest": evidence_digest}
        if records:
            first = records[0].data
            info.update(first_issued_at=first["issue"]["issued_at"],
                        original_sha256=first["files"].get(f"{name}.md"),
                        changed=_changed(first["parts"], parts_of(data)))
        return Issue(info, None)
    info = {"status": "issued", "issued_at": format_instant(as_of),
            "evidence_digest": evidence_digest}
    if records:
        first = records[0].data
        info.update(status="amended", first_issued_at=first["issue"]["issued_at"],
                    original_sha256=first["files"].get(f"{name}.md"),
                    changed=_changed(first["parts"], parts_of(data)))
    return Issue(info, {"document": name, "facts_sha256": facts, "parts": parts_of(data),
                        "issue": info}, len(records))


def _changed(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


def record_for(issue: Issue, files: Mapping[str, bytes], as_of: datetime) -> LedgerRecord | None:
    """The ledger record of a new issue, with the digests of the files as written."""
    if issue.new is None:
        return None
    data = {**issue.new, "files": {n: sha256_hex(b) for n, b in sorted(files.items())}}
    # The facts alone are not an issue's identity: late data, then its correction, brings an
    # earlier version's facts back, and that amendment must be recorded too. Its place among
    # the issues makes it a new key; two runs issuing the same facts at the same place (a
    # re-run, a concurrent run) still share one. The first issue keeps the plain key.
    key = f"{KIND}:{issue.new['document']}:{issue.new['facts_sha256']}"
    if issue.number:
        key += f":{issue.number}"
    return LedgerRecord(KIND, key, as_of, data)


def render_evidence(info: Mapping[str, Any], canonical_rows: str | None,
                    json_name: str = "") -> str:
    """The document's evidence section (markdown), appended after its last section.

    The heat-map rows are pointed to, not copied: their canonical text must stay exact for the
    hash, and a signer id can start like a spreadsheet formula, which no markdown line of a
    govgate document may (the JSON holds them, where no spreadsheet reads them as cells).
    """
    status = info["status"]
    if status == "issued":
        line = f"Issued at {md.code(info['issued_at'])}; its digest is recorded in the ledger."
    elif status == "amended":
        changed = ", ".join(md.code(c) for c in info.get("changed") or ()) or "none"
        line = (f"**Amended** at {md.code(info['issued_at'])}: late data changed this document "
                f"after its first issue at {md.code(info['first_issued_at'])} (original "
                f"SHA-256 {md.code(info.get('original_sha256') or 'unknown')}). Changed: "
                f"{changed}.")
    elif status == "not issued":
        line = "Not issued (generated without delivery); nothing is recorded in the ledger."
        if info.get("first_issued_at"):
            changed = ", ".join(md.code(c) for c in info.get("changed") or ()) or "none"
            line += (f" It differs from the issue of {md.code(info['first_issued_at'])} "
                     f"(SHA-256 {md.code(info.get('original_sha256') or 'unknown')}) in: "
                     f"{changed}.")
    else:
        line = "Provisional: the period is still open at the evaluation; nothing is recorded."
    lines = ["", md.heading(2, "Evidence"), "", line, "",
             f"Evidence manifest digest: {md.code(info['evidence_digest'])} (the "
             "`evidence_digest` of the `.manifest.json` file named after this document, which "
             "lists every input with its SHA-256)."]
    if canonical_rows is not None:
        count = canonical_rows.count("\n") - 1
        # With no ack event in the 14 days before the refresh the heat-map has no row (every
        # signer then counts as green): say so, or "0 rows" beside "8 green" reads as an error.
        covered = (f"The {count} heat-map {'row' if count == 1 else 'rows'} the snapshot hash "
                   "covers are" if count else "The snapshot hash covers the header line only (no "
                   "signer had an ack event in the 14 days before the refresh); it is")
        lines += ["", f"{covered} in {md.code(json_name)} as `fatigue.snapshot_canonical_form`: "
                  "the snapshot hash is the SHA-256 of exactly that text (UTF-8, each line "
                  "ending in a line feed)."]
    return "\n".join(lines) + "\n"


def _amended_note(info: Mapping[str, Any]) -> str:
    """A reader must not reach the end to learn that the figures differ from the first issue."""
    if info["status"] == "amended":
        return (f"> **Amended** at {md.code(info['issued_at'])}: late data changed this document "
                f"after its first issue at {md.code(info['first_issued_at'])}; what changed is "
                "under *Evidence* at the end.\n\n")
    if info["status"] == "not issued" and info.get("first_issued_at"):
        return (f"> **Differs from the issue of {md.code(info['first_issued_at'])}**; what "
                "changed is under *Evidence* at the end.\n\n")
    return ""


def _under_title(markdown: str, note: str) -> str:
    head, sep, rest = markdown.partition("\n\n")
    if not note:
        return markdown
    if head.startswith("# ") and sep:
        return f"{head}\n\n{note}{rest}"
    return note + markdown


def manifest_name(name: str) -> str:
    """A document's manifest file: beside it, named after it (one folder holds many)."""
    return f"{name}.manifest.json"


def publish(session: Session, config: Config, output: Path, *, command: str, name: str,
            data: dict[str, Any], markdown: str, period: Period, snapshot: Snapshot,
            files: Mapping[str, str | bytes] | None = None, canonical_rows: str | None = None,
            deliver: bool = True, extra_inputs: Sequence[tuple[str, Path]] = ()) -> str:
    """Write ``name``.md/.json (with the evidence section), ``files`` and the manifest; record a
    new issue of a closed period in the ledger when ``deliver``. Returns the markdown."""
    from ..errors import ExitCode
    from ..fsutil import write_atomic
    from ..ledger_store import open_ledger
    from ..manifest import build_manifest, digest_of, finish_manifest
    from ..preflight import after_decision, check_ledger
    from .output import to_json, write_documents

    closed = not period.is_open_at(session.as_of)
    if deliver and closed:
        # Before any file: a document must not claim a record the ledger cannot take.
        check_ledger(config)
    manifest = build_manifest(session, config, command, output, evaluation=snapshot.evaluation,
                              result=snapshot.result, extra_inputs=extra_inputs)
    ledger = open_ledger(config)  # a file or the PostgreSQL ledger
    issue = decide_issue(ledger, name, data, closed=closed,
                         as_of=session.as_of, evidence_digest=manifest["evidence_digest"],
                         deliver=deliver)
    text = _under_title(markdown, _amended_note(issue.info)) + render_evidence(
        issue.info, canonical_rows, f"{name}.json")
    own = {f"{name}.md": text.encode(), f"{name}.json": to_json({**data, "issue": issue.info})}
    written = {**{n: (b.encode() if isinstance(b, str) else b) for n, b in (files or {}).items()},
               **own}
    write_documents(output, written)
    record = record_for(issue, own, session.as_of)
    if record is not None and deliver:
        # After the files (a crash in between is completed by the next run); a failure here is
        # not a success: the document on disk says its digest is in the ledger.
        with after_decision(ExitCode.OK, "the issue record"):
            ledger.append([record])
    outputs = [digest_of(n, b) for n, b in sorted(written.items())]
    write_atomic(output / manifest_name(name), finish_manifest(manifest, config, outputs, 0))
    return text
