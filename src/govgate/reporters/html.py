"""One self-contained HTML report (``--format html``, ``report.html``) a reviewer reads offline.

A single file: inline CSS, the heat-map SVG inline, no script, no font, no image or link that
reaches the network (the Content-Security-Policy forbids all of it, so a page that tried would
show it as a console error). It holds the verdict, the findings, the week-by-week reconciliation
timeline, the heat-map, the promotes and reverts, the pages and the full hashes, with anchors
between them: a finding links to the week or the promote it is about, and each week and
promote lists the findings that name it.

Every value from an input is escaped (text and attributes); anchor ids are built from positions,
never from input ids, so a hostile id can neither break the markup nor collide with an anchor.
The layout is one column that reflows from a phone (390 px) to GitHub's article width; long
ids wrap anywhere rather than widen the page, and a hash breaks into groups of eight.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html import escape
from typing import TYPE_CHECKING, Any

from ..timeutil import format_instant
from .findings import (
    STATE_NOT_EVALUATED,
    counts,
    level,
    location_of,
    page_tally,
    page_text,
    source_url,
    state_shown,
)

if TYPE_CHECKING:
    from ..model import Finding, GateResult, Page
    from . import ReportContext

CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'none'; "
       "base-uri 'none'; form-action 'none'")

_LEVEL = {"error": ("blocks", "BLOCKS"), "warning": ("warning", "warning"),
          "waived": ("waived", "waived"), "note": ("note", "note")}
_STATUS = {"PASS": "pass", "FAIL": "fail", "SKIPPED": "skip", "MISSING": "skip",
           "RUNNING": "running", "LATE": "running"}
_HEX = re.compile(r"[0-9a-fA-F]{32,}")

STYLE = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #ffffff; color: #1f2328; line-height: 1.5; font-size: 16px;
  font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", "Noto Sans", Helvetica, Arial,
  sans-serif; overflow-wrap: anywhere; }
main { max-width: 1012px; margin: 0 auto; padding: 16px; }
h1 { font-size: 1.6em; margin: 0 0 4px; }
h1 .badge { font-size: 0.6em; vertical-align: middle; }
h2 { font-size: 1.3em; margin: 32px 0 12px; padding-bottom: 4px; border-bottom: 1px solid #d1d9e0; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  font-size: 0.875em; background: #f0f2f4; padding: 0.1em 0.3em; border-radius: 4px; }
a { color: #0969da; }
.verdict { padding: 16px; border-radius: 8px; margin: 0 0 16px; border: 2px solid; }
.verdict.blocked { background: #ffebe9; border-color: #cf222e; }
.verdict.passed { background: #dafbe1; border-color: #1a7f37; }
.verdict p { margin: 4px 0 0; }
nav ul { list-style: none; padding: 0; margin: 0; display: flex; flex-wrap: wrap; gap: 4px 16px; }
.badge { display: inline-block; padding: 0 8px; border-radius: 12px; font-size: 0.85em;
  font-weight: 600; border: 1px solid #1f2328; white-space: nowrap; }
.badge.blocks, .badge.red, .badge.fail, .badge.blocked { background: #cf222e; color: #ffffff;
  border-color: #cf222e; }
.badge.warning, .badge.amber { background: #ffd8b5; color: #1f2328; }
.badge.waived, .badge.running { background: #ddf4ff; color: #1f2328; }
.badge.note, .badge.skip { background: #f6f8fa; color: #1f2328; }
.badge.green, .badge.pass { background: #1a7f37; color: #ffffff; border-color: #1a7f37; }
ol.cards, ul.cards { list-style: none; padding: 0; margin: 0; }
.cards > li { border: 1px solid #d1d9e0; border-radius: 8px; padding: 12px; margin: 0 0 8px; }
.cards > li:target { outline: 3px solid #0969da; }
.head { font-weight: 600; }
.meta { color: #59636e; font-size: 0.9em; margin: 4px 0 0; }
dl { margin: 8px 0 0; display: grid; grid-template-columns: minmax(0, max-content) minmax(0, 1fr);
  gap: 2px 12px; }
dt { color: #59636e; font-size: 0.9em; }
dd { margin: 0; min-width: 0; }
figure { margin: 0; }
figure svg { max-width: 100%; height: auto; display: block; }
figcaption { color: #59636e; font-size: 0.9em; margin-top: 4px; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #d1d9e0; padding: 4px 8px; text-align: left; vertical-align: top; }
"""


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _hash(value: object) -> str:
    """A hash in groups of eight with break opportunities (copying it still gives one word)."""
    text = _e(value)
    return _HEX.sub(lambda m: "<wbr>".join(m.group()[i:i + 8]
                                           for i in range(0, len(m.group()), 8)), text)


