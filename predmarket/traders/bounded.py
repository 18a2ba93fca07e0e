"""Bounded-rationality traders: beliefs computed under an explicit compute budget.

:class:`SamplingTrader` knows the true generative model (a prior over the joint) and sees
private evidence, but cannot compute its posterior exactly: it draws ``k`` outcomes from
the prior and weights each by the likelihood of its evidence (likelihood weighting, a
self-normalised importance sampler; Fung & Chang 1989, Shachter & Peot 1989). Its
estimate of :math:`P(A \\mid B, e)` is

.. math::
    \\hat P(A \\mid B, e) = \\frac{\\sum_{j} w_j [\\omega_j \\in A \\cap B] + \\alpha\\,
    P_0(A \\mid B)}{\\sum_{j} w_j [\\omega_j \\in B] + \\alpha},
    \\qquad \\omega_j \\sim P_0, \\quad w_j \\propto P(e \\mid \\omega_j),

with weights scaled to mean 1 and :math:`\\alpha` pseudo-samples of the prior (so a tiny
budget falls back on the prior instead of on 0 or 1). The estimate's error shrinks like
:math:`1/\\sqrt{k}`; its compute is exactly ``k`` samples per episode, counted in
:attr:`SamplingTrader.compute`. It then trades like
:class:`~predmarket.traders.bayesian.BayesianTrader` (Kelly-sized).

:class:`GibbsTrader` spends a budget of inference *steps* instead: a Gibbs sampler on its
posterior :math:`\\pi(\\omega) \\propto P_0(\\omega) P(e \\mid \\omega)` that, at each step,
redraws one variable from its conditional given the others (a systematic sweep; Geman &
Geman 1984), starting from a draw of the prior. Its estimate is the smoothed frequency of
the question over the visited states; the chain converges to :math:`\\pi` as the number
of steps grows, but a short chain is biased toward where it started.

References
----------
.. [1] R. Fung, K.-C. Chang, "Weighing and integrating evidence for stochastic simulation
   in Bayesian networks", UAI 1989.
.. [2] R. D. Shachter, M. A. Peot, "Simulation approaches to general probabilistic
   inference on belief networks", UAI 1989.
.. [3] S. Geman, D. Geman, "Stochastic relaxation, Gibbs distributions, and the Bayesian
   restoration of images", IEEE PAMI, 1984.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from predmarket.errors import InvalidAmount, InvalidInput
from predmarket.traders.bayesian import _fraction, _questions, kelly_orders
from predmarket.traders.beliefs import JointBelief, chain_questions
from predmarket.validation import finite_number

__all__ = ["GibbsTrader", "SamplingTrader"]


class SamplingTrader:
    """Estimates its posterior from ``k`` likelihood-weighted samples per episode.

    Parameters
    ----------
    prior : JointBelief
        The generative model it knows.
    likelihood : callable
        ``likelihood(signal) -> array`` over the flat joint: :math:`P(e \\mid \\omega)` of
        the evidence in ``view.signal``. ``None`` means no evidence (all ones).
    k : int
        Samples per episode: the compute budget.
    questions : sequence, optional
        As for :class:`~predmarket.traders.bayesian.BayesianTrader` (default: chain).
    prior_weight : float
        :math:`\\alpha`, pseudo-samples of the prior.

    Examples
    --------
    >>> from predmarket import OutcomeSpace, Variable
    >>> space = OutcomeSpace([Variable("x", ["0", "1"])])
    >>> t = SamplingTrader(JointBelief(space, [0.5, 0.5]), None, k=10)
    >>> t.compute
    0
    """

    def __init__(self, prior: JointBelief, likelihood: Callable | None, k: int, *,
                 questions: Any = None, fraction: float = 1.0, prior_weight: float = 1.0,
                 market: str | None = None, name: str | None = None):
        if not isinstance(prior, JointBelief):
            raise InvalidInput(f"prior must be a JointBelief, got {prior!r}")
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise InvalidInput(f"k (samples per episode) must be an integer >= 1, got {k!r}")
        if likelihood is not None and not callable(likelihood):
            raise InvalidInput(f"likelihood must be callable or None, got {likelihood!r}")
        if finite_number("prior_weight", prior_weight) <= 0:
            raise InvalidAmount(f"prior_weight must be > 0, got {prior_weight!r}")
        self.prior = prior
        self.likelihood = likelihood
        self.k = int(k)
        self.questions = _questions(questions if questions is not None
                                    else chain_questions(prior.space))
        self.fraction = _fraction(fraction)
        self.prior_weight = float(prior_weight)
        self.market = market
        if name is not None:
            self.name = name
        self.compute = 0
        self._cache: tuple[int, list] | None = None

    def estimate(self, signal: Any, rng: np.random.Generator) -> list[float]:
        """Spend ``k`` samples; return the estimate for every question."""
        space = self.prior.space
        lik = None
        if self.likelihood is not None:
            lik = np.asarray(self.likelihood(signal), dtype=float).ravel()
            if lik.shape != (space.size,) or not np.all(np.isfinite(lik)) or np.any(lik < 0):
                raise InvalidInput("the likelihood must give a finite, non-negative number "
                                   f"for each of the {space.size} outcomes")
        draws = rng.choice(space.size, size=self.k, p=self.prior.p)
        self.compute += self.k
        w = np.ones(self.k) if lik is None else lik[draws]
        mean = w.mean()
        w = w / mean if mean > 0 else np.zeros_like(w)
        out = []
        for event, given in self.questions:
            a = space.event(event).mask[draws]
            b = np.ones(self.k, dtype=bool) if given is None else space.event(given).mask[draws]
            prior = self.prior.probability(event, given)
            num = float(w[a & b].sum()) + self.prior_weight * prior
            den = float(w[b].sum()) + self.prior_weight
            out.append(min(max(num / den, 1e-6), 1 - 1e-6))
        return out

    def act(self, view):
        if self._cache is None or self._cache[0] != view.episode:
            self._cache = (view.episode, self.estimate(view.signal, view.rng))
        beliefs = [(e, g, p) for (e, g), p in zip(self.questions, self._cache[1])]
        return kelly_orders(view, beliefs, fraction=self.fraction, market=self.market)


class GibbsTrader(SamplingTrader):
    """Estimates its posterior with ``steps`` Gibbs updates per episode.

    Parameters are those of :class:`SamplingTrader`, with ``steps`` (single-variable
    updates per episode: the compute budget, counted in :attr:`compute`) in place of
    ``k``.

    Examples
    --------
    >>> from predmarket import OutcomeSpace, Variable
    >>> space = OutcomeSpace([Variable("x", ["0", "1"]), Variable("y", ["0", "1"])])
    >>> t = GibbsTrader(JointBelief(space, [0.4, 0.1, 0.1, 0.4]), None, steps=200)
    >>> est = t.estimate(None, np.random.default_rng(0))
    >>> t.compute, len(est) == len(t.questions)
    (200, True)
    """

    def __init__(self, prior: JointBelief, likelihood: Callable | None, steps: int, **kwargs):
        super().__init__(prior, likelihood, k=steps, **kwargs)

    @property
    def steps(self) -> int:
        return self.k

    def estimate(self, signal: Any, rng: np.random.Generator) -> list[float]:
        """Run ``steps`` Gibbs updates; return the estimate for every question."""
        space = self.prior.space
        target = self.prior.p.copy()
        if self.likelihood is not None:
            lik = np.asarray(self.likelihood(signal), dtype=float).ravel()
            if lik.shape != (space.size,) or not np.all(np.isfinite(lik)) or np.any(lik < 0):
                raise InvalidInput("the likelihood must give a finite, non-negative number "
                                   f"for each of the {space.size} outcomes")
            target = target * lik
        if target.sum() <= 0:
            raise InvalidInput("the evidence has probability 0 under the prior")
        shape = space.shape
        strides = np.array([int(np.prod(shape[i + 1:], dtype=np.int64)) for i in range(len(shape))])
        state = np.array(np.unravel_index(int(rng.choice(space.size, p=self.prior.p)), shape))
        visits = np.zeros(self.k, dtype=np.int64)
        for step in range(self.k):
            axis = step % len(shape)
            base = int(state @ strides) - int(state[axis]) * int(strides[axis])
            column = target[base + np.arange(shape[axis]) * strides[axis]]
            total = column.sum()
            if total > 0:
                state[axis] = int(rng.choice(shape[axis], p=column / total))
            visits[step] = int(state @ strides)
        self.compute += self.k
        out = []
        for event, given in self.questions:
            a = space.event(event).mask[visits]
            b = np.ones(self.k, dtype=bool) if given is None else space.event(given).mask[visits]
            prior = self.prior.probability(event, given)
            num = float((a & b).sum()) + self.prior_weight * prior
            den = float(b.sum()) + self.prior_weight
            out.append(min(max(num / den, 1e-6), 1 - 1e-6))
        return out
