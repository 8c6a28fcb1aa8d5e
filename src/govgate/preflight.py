"""Validate everything a command will write or deliver, before it evaluates anything.

The order of every command that writes: validate (configuration, paths, sinks' settings and
secrets, writable folders, a readable ledger), evaluate, write the outputs atomically, then
append to the ledger and deliver pages. A refusal here is exit code 2 with nothing written.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ExitCode, GovgateError, OutputError
from .paths import check_targets, command_line_output, ensure_writable

if TYPE_CHECKING:
    import pluggy

    from .config import Config

__all__ = ["after_decision", "check_delivery", "check_ledger", "check_output", "output_folder"]


def output_folder(given: str | None, config: Config, cwd: Path) -> Path:
    """``-o DIR`` (relative to the working folder) or the configuration's ``output``."""
    if given is not None:
        return command_line_output(str(given), cwd, what="--output")
    return config.output_dir


def check_output(folder: Path, names: Iterable[str], *, folders: Iterable[str] = (),
                 what: str = "output") -> None:
    """``folder`` can take the files ``names`` and the sub-folders ``folders``."""
    for sub in folders:
        # A sub-folder (artifacts/) is checked like the output folder itself.
        command_line_output(sub, folder, what=what)
    check_targets(folder, names, what=what)
    ensure_writable(folder, what=what)


def check_delivery(config: Config, pm: pluggy.PluginManager) -> None:
    """Everything :func:`govgate.delivery.deliver` will touch, checked without writing."""
    from .delivery import validate_delivery
    from .ledger import Ledger

    # The ledger reference (a file, postgresql://, env:NAME) and the built-in sinks' settings.
    validate_delivery(config)
    check_ledger(config)
    files = []
    settings = dict(config.section("paging"))
    if settings.get("outbox") is not None:
        outbox = config.path_of(str(settings["outbox"]), "paging.outbox")
        settings["outbox"] = str(outbox)
        files.append(("paging.outbox", outbox))
    for what, path in files:
        check_targets(path.parent, [path.name, f"{path.name}.lock"], what=what)
        ensure_writable(path.parent, what=what)
        Ledger(path).records()  # a broken chain is refused now, not after the reports
    pm.hook.govgate_check_paging(settings=settings)


def check_ledger(config: Config) -> None:
    """The configured ledger can take an append: a valid reference and, for a file, a writable
    folder, no folder or link where the file or its lock goes, an unbroken chain."""
    from .ledger import Ledger
    from .ledger_store import PG_SCHEMES, ledger_reference, validate_ledger

    validate_ledger(config)
    if ledger_reference(config).startswith(PG_SCHEMES):
        return  # the server is asked when the run reads it, before anything is written
    path = config.ledger_path
    check_targets(path.parent, [path.name, f"{path.name}.lock"], what="ledger")
    ensure_writable(path.parent, what="ledger")
    Ledger(path).records()  # a broken chain is refused now, not after the reports


@contextlib.contextmanager
def after_decision(verdict: ExitCode, what: str) -> Iterator[None]:
    """Turn a failure to write or deliver after the decision into :class:`OutputError`.

    The verdict travels with it: the exit code stays ``GATE_BLOCKED`` for a blocked gate and
    becomes ``OUTPUT_ERROR`` for a pass (:func:`govgate.outcome.exit_code`).
    """
    try:
        yield
    except OutputError:
        raise
    except GovgateError as exc:
        raise OutputError(exc.message, verdict=verdict, source=exc.source,
                          where=exc.where) from None
    except OSError as exc:
        raise OutputError(f"cannot write {what}: {exc.strerror or type(exc).__name__}",
                          verdict=verdict, source=exc.filename and str(exc.filename)) from None