def _short(value: object, n: int = 12) -> str:
    text = "" if value is None else str(value)
    return _e(_HEX.sub(lambda m: m.group()[:n] + "…", text))


def _badge(css: str, label: str) -> str:
    return f'<span class="badge {_e(css)}">{_e(label)}</span>'


class _Anchors:
    """Position-based anchor ids, and which findings name which week or promote."""

    def __init__(self, result: GateResult) -> None:
        recon = result.sections.get("reconciliation")
        promote = result.sections.get("promote")
        self.windows: list[dict[str, Any]] = list(
            (recon.get("windows") or []) if isinstance(recon, dict) else [])
        self.promotes: list[dict[str, Any]] = list(
            (promote.get("promotes") or []) if isinstance(promote, dict) else [])
        self.week_of: dict[str, str] = {}
        for i, w in enumerate(self.windows):
            if w.get("job_run_id"):
                self.week_of[str(w["job_run_id"])] = f"week-{i}"
            self.week_of[f"window@{w.get('start_inclusive')}"] = f"week-{i}"
        self.promote_of = {str(p.get("promote_event_id")): f"promote-{i}"
                           for i, p in enumerate(self.promotes)}
        self.findings_of: dict[str, list[int]] = {}
        for n, f in enumerate(result.findings):
            for target in self.targets(f):
                self.findings_of.setdefault(target, []).append(n)

    def targets(self, f: Finding) -> list[str]:
        """The weeks and promotes a finding is about (its subject, its missed windows)."""
        names = [f.subject, *(str(x) for x in f.evidence.get("missed_windows") or ())]
        out = []
        for name in names:
            for table in (self.week_of, self.promote_of):
                anchor = table.get(name)
                if anchor and anchor not in out:
                    out.append(anchor)
        return out

    def backlinks(self, anchor: str) -> str:
        found = self.findings_of.get(anchor, [])
        if not found:
            return ""
        links = ", ".join(f'<a href="#finding-{n}">finding {n + 1}</a>' for n in found)
        return f"<dt>Findings</dt><dd>{links}</dd>"


def _verdict(result: GateResult) -> str:
    n = counts(result)
    state = result.state.value
    shown = _badge(state, state) if state_shown(result) else _e(STATE_NOT_EVALUATED)
    says = "Publish may proceed" if result.passed else "Publish is blocked"
    # Words, not an emoji: a reader's machine may have no emoji font (the page is offline).
    mark = "pass" if result.passed else "blocked"
    parts = [f"{n['error']} blocking", f"{n['warning']} warnings", f"{n['waived']} waived",
             f"{n['note']} notes"]
    return (f'<section class="verdict {"passed" if result.passed else "blocked"}" '
            f'aria-label="verdict"><h1>{_badge(mark, mark.upper())} govgate: {_e(says)}</h1>'
            f"<p>Governance state {shown} · as of "
            f"<code>{_e(format_instant(result.as_of))}</code></p>"
            f"<p>{n['total']} findings: {_e(', '.join(parts))}</p>{_late(result)}</section>")


