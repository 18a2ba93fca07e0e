"""The arbitrageur: riskless profit from incoherent prices across linked markets.

Let :math:`E_1, \\dots, E_n` be events (each in some market) of which exactly one happens.
Coherent prices sum to 1. If they sum to :math:`s < 1`, buying :math:`x` shares of every
:math:`E_i` pays exactly :math:`x` whatever happens and costs
:math:`\\sum_i c_i(x) < x` while the prices stay below 1 in total: a sure profit. The
arbitrageur buys the :math:`x` at which the prices after the trade sum to 1,

.. math::
    \\sum_i \\sigma\\bigl(\\operatorname{logit}\\pi_i + x/b_i\\bigr) = 1,

(:math:`\\sigma` the logistic function, :math:`b_i` each market's liquidity), and sells the
same way when :math:`s > 1`. Each leg sits in a different account when the events sit in
different markets, so each leg's own worst case must fit its account's budget; ``x`` is
shrunk until it does. Within one LMSR market prices are always coherent, so the
arbitrageur matters between markets (the same question priced by two makers) and for
markets that may price incoherently (e.g. logical induction's day-n prices).
"""

from __future__ import annotations

import math
from typing import Any

from scipy.optimize import brentq

from predmarket.errors import InvalidAmount, InvalidInput
from predmarket.sim.orders import Buy, Sell
from predmarket.traders.bayesian import _fraction
from predmarket.validation import finite_number

__all__ = ["Arbitrageur"]


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def _cost(price: float, shares: float, b: float) -> float:
    """LMSR cost of ``shares`` of an event priced ``price`` (log-sum-exp form)."""
    a, c = math.log(price) + shares / b, math.log1p(-price)
    m = max(a, c)
    return b * (m + math.log(math.exp(a - m) + math.exp(c - m)))


class Arbitrageur:
    """Trades every partition whose prices do not sum to 1 back to coherence.

    Parameters
    ----------
    partitions : sequence of sequences
        Each a list of legs ``(market name, event)`` (or an event, for the default market)
        of which exactly one happens.
    tolerance : float
        Ignore partitions whose prices sum to within ``tolerance`` of 1.
    fraction : float
        Share of each account's worst-case cash one leg may risk.

    Examples
    --------
    >>> arb = Arbitrageur([[("a", "rain == yes"), ("b", "rain == no")]])
    >>> len(arb.partitions[0])
    2
    """

    def __init__(self, partitions: Any, *, tolerance: float = 1e-3, fraction: float = 0.5,
                 name: str | None = None):
        parts = []
        for part in partitions:
            legs = []
            for leg in part:
                if isinstance(leg, tuple):
                    if len(leg) != 2:
                        raise InvalidInput(f"a leg is an event or (market, event), got {leg!r}")
                    legs.append(leg)
                else:
                    legs.append((None, leg))
            if len(legs) < 2:
                raise InvalidInput(f"a partition needs at least two events, got {part!r}")
            parts.append(legs)
        if not parts:
            raise InvalidInput("an arbitrageur needs at least one partition")
        self.partitions = parts
        self.tolerance = finite_number("tolerance", tolerance)
        if self.tolerance < 0:
            raise InvalidAmount(f"tolerance must be a finite number >= 0, got {tolerance!r}")
        self.fraction = _fraction(fraction)
        if name is not None:
            self.name = name

    def act(self, view):
        orders = []
        for legs in self.partitions:
            prices = [view.price(e, market=m) for m, e in legs]
            total = sum(prices)
            if abs(total - 1.0) <= self.tolerance or not all(0 < p < 1 for p in prices):
                continue
            bs = [view.liquidity(market=m) for m, _ in legs]
            logits = [math.log(p) - math.log1p(-p) for p in prices]

            def excess(x, logits=logits, bs=bs):
                return sum(_sigmoid(z + x / b) for z, b in zip(logits, bs)) - 1.0

            span = 1.0
            direction = 1.0 if total < 1.0 else -1.0
            while excess(direction * span) * direction < 0 and span < 1e9:
                span *= 2.0
            lo, hi = sorted((0.0, direction * span))
            x = brentq(excess, lo, hi, xtol=1e-12)
            # shrink until every leg's own worst case fits its account
            budgets = [self.fraction * view.min_asset(market=m) for m, _ in legs]
            for _ in range(60):
                risks = []
                for p, b in zip(prices, bs):
                    c = _cost(p, x, b)
                    risks.append(max(c, c - x))  # lose c if it fails, c - x if it happens
                if all(r <= w for r, w in zip(risks, budgets)):
                    break
                x *= 0.5
            else:
                continue
            if abs(x) < 1e-9:
                continue
            for m, e in legs:
                orders.append(Buy(e, x, market=m) if x > 0 else Sell(e, -x, market=m))
        return orders
