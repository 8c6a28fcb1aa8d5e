"""Built-in plugin: the text and JSON reporters (others register the same way)."""

from __future__ import annotations

from collections.abc import Sequence

from ..hookspecs import hookimpl
from . import Reporter, jsonreport, text

TEXT = Reporter("text", "", text.render, "a table of findings for the terminal")
JSON = Reporter("json", "result.json", jsonreport.render, "the gate result as JSON")


@hookimpl(trylast=True)
def govgate_reporters() -> Sequence[Reporter]:
    return [TEXT, JSON]