def _late(result: GateResult) -> str:
    """A run in progress, as the terminal and the summary put it: next to the verdict."""
    recon = result.sections.get("reconciliation")
    windows = recon.get("windows") if isinstance(recon, dict) else None
    return "".join(
        f"<p>Late, not counted yet: <code>{_e(w.get('job_run_id') or w.get('start_inclusive'))}"
        f"</code> due <code>{_e(w.get('scheduled_at'))}</code>, missed at "
        f"<code>{_e(w.get('late_until'))}</code> unless it completes</p>"
        for w in windows or () if isinstance(w, dict) and w.get("status") == "LATE")


def _nav(sections: Iterable[tuple[str, str]]) -> str:
    items = "".join(f'<li><a href="#{a}">{_e(t)}</a></li>' for a, t in sections)
    return f'<nav aria-label="contents"><ul>{items}</ul></nav>'


def _finding(n: int, f: Finding, context: ReportContext, anchors: _Anchors) -> str:
    css, label = _LEVEL[level(f)]
    rows = []
    where = location_of(f, context)
    if where.exact:
        url = source_url(where, context)
        shown = f"<code>{_e(where.render())}</code>"
        rows.append("<dt>Input</dt><dd>"
                    + (f'<a href="{_e(url)}">{shown}</a>' if url else shown) + "</dd>")
    if f.owner_route:
        rows.append(f"<dt>Route</dt><dd><code>{_e(f.owner_route)}</code></dd>")
    if f.waived_by:
        rows.append(f"<dt>Waived by</dt><dd><code>{_e(f.waived_by)}</code></dd>")
    links = [f'<a href="#{t}">{"week" if t.startswith("week") else "promote"} '
             f'{int(t.split("-")[1]) + 1}</a>' for t in anchors.targets(f)]
    if links:
        rows.append(f"<dt>About</dt><dd>{', '.join(links)}</dd>")
    return (f'<li id="finding-{n}"><div class="head">{_badge(css, label)} '
            f"<code>{_e(f.rule)}</code> {_e(f.subject)}</div>"
            f"<p>{_e(f.message)}</p><dl>{''.join(rows)}</dl></li>")


def _findings(result: GateResult, context: ReportContext, anchors: _Anchors) -> str:
    if not result.findings:
        return '<h2 id="findings">Findings</h2><p>No findings.</p>'
    items = "".join(_finding(n, f, context, anchors) for n, f in enumerate(result.findings))
    return f'<h2 id="findings">Findings</h2><ol class="cards">{items}</ol>'


def _week(i: int, w: dict[str, Any], anchors: _Anchors, result: GateResult) -> str:
    status = str(w.get("status"))
    rows = [f"<dt>Window</dt><dd><code>{_e(w.get('start_inclusive'))}</code> to "
            f"<code>{_e(w.get('end_exclusive'))}</code></dd>"]
    if status == "LATE":
        # Within its grace a run is neither a pass nor a miss: the reader needs the deadline.
        rows.append(f"<dt>Late</dt><dd>due <code>{_e(w.get('scheduled_at'))}</code>, missed at "
                    f"<code>{_e(w.get('late_until'))}</code> unless it completes</dd>")
    eligibility = w.get("eligibility") or "not eligible"
    acks = [f"<code>{_e(a.get('ack_id'))}</code> by {_e(a.get('signer_id'))} at "
            f"<code>{_e(a.get('ack_dt_utc'))}</code>" for a in w.get("acks") or ()]
    rows.append(f"<dt>Ack</dt><dd>{_e(eligibility)}{'; ' if acks else ''}{'; '.join(acks)}</dd>")
    audit = []
    if w.get("skip_reason"):
        audit.append(f"skip_reason <code>{_e(w['skip_reason'])}</code>")
    audit += [f"evidence <code>{_e(e)}</code>" for e in w.get("evidence_ids") or ()]
    audit += [f"override <code>{_e(a)}</code>" for a in w.get("override_audit_ids") or ()]
    run = w.get("job_run_id")
    audit += [f"waiver <code>{_e(x)}</code>" for x in sorted(
        {f.waived_by for f in result.findings if f.waived_by and run and f.subject == run})]
    if audit:
        rows.append(f"<dt>Audit ids</dt><dd>{', '.join(audit)}</dd>")
    hashes = [f"{side} <code>{_short(w.get(side + '_ingest_hash'))}</code>"
              for side in ("leadership", "partner") if w.get(side + "_ingest_hash")]
    if hashes:
        rows.append(f'<dt>Ingest hashes</dt><dd>{", ".join(hashes)} '
                    f'(<a href="#hashes">full</a>)</dd>')
    rows.append(anchors.backlinks(f"week-{i}"))
    return (f'<li id="week-{i}"><div class="head">Week of {_e(str(w.get("start_inclusive"))[:10])}'
            f" {_badge(_STATUS.get(status, 'skip'), status)} "
            f"<code>{_e(run or 'no scheduler row')}</code></div><dl>{''.join(rows)}</dl></li>")


