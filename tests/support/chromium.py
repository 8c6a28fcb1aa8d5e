"""Load a page in real headless Chromium and read back layout measurements.

No driver and no download: Debian's ``chromium`` runs with ``--headless --dump-dom``; a script
injected at the end of the page measures the layout and writes the figures into the DOM as
JSON, which the dumped DOM carries back. Console messages are read from Chromium's own log on
stderr (``--enable-logging=stderr``). Every host name resolves to nothing, so a page that tries
to reach the network fails to load that part, and the measurements list every resource the
page requested.

Tests using this skip when no Chromium is installed, unless ``GOVGATE_REQUIRE_CHROMIUM=1``
(CI sets it) makes a missing browser a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
MARKDOWN_CSS = HERE / "github_markdown.css"
#: GitHub's article (README, job summary) content width in pixels, padding included.
ARTICLE_WIDTH = 1012

_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_MEASURE = (HERE / "measure.js").read_text(encoding="utf-8")
_RESULT = re.compile(r'<pre id="govgate-measure">(.*?)</pre>', re.S)
_CONSOLE = re.compile(r":CONSOLE[^\]]*\] (.*)")


def chromium() -> str:
    """The Chromium binary, or skip (fail under GOVGATE_REQUIRE_CHROMIUM=1)."""
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("GOVGATE_REQUIRE_CHROMIUM") == "1":
        pytest.fail("GOVGATE_REQUIRE_CHROMIUM=1 but no chromium is installed")
    pytest.skip("chromium is not installed (apt-get install chromium)")


@dataclass
class Measurement:
    """What the page looked like at one width."""

    width: int
    data: dict[str, Any]
    console: list[str] = field(default_factory=list)

    @property
    def tables(self) -> list[dict[str, Any]]:
        return list(self.data["tables"])

    def problems(self) -> list[str]:
        """Every layout failure, in words (empty when the page fits)."""
        out = []
        if self.data["page_overflow"]:
            out.append(f"the page scrolls sideways at {self.width}px "
                       f"(scrollWidth {self.data['page_scroll_width']})")
        for t in self.tables:
            if t["overflow"]:
                out.append(f"table {t['index']} ({t['head']!r}) overflows its container: "
                           f"{t['scroll_width']}px of content in {t['client_width']}px")
            for n in t["narrow"]:
                out.append(f"table {t['index']} ({t['head']!r}): a column is narrower than the "
                           f"word {n['word']!r} ({n['width']:.0f}px in {n['inner']:.0f}px)")
        for o in self.data["overflowing"]:
            out.append(f"{o['tag']} ({o['text']!r}) is wider than the page: {o['right']:.0f}px")
        return out


def measure(page: Path, width: int, tmp: Path, *, inject_csp_nonce: bool = False,
            height: int = 2000) -> Measurement:
    """Open ``page`` (an HTML file) at ``width`` CSS pixels and measure it."""
    binary = chromium()
    html = page.read_text(encoding="utf-8")
    nonce = "govgate-measure"
    if inject_csp_nonce:
        # The report forbids every script; the measuring script alone is let in by a nonce.
        html, n = re.subn(r"script-src 'none'", f"script-src 'nonce-{nonce}'", html)
        assert n == 1, "the page has no script-src 'none' in its Content-Security-Policy"
    script = f'<script nonce="{nonce}">{_MEASURE}</script>'
    marker = html.rfind("</body>")
    assert marker >= 0, "the page has no </body>"
    probe = tmp / f"{page.stem}-{width}.html"
    probe.write_text(html[:marker] + script + html[marker:], encoding="utf-8")
    proc = subprocess.run(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--hide-scrollbars", "--enable-logging=stderr", "--v=0",
         "--host-resolver-rules=MAP * ~NOTFOUND", f"--window-size={width},{height}",
         f"--user-data-dir={tmp / 'chromium-profile'}", "--dump-dom", probe.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    found = _RESULT.search(proc.stdout)
    assert found, (f"chromium returned no measurements (exit {proc.returncode}): "
                   f"{proc.stderr[-2000:]}")
    console = [m.group(1) for m in _CONSOLE.finditer(proc.stderr)]
    return Measurement(width, json.loads(unescape(found.group(1))), console)


def screenshot(page: Path, width: int, out: Path, height: int = 2000) -> None:
    """A PNG of the page as a person sees it (for looking, not asserting)."""
    subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                    "--hide-scrollbars", "--host-resolver-rules=MAP * ~NOTFOUND",
                    f"--window-size={width},{height}", f"--screenshot={out}", page.as_uri()],
                   capture_output=True, timeout=120, check=True)


def markdown_page(markdown: str, title: str) -> str:
    """``markdown`` rendered by cmark-gfm inside a page styled like GitHub's article."""
    import cmarkgfm  # type: ignore[import-untyped]
    from cmarkgfm.cmark import Options  # type: ignore[import-untyped]

    body = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    css = MARKDOWN_CSS.read_text(encoding="utf-8")
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{title}</title><style>{css}</style></head>"
            f'<body><article class="markdown-body">{body}</article></body></html>')
