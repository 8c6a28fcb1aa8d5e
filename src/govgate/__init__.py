"""govgate: reproducible release-gate decisions from SLA reconciliation and signer governance."""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["ExitCode", "GovgateError", "__version__", "hookimpl", "hookspec", "main"]

# Not `from typing import TYPE_CHECKING`: pre-commit runs govgate on every commit, and even the
# typing import shows in start-up time. mypy treats a module-level TYPE_CHECKING = False the same.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from .cli import main
    from .errors import ExitCode, GovgateError
    from .hookspecs import hookimpl, hookspec


def __getattr__(name: str) -> object:
    # Lazy: `govgate --version` must not pay for pluggy, yaml or jsonschema.
    if name in ("hookimpl", "hookspec"):
        from . import hookspecs

        return getattr(hookspecs, name)
    if name in ("ExitCode", "GovgateError"):
        from . import errors

        return getattr(errors, name)
    if name == "main":
        from .cli import main

        return main
    raise AttributeError(name)
