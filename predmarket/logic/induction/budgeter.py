"""The Budgeter: a trader that cannot lose more than its budget in any plausible world.

Garrabrant et al. (2016, Def. 5.2.1) turn a trader :math:`T` into, for each budget
:math:`b > 0`,

.. math::

    B^b_n(T) = \\begin{cases}
      0 & \\text{if } \\exists\\, m < n,\\ W \\in \\mathrm{PC}(D_m):\\
          W\\bigl(\\sum_{i \\le m} T_i\\bigr) \\le -b,\\\\[2pt]
      T_n \\cdot \\inf_{W \\in \\mathrm{PC}(D_n)}
          \\dfrac{1}{\\max\\Bigl(1,\\ \\dfrac{-W(T_n)}{b + W(\\sum_{i \\le n-1} T_i)}\\Bigr)}
        & \\text{otherwise,}
    \\end{cases}

where :math:`W(\\sum_i T_i)` values each past trade :math:`T_i` at *its own day's* prices:
:math:`W(T_i) = \\sum_\\varphi \\xi_{i,\\varphi}\\,(W(\\varphi) - P_i(\\varphi))`. The budgeted
trader equals :math:`T` until the first day some plausible world would take :math:`T` below
:math:`-b`, is scaled down that day so that it stays :math:`\\ge -b`, and is zero afterwards;
hence the sums above are over :math:`T`'s own trades, the same for every budget.

What makes it cheap:

* the first case needs only one number per trader, the **lowest plausible value so far**
  :math:`L = \\min_{m < n} \\min_{W \\in \\mathrm{PC}(D_m)} W(\\sum_{i \\le m} T_i)`, updated once a
  day (:attr:`TraderAccount.lowest`): :math:`B^b` is alive iff :math:`L > -b`;
* the trader's past value in a world depends only on the truth values of the sentences it
  still holds, so the infimum runs over the distinct **truth patterns** of the sentences it
  holds or trades today, consistent with :math:`D_n`, not over worlds;
* sentences settled by :math:`D_n` are paid out into cash (:meth:`TraderAccount.settle`), which
  changes no plausible value and keeps those patterns few.

:class:`BudgetedDay` evaluates the budget factors of all traders at once, with their
gradient in today's prices, for the market maker.

References
----------
.. [1] S. Garrabrant, T. Benson-Tilsen, A. Critch, N. Soares, J. Taylor, "Logical
   induction", arXiv:1609.03543 v5 (2016), Def. 5.2.1 and Lemma 5.2.2 (Budgeter).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from predmarket.errors import InvalidInput

__all__ = ["BudgetedDay", "TraderAccount", "budget_factor", "check_budgets"]


def check_budgets(budgets: Any) -> tuple[float, ...]:
    """Validate a list of budgets: finite numbers > 0, distinct, at least one."""
    try:
        values = tuple(float(b) for b in budgets)
    except (TypeError, ValueError):
        raise InvalidInput(f"budgets must be a sequence of numbers > 0, got {budgets!r}") from None
    if not values or any(not math.isfinite(b) or b <= 0 for b in values):
        raise InvalidInput(f"budgets must be finite numbers > 0 (at least one), got {budgets!r}")
    if len(set(values)) != len(values):
        raise InvalidInput(f"budgets must be distinct, got {budgets!r}")
    return values


class TraderAccount:
    """The holdings of one (unbudgeted) trader: cash and shares of unsettled sentences.

    ``lowest`` is :math:`\\min_{m} \\min_{W \\in \\mathrm{PC}(D_m)} W(\\sum_{i \\le m} T_i)`
    over the days so far (0 before any trade).

    Examples
    --------
    >>> import sympy
    >>> A = sympy.Symbol("A")
    >>> acc = TraderAccount()
    >>> acc.record({A: 2.0}, {A: 0.25})
    >>> acc.cash, acc.shares[A]
    (-0.5, 2.0)
    >>> acc.settle({A: True})
    >>> acc.cash, acc.shares
    (1.5, {})
    """

    __slots__ = ("cash", "lowest", "shares")

    def __init__(self):
        self.cash = 0.0
        self.shares: dict[Any, float] = {}
        self.lowest = 0.0

    def alive(self, budget: float) -> bool:
        """:math:`B^b` still trades: no plausible world ever took the trader to :math:`-b`."""
        return self.lowest > -budget

    def record(self, quantities: Mapping[Any, float], prices: Mapping[Any, float]) -> None:
        """Buy ``quantities`` at today's ``prices`` (cash pays the price now)."""
        for s, q in quantities.items():
            if q == 0.0:
                continue
            self.cash -= q * prices[s]
            self.shares[s] = self.shares.get(s, 0.0) + q

    def settle(self, truths: Mapping[Any, bool]) -> None:
        """Pay out settled sentences: each share of a true sentence becomes 1 cash."""
        for s, truth in truths.items():
            q = self.shares.pop(s, None)
            if q is not None and truth:
                self.cash += q

    def value(self, truth: Mapping[Any, bool]) -> float:
        """:math:`W(\\sum_i T_i)` in a world given as ``{sentence: bool}`` for held sentences."""
        return self.cash + sum(q for s, q in self.shares.items() if truth[s])


