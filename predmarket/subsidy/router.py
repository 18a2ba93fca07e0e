"""``SubsidyRouter``: split a sponsor's budget between a root market and subsidiary markets.

The root market forecasts :math:`X`; subsidiary market :math:`i` forecasts a variable
:math:`Y_i` that carries information about :math:`X`. A market with liquidity :math:`b_i`
and prior :math:`P_{0,i}` costs its sponsor at most :math:`b_i \\ell_i` with
:math:`\\ell_i = -\\log \\min_o P_{0,i}(o)` (:math:`\\log N_i` for a uniform prior). A policy
returns budget weights :math:`w_0, w_1, \\dots` (root first) summing to 1; the router sets

.. math:: b_i = \\frac{w_i B}{\\ell_i}, \\qquad \\sum_i b_i \\ell_i \\le B.

The value of information of :math:`Y` to a market on :math:`X` with liquidity :math:`b` is
:math:`b\\,I(X;Y)`: a trader who learns :math:`Y` and moves the market to
:math:`P(X\\mid Y)` earns that in expectation (Hanson [1]_; see :mod:`predmarket.latent`).
So the value-of-information policy weights each subsidiary market by :math:`I(X;Y_i)` under
the current joint. The raw price gradient :math:`\\partial P(X) / \\partial P(Y_i)` is the
alternative: it ignores how likely each state of :math:`Y_i` is, so it over-weights signals
whose informative state is rare.

Each policy is a small function of a :class:`RoutingProblem`; :data:`POLICIES` names them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from predmarket.errors import InvalidAmount, InvalidInput, UnknownVariable
from predmarket.latent import mutual_information
from predmarket.validation import finite_number

__all__ = [
    "POLICIES",
    "Allocation",
    "RoutingProblem",
    "SubsidyRouter",
    "route_price_gradient",
    "route_root_only",
    "route_uniform",
    "route_value_of_information",
    "value_of_information",
]

_SAFETY = 1e-12  # liquidities are shrunk by this relative margin so rounding never exceeds B


@dataclass(frozen=True)
class RoutingProblem:
    """What a routing policy sees.

    Attributes
    ----------
    joint : ndarray
        The current joint over all variables, one axis per name in ``names``.
    names : tuple of str
    root : str
    subsidiaries : tuple of str
    root_share : float
        The fraction of the budget a policy that funds subsidiaries keeps for the root.
    """

    joint: np.ndarray
    names: tuple
    root: str
    subsidiaries: tuple
    root_share: float

    def axis(self, name: str) -> int:
        return self.names.index(name)

    def pair(self, sub: str) -> np.ndarray:
        """Joint table of (root, sub)."""
        keep = (self.axis(self.root), self.axis(sub))
        drop = tuple(a for a in range(self.joint.ndim) if a not in keep)
        table = self.joint.sum(axis=drop)
        return table if keep[0] < keep[1] else table.T


def _split(problem: RoutingProblem, scores: np.ndarray) -> np.ndarray:
    """Root keeps ``root_share``; the rest goes to subsidiaries in proportion to ``scores``
    (everything to the root if every score is 0)."""
    total = float(scores.sum())
    if not problem.subsidiaries or total <= 0:
        return np.r_[1.0, np.zeros(len(problem.subsidiaries))]
    rho = problem.root_share
    return np.r_[rho, (1 - rho) * scores / total]


def route_root_only(problem: RoutingProblem) -> np.ndarray:
    """The whole budget to the root market: :math:`w = (1, 0, \\dots, 0)`."""
    return np.r_[1.0, np.zeros(len(problem.subsidiaries))]


def route_uniform(problem: RoutingProblem) -> np.ndarray:
    """Root keeps :math:`\\rho`; subsidiaries share :math:`1-\\rho` equally."""
    return _split(problem, np.ones(len(problem.subsidiaries)))


def route_price_gradient(problem: RoutingProblem) -> np.ndarray:
    """Root keeps :math:`\\rho`; subsidiary :math:`i` gets a share proportional to the size
    of the gradient of the root's prices with respect to its prices.

    :math:`P(x) = \\sum_y P(x\\mid y) P(y)`, so :math:`\\partial P(x)/\\partial P(y) =
    P(x\\mid y)` along the simplex (centred over :math:`y`, since the :math:`P(y)` sum to 1;
    states :math:`y` of probability 0 have no conditional and are left out):

    .. math:: g_i = \\Bigl\\| P(x \\mid y) - \\tfrac{1}{|Y_i|}\\textstyle\\sum_{y'}
              P(x\\mid y') \\Bigr\\|_F .
    """
    scores = []
    for sub in problem.subsidiaries:
        pair = problem.pair(sub)
        pair = pair[:, pair.sum(axis=0) > 0]  # states of y that can still happen
        cond = pair / pair.sum(axis=0, keepdims=True)  # P(x | y), columns y
        centred = cond - cond.mean(axis=1, keepdims=True)
        scores.append(float(np.sqrt(np.sum(centred ** 2))))
    return _split(problem, np.array(scores))


def route_value_of_information(problem: RoutingProblem) -> np.ndarray:
    """Root keeps :math:`\\rho`; subsidiary :math:`i` gets a share proportional to its value
    of information to the root, :math:`I(X; Y_i)` under the current joint."""
    scores = [mutual_information(problem.pair(s), 0, 1) for s in problem.subsidiaries]
    return _split(problem, np.array(scores))


POLICIES: dict[str, Callable[[RoutingProblem], np.ndarray]] = {
    "root-only": route_root_only,
    "uniform": route_uniform,
    "price-gradient": route_price_gradient,
    "value-of-information": route_value_of_information,
}


def value_of_information(beliefs, x: str, y: str, liquidity: float | None = None) -> float:
    """:math:`b\\,I(X;Y)`: what learning :math:`Y` is worth, in expectation, to a trader in a
    market on :math:`X` with liquidity :math:`b` (``beliefs.liquidity`` by default).

    ``beliefs`` is anything with ``space`` and ``probabilities()`` (e.g. a ``Market``).

    Examples
    --------
    >>> from predmarket import Market, OutcomeSpace, Variable
    >>> space = OutcomeSpace([Variable("x", ["0", "1"]), Variable("y", ["0", "1"])])
    >>> m = Market(space, 2.0, prior=[0.4, 0.1, 0.1, 0.4])
    >>> round(value_of_information(m, "x", "y"), 4)
    0.3855
    """
    names = tuple(beliefs.space.names)
    for n in (x, y):
        if n not in names:
            raise UnknownVariable(f"unknown variable {n!r}; the space has {list(names)!r}")
    b = finite_number("liquidity", beliefs.liquidity if liquidity is None else liquidity)
    if b <= 0:
        raise InvalidAmount(f"liquidity must be a finite number > 0, got {liquidity!r}")
    joint = beliefs.probabilities().reshape(beliefs.space.shape)
    return b * mutual_information(joint, names.index(x), names.index(y))


@dataclass(frozen=True)
class Allocation:
    """A routed budget.

    Attributes
    ----------
    budget : float
    names : tuple of str
        Root first, then subsidiaries.
    weights : dict
        Budget fraction per market.
    liquidity : dict
        :math:`b_i` per market.
    loss_per_liquidity : dict
        :math:`\\ell_i`: worst-case loss per unit of liquidity.
    """

    budget: float
    names: tuple
    weights: Mapping
    liquidity: Mapping
    loss_per_liquidity: Mapping

    @property
    def worst_case_loss(self) -> dict[str, float]:
        """:math:`b_i \\ell_i` per market; they sum to at most the budget."""
        return {n: self.liquidity[n] * self.loss_per_liquidity[n] for n in self.names}


class SubsidyRouter:
    """Route a budget with one of the :data:`POLICIES` (or any function of a
    :class:`RoutingProblem` returning root-first weights that sum to 1).

    Parameters
    ----------
    policy : str or callable
    root_share : float
        :math:`\\rho \\in (0, 1]`: what policies that fund subsidiaries keep for the root.

    Examples
    --------
    >>> from predmarket import Market, OutcomeSpace, Variable
    >>> space = OutcomeSpace([Variable("x", ["0", "1"]), Variable("y1", ["0", "1"]),
    ...                       Variable("y2", ["0", "1"])])
    >>> signal = np.array([[0.9, 0.1], [0.1, 0.9]]) / 2       # P(x, y1): y1 informative
    >>> prior = (signal[:, :, None] * [0.5, 0.5]).ravel()       # y2 independent of x
    >>> beliefs = Market(space, 1.0, prior=prior)
    >>> a = SubsidyRouter("value-of-information").route(beliefs, "x", ["y1", "y2"], 3.0)
    >>> {n: round(w, 3) for n, w in a.weights.items()}
    {'x': 0.5, 'y1': 0.5, 'y2': 0.0}
    """

    def __init__(self, policy: str | Callable = "value-of-information", *,
                 root_share: float = 0.5):
        if isinstance(policy, str):
            if policy not in POLICIES:
                raise InvalidInput(f"unknown policy {policy!r}; expected one of "
                                   f"{sorted(POLICIES)!r}")
            self.name, self.policy = policy, POLICIES[policy]
        elif callable(policy):
            self.name, self.policy = getattr(policy, "__name__", "custom"), policy
        else:
            raise InvalidInput(f"policy must be a name or a callable, got {policy!r}")
        rho = finite_number("root_share", root_share)
        if not 0.0 < rho <= 1.0:
            raise InvalidInput(f"root_share must lie in (0, 1], got {root_share!r}")
        self.root_share = rho

    def route(self, beliefs, root: str, subsidiaries: Sequence[str], budget: float, *,
              priors: Mapping[str, Sequence[float]] | None = None) -> Allocation:
        """Split ``budget`` between ``root`` and ``subsidiaries``.

        Parameters
        ----------
        beliefs
            Anything with ``space`` and ``probabilities()`` (a ``Market``): the current joint
            that policies read.
        root, subsidiaries : str
            Variable names; each becomes one market over that variable.
        budget : float
            :math:`B \\ge 0`.
        priors : mapping, optional
            Initial prices of each market (default: the marginal of ``beliefs``), which set
            its worst-case loss per unit liquidity :math:`-\\log\\min_o P_0(o)`.
        """
        b_total = finite_number("budget", budget)
        if b_total < 0:
            raise InvalidAmount(f"budget must be a finite number >= 0, got {budget!r}")
        names = tuple(beliefs.space.names)
        subs = (subsidiaries,) if isinstance(subsidiaries, str) else tuple(subsidiaries)
        for n in (root, *subs):
            if n not in names:
                raise UnknownVariable(f"unknown variable {n!r}; the space has {list(names)!r}")
        if root in subs or len(set(subs)) != len(subs):
            raise InvalidInput(f"root {root!r} and subsidiaries {list(subs)!r} must be distinct")
        joint = np.asarray(beliefs.probabilities(), float).reshape(beliefs.space.shape)
        if priors is not None:
            if not isinstance(priors, Mapping):
                raise InvalidInput(f"priors must map market names to initial prices, got "
                                   f"{priors!r}")
            unknown = [n for n in priors if n not in (root, *subs)]
            if unknown:
                raise InvalidInput(f"priors name {unknown!r}, which are not among the routed "
                                   f"markets {[root, *subs]!r}")
        loss_per = {}
        for n in (root, *subs):
            axis = names.index(n)
            states = joint.shape[axis]
            if priors is not None and n in priors:
                p0 = np.asarray(priors[n], float)
                if p0.shape != (states,) or not np.all(np.isfinite(p0)) or not np.all(
                        p0 > 0) or not math.isclose(p0.sum(), 1.0):
                    raise InvalidInput(f"prior of {n!r} must be {states} positive numbers "
                                       f"summing to 1 (one per state), got {priors[n]!r}")
            else:
                p0 = joint.sum(axis=tuple(a for a in range(joint.ndim) if a != axis))
                if not np.all(p0 > 0):
                    raise InvalidInput(
                        f"the marginal of {n!r} under the beliefs has a state of price 0 "
                        f"({p0.tolist()!r}), and a market cannot start there; pass priors= "
                        "with positive initial prices for it")
            loss_per[n] = -math.log(float(p0.min() / p0.sum()))
        problem = RoutingProblem(joint, names, root, subs, self.root_share)
        weights = np.asarray(self.policy(problem), dtype=float)
        if weights.shape != (len(subs) + 1,) or not np.all(np.isfinite(weights)) or np.any(
                weights < 0) or not math.isclose(weights.sum(), 1.0, rel_tol=1e-9):
            raise InvalidInput(f"policy {self.name!r} returned {weights!r}; expected "
                               f"{len(subs) + 1} non-negative weights summing to 1")
        weights = weights / weights.sum()
        all_names = (root, *subs)
        liquidity = {n: float(w * b_total * (1 - _SAFETY) / loss_per[n]) if loss_per[n] > 0
                     else 0.0 for n, w in zip(all_names, weights)}
        return Allocation(b_total, all_names, dict(zip(all_names, map(float, weights))),
                          liquidity, loss_per)
