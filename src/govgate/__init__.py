"""govgate: reproducible release-gate decisions from SLA reconciliation and signer governance."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import ExitCode, GovgateError

__version__ = "0.1.0"
__all__ = ["ExitCode", "GovgateError", "__version__", "hookimpl", "hookspec", "main"]

if TYPE_CHECKING:
    from .cli import main
    from .hookspecs import hookimpl, hookspec


def __getattr__(name: str) -> Any:
    # Lazy: `govgate --version` and pre-commit runs must not pay for pluggy/yaml/jsonschema.
    if name in ("hookimpl", "hookspec"):
        from . import hookspecs

        return getattr(hookspecs, name)
    if name == "main":
        from .cli import main

        return main
    raise AttributeError(name)
