"""Traders without a model: noise and momentum.

Both size their trades so that their worst case stays affordable: buying :math:`x` shares
can lose at most its cost :math:`c < x`, and selling :math:`x` shares at most
:math:`x - |c| < x`; so a trader that keeps :math:`x \\le f \\cdot W` with :math:`W` its
worst-case final cash and :math:`f < 1` is never refused for lack of funds.
"""

from __future__ import annotations

from typing import Any

from predmarket.errors import InvalidAmount, InvalidInput
from predmarket.sim.orders import Buy, Sell
from predmarket.traders.bayesian import _fraction
from predmarket.validation import finite_number

__all__ = ["MomentumTrader", "NoiseTrader"]


def _events(events: Any) -> list:
    if isinstance(events, (str, dict)):
        events = [events]
    events = list(events)
    if not events:
        raise InvalidInput("a trader needs at least one event to trade")
    return events


def _positive(name: str, value: Any) -> float:
    x = finite_number(name, value)
    if x <= 0:
        raise InvalidAmount(f"{name} must be a finite number > 0, got {value!r}")
    return x


class NoiseTrader:
    """Buys or sells a random amount of a random event each turn (``view.rng``).

    Parameters
    ----------
    events : sequence
        Events to trade.
    size : float
        Mean number of shares per trade (exponentially distributed).
    fraction : float
        At most this share of the worst-case final cash per trade.

    Examples
    --------
    >>> import numpy as np
    >>> from predmarket import Market, OutcomeSpace, Variable
    >>> from predmarket.sim import check_trader
    >>> space = OutcomeSpace([Variable("rain", ["yes", "no"])])
    >>> check_trader(NoiseTrader(["rain == yes"]), Market(space, 10.0)).orders
    5
    """

    def __init__(self, events: Any, *, size: float = 1.0, fraction: float = 0.1,
                 market: str | None = None, name: str | None = None):
        self.events = _events(events)
        self.size = _positive("size", size)
        self.fraction = _fraction(fraction)
        self.market = market
        if name is not None:
            self.name = name

    def act(self, view):
        rng = view.rng
        event = self.events[int(rng.integers(len(self.events)))]
        cap = self.fraction * view.min_asset(market=self.market)
        shares = min(float(rng.exponential(self.size)), cap)
        if shares <= 1e-9:
            return None
        kind = Buy if rng.random() < 0.5 else Sell
        return kind(event, shares, market=self.market)


class MomentumTrader:
    """Trades in the direction prices moved since its last turn.

    Each turn it buys :math:`x = s \\cdot b \\cdot \\Delta\\pi / \\pi(1-\\pi)` shares of
    each event whose price moved by :math:`\\Delta\\pi` since its previous turn (sells when
    negative), where :math:`s` is ``strength`` and :math:`b` the liquidity: the logit move
    the last change implies, extrapolated. It forgets at each new episode.
    """

    def __init__(self, events: Any, *, strength: float = 0.5, fraction: float = 0.1,
                 market: str | None = None, name: str | None = None):
        self.events = _events(events)
        self.strength = _positive("strength", strength)
        self.fraction = _fraction(fraction)
        self.market = market
        if name is not None:
            self.name = name
        self._last: dict = {}
        self._episode = None

    def act(self, view):
        if view.episode != self._episode:
            self._episode, self._last = view.episode, {}
        cap = self.fraction * view.min_asset(market=self.market) / len(self.events)
        b = view.liquidity(market=self.market)
        orders = []
        for i, event in enumerate(self.events):
            price = view.price(event, market=self.market)
            last = self._last.get(i)
            self._last[i] = price
            if last is None or not 0.0 < price < 1.0:
                continue
            shares = self.strength * b * (price - last) / (price * (1.0 - price))
            shares = max(-cap, min(cap, shares))
            if shares > 1e-9:
                orders.append(Buy(event, shares, market=self.market))
            elif shares < -1e-9:
                orders.append(Sell(event, -shares, market=self.market))
        return orders
