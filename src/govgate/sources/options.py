"""References given on the command line (``--events``, ``--simulate``, ``validate FILE``) are
resolved the way the configuration's are: a path, ``file://``, ``https://``,
``postgresql://...?table=NAME`` or any reference a source plugin handles.

Two things differ, because the user typed the reference in a shell: a relative path is relative
to the working folder, and a path outside the project is allowed. Everything else is the
project's own ``sources`` settings when there is a configuration (https tokens, allowed hosts,
sha256 pins, size caps, the PostgreSQL password variable), else the defaults.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..commands import Session
    from ..config import Config

__all__ = ["has_config", "is_local", "option_config", "read_option"]


def is_local(ref: str) -> bool:
    """A path (or ``file://``): read by the file source, no plugin manager needed."""
    return "://" not in ref or ref.startswith("file://")


def has_config(session: Session) -> bool:
    """Whether the command runs in a project (``-c FILE``, or a configuration found)."""
    from ..config import find_config

    return session.config_path is not None or find_config(session.cwd) is not None


def option_config(session: Session) -> Config:
    """The configuration command-line references are read with (see the module docstring)."""
    from ..config import Config

    sources = dict(session.config().section("sources")) if has_config(session) else {}
    sources["allow_outside"] = True
    return Config(path=None, base=session.cwd, data={"sources": sources},
                  options=session.options)


def read_option(session: Session, ref: str) -> bytes:
    """The bytes behind a command-line reference; a failure is a SourceError naming it."""
    from ..errors import SourceError

    if not ref:
        raise SourceError("expected a path or a reference, got an empty string")
    config = option_config(session)
    if is_local(ref):
        from .files import govgate_read_source

        data = govgate_read_source(ref=ref, base=config.base, settings=config.section("sources"))
        assert data is not None
        return data
    from ..loaders.io import read_ref

    return read_ref(config, session.pm.hook, ref)