def _timeline(result: GateResult, anchors: _Anchors) -> str:
    recon = result.sections.get("reconciliation")
    if not isinstance(recon, dict) or not anchors.windows:
        return ""
    state = str(recon.get("state", ""))
    missed = ", ".join(f"<code>{_e(m)}</code>" for m in recon.get("missed_windows") or ())
    items = "".join(_week(i, w, anchors, result) for i, w in enumerate(anchors.windows))
    return (f'<h2 id="timeline">Reconciliation, week by week</h2>'
            f"<p>Policy <code>{_e(recon.get('policy_version'))}</code> · state "
            f"{_badge(state, state)}{' · missed: ' + missed if missed else ''}</p>"
            f'<ol class="cards">{items}</ol>')


def _heatmap(result: GateResult) -> str:
    from ..documents.picture import grid_from_sections, render_svg

    fatigue = result.sections.get("fatigue")
    if not isinstance(fatigue, dict) or not fatigue.get("history"):
        return ""
    svg = render_svg(grid_from_sections(fatigue, result.sections.get("promote")))
    svg = svg.split("?>", 1)[1].strip() if svg.startswith("<?xml") else svg
    return (f'<h2 id="heatmap">Signer fatigue heat-map</h2><figure>{svg}<figcaption>Refresh '
            f"<code>{_e(fatigue.get('refresh'))}</code>, snapshot hash "
            f"<code>{_short(fatigue.get('snapshot_hash'))}</code> "
            f'(<a href="#hashes">full</a>). Promotes and reverts are listed '
            f'<a href="#promotes">below</a>.</figcaption></figure>')


def _promote(i: int, p: dict[str, Any], anchors: _Anchors) -> str:
    reverted = p.get("reverted_at_dt_utc")
    rows = [f"<dt>Signers</dt><dd>{_e(p.get('promoted_signer'))} for "
            f"{_e(p.get('primary_signer'))}</dd>",
            f"<dt>Trigger</dt><dd><code>{_e(p.get('trigger_type'))}</code>: "
            f"<code>{_short(p.get('trigger_evidence_ref'))}</code></dd>",
            f"<dt>Promoted</dt><dd><code>{_e(p.get('promoted_at_dt_utc'))}</code></dd>",
            "<dt>Reverted</dt><dd>"
            + (f"<code>{_e(reverted)}</code> ({_e(p.get('revert_kind') or 'reverted')})"
               if reverted else "open") + "</dd>",
            f"<dt>Duration</dt><dd>{_e(p.get('duration_days'))} days</dd>",
            anchors.backlinks(f"promote-{i}")]
    return (f'<li id="promote-{i}"><div class="head">{_e(p.get("owner_route"))}: '
            f"<code>{_e(p.get('promote_event_id'))}</code></div><dl>{''.join(rows)}</dl></li>")


def _freezes(promote: dict[str, Any]) -> str:
    gates = [d for d in promote.get("decisions") or () if d.get("option") == "freeze_gate"]
    if not gates:
        return ""
    items = "".join(
        f"<li><div class=\"head\">Freeze gate on {_e(d.get('owner_route'))}</div><dl>"
        f"<dt>Decided</dt><dd><code>{_e(d.get('decided_at'))}</code> by "
        f"{_e(d.get('decided_by'))}</dd><dt>Lifted</dt><dd>"
        + (f"<code>{_e(d.get('lifted_at'))}</code>" if d.get("lifted_at") else "not lifted")
        + f"</dd><dt>Cert windows</dt><dd>{_e(', '.join(d.get('cert_window_ids') or ()) or 'none')}"
        f"</dd></dl></li>" for d in gates)
    return f'<h3 id="freezes">Rung-3 freeze gates</h3><ul class="cards">{items}</ul>'


