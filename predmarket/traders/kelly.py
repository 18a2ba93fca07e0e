"""Kelly sizing against an LMSR market maker.

A trader with belief :math:`p` in event :math:`A` (price :math:`\\pi`, liquidity
:math:`b`) and wealth :math:`W` that it may lose chooses the price :math:`\\pi'` to move
the market to by maximising expected log wealth (Kelly 1956). Buying
:math:`x = b[\\operatorname{logit}\\pi' - \\operatorname{logit}\\pi]` shares costs
:math:`c = b\\log\\frac{1-\\pi}{1-\\pi'}`, so

.. math::
    \\max_{\\pi'}\\; p\\log(W - c + x) + (1-p)\\log(W - c),

whose first-order condition (the marginal price is :math:`dc/dx = \\pi'`) is

.. math::
    p\\,(1-\\pi')\\,(W-c) = (1-p)\\,\\pi'\\,(W-c+x).

The left side minus the right is positive at :math:`\\pi' = \\pi` and negative at
:math:`\\pi' = p` (or where :math:`c` reaches :math:`W`), so the optimum lies strictly
between the price and the belief and is found by bracketing (Brent). As
:math:`W/b \\to \\infty` it tends to the belief: a rich trader moves the price all the
way, as in Hanson's risk-neutral analysis; a poor one moves it part way, so the market
aggregates beliefs weighted by wealth (Beygelzimer, Langford & Pennock 2012).

Using the trader's worst-case final cash as :math:`W` keeps the trade affordable under the
market's budget rule in every outcome.

References
----------
.. [1] J. L. Kelly, "A new interpretation of information rate", Bell System Technical
   Journal, 1956.
.. [2] A. Beygelzimer, J. Langford, D. M. Pennock, "Learning performance of prediction
   markets with Kelly bettors", AAMAS 2012.
.. [3] R. Hanson, "Logarithmic market scoring rules for modular combinatorial information
   aggregation", 2007.
"""

from __future__ import annotations

import math

from scipy.optimize import brentq

from predmarket.errors import InvalidAmount, InvalidLiquidity, InvalidProbability

__all__ = ["kelly_price"]

_EDGE = 1e-12


def kelly_price(belief: float, price: float, wealth: float, liquidity: float) -> float:
    """The price a Kelly (log-utility) trader moves an LMSR market to.

    Parameters
    ----------
    belief, price : float
        The trader's probability and the market's, both in (0, 1).
    wealth : float
        What the trader can lose (>= 0); 0 means no trade.
    liquidity : float
        The market's :math:`b > 0`.

    Examples
    --------
    >>> round(kelly_price(0.8, 0.5, 1e9, 10.0), 6)   # rich: all the way to the belief
    0.8
    >>> p = kelly_price(0.8, 0.5, 1.0, 10.0)          # poor: part way
    >>> 0.5 < p < 0.8
    True
    >>> kelly_price(0.3, 0.5, 5.0, 10.0) < 0.5        # selling is buying the complement
    True
    """
    for name, v in (("belief", belief), ("price", price)):
        if not (isinstance(v, (int, float)) and math.isfinite(v) and 0.0 < v < 1.0):
            raise InvalidProbability(f"{name} must lie in (0, 1), got {v!r}")
    if not (isinstance(wealth, (int, float)) and math.isfinite(wealth)):
        raise InvalidAmount(f"wealth must be a finite number, got {wealth!r}")
    if not (isinstance(liquidity, (int, float)) and math.isfinite(liquidity) and liquidity > 0):
        raise InvalidLiquidity(f"liquidity must be a finite number > 0, got {liquidity!r}")
    if wealth <= 0 or belief == price:
        return float(price)
    if belief < price:
        return 1.0 - kelly_price(1.0 - belief, 1.0 - price, wealth, liquidity)
    b, p, pi, w = float(liquidity), float(belief), float(price), float(wealth)
    logit_pi = math.log(pi) - math.log1p(-pi)

    def cost(q):
        return b * (math.log1p(-pi) - math.log1p(-q))

    def foc(q):
        c = cost(q)
        x = b * (math.log(q) - math.log1p(-q) - logit_pi)
        return p * (1.0 - q) * (w - c) - (1.0 - p) * q * (w - c + x)

    # the price at which the cost would use up the whole wealth
    ruin = 1.0 - (1.0 - pi) * math.exp(-w / b)
    high = min(p, ruin)
    high = pi + (high - pi) * (1.0 - _EDGE)
    if high <= pi or foc(high) >= 0.0:
        return float(high)
    return float(brentq(foc, pi, high, xtol=1e-14, rtol=1e-12))
