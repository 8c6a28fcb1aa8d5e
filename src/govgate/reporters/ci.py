"""Built-in plugin: the CI report formats (JUnit, SARIF, GitHub annotations, the job summary,
a Prometheus textfile). ``trylast``, so a third-party reporter of the same name wins."""

from __future__ import annotations

from collections.abc import Sequence

from ..hookspecs import hookimpl
from . import Reporter, github, junit, markdown, openmetrics, sarif

JUNIT = Reporter("junit", "junit.xml", junit.render,
                 "JUnit XML: a suite per rule family, a case per rule and subject, and the gate")
SARIF = Reporter("sarif", "govgate.sarif", sarif.render,
                 "SARIF 2.1.0 for code scanning, locations in the input files")
GITHUB = Reporter("github", "github-annotations.txt", github.render,
                  "GitHub Actions annotations for the most important findings")
MARKDOWN = Reporter("markdown", "summary.md", markdown.render,
                    "the job summary: verdict, findings table, detail sections, artifacts")
OPENMETRICS = Reporter("openmetrics", "govgate.prom", openmetrics.render,
                       "a Prometheus textfile: verdict, state, last completion, counts")


@hookimpl(trylast=True)
def govgate_reporters() -> Sequence[Reporter]:
    return [JUNIT, SARIF, GITHUB, MARKDOWN, OPENMETRICS]