def _promotes(result: GateResult, anchors: _Anchors) -> str:
    promote = result.sections.get("promote")
    if not isinstance(promote, dict):
        return ""
    rungs = promote.get("rungs") or {}
    items = "".join(_promote(i, p, anchors) for i, p in enumerate(anchors.promotes))
    body = f'<ol class="cards">{items}</ol>' if items else "<p>No backup promotes.</p>"
    return (f'<h2 id="promotes">Promotes and reverts</h2><p>backup_owner_policy '
            f"<code>{_e(promote.get('policy_version') or 'none in force')}</code>: rung 1 "
            f"promotes {_e(rungs.get('rung1_promotes', 0))}, rung 2 pages "
            f"{_e(rungs.get('rung2_pages', 0))}, rung 3 freeze gates "
            f"{_e(rungs.get('rung3_freeze_gates', 0))}.</p>{body}{_freezes(promote)}")


def _page_badge(page: Page) -> str:
    if page.action == "trigger":
        return _badge("note", f"trigger · {page.severity}")
    return _badge("pass", page.action)


def _pages(result: GateResult) -> str:
    if not result.pages:
        return ""
    # A resolve closes an earlier page (same dedup key): it gets its own badge, not a severity.
    items = "".join(f"<li><div class=\"head\">{_page_badge(p)} "
                    f"<code>{_e(format_instant(p.at))}</code></div><p>{_e(page_text(p))}</p>"
                    f'<p class="meta">dedup key <code>{_e(p.dedup_key)}</code></p></li>'
                    for p in result.pages)
    return (f'<h2 id="pages">Pages</h2><p>{_e(page_tally(result.pages))} up to as-of, each '
            "delivered once; a resolve closes the page with the same dedup key.</p>"
            f'<ul class="cards">{items}</ul>')


def _hashes(result: GateResult) -> str:
    from .markdown import hashes

    rows = list(hashes(result))
    for p in (result.sections.get("promote") or {}).get("promotes") or ():
        for full in _HEX.findall(str(p.get("trigger_evidence_ref") or "")):
            rows.append((f"{p.get('promote_event_id')} trigger_evidence_ref", full))
    if not rows:
        return ""
    body = "".join(f"<tr><td>{_e(what)}</td><td><code>{_hash(value)}</code></td></tr>"
                   for what, value in rows)
    return (f'<h2 id="hashes">Full hashes</h2><table><thead><tr><th>Of</th><th>SHA-256</th>'
            f"</tr></thead><tbody>{body}</tbody></table>")


def render(result: GateResult, context: ReportContext) -> str:
    anchors = _Anchors(result)
    parts = [("findings", "Findings", _findings(result, context, anchors)),
             ("timeline", "Reconciliation weeks", _timeline(result, anchors)),
             ("heatmap", "Heat-map", _heatmap(result)),
             ("promotes", "Promotes and reverts", _promotes(result, anchors)),
             ("pages", "Pages", _pages(result)),
             ("hashes", "Full hashes", _hashes(result))]
    shown = [(a, t, body) for a, t, body in parts if body]
    verdict = "publish may proceed" if result.passed else "publish is blocked"
    title = (f"govgate: {verdict} ({result.state.value}) as of "
             f"{format_instant(result.as_of)}")
    return ("<!DOCTYPE html>\n"
            '<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)}</title><style>{STYLE}</style></head>\n"
            f"<body><main>{_verdict(result)}{_nav((a, t) for a, t, _ in shown)}"
            + "\n".join(body for _, _, body in shown)
            + "</main></body></html>\n")
