"""Where the ledger lives: a JSON Lines file (the default) or a PostgreSQL database.

``ledger:`` in the configuration is a path relative to the configuration's folder, or a
``postgresql://`` reference (no password in it: libpq's ``PGPASSWORD`` or ``~/.pgpass``), or
``env:NAME``, which reads the reference from the environment variable ``NAME`` so that a secret
connection string never sits in a committed file. Both backends keep the same records, the same
hash chain and the same promises (:mod:`govgate.ledger`, :mod:`govgate.ledger_pg`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from .errors import UsageError

if TYPE_CHECKING:
    from .config import Config
    from .ledger import VerifyReport
    from .model import LedgerRecord

__all__ = ["LedgerStore", "ledger_reference", "open_ledger", "validate_ledger"]

PG_SCHEMES = ("postgresql://", "postgres://")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DEFAULT = ".govgate/ledger.jsonl"


@runtime_checkable
class LedgerStore(Protocol):
    """What delivery, sinks and ``govgate ledger verify`` need from a ledger."""

    def append(self, records: Iterable[LedgerRecord]) -> list[LedgerRecord]:
        """Append the records whose key is new, atomically and in order; return those written."""

    def records(self) -> list[LedgerRecord]:
        """Every committed record in order."""

    def keys(self) -> set[str]:
        """The keys of every committed record."""

    def has(self, key: str) -> bool:
        """Whether a record with ``key`` is committed."""

    def raw(self) -> bytes:
        """Every line as stored, each ending in a line feed (``govgate verify`` hashes one)."""

    def verify(self) -> VerifyReport:
        """Check the whole chain."""

    def delivery_lock(self) -> AbstractContextManager[None]:
        """Held while pending pages are sent, so concurrent runs never send one twice."""

    def describe(self) -> str:
        """How messages name this ledger (never a password)."""


def ledger_reference(config: Config) -> str:
    """The ``ledger`` value with ``env:NAME`` resolved; raises :class:`UsageError` naming it."""
    raw = config.data.get("ledger", DEFAULT)
    if not isinstance(raw, str) or not raw.strip():
        raise UsageError(f"expected a file path or a postgresql:// reference, got {raw!r}",
                         source=config.source_name, where="ledger")
    if raw.startswith("env:"):
        name = raw[4:]
        if not _ENV_NAME.match(name):
            raise UsageError(f"expected env:VARIABLE_NAME, got {raw!r}",
                             source=config.source_name, where="ledger")
        value = os.environ.get(name, "").strip()
        if not value.startswith(PG_SCHEMES):
            raise UsageError(f"environment variable {name} must hold a postgresql:// reference "
                             "(it is unset, empty or something else)",
                             source=config.source_name, where="ledger")
        return value
    return raw


def validate_ledger(config: Config) -> None:
    """Check the ``ledger`` setting without touching the ledger (before anything is written)."""
    ref = ledger_reference(config)
    if ref.startswith(PG_SCHEMES):
        from .ledger_pg import parse_dsn

        parse_dsn(ref, shown=_shown(config))


def _shown(config: Config) -> str:
    raw = config.data.get("ledger", DEFAULT)
    return str(raw) if str(raw).startswith("env:") else "ledger"


def open_ledger(config: Config) -> LedgerStore:
    """The configured ledger (nothing is created until the first append)."""
    ref = ledger_reference(config)
    if ref.startswith(PG_SCHEMES):
        from .ledger_pg import PostgresLedger

        return PostgresLedger(ref, shown=_shown(config))
    from .ledger import Ledger

    return Ledger(config.path_of(ref, "ledger"))