def budget_factor(
    quantities: Sequence[float],
    prices: Sequence[float],
    patterns: np.ndarray,
    past_values: Sequence[float],
    budget: float,
) -> float:
    """The scale :math:`\\inf_W 1/\\max(1, -W(T_n)/(b + W(\\text{past})))` for one trader.

    Parameters
    ----------
    quantities, prices : sequences
        Today's quantities :math:`\\xi_j` and prices :math:`p_j` of the traded sentences.
    patterns : ndarray of bool, shape (worlds, len(quantities))
        Truth values of the traded sentences in each plausible world.
    past_values : sequence
        :math:`W(\\sum_{i<n} T_i)` in the same worlds (each > :math:`-b`).
    budget : float

    >>> budget_factor([1.0], [0.5], np.array([[False], [True]]), [0.0, 0.0], 0.25)
    0.5
    """
    q = np.asarray(quantities, dtype=float)
    p = np.asarray(prices, dtype=float)
    v = (np.asarray(patterns, dtype=float) - p) @ q
    denom = budget + np.asarray(past_values, dtype=float)
    if np.any(denom <= 0):
        raise InvalidInput("past values must exceed -budget in every plausible world")
    return float(np.min(1.0 / np.maximum(1.0, -v / denom)))


class BudgetedDay:
    """All traders' budget factors on one day, vectorised, with gradients.

    The firm's trade on sentence :math:`i` is

    .. math::

        q_i(p) = \\sum_k w_k \\sum_b 2^{-b}\\,[L_k > -b]\\; s_{k,b}(p)\\,
        \\sum_{t \\in \\text{terms}(k),\\ \\varphi_t = \\varphi_i} \\xi_t(p),
        \\qquad s_{k,b}(p) = \\frac{1}{\\max\\bigl(1, \\max_{\\sigma} \\frac{-v_\\sigma(p)}
        {b + V_\\sigma}\\bigr)},

    with :math:`v_\\sigma(p) = \\sum_t \\xi_t(p)(\\sigma_t - p_{i_t})` the value of today's trade
    and :math:`V_\\sigma` the past value in truth pattern :math:`\\sigma`.

    Parameters
    ----------
    n_prices : int
        Number of priced sentences :math:`m`.
    term_trader, term_col : int arrays, shape (T,)
        For each (trader, sentence) term: the trader's row in this day's arrays (0..K-1) and
        the priced sentence's index.
    weights : array, shape (K,)
        :math:`w_k` (the firm's weight of each trader).
    alive : bool array, shape (K, nb)
    budgets, budget_weights : arrays, shape (nb,)
    patterns : list of K bool arrays
        ``patterns[k]`` has shape (rows_k, T_k + H_k): truth values of trader k's today
        terms (in term order), then of its held sentences.
    holdings : list of K float arrays
        Shares of the held sentences (H_k); ``cash``: array (K,).
    """

    def __init__(
        self,
        *,
        n_prices: int,
        term_trader: np.ndarray,
        term_col: np.ndarray,
        weights: np.ndarray,
        alive: np.ndarray,
        budgets: np.ndarray,
        budget_weights: np.ndarray,
        patterns: list,
        holdings: list,
        cash: np.ndarray,
    ):
        self.m = n_prices
        self.term_trader = np.asarray(term_trader, dtype=np.intp)
        self.term_col = np.asarray(term_col, dtype=np.intp)
        self.K = len(patterns)
        T = self.term_trader.size
        self.weights = np.asarray(weights, dtype=float)
        self.alive = np.asarray(alive, dtype=bool)
        self.budgets = np.asarray(budgets, dtype=float)
        self.bw = np.asarray(budget_weights, dtype=float)
        rows_per = np.array([pat.shape[0] for pat in patterns], dtype=np.intp)
        self.R = int(rows_per.sum())
        self.row_trader = np.repeat(np.arange(self.K), rows_per)
        starts = np.concatenate([[0], np.cumsum(rows_per)[:-1]]).astype(np.intp)
        rmax = int(rows_per.max()) if self.K else 0
        self.pad = np.full((self.K, rmax), -1, dtype=np.intp)
        for k in range(self.K):
            self.pad[k, : rows_per[k]] = starts[k] + np.arange(rows_per[k])
        self.pad_ok = self.pad >= 0
        self.pad_safe = np.where(self.pad_ok, self.pad, 0)
        # terms of each trader, in order
        order = np.argsort(self.term_trader, kind="stable")
        if not np.array_equal(order, np.arange(T)):
            raise InvalidInput("terms must be grouped by trader, in trader order")
        counts = np.bincount(self.term_trader, minlength=self.K)
        tstart = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.intp)
        sig_r, sig_c, sig_v, inc_r, inc_c = [], [], [], [], []
        past = np.empty(self.R)
        for k, pat in enumerate(patterns):
            nt = counts[k]
            rows = starts[k] + np.arange(pat.shape[0])
            held = pat[:, nt:].astype(float)
            past[rows] = cash[k] + (held @ holdings[k] if held.shape[1] else 0.0)
            cols = tstart[k] + np.arange(nt)
            rr = np.repeat(rows, nt)
            cc = np.tile(cols, pat.shape[0])
            inc_r.append(rr)
            inc_c.append(cc)
            vals = pat[:, :nt].astype(float).ravel()
            sig_r.append(rr)
            sig_c.append(cc)
            sig_v.append(vals)
        cat = (
            (lambda xs, dt: np.concatenate(xs).astype(dt))
            if self.K
            else (lambda xs, dt: np.zeros(0, dt))
        )
        self.past = past
        self.sig = sp.csr_matrix(
            (cat(sig_v, float), (cat(sig_r, np.intp), cat(sig_c, np.intp))), shape=(self.R, T)
        )
        inc_rr = cat(inc_r, np.intp)
        self.inc = sp.csr_matrix(
            (np.ones(inc_rr.size), (inc_rr, cat(inc_c, np.intp))), shape=(self.R, T)
        )
        # aggregation of terms into priced sentences
        self.agg = sp.csr_matrix((np.ones(T), (self.term_col, np.arange(T))), shape=(self.m, T))
        self.denom = self.budgets[None, :] + self.past[:, None]
        live_rows = self.alive[self.row_trader]
        if np.any(self.denom[live_rows] <= 0):
            raise InvalidInput("a live budget has a plausible world below -b; the account is stale")
        self.denom = np.where(live_rows, self.denom, 1.0)

    def trade_values(self, xi: np.ndarray, p: np.ndarray) -> np.ndarray:
        """:math:`v_\\sigma(p)` for every pattern row."""
        return self.sig @ xi - self.inc @ (xi * p[self.term_col])

    def factors(self, xi: np.ndarray, p: np.ndarray):
        v = self.trade_values(xi, p)
        ratio = -v[:, None] / self.denom  # (R, nb)
        padded = np.where(self.pad_ok[:, :, None], ratio[self.pad_safe], -np.inf)
        arg = np.argmax(padded, axis=1)  # (K, nb)
        M = np.take_along_axis(padded, arg[:, None, :], axis=1)[:, 0, :]
        s = np.where(self.alive, 1.0 / np.maximum(1.0, M), 0.0)
        return v, M, arg, s

    def trade(self, xi: np.ndarray, Gxi: np.ndarray | None, p: np.ndarray):
        """The firm's quantities :math:`q(p)` per priced sentence (and :math:`\\partial q/\\partial p`)."""
        if self.K == 0:
            return np.zeros(self.m), (None if Gxi is None else np.zeros((self.m, self.m)))
        _, M, arg, s = self.factors(xi, p)
        c = s @ self.bw  # (K,)
        wc = (self.weights * c)[self.term_trader]
        q = self.agg @ (wc * xi)
        if Gxi is None:
            return q, None
        pt = p[self.term_col]
        E = sp.csr_matrix((xi, (np.arange(xi.size), self.term_col)), shape=(xi.size, self.m))
        dv = self.sig @ Gxi - self.inc @ (Gxi * pt[:, None]) - (self.inc @ E).toarray()
        rows = self.pad[np.arange(self.K)[:, None], arg]  # (K, nb) best row per trader/budget
        dM = -dv[rows] / self.denom[rows, np.arange(self.budgets.size)[None, :]][:, :, None]
        active = self.alive & (M > 1.0)
        ds = np.where(active[:, :, None], -dM / np.where(active, M, 1.0)[:, :, None] ** 2, 0.0)
        dc = np.einsum("kbm,b->km", ds, self.bw)
        J = self.agg @ (wc[:, None] * Gxi) + self.agg @ (
            (self.weights[self.term_trader] * xi)[:, None] * dc[self.term_trader]
        )
        return q, np.asarray(J)

    def lowest_after(self, xi: np.ndarray, p: np.ndarray) -> np.ndarray:
        """Per trader, :math:`\\min_\\sigma (V_\\sigma + v_\\sigma(p))`: its lowest plausible value
        once today's trade is done."""
        if self.K == 0:
            return np.zeros(0)
        v = self.trade_values(xi, p)
        after = self.past + v
        padded = np.where(self.pad_ok, after[self.pad_safe], np.inf)
        return padded.min(axis=1)
