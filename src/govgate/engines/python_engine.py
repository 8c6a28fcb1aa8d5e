"""The built-in heat-map engine: the Python scanner (``fatigue/scan.py``) over a local file.

The default, and the fallback of every other engine: ``trylast``, it takes any CSV or JSON
export on disk when no other engine did (or ``engine: python`` was asked for).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..hookspecs import hookimpl

if TYPE_CHECKING:
    from ..fatigue.reduction import Reduction

NAME = "python"


@hookimpl(trylast=True)
def govgate_reduce_events(ref: str, path: Path | None, engine: str | None,
                          settings: Mapping[str, Any], default_sla: Mapping[str, int],
                          refresh_anchor: datetime | None, pending: bool) -> Reduction | None:
    if path is None or engine not in (None, NAME):
        return None
    from ..fatigue.events import reduce_file
    from ..sources.files import max_bytes
    from ..sources.names import source_name

    return reduce_file(path, dict(default_sla), refresh_anchor=refresh_anchor,
                       source=source_name(ref), pending=pending, max_bytes=max_bytes(settings))
