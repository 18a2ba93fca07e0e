"""Pure, vectorised functions of the logarithmic market scoring rule (LMSR).

Everything here is a plain function of arrays: no state, no market objects. The stateful
:class:`~predmarket.market.Market` calls these. All functions work in log space
(log-sum-exp), so they are stable for any liquidity :math:`b > 0` and any magnitude of the
quantities :math:`q`. Arrays broadcast in the usual numpy way; outcome axes are the last axis.

References
----------
.. [1] R. Hanson, "Combinatorial information market design", Information Systems
   Frontiers 5(1), 2003.
.. [2] R. Hanson, "Logarithmic market scoring rules for modular combinatorial information
   aggregation", Journal of Prediction Markets 1(1), 2007.
.. [3] A. Othman, D. M. Pennock, D. M. Reeves, T. Sandholm, "A practical
   liquidity-sensitive automated market maker", ACM Transactions on Economics and
   Computation 1(3), 2013.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, logsumexp

from predmarket.errors import InvalidAmount, InvalidLiquidity, InvalidProbability

__all__ = [
    "check_liquidity",
    "edit_payoffs",
    "event_cost",
    "event_log_partition",
    "event_price",
    "lmsr_cost",
    "lmsr_prices",
    "log_score",
    "logit",
    "lslmsr_alpha",
    "lslmsr_cost",
    "lslmsr_liquidity",
    "lslmsr_prices",
    "price_after_shares",
    "shares_cost",
    "shares_to_target",
    "target_cost",
    "worst_case_loss",
]


def check_liquidity(b) -> float:
    """Return ``b`` as a float, or raise :class:`InvalidLiquidity` unless finite and > 0."""
    try:
        value = float(b)
    except (TypeError, ValueError):
        raise InvalidLiquidity(f"liquidity b must be a positive number, got {b!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise InvalidLiquidity(f"liquidity b must be finite and > 0, got {b!r}")
    return value


def _finite(name: str, x) -> np.ndarray:
    arr = np.asarray(x, dtype=float)
    if not np.all(np.isfinite(arr)):
        raise InvalidAmount(f"{name} must be finite numbers, got {x!r}")
    return arr


def _probability(name: str, p, *, closed: bool = False) -> np.ndarray:
    arr = np.asarray(p, dtype=float)
    ok = (arr >= 0) & (arr <= 1) if closed else (arr > 0) & (arr < 1)
    if not np.all(ok):
        interval = "[0, 1]" if closed else "the open interval (0, 1)"
        raise InvalidProbability(f"{name} must lie in {interval}, got {p!r}")
    return arr


def lmsr_cost(q, b):
    """LMSR cost function.

    .. math:: C(q) = b \\log \\sum_\\omega \\exp(q_\\omega / b)

    Parameters
    ----------
    q : array_like, shape (..., n)
        Outstanding shares per outcome (last axis).
    b : float
        Liquidity, > 0.

    Examples
    --------
    >>> round(float(lmsr_cost([0.0, 0.0], 1.0)), 6)  # log 2
    0.693147
    """
    b = check_liquidity(b)
    q = _finite("quantities q", q)
    return b * logsumexp(q / b, axis=-1)


def lmsr_prices(q, b):
    """LMSR prices, the gradient of :func:`lmsr_cost`.

    .. math:: p_\\omega(q) = \\frac{\\exp(q_\\omega / b)}{\\sum_{\\omega'} \\exp(q_{\\omega'} / b)}

    Examples
    --------
    >>> lmsr_prices([0.0, 0.0], 1.0).tolist()
    [0.5, 0.5]
    """
    b = check_liquidity(b)
    q = _finite("quantities q", q)
    z = q / b
    return np.exp(z - logsumexp(z, axis=-1, keepdims=True))


def event_log_partition(q, b, mask):
    """Log-partition of an event, :math:`\\log \\sum_{\\omega \\in E} \\exp(q_\\omega / b)`.

    Returns ``-inf`` for the empty event.
    """
    b = check_liquidity(b)
    q = _finite("quantities q", q)
    mask = np.asarray(mask, dtype=bool)
    z = np.where(mask, q / b, -np.inf)
    return logsumexp(z, axis=-1)


def event_cost(q, b, mask):
    """Cost function restricted to an event (used by settlement, DESIGN.md sec. 4).

    .. math:: C_S(q) = b \\log \\sum_{\\omega \\in S} \\exp(q_\\omega / b)
    """
    return check_liquidity(b) * event_log_partition(q, b, mask)


def event_price(q, b, mask):
    """Price (probability) of an event, :math:`p(E) = \\sum_{\\omega\\in E} p_\\omega(q)`."""
    return np.exp(event_log_partition(q, b, mask) - event_log_partition(q, b, True))


def logit(p):
    """:math:`\\operatorname{logit}(p) = \\log p - \\log(1-p)`, computed with ``log1p``."""
    p = np.asarray(p, dtype=float)
    with np.errstate(divide="ignore"):
        return np.log(p) - np.log1p(-p)


def shares_cost(price, shares, b):
    """Closed-form cost of buying ``shares`` of an event whose price is ``price``.

    Buying :math:`x` shares of :math:`E` adds :math:`x` to :math:`q_\\omega` for
    :math:`\\omega \\in E`, so

    .. math:: C(q') - C(q) = b \\log\\bigl(1 - p(E) + p(E)\\, e^{x/b}\\bigr),

    evaluated as :math:`b \\operatorname{logaddexp}(\\log(1-p), \\log p + x/b)`. For a
    conditional share of :math:`A` given :math:`B` (refunded on :math:`\\neg B`), pass
    :math:`p = P(A \\mid B)`: the cost is the same expression [1]_.

    Examples
    --------
    >>> round(float(shares_cost(0.5, 0.0, 10.0)), 12)
    0.0
    >>> round(float(shares_cost(0.5, 1e6, 10.0)), 3)  # about x - b log 2 for huge x
    999993.069
    """
    b = check_liquidity(b)
    p = _probability("price", price, closed=True)
    x = _finite("shares", shares)
    with np.errstate(divide="ignore"):
        return b * np.logaddexp(np.log1p(-p), np.log(p) + x / b)


def price_after_shares(price, shares, b):
    """Price of :math:`E` after buying ``shares`` of it.

    .. math:: p' = \\operatorname{expit}(\\operatorname{logit}(p) + x/b)
    """
    b = check_liquidity(b)
    p = _probability("price", price)
    return expit(logit(p) + _finite("shares", shares) / b)


def shares_to_target(price, target, b):
    """Shares of :math:`E` that move its price from ``price`` to ``target`` (closed form).

    .. math:: x = b\\,[\\operatorname{logit}(p') - \\operatorname{logit}(p)]
    """
    b = check_liquidity(b)
    p = _probability("price", price)
    t = _probability("target probability", target)
    return b * (logit(t) - logit(p))


def target_cost(price, target, b):
    """Cost of the cheapest share trade that brings :math:`p(E)` to ``target``.

    .. math:: b \\log \\frac{1-p}{1-p'}

    It equals ``shares_cost(price, shares_to_target(price, target, b), b)``.
    """
    b = check_liquidity(b)
    p = _probability("price", price)
    t = _probability("target probability", target)
    return b * (np.log1p(-p) - np.log1p(-t))


def edit_payoffs(price, target, b):
    """Net payoffs of Hanson's edit :math:`P(A \\mid B): p \\to p'` on :math:`A\\wedge B`
    and on :math:`\\neg A \\wedge B` (it pays 0 on :math:`\\neg B` and costs nothing) [1]_.

    .. math:: \\Bigl(b \\log\\frac{p'}{p},\\; b \\log\\frac{1-p'}{1-p}\\Bigr)
    """
    b = check_liquidity(b)
    p = _probability("price", price)
    t = _probability("target probability", target)
    return b * (np.log(t) - np.log(p)), b * (np.log1p(-t) - np.log1p(-p))


def worst_case_loss(b, prior):
    """Bound on the market maker's loss: :math:`-b \\log \\min_o P_0(o)`.

    With a uniform prior over :math:`N` outcomes this is Hanson's :math:`b \\log N` [2]_.
    """
    b = check_liquidity(b)
    p = _probability("prior probabilities", prior, closed=True)
    return -b * float(np.log(p[p > 0].min()))


def log_score(probability):
    """Logarithmic scoring rule :math:`\\log p` of the probability given to what happened."""
    p = _probability("probability", probability, closed=True)
    with np.errstate(divide="ignore"):
        return np.log(p)


def lslmsr_alpha(vig, n):
    """Othman et al.'s :math:`\\alpha` for a market maker that charges ``vig`` over ``n``
    outcomes at the uniform point [3]_.

    .. math:: \\alpha = \\frac{v}{n \\log n}
    """
    vig = _finite("vig", vig)
    if np.any(vig <= 0) or int(n) < 2:
        raise InvalidAmount(f"vig must be > 0 and n >= 2, got vig={vig!r}, n={n!r}")
    return vig / (int(n) * np.log(int(n)))


def _lslmsr_q(q) -> np.ndarray:
    q = _finite("quantities q", q)
    if np.any(q < 0) or np.any(q.sum(axis=-1) <= 0):
        raise InvalidAmount(
            "LS-LMSR needs non-negative quantities with a positive total (seed the market "
            f"with a small positive q), got {q!r}"
        )
    return q


def lslmsr_liquidity(q, alpha):
    """Liquidity of the LS-LMSR at ``q``: :math:`b(q) = \\alpha \\sum_i q_i` [3]_."""
    return float(np.asarray(alpha)) * _lslmsr_q(q).sum(axis=-1)


def lslmsr_cost(q, alpha):
    """Liquidity-sensitive LMSR cost (Othman, Pennock, Reeves & Sandholm 2013) [3]_.

    .. math:: C(q) = b(q) \\log \\sum_i \\exp\\bigl(q_i / b(q)\\bigr),
              \\qquad b(q) = \\alpha \\sum_i q_i

    Liquidity grows with volume, and prices sum to more than 1 (the maker's vig).
    """
    q = _lslmsr_q(q)
    bq = lslmsr_liquidity(q, alpha)
    return bq * logsumexp(q / np.expand_dims(bq, -1), axis=-1)


def lslmsr_prices(q, alpha):
    """Liquidity-sensitive LMSR prices, the gradient of :func:`lslmsr_cost` [3]_.

    .. math::
        p_i(q) = \\alpha \\log \\sum_j e^{q_j/b(q)}
        + \\frac{\\sum_j q_j e^{q_i/b(q)} - \\sum_j q_j e^{q_j/b(q)}}
               {\\sum_j q_j \\sum_j e^{q_j/b(q)}}

    Examples
    --------
    >>> p = lslmsr_prices([1.0, 1.0], lslmsr_alpha(0.05, 2))
    >>> round(float(p.sum()), 6)  # 1 + vig at the uniform point
    1.05
    """
    q = _lslmsr_q(q)
    alpha = float(np.asarray(alpha))
    bq = np.expand_dims(alpha * q.sum(axis=-1), -1)
    z = q / bq
    lse = logsumexp(z, axis=-1, keepdims=True)
    soft = np.exp(z - lse)  # e^{q_i/b} / sum_j e^{q_j/b}
    total = q.sum(axis=-1, keepdims=True)
    weighted = (q * soft).sum(axis=-1, keepdims=True)
    return alpha * lse + (total * soft - weighted) / total
