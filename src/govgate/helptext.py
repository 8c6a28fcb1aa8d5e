"""What ``govgate --help`` tells a user: what govgate does, how to start, the exit codes, docs.

Kept apart from the parser so the words can change without touching argument handling.
"""

from __future__ import annotations

DESCRIPTION = """\
govgate decides whether a release may be published. It reads your governance data
(weekly SLA reconciliation runs, signer acknowledgments, signer fatigue and backup
owner policies), evaluates every rule as of one instant, and says PASS or BLOCKED
with the findings that decide it. Same inputs and the same --as-of give the same
decision and byte-identical reports, so a decision can be replayed later.

Start with `govgate check` (plain `govgate` does the same) in a folder with a
govgate.yaml. It prints the verdict and every finding, and writes result.json,
summary.md (the GitHub job summary), manifest.json and heatmap.svg to the output
folder; `--format text,html` adds report.html, one page that opens offline."""

EPILOG = """\
exit codes:
  0  the gate passed: publish may proceed
  1  the gate is blocked (a blocking finding); for `checklist --strict`, an item failed
  2  bad input or usage: a file is missing, malformed or fails its schema; nothing
     was decided, and a gate that cannot decide never passes
  3  internal error in govgate or a plugin (set GOVGATE_DEBUG=1 for the traceback)
  4  the gate passed, but an output did not arrive (stdout closed early, a report,
     the ledger or a page): never a pass; a blocked gate stays 1
  130  interrupted (Ctrl-C); every file is whole or absent
  143  terminated (SIGTERM); every file is whole or absent

`govgate COMMAND --help` describes one command. Documentation: README.md and docs/
in the govgate repository (docs/outputs.md lists every output and where it appears)."""
