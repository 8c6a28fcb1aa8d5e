"""Read a configured reference through the source hooks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import SourceError
from ..sources.names import source_name

if TYPE_CHECKING:
    import pluggy

    from ..config import Config


def read_ref(config: Config, hook: pluggy.HookRelay, ref: str) -> bytes:
    """The bytes behind ``ref``; a reference no source handles is an error, never empty data."""
    data = hook.govgate_read_source(ref=ref, base=config.base, settings=config.section("sources"))
    if data is None:
        raise SourceError("no source plugin handles this reference", source=source_name(ref))
    assert isinstance(data, bytes)
    return data
