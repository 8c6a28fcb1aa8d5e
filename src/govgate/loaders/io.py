"""Read a configured reference through the source hooks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import SourceError
from ..plugins import implemented_only_by
from ..sources.names import source_name

if TYPE_CHECKING:
    import pluggy

    from ..config import Config


#: The modules of the built-in sources: of them, only ``files`` reads a path without a scheme.
_BUILT_IN_SOURCES = frozenset({"govgate.sources.files", "govgate.sources.https",
                               "govgate.sources.postgres"})


def read_ref(config: Config, hook: pluggy.HookRelay, ref: str) -> bytes:
    """The bytes behind ``ref``; a reference no source handles is an error, never empty data."""
    settings = config.section("sources")
    if "://" not in ref and implemented_only_by(hook.govgate_read_source, _BUILT_IN_SOURCES):
        # A plain path with only the built-in sources registered: the file source is the one
        # that answers (the others take only their own schemes), called without the hook's
        # own cost, which mattered at three files per window of a long schedule.
        from ..sources import files

        data = files.govgate_read_source(ref=ref, base=config.base, settings=settings)
    else:
        data = hook.govgate_read_source(ref=ref, base=config.base, settings=settings)
    if data is None:
        raise SourceError("no source plugin handles this reference", source=source_name(ref))
    assert isinstance(data, bytes)
    return data
