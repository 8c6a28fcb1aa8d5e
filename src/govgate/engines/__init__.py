"""Heat-map engines: what reduces a ``signer_ack_event`` export to the counts the heat-map needs.

Each engine is a plugin implementing ``govgate_reduce_events`` (see docs/engines.md): the
built-in Python scanner (``python_engine``), PostgreSQL push-down (``postgres_engine``) and
DuckDB (``duckdb_engine``, an optional extra). :func:`load_with_engines` is what the commands
call; it turns the reduction into an :class:`~govgate.fatigue.events.EventLog`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UsageError

if TYPE_CHECKING:
    import pluggy

    from ..fatigue.events import EventLog
    from ..fatigue.reduction import Reduction

__all__ = ["check_engine", "load_with_engines", "reduce_with_engines"]


def check_engine(value: object, where: str) -> str | None:
    """A valid engine name (or None); UsageError naming ``where`` otherwise.

    Besides the built-in engines, any plugin may answer to a name of its own.
    """
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or value != value.strip():
        raise UsageError(f"expected an engine name (python, duckdb, postgresql), got {value!r}",
                         where=where)
    return value


def load_with_engines(
    hook: pluggy.HookRelay | None,
    ref: str,
    *,
    path: Path | None,
    engine: str | None = None,
    settings: Mapping[str, Any] | None = None,
    default_sla: Mapping[str, Decimal] | None = None,
    refresh_anchor: datetime | None = None,
    pending: bool = True,
) -> EventLog | None:
    """Reduce ``ref`` with the first engine that takes it and build its event log.

    :param ref: The reference (a path as given, a URL); messages name it.
    :param hook: The plugin manager's hooks; None: the built-in Python scanner only.
    :param path: The local file ``ref`` resolves to (None: only an engine that reads the
        reference itself, such as PostgreSQL push-down, can take it).
    :returns: None when no engine took a reference without a local file (the caller then reads
        its bytes through the sources and calls again with a file).
    :raises UsageError: When a file is given and no engine takes it (an engine that does not
        read this kind of reference was asked for).
    """
    from ..fatigue.events import event_log
    from ..sources.names import source_name

    reduction = reduce_with_engines(hook, ref, path=path, engine=engine, settings=settings,
                                    default_sla=default_sla, refresh_anchor=refresh_anchor,
                                    pending=pending)
    return None if reduction is None else event_log(reduction, source_name(ref))


def reduce_with_engines(
    hook: pluggy.HookRelay | None,
    ref: str,
    *,
    path: Path | None,
    engine: str | None = None,
    settings: Mapping[str, Any] | None = None,
    default_sla: Mapping[str, Decimal] | None = None,
    refresh_anchor: datetime | None = None,
    pending: bool = True,
    requested_since: datetime | None = None,
    whole_history: Callable[[Reduction], Collection[str]] | None = None,
) -> Reduction | None:
    """The reduction behind :func:`load_with_engines` (same parameters and errors).

    :param requested_since: Rows requested before it may be left out (see the
        ``govgate_reduce_events`` hook); ``Reduction.requested_since`` says whether they were.
    :param whole_history: The signers whose earlier rows are needed after all (see the hook).
    """
    from ..fatigue.events import default_slas, reduce_file
    from ..sources.files import max_bytes
    from ..sources.names import source_name

    source = source_name(ref)  # how messages name it: never a query string or user-info
    defaults = default_slas(default_sla, source)
    if hook is None:
        if path is None or engine not in (None, "python"):
            return None
        reduction = reduce_file(path, defaults, refresh_anchor=refresh_anchor, source=source,
                                pending=pending, max_bytes=max_bytes(settings or {}))
    else:
        reduction = hook.govgate_reduce_events(
            ref=ref, path=path, engine=engine, settings=settings or {}, default_sla=defaults,
            refresh_anchor=refresh_anchor, pending=pending, requested_since=requested_since,
            whole_history=whole_history)
    if reduction is None and path is not None:
        raise UsageError(f"no heat-map engine named {engine!r} reads {source}",
                         where="fatigue.engine")
    return reduction
