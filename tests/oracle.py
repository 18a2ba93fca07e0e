"""A brute-force LMSR reference for the tests, independent of predmarket's implementation.

It keeps Hanson's share vector ``q`` over the flat joint (the layout of
``OutcomeSpace``: C order, first variable slowest) and recomputes everything from it with
``logsumexp``. Events are boolean masks over the flat joint (``space.event(e).mask``).

* ``C(q) = b log sum exp(q / b)``; a trade ``q -> q + dq`` costs ``C(q + dq) - C(q)``.
* Settlement on observable outcome ``o`` pays each trade ``C_{S_o}(q') - C_{S_o}(q)``,
  ``S_o`` = the joint outcomes agreeing with ``o`` (latent variables open).
* Min-asset: cash + min over still-settleable ``o`` of the sum of those payouts.
"""

from __future__ import annotations

import numpy as np


def lse(x: np.ndarray, axis=None):
    """log sum exp of ``x`` (over ``axis``); -inf, without warnings, where all are -inf."""
    x = np.asarray(x, dtype=float)
    if x.size == 0:
        return -np.inf
    top = np.max(x, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True)) + top
    return out.reshape(()) if axis is None else np.squeeze(out, axis=axis)


class Oracle:
    """LMSR state, accounts and settlement, by brute force over the joint."""

    def __init__(self, shape, b, latent_axes=(), prior=None):
        self.shape = tuple(shape)
        self.b = float(b)
        self.latent_axes = tuple(latent_axes)
        n = int(np.prod(self.shape))
        p = np.full(n, 1.0 / n) if prior is None else np.asarray(prior, float).ravel()
        self.q = self.b * np.log(p / p.sum())  # C(q0) = 0
        self.reachable = np.ones(n, dtype=bool)
        self.cash: dict[str, float] = {}
        self.endowment: dict[str, float] = {}
        self.trades: dict[str, list] = {}  # name -> [(q_before, q_after, cost)]

    # -- cost function and prices ------------------------------------------------------
    def C(self, q=None, mask=None) -> float:
        q = self.q if q is None else q
        return self.b * float(lse(q[mask] / self.b if mask is not None else q / self.b))

    def prob(self, a, given=None) -> float:
        if given is None:
            return float(np.exp((self.C(mask=a) - self.C()) / self.b))
        return float(np.exp((self.C(mask=a & given) - self.C(mask=given)) / self.b))

    def joint(self) -> np.ndarray:
        return np.exp(self.q / self.b - lse(self.q / self.b))

    def obs_log_mass(self, q) -> np.ndarray:
        """``C_{S_o}(q) / b`` for every observable outcome ``o`` (flat, C order)."""
        return np.ravel(lse(q.reshape(self.shape) / self.b, axis=self.latent_axes)
                        if self.latent_axes else q / self.b)

    def settleable(self) -> np.ndarray:
        r = self.reachable.reshape(self.shape)
        return np.ravel(r.any(axis=self.latent_axes) if self.latent_axes else r)

    # -- moves: (dq, cost) without changing anything ------------------------------------
    def split(self, a, given=None):
        """log P(A | B) and log P(~A | B), each from its own mass (no 1 - p rounding)."""
        g = np.ones_like(a) if given is None else given
        return ((self.C(mask=a & g) - self.C(mask=g)) / self.b,
                (self.C(mask=~a & g) - self.C(mask=g)) / self.b)

    def move_buy(self, a, x, given=None):
        if given is None:
            dq = np.where(a, x, 0.0)
            return dq, self.C(self.q + dq) - self.C()
        log_p, log_q = self.split(a, given)
        c = self.b * float(np.logaddexp(log_p + x / self.b, log_q))
        dq = np.where(a & given, x, np.where(given, 0.0, c))
        return dq, c

    def move_edit(self, a, p_new, given=None):
        g = np.ones_like(a) if given is None else given
        log_p, log_q = self.split(a, g)
        up = self.b * (np.log(p_new) - log_p)
        down = self.b * (np.log1p(-p_new) - log_q)
        return np.where(a & g, up, np.where(g, down, 0.0)), 0.0

    def target_shares(self, a, p_new, given=None) -> float:
        log_p, log_q = self.split(a, given)
        return self.b * (np.log(p_new) - np.log1p(-p_new) - (log_p - log_q))

    def move_target(self, a, p_new, given=None):
        return self.move_buy(a, self.target_shares(a, p_new, given), given)

    def degenerate(self, kind, a, given=None) -> bool:
        """Whether the market must refuse the trade as impossible (zero-mass events)."""
        def empty(m) -> bool:
            return not np.any(m & self.reachable)

        if empty(a) or (given is not None and empty(given)):
            return True
        if kind in ("edit", "target"):
            g = np.ones_like(a) if given is None else given
            return empty(a & g) or empty(~a & g)
        return False

    # -- accounts ------------------------------------------------------------------------
    def open(self, name, cash):
        self.cash[name] = self.endowment[name] = float(cash)
        self.trades[name] = []

    def payouts(self, q_before, q_after) -> np.ndarray:
        """Payout per observable outcome of the move ``q_before -> q_after``."""
        with np.errstate(invalid="ignore"):
            return self.b * (self.obs_log_mass(q_after) - self.obs_log_mass(q_before))

    def holdings(self, name, extra=()) -> np.ndarray:
        """Sum of the account's trade payouts per settleable observable outcome."""
        ok = self.settleable()
        total = np.zeros(int(ok.sum()))
        for q0, q1, _cost in list(self.trades[name]) + list(extra):
            total += self.payouts(q0, q1)[ok]
        return total

    def min_asset(self, name, dq=None, cost=0.0) -> float:
        """Worst final cash over settleable observable outcomes (after ``dq`` if given)."""
        extra = [] if dq is None else [(self.q, self.q + dq, cost)]
        return self.cash[name] - cost + float(self.holdings(name, extra).min())

    def joint_bound(self, name) -> float:
        """The (invalid with latents) joint-outcome bound: cash_0 + min over joint outcomes
        of the sum of the account's per-trade nets ``q'_w - q_w - cost``."""
        total = np.zeros(int(self.reachable.sum()))
        for q0, q1, cost in self.trades[name]:
            total += (q1 - q0)[self.reachable] - cost
        return self.endowment[name] + float(total.min())

    def apply(self, name, dq, cost):
        q1 = self.q + dq
        self.trades[name].append((self.q, q1, float(cost)))
        self.cash[name] -= cost
        self.q = q1

    # -- observation and settlement -----------------------------------------------------
    def observe(self, mask):
        self.reachable = self.reachable & mask
        self.q = np.where(mask, self.q, -np.inf)

    def settle(self, obs_index) -> dict[str, float]:
        out = {}
        for name, trades in self.trades.items():
            out[name] = float(sum(self.payouts(q0, q1)[obs_index] for q0, q1, _ in trades))
            self.cash[name] += out[name]
        return out
