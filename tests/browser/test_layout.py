"""The outputs people read, laid out by a real browser at the widths they read them.

The job summary, the partner readback, the monthly review, the checklist and the FAQ are
rendered by GitHub's own markdown renderer (cmark-gfm) into a page styled like GitHub's article
(tests/support/github_markdown.css) and loaded in headless Chromium at GitHub's article width:
no table may overflow its container and no column may be narrower than a word in it. The HTML
report is loaded as it is, at 1012 px and at a phone's 390 px, and must also load without a
console message and without requesting anything.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tests.support import chromium

from govgate.cli import main

REPO = Path(__file__).resolve().parents[2]
AS_OF = "2026-11-20T00:00:00Z"
GITHUB = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/release-gate",
          "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567"}

pytestmark = pytest.mark.chromium


#: Red after a double skip with pages and resolves; and a Monday morning with the weekly run in
#: progress (a late week with its deadline in every table).
INSTANTS = [AS_OF, "2026-11-02T06:10:00Z"]


@pytest.fixture(scope="module", params=INSTANTS)
def outputs(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    """The shipped autumn-2026 demo's outputs, as the GitHub Action would write them."""
    as_of = request.param
    root = tmp_path_factory.mktemp("demo")
    for name in ("govgate.yaml", "policies", "fixtures"):
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, root / name)
    mp = pytest.MonkeyPatch()
    for key, value in {**GITHUB, "GITHUB_WORKSPACE": str(root)}.items():
        mp.setenv(key, value)
    try:
        out = root / "out"
        for argv in (["check", "--format", "html", "--no-deliver"],
                     ["readback", "--quarter", "2026-Q4"], ["review", "--month", "2026-10"],
                     ["checklist"], ["faq"]):
            code = main([*argv, "--as-of", as_of, "-o", str(out)], cwd=root,
                        out=open(root / "stdout.txt", "w", encoding="utf-8"))  # noqa: SIM115
            assert code in (0, 1), argv
    finally:
        mp.undo()
    return out


def _document(out: Path, pattern: str) -> Path:
    found = sorted(out.glob(pattern))
    assert found, f"no {pattern} in {sorted(p.name for p in out.iterdir())}"
    return found[0]


@pytest.mark.parametrize("pattern", ["summary.md", "readback-*.md", "review-*.md",
                                     "checklist*.md", "signer-faq.md"])
def test_markdown_fits_githubs_article_width(outputs: Path, pattern: str, tmp_path: Path) -> None:
    source = _document(outputs, pattern)
    page = tmp_path / f"{source.stem}.html"
    page.write_text(chromium.markdown_page(source.read_text(encoding="utf-8"), source.name),
                    encoding="utf-8")
    seen = chromium.measure(page, chromium.ARTICLE_WIDTH, tmp_path)
    assert seen.tables, f"{source.name} rendered no table at all"
    assert seen.problems() == []


@pytest.mark.parametrize("width", [1012, 390])
def test_html_report_fits_and_loads_cleanly(outputs: Path, width: int, tmp_path: Path) -> None:
    seen = chromium.measure(outputs / "report.html", width, tmp_path, inject_csp_nonce=True)
    assert seen.problems() == []
    assert seen.console == []
    assert seen.data["resources"] == []


def test_html_report_with_hostile_long_ids_still_fits_a_phone(tmp_path: Path) -> None:
    from tests.support.results import make_context, make_result

    from govgate.model import Finding, Location, Severity
    from govgate.reporters import html

    long_id = "<b>" + "x" * 300 + "</b>"
    finding = Finding("reconcile.inputs", long_id, Severity.ERROR, long_id + " " + "y" * 200,
                      owner_route=long_id, location=Location(long_id + ".csv", 1),
                      waived_by=long_id)
    page = tmp_path / "hostile.html"
    page.write_text(html.render(make_result((finding,)), make_context(tmp_path)),
                    encoding="utf-8")
    for width in (390, 1012):
        seen = chromium.measure(page, width, tmp_path, inject_csp_nonce=True)
        assert seen.problems() == [] and seen.console == [] and seen.data["resources"] == []
