"""``JointMaker``: an LMSR market maker that holds the whole joint distribution explicitly.

State
-----
The maker's true state is the vector of log-weights :math:`\\ell_\\omega = q_\\omega / b`
(Hanson's share vector divided by the liquidity). It is stored as
``logw + offset`` so that a trade that shifts every outcome by the same amount changes one
number. For speed the maker also keeps a *cache* of scaled weights
:math:`w_\\omega = \\exp(\\ell_\\omega - \\text{ref})` and their sum :math:`Z`, so that

.. math:: C(q) = b\\,(\\text{offset} + \\text{ref} + \\log Z), \\qquad
          p(E) = \\frac{\\sum_{\\omega \\in E} w_\\omega}{Z}.

A trade is a move :math:`q \\to q + \\Delta` with :math:`\\Delta` constant on the parts of a
partition of :math:`\\Omega` (an event and its complement; or :math:`A\\wedge B`,
:math:`\\neg A\\wedge B`, :math:`\\neg B`). Because :math:`C(q + k\\mathbf 1) = C(q) + k`, the
maker leaves the largest part untouched (its value goes to ``offset``) and rescales only the
other parts: a trade on event :math:`E` reads and writes only :math:`E` (or only
:math:`\\neg E`, whichever is smaller). Its cost is computed in log space,

.. math:: C(q + \\Delta) - C(q) = b\\,\\Bigl[\\operatorname{logsumexp}_r
          \\bigl(\\log Z_r + \\Delta_r / b\\bigr) - \\operatorname{logsumexp}_r \\log Z_r\\Bigr],

where :math:`Z_r` is the (true) mass of part :math:`r`.

Stability
---------
The cache is rebuilt exactly from ``logw`` (``ref = max logw``) whenever the accumulated
rescaling could approach overflow (``drift > 50`` in log units), after 2048 trades, or when
the running error bound on :math:`Z` exceeds :math:`10^{-13} Z`. Masses smaller than
:math:`10^{-200} Z`, which the cache may hold as underflowed zeros, are recomputed exactly
with log-sum-exp over ``logw``. So prices and costs are accurate for any liquidity and any
magnitude of :math:`q/b`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from predmarket.errors import InvalidInput, SpaceTooLarge
from predmarket.scoring import check_liquidity
from predmarket.selection import Selection
from predmarket.spaces import OutcomeSpace

__all__ = ["DEFAULT_MAX_OUTCOMES", "JointMaker", "MovePlan"]

#: Largest joint the maker allocates unless told otherwise (2**24 doubles = 128 MiB).
DEFAULT_MAX_OUTCOMES = 1 << 24

_DRIFT_LIMIT = 50.0  # log units of rescaling before the cache is rebuilt
_SYNC_EVERY = 2048  # trades between exact rebuilds of the cache
_TINY = 1e-200  # relative mass below which the cache may have underflowed
_EPS = np.finfo(float).eps
_SMALLEST = 1e-280  # cached sums below this are recomputed exactly (subnormals start at 2e-308)


def _lse(values: list[float]) -> float:
    """log-sum-exp of a few floats (scipy's is ~100x slower on tiny inputs)."""
    top = max(values)
    if top == math.inf:
        return math.inf
    return top + math.log(math.fsum(math.exp(x - top) for x in values))


@dataclass(frozen=True)
class PartMasses:
    """Log masses of the parts of a partition, read in one state of the maker."""

    keep: int
    log_masses: list
    scaled: list
    version: int


@dataclass(frozen=True)
class MovePlan:
    """A priced move, ready for :meth:`JointMaker.commit`.

    ``cost`` is :math:`C(q+\\Delta) - C(q)`; the other fields say how to make the move.
    """

    cost: float
    keep: int
    v: list
    scaled: list
    parts: list
    version: int


class JointMaker:
    """LMSR market maker over an explicit joint outcome space.

    Parameters
    ----------
    space : OutcomeSpace
    liquidity : float
        Hanson's :math:`b > 0`.
    prior : array_like, optional
        Initial prices, a strictly positive distribution over the flat joint (normalised
        here). Defaults to uniform. The initial state is :math:`q_0 = b \\log P_0`, so
        :math:`C(q_0) = 0`.
    max_outcomes : int
        Refuse (with :class:`~predmarket.errors.SpaceTooLarge`) to allocate a larger joint.

    References
    ----------
    .. [1] R. Hanson, "Combinatorial information market design", 2003.
    .. [2] R. Hanson, "Logarithmic market scoring rules for modular combinatorial
       information aggregation", 2007.
    """

    def __init__(
        self,
        space: OutcomeSpace,
        liquidity: float,
        *,
        prior=None,
        max_outcomes: int = DEFAULT_MAX_OUTCOMES,
    ):
        if not isinstance(space, OutcomeSpace):
            raise InvalidInput(f"expected an OutcomeSpace, got {type(space).__name__}")
        self.space = space
        self.liquidity = check_liquidity(liquidity)
        if isinstance(max_outcomes, bool) or not isinstance(max_outcomes, (int, np.integer)) \
                or max_outcomes < 1:
            raise InvalidInput(f"max_outcomes must be a positive integer, got {max_outcomes!r}")
        if space.size > max_outcomes:
            raise SpaceTooLarge(
                f"the joint of {len(space)} variables has {space.size:,} outcomes, more than "
                f"max_outcomes={max_outcomes:,}; raise max_outcomes (memory: "
                f"{space.size * 8 / 2**20:,.0f} MiB per array) or use a factored maker"
            )
        self._w = None
        if prior is None:
            self._logw = np.zeros(space.size)
            self._offset = -math.log(space.size)  # C(q0) = 0
        else:
            try:
                p = np.asarray(prior, dtype=float).ravel()
            except (TypeError, ValueError):
                raise InvalidInput(
                    f"prior must be {space.size} positive numbers over the joint, got "
                    f"{type(prior).__name__}") from None
            if p.shape != (space.size,) or not np.all(np.isfinite(p)) or np.any(p <= 0):
                raise InvalidInput(
                    f"prior must be {space.size} finite, strictly positive numbers over the "
                    f"joint; got shape {np.shape(prior)}"
                    + ("" if p.shape != (space.size,) else f", min {np.min(p)!r}")
                )
            self._logw = np.log(p / p.sum())
            self._offset = -float(logsumexp(self._logw))  # C(q0) = 0
        # log-weight deltas not yet applied to ``logw``, summed per selection
        self._pending: dict[Selection, float] = {}
        self._version = 0
        self._resync()

    # -- cache ------------------------------------------------------------------------
    def _fold(self) -> None:
        """Apply pending log-weight deltas to ``logw``."""
        for sel, delta in self._pending.items():
            sel.add(self._logw, delta)
        self._pending.clear()

    def _resync(self) -> None:
        """Rebuild the cached weights and their sum exactly from ``logw``."""
        self._fold()
        self._ref = float(self._logw.max())  # finite: observations never exclude everything
        if getattr(self, "_w", None) is None:
            self._w = np.empty_like(self._logw)
        np.subtract(self._logw, self._ref, out=self._w)
        np.exp(self._w, out=self._w)
        self._z = float(self._w.sum())
        self._z_err = self._z * _EPS * np.log2(self._w.size + 1)
        self._drift = 0.0
        self._since_sync = 0

    def _log_mass(self, sel: Selection | None) -> float:
        """True :math:`\\log \\sum_{\\omega \\in E} e^{q_\\omega/b}`; exact for tiny masses."""
        return self._offset + self._ref + self._relative_log_mass(sel)

    def _relative_log_mass(self, sel: Selection | None) -> float:
        """:meth:`_log_mass` minus ``offset + ref``: small numbers, so differences of two
        of them keep full precision however large :math:`q/b` is."""
        if sel is None:
            return float(np.log(self._z))
        z = sel.sum(self._w)
        if z > _TINY * self._z:
            return float(np.log(z))
        self._fold()
        return float(logsumexp(sel.values(self._logw))) - self._ref

    # -- queries ----------------------------------------------------------------------
    @property
    def size(self) -> int:
        """Number of joint outcomes."""
        return self.space.size

    def log_partition(self, sel: Selection | None = None) -> float:
        """:math:`\\log \\sum_{\\omega \\in E} \\exp(q_\\omega / b)` (all of :math:`\\Omega`
        when ``sel`` is None). ``-inf`` when the event has no reachable outcome."""
        return self._log_mass(sel)

    def cost(self) -> float:
        """Current value of the cost function :math:`C(q)`."""
        return self.liquidity * self._log_mass(None)

    def probability(self, sel: Selection, given: Selection | None = None) -> float:
        """:math:`P(E)`; with ``given`` the ratio of masses, so pass the selection of
        :math:`A \\wedge B` as ``sel`` and of :math:`B` as ``given`` for :math:`P(A \\mid B)`.

        The two masses are summed separately, so rounding can put their ratio a few ulps
        above 1 when ``sel`` covers ``given``; it is clipped, since ``sel`` is a subset."""
        num = self._relative_log_mass(sel)
        den = self._relative_log_mass(given)
        return min(1.0, float(np.exp(num - den))) if np.isfinite(num) else 0.0

    def probabilities(self) -> np.ndarray:
        """The market's joint distribution as a new flat array (exact, from ``logw``)."""
        self._fold()
        return np.exp(self._logw - logsumexp(self._logw))

    def log_weights(self) -> np.ndarray:
        """The true state :math:`q/b` as a new flat array (``-inf`` where excluded)."""
        self._fold()
        return self._logw + self._offset

    def min_log_probability(self, keep_axes: Sequence[int]) -> float:
        """:math:`\\min_o \\log P(o)` over the marginal on ``keep_axes`` (no large copies
        when ``keep_axes`` is every axis)."""
        if len(set(keep_axes)) == len(self.space.shape):
            self._fold()
            return float(self._logw.min()) + self._offset - self._log_mass(None)
        logm = self.log_marginal(keep_axes)
        return float(logm[np.isfinite(logm)].min() - logsumexp(logm))

    def log_marginal(self, keep_axes: Sequence[int], reachable=None) -> np.ndarray:
        """:math:`\\log \\sum e^{q/b}` summed over every axis not in ``keep_axes``.

        ``reachable`` (boolean, marginal-shaped) marks the entries that observations have
        not excluded; the others are ``-inf``. Defaults to all entries.
        """
        return self._log_marginal_of(self._w, keep_axes, reachable, 0.0, ())

    def _log_marginal_of(self, w, keep_axes, reachable, shift, exact_deltas) -> np.ndarray:
        """Log marginal of the cached weights ``w`` (scaled by ``exp(-shift)``); exact
        recomputation from ``logw`` plus ``exact_deltas`` where the cache underflowed."""
        drop = tuple(a for a in range(len(self.space.shape)) if a not in set(keep_axes))
        sums = w.reshape(self.space.shape).sum(axis=drop)
        live = sums if reachable is None else sums[reachable]
        # Exact path unless every live mass is far from underflow, both relative to the
        # largest and in absolute terms (subnormal sums have lost precision).
        if live.size and np.all(live > _TINY * live.max()) and live.min() > _SMALLEST:
            with np.errstate(divide="ignore"):
                out = np.log(sums) + self._ref + self._offset + shift
            if reachable is not None:
                out[~reachable] = -np.inf
            return out
        # Some masses may have underflowed in the cache: compute them exactly.
        self._fold()
        logw = self._logw.copy()
        for sel, value in exact_deltas:
            sel.add(logw, value)
        with np.errstate(invalid="ignore"):
            return logsumexp(logw.reshape(self.space.shape), axis=drop) + self._offset

    # -- trades -----------------------------------------------------------------------
    def part_masses(self, parts: Sequence[Selection]) -> PartMasses:
        """True log masses :math:`\\log \\sum_{\\omega \\in r} e^{q_\\omega/b}` of the parts
        of a partition of :math:`\\Omega`.

        Only the parts other than the largest are read; the largest part's mass is
        :math:`Z` minus theirs (read directly only when that difference cancels).
        """
        if not parts:
            raise InvalidInput("a move needs a non-empty partition")
        keep = int(np.argmax([s.size for s in parts]))
        logm = [0.0] * len(parts)
        scaled = [0.0] * len(parts)  # masses in cache units (w)
        base = self._offset + self._ref
        for r, sel in enumerate(parts):
            if r != keep:
                logm[r] = self._log_mass(sel)
                scaled[r] = math.exp(logm[r] - base)
        z_keep = self._z - math.fsum(scaled)
        if z_keep < 1e-6 * self._z:  # cancellation: read the part itself
            logm[keep] = self._log_mass(parts[keep])
            z_keep = math.exp(logm[keep] - base)
        else:
            logm[keep] = base + math.log(z_keep)
        scaled[keep] = z_keep
        return PartMasses(keep, logm, scaled, self._version)

    def _plan(self, parts: Sequence[Selection], values: Sequence[float],
              masses: PartMasses | None = None) -> MovePlan:
        """Cost of the move and how to make it, without changing anything."""
        if len(parts) != len(values):
            raise InvalidInput("a move needs one value per part of the partition")
        if masses is None or masses.version != self._version:
            masses = self.part_masses(parts)
        keep, logm, scaled = masses.keep, masses.log_masses, masses.scaled
        b = self.liquidity
        v = [float(x) / b for x in values]
        if not all(math.isfinite(x) for x in v):
            raise InvalidInput(f"move values must be finite, got {list(values)!r}")
        live = [r for r in range(len(parts)) if logm[r] > -math.inf]
        cost = b * (_lse([logm[r] + v[r] for r in live]) - _lse([logm[r] for r in live]))
        return MovePlan(cost, keep, v, scaled, list(parts), self._version)

    def plan(self, parts: Sequence[Selection], values: Sequence[float],
             masses: PartMasses | None = None) -> MovePlan:
        """Price the move that adds ``values[r]`` to :math:`q_\\omega` on ``parts[r]``
        (the parts partition :math:`\\Omega`) without changing anything; pass the result
        to :meth:`commit` to make it. ``masses`` from :meth:`part_masses` (in the current
        state) saves reading the parts again."""
        return self._plan(parts, values, masses)

    def quote(self, parts: Sequence[Selection], values: Sequence[float]) -> float:
        """Cost :math:`C(q + \\Delta) - C(q)` of a move (see :meth:`plan`)."""
        return self._plan(parts, values).cost

    def apply(self, parts: Sequence[Selection], values: Sequence[float]) -> float:
        """Make a move and return its cost."""
        return self.commit(self._plan(parts, values))

    def commit(self, plan: MovePlan) -> float:
        """Make a move priced by :meth:`plan` (in the state it was planned in)."""
        if plan.version != self._version:
            raise InvalidInput("the plan is stale: the maker changed since it was made")
        self._version += 1
        cost, keep, v, scaled, parts = plan.cost, plan.keep, plan.v, plan.scaled, plan.parts
        rel = [x - v[keep] for x in v]
        self._offset += v[keep]
        touched = [r for r in range(len(parts)) if r != keep and rel[r] != 0.0]
        for r in touched:
            self._pending[parts[r]] = self._pending.get(parts[r], 0.0) + rel[r]
        self._drift += max((abs(rel[r]) for r in touched), default=0.0)
        self._since_sync += 1
        if self._drift > _DRIFT_LIMIT or self._since_sync > _SYNC_EVERY:
            self._resync()
            return cost
        new_z = self._z
        for r in touched:
            factor = math.exp(rel[r])
            parts[r].scale(self._w, factor)
            new_z += scaled[r] * (factor - 1.0)
        self._z_err += 4 * _EPS * (self._z + abs(new_z - self._z))
        if self._z_err > 1e-13 * new_z or not np.isfinite(new_z) or new_z <= 0:
            new_z = float(self._w.sum())
            self._z_err = new_z * _EPS * np.log2(self._w.size + 1)
        self._z = new_z
        return cost

    def preview_log_marginal(self, parts, values, keep_axes, reachable=None) -> np.ndarray:
        """:meth:`log_marginal` after the move, computed on a copy (nothing changes)."""
        v = np.asarray(values, dtype=float) / self.liquidity
        top = float(np.max(v))
        w = self._w.copy()
        for sel, value in zip(parts, v):
            if value != top:
                sel.scale(w, float(np.exp(value - top)))  # factors <= 1: no overflow
        return self._log_marginal_of(w, keep_axes, reachable, top, list(zip(parts, v)))

    def exclude(self, sel: Selection) -> None:
        """Remove outcomes from the market (an observation ruled them out)."""
        self._version += 1
        self._fold()
        sel.add(self._logw, -np.inf)
        self._resync()
