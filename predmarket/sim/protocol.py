"""What the simulation layer needs from a market: a small, documented protocol.

:class:`~predmarket.sim.view.MarketView`, :class:`~predmarket.sim.simulation.Simulation`,
the recorder and the checker use *only* these members of a market, so any object that
provides them (a :class:`~predmarket.market.Market`, or a market over logical sentences
whose events are sentences) runs unchanged.

Reads
    ``price(event, given=None) -> float``, ``marginal(variable) -> dict``,
    ``probabilities() -> ndarray``, ``liquidity``, ``cash(account)``,
    ``min_asset(account)``, ``assets(account) -> ndarray``,
    ``preview(account, event, shares=, probability=, given=) -> Quote``, ``settled``.
Trades
    ``buy``, ``sell``, ``edit``, ``target`` (each refuses by raising a
    :class:`~predmarket.errors.PredmarketError` *before* changing anything).
Lifecycle
    ``open_account(name, cash)``, ``observe(observation)``, ``settle(observation)``.

``price`` raises :class:`~predmarket.errors.ImpossibleEvent` for an event ruled out by
the observations; the recorder relies on it to read an event's truth after observing the
outcome.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

__all__ = ["MARKET_MEMBERS", "MarketLike", "require_market"]

MARKET_MEMBERS = ("price", "marginal", "probabilities", "liquidity", "cash", "min_asset",
                  "assets", "preview", "settled", "buy", "sell", "edit", "target",
                  "open_account", "observe", "settle")


@runtime_checkable
class MarketLike(Protocol):
    """The members of a market that the simulation layer uses (see the module doc)."""

    liquidity: float
    settled: bool

    def price(self, event: Any, given: Any = None) -> float: ...
    def marginal(self, variable: str) -> dict: ...
    def probabilities(self) -> Any: ...
    def cash(self, account: Any) -> float: ...
    def min_asset(self, account: Any) -> float: ...
    def assets(self, account: Any) -> Any: ...
    def preview(self, account: Any, event: Any, *, shares: Any = None,
                probability: Any = None, given: Any = None) -> Any: ...
    def buy(self, account: Any, event: Any, shares: float, *, given: Any = None) -> float: ...
    def sell(self, account: Any, event: Any, shares: float, *, given: Any = None) -> float: ...
    def edit(self, account: Any, event: Any, probability: float, *, given: Any = None) -> Any: ...
    def target(self, account: Any, event: Any, probability: float, *,
               given: Any = None) -> Any: ...
    def open_account(self, name: str, cash: float) -> Any: ...
    def observe(self, observation: Any) -> None: ...
    def settle(self, observation: Any) -> dict: ...


def require_market(obj: Any, role: str = "market") -> Any:
    """Return ``obj`` if it has every member of :class:`MarketLike`, else raise.

    Raises
    ------
    InvalidInput
        Naming the missing members.
    """
    from predmarket.errors import InvalidInput

    missing = [m for m in MARKET_MEMBERS if not hasattr(obj, m)]
    if missing:
        raise InvalidInput(
            f"{role} {type(obj).__name__} lacks {missing!r}; expected an object with the "
            "market protocol of predmarket.sim.protocol")
    return obj
