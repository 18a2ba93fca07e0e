"""Records of the append-only ledger and the account handle."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["Account", "LedgerEntry", "Quote"]


@dataclass(frozen=True)
class Account:
    """Handle to an account in a :class:`~predmarket.market.Market` (its name)."""

    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class LedgerEntry:
    """One immutable line of a market's ledger.

    Attributes
    ----------
    seq : int
        Position in the ledger, from 0.
    kind : str
        ``"open"`` (an account is funded), ``"trade"``, ``"observe"``, ``"settle"`` or
        ``"payout"``.
    account : str or None
        The account concerned (None for observations and the settlement itself).
    cash : float
        Money moved *to* the account by this entry (a trade's cost is negative; an
        endowment or payout is positive). The market maker receives ``-cash``, except for
        ``"open"``, whose money comes from outside.
    parts, values : tuple
        For a trade: the events (strings) that partition the outcome space and the
        change in outstanding shares :math:`\\Delta q` on each. With the cost, they are all
        that settlement needs: the trade pays :math:`C_S(q + \\Delta q) - C_S(q)`.
    details : mapping
        What the caller asked for (event, given, shares, probability, ...).
    """

    seq: int
    kind: str
    account: str | None
    cash: float = 0.0
    parts: tuple[str, ...] = ()
    values: tuple[float, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))

    def __deepcopy__(self, memo) -> LedgerEntry:
        return self  # immutable: a copied market shares its past ledger lines


@dataclass(frozen=True)
class Quote:
    """What a trade would do, computed without making it.

    Attributes
    ----------
    cost : float
        Cash the account pays now (negative: receives).
    shares : float
        Shares bought (of the event, or of the event given the condition).
    price_before, price_after : float
        Price of the event (conditional when ``given`` was set) before and after.
    min_asset_after : float
        The account's worst-case final cash over the outcomes the market can still settle
        on, if the trade were made (exact from :meth:`Market.preview`; a guaranteed lower
        bound when returned by a trade, which skips the full scan when it can; call
        :meth:`Market.min_asset` for the exact value).
    affordable : bool
        Whether the budget rule would accept it.
    """

    cost: float
    shares: float
    price_before: float
    price_after: float
    min_asset_after: float
    affordable: bool
