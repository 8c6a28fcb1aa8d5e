"""Values of the fatigue domain, named exactly as lesson 174's SQL names them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal, Protocol

OwnerRoute = Literal["publish_gate", "faq_rewrite", "freeze_bypass", "exec_readback"]
#: The lesson's four owner routes: the default. A backup_owner_policy may declare more
#: (``owner_routes``); code that needs the known routes asks the policy (``route_slas``).
OWNER_ROUTES: tuple[str, ...] = ("publish_gate", "faq_rewrite", "freeze_bypass", "exec_readback")
ACK_OUTCOMES: tuple[str, ...] = ("approved", "rejected", "reroute_requested", "timeout")
CLASSIFICATIONS: tuple[str, ...] = ("red", "amber", "recovering", "green")

#: Default ``sla_target_hours`` per route (lesson 174: 30 min, 4 h, 2 h, 24 h).
DEFAULT_SLA_TARGET_HOURS: dict[str, Decimal] = {
    "publish_gate": Decimal("0.5"),
    "faq_rewrite": Decimal("4"),
    "freeze_bypass": Decimal("2"),
    "exec_readback": Decimal("24"),
}

#: The nightly refresh instant is 00:00 UTC; history steps back in whole days from a refresh.
REFRESH_STEP = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Every number the classification, promotion and ladder rules use, with the seed's values.

    They live in the policy so a team can replay a month under a candidate policy (what-if).
    """

    window_days: int = 14
    red_min_windows: int = 3
    red_min_breaches: int = 1
    amber_min_windows: int = 3
    amber_ratio: Decimal = Decimal("0.75")
    quiet_ratio: Decimal = Decimal("0.5")
    recovering_days: int = 7
    aged_factor: Decimal = Decimal("1.5")
    revert_green_days: int = 7
    rung2_hours: int = 48


@dataclass(frozen=True, slots=True)
class HeatmapRow:
    """One row of ``signer_fatigue_heatmap_14d`` plus its ``classification``.

    Averages are exact decimals (``None`` when SQL's AVG would be NULL); they are rounded only
    when rendered.
    """

    signer_id: str
    ack_count_14d: int
    breached_count_14d: int
    concurrent_window_count_14d: int
    avg_latency_hours_14d: Decimal | None
    avg_latency_ratio_14d: Decimal | None
    pending_acks_now: int
    classification: str


@dataclass(frozen=True, slots=True)
class PendingAck:
    """An ack event unanswered at some refresh: the input of ``pending_acks_aged``.

    ``ack_dt_utc`` is when it was eventually answered (``None`` if still open at the export).
    """

    ack_event_id: str
    signer_id: str
    owner_route: str
    cert_window_id: str | None
    request_dt_utc: datetime
    ack_dt_utc: datetime | None
    sla_target_hours: Decimal


class RefreshSource(Protocol):
    """Where an on-demand :class:`Refresh` reads its rows, classes and hash (see ``daily.py``)."""

    def rows_at(self, index: int) -> tuple[HeatmapRow, ...]: ...

    def classification_at(self, index: int) -> Mapping[str, str]: ...

    def snapshot_hash_at(self, index: int) -> str: ...


class Refresh:
    """One daily refresh of the heat-map: its instant, rows, classifications and snapshot hash.

    ``classification`` covers every signer seen in the export up to ``at``, also those with no row
    in the 14-day window (they are green, or still recovering).

    Built either with every value (a plugin's history, tests) or on demand over a shared store:
    a daily history of thousands of signers over years keeps one byte per signer-day, and the
    rows and the hash of a day are computed when a consumer asks for them (see ``daily.py``).
    """

    __slots__ = ("_classification", "_hash", "_index", "_rows", "_source", "at")

    def __init__(self, at: datetime, rows: tuple[HeatmapRow, ...],
                 classification: Mapping[str, str], snapshot_hash: str) -> None:
        self.at = at
        self._rows: tuple[HeatmapRow, ...] | None = rows
        self._classification: Mapping[str, str] | None = classification
        self._hash: str | None = snapshot_hash
        self._source: RefreshSource | None = None
        self._index = 0

    @classmethod
    def on_demand(cls, at: datetime, source: RefreshSource, index: int) -> Refresh:
        """A refresh whose values ``source`` computes when asked (index ``index`` there)."""
        refresh = cls.__new__(cls)
        refresh.at = at
        refresh._rows = refresh._classification = refresh._hash = None
        refresh._source = source
        refresh._index = index
        return refresh

    @property
    def rows(self) -> tuple[HeatmapRow, ...]:
        """The view's rows, sorted by ``signer_id``."""
        if self._rows is not None:
            return self._rows
        assert self._source is not None
        return self._source.rows_at(self._index)  # not kept here: the source bounds the memory

    @property
    def classification(self) -> Mapping[str, str]:
        """Signer -> class for every signer seen up to ``at``, in ``signer_id`` order."""
        if self._classification is None:
            assert self._source is not None
            self._classification = self._source.classification_at(self._index)
        return self._classification

    @property
    def snapshot_hash(self) -> str:
        """The pinned snapshot hash of the rows (see ``snapshot.py``)."""
        if self._hash is None:
            assert self._source is not None
            self._hash = self._source.snapshot_hash_at(self._index)
        return self._hash

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Refresh):
            return NotImplemented
        return (self.at == other.at and self.rows == other.rows
                and dict(self.classification) == dict(other.classification)
                and self.snapshot_hash == other.snapshot_hash)

    def __hash__(self) -> int:
        return hash((self.at, self.snapshot_hash))

    def __repr__(self) -> str:
        return f"Refresh(at={self.at!r}, snapshot_hash={self.snapshot_hash!r})"
