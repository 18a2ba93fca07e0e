"""Latent variables: information theory of a market's joint, latent posteriors, relabelling,
and trades that move a market to a whole distribution.

A :class:`~predmarket.market.Market` declared with ``latent=[...]`` never observes those
variables. Settlement observes the set :math:`S` of joint outcomes agreeing with the
observable variables, and a trade :math:`q \\to q'` pays :math:`C_S(q') - C_S(q)`, so its net
is the log score of the observed part (DESIGN.md sec. 4):

.. math:: \\text{net}(o) = b \\log \\frac{P'_O(o)}{P_O(o)}.

Three consequences, each tested in ``tests/test_latent*.py``:

* a trader who moves the market's observed marginal from :math:`P_O` to the true
  :math:`P^*_O` earns, in expectation over :math:`o \\sim P^*_O`,
  :math:`b\\,\\mathrm{KL}(P^*_O \\,\\|\\, P_O)` (:func:`kl_divergence`);
* a trader who learns the latent value :math:`\\ell` and moves :math:`P_O` to
  :math:`P^*(O \\mid \\ell)` earns :math:`b\\,I(L;O)` in expectation
  (:func:`mutual_information`);
* any trade that changes only :math:`P(\\text{latent} \\mid \\text{observed})`, such as a
  relabelling of latent states (:func:`relabel_latent`), costs 0 and pays 0.

When are latent prices identified?
----------------------------------
The market rewards only the observed marginal :math:`P_O`. Two joints with the same
:math:`P_O` are worth exactly the same to every trader, so the market's
:math:`P(L \\mid O)` is whatever the last trader to touch it believed. Latent prices mean
something only through a *structural* assumption that ties :math:`P(L \\mid O)` to
:math:`P_O`:

* **Identified (up to relabelling).** A latent class model -- :math:`L` with :math:`K`
  classes and indicators :math:`O_1, \\dots, O_m` conditionally independent given
  :math:`L` -- is generically identified from :math:`P_O`, up to a permutation of the
  classes, when the indicators can be grouped into three blocks of cardinalities
  :math:`\\kappa_1, \\kappa_2, \\kappa_3` with
  :math:`\\min(K,\\kappa_1)+\\min(K,\\kappa_2)+\\min(K,\\kappa_3) \\ge 2K+2` (Kruskal's
  theorem as applied by Allman, Matias & Rhodes [1]_). For binary indicators: :math:`K=2`
  needs 3 indicators, :math:`K=3` needs 5. :func:`fit_latent_class` recovers the model from
  :math:`P_O`; :func:`align_labels` undoes the permutation.
* **Not identified.** No structural assumption (any :math:`P(L\\mid O)` fits any
  :math:`P_O`); fewer indicators than the bound (e.g. :math:`K=2` with 2 indicators, or
  :math:`K=3` with 3 binary indicators: fits from different starts agree on :math:`P_O` and
  disagree on the posterior); indicators that are not conditionally independent given
  :math:`L`; classes with identical indicator distributions. The labels themselves are never
  identified: relabelling is free (:func:`relabel_latent`).

References
----------
.. [1] E. S. Allman, C. Matias, J. A. Rhodes, "Identifiability of parameters in latent
   structure models with many observed variables", Annals of Statistics 37(6A), 2009.
.. [2] R. Hanson, "Combinatorial information market design", Information Systems
   Frontiers 5(1), 2003 (the edit interface used by :func:`trade_to_distribution`).
.. [3] T. M. Cover, J. A. Thomas, *Elements of Information Theory*, 2nd ed., 2006.
.. [4] A. P. Dempster, N. M. Laird, D. B. Rubin, "Maximum likelihood from incomplete data
   via the EM algorithm", JRSS B 39(1), 1977.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy

from predmarket.errors import InsufficientFunds, InvalidInput, UnknownVariable
from predmarket.events import atom
from predmarket.validation import finite_number

__all__ = [
    "Edit",
    "LatentClassModel",
    "align_labels",
    "edit_chain",
    "entropy",
    "fit_latent_class",
    "geometric_mixture",
    "joint_table",
    "kl_divergence",
    "latent_posterior",
    "market_mutual_information",
    "mutual_information",
    "observed_distribution",
    "relabel",
    "relabel_latent",
    "trade_observed_marginal",
    "trade_to_distribution",
]

_SKIP = 1e-15  # edits that change a conditional price by less than this are not sent


# -- validation -----------------------------------------------------------------------------
def _distribution(name: str, p: Any, *, allow_zero: bool = True) -> np.ndarray:
    arr = np.asarray(p, dtype=float)
    if arr.size == 0:
        raise InvalidInput(f"{name} must be a non-empty array of probabilities")
    if not np.all(np.isfinite(arr)):
        raise InvalidInput(f"{name} must be finite, got non-finite entries")
    if np.any(arr < 0):
        raise InvalidInput(f"{name} must be non-negative, got minimum {arr.min()!r}")
    if not allow_zero and np.any(arr == 0):
        raise InvalidInput(f"{name} must be strictly positive")
    total = arr.sum()
    if not abs(total - 1.0) <= 1e-9 * max(1, arr.size):
        raise InvalidInput(f"{name} must sum to 1, got {total!r}")
    return arr


def _axes(name: str, axes: Any, ndim: int) -> tuple[int, ...]:
    out = (axes,) if isinstance(axes, (int, np.integer)) else tuple(axes)
    if not out:
        raise InvalidInput(f"{name} must name at least one axis")
    for a in out:
        if not isinstance(a, (int, np.integer)) or not 0 <= a < ndim:
            raise InvalidInput(f"{name}: axis {a!r} is not one of 0..{ndim - 1}")
    if len(set(out)) != len(out):
        raise InvalidInput(f"{name}: repeated axes {out!r}")
    return tuple(int(a) for a in out)


def _names(market, names: Any, role: str) -> tuple[int, ...]:
    if isinstance(names, str):
        names = [names]
    axes = []
    for n in names:
        if not isinstance(n, str) or n not in market.space.names:
            raise UnknownVariable(
                f"unknown {role} variable {n!r}; the space has {list(market.space.names)!r}")
        axes.append(market.space.axis(n))
    if not axes:
        raise InvalidInput(f"{role} must name at least one variable")
    return tuple(axes)


# -- information theory ---------------------------------------------------------------------
def entropy(p: Any) -> float:
    """Shannon entropy in nats, :math:`H(P) = -\\sum_x P(x) \\log P(x)` (with
    :math:`0 \\log 0 = 0`) [3]_.

    Examples
    --------
    >>> round(entropy([0.5, 0.5]), 6) == round(math.log(2), 6)
    True
    """
    arr = _distribution("p", p).ravel()
    nz = arr[arr > 0]
    return float(-np.sum(nz * np.log(nz)))


def kl_divergence(p: Any, q: Any) -> float:
    """Kullback-Leibler divergence in nats,
    :math:`\\mathrm{KL}(P\\,\\|\\,Q) = \\sum_x P(x) \\log \\frac{P(x)}{Q(x)}` [3]_.

    It is the expected net of moving a log-scoring market from :math:`Q` to :math:`P`,
    divided by :math:`b`, when outcomes are drawn from :math:`P`. Infinite when :math:`Q`
    gives zero to an outcome that :math:`P` does not.

    Examples
    --------
    >>> round(kl_divergence([0.5, 0.5], [0.25, 0.75]), 6)
    0.143841
    """
    a = _distribution("p", p)
    b = _distribution("q", q)
    if a.shape != b.shape:
        raise InvalidInput(f"p and q must have the same shape, got {a.shape} and {b.shape}")
    a, b = a.ravel(), b.ravel()
    live = a > 0
    if np.any(b[live] == 0):
        return math.inf
    return float(max(0.0, np.sum(a[live] * (np.log(a[live]) - np.log(b[live])))))


def mutual_information(joint: Any, x_axes: Any, y_axes: Any) -> float:
    """Mutual information :math:`I(X;Y)` in nats between two disjoint groups of axes of a
    joint probability table (other axes are summed out) [3]_.

    .. math:: I(X;Y) = \\sum_{x,y} P(x,y) \\log \\frac{P(x,y)}{P(x)P(y)}

    Examples
    --------
    >>> independent = np.outer([0.3, 0.7], [0.5, 0.5])
    >>> round(mutual_information(independent, 0, 1), 12)
    0.0
    >>> copy = np.array([[0.5, 0.0], [0.0, 0.5]])
    >>> round(mutual_information(copy, 0, 1), 6) == round(math.log(2), 6)
    True
    """
    table = _distribution("joint", joint)
    xa = _axes("x_axes", x_axes, table.ndim)
    ya = _axes("y_axes", y_axes, table.ndim)
    if set(xa) & set(ya):
        raise InvalidInput(f"x_axes {xa!r} and y_axes {ya!r} must be disjoint")
    drop = tuple(a for a in range(table.ndim) if a not in xa + ya)
    pxy = table.sum(axis=drop) if drop else table
    kept = [a for a in range(table.ndim) if a in xa + ya]
    pxy = np.moveaxis(pxy, [kept.index(a) for a in xa + ya], range(len(xa + ya)))
    xs = int(np.prod([table.shape[a] for a in xa]))
    pxy = pxy.reshape(xs, -1)
    px = pxy.sum(axis=1, keepdims=True)
    py = pxy.sum(axis=0, keepdims=True)
    live = pxy > 0
    ratio = pxy[live] / (px @ py)[live]
    return float(max(0.0, np.sum(pxy[live] * np.log(ratio))))


# -- reading a market -----------------------------------------------------------------------
def joint_table(market) -> np.ndarray:
    """The market's joint distribution with one axis per variable (space order)."""
    return market.probabilities().reshape(market.space.shape)


def _observed_axes(market) -> tuple[int, ...]:
    return tuple(i for i, n in enumerate(market.space.names) if n not in market.latent)


def _latent_axes(market) -> tuple[int, ...]:
    return tuple(i for i, n in enumerate(market.space.names) if n in market.latent)


def observed_distribution(market) -> np.ndarray:
    """:math:`P_O`: the market's marginal on its observable variables (axes in space order).

    This is the only part of the market's joint that settlement rewards.
    """
    table = joint_table(market)
    lat = _latent_axes(market)
    return table.sum(axis=lat) if lat else table


def market_mutual_information(market, x: Any, y: Any) -> float:
    """:math:`I(X;Y)` under the market's current joint; ``x`` and ``y`` are variable names
    (or sequences of names).

    Examples
    --------
    >>> from predmarket import Market, OutcomeSpace, Variable
    >>> space = OutcomeSpace([Variable("x", ["0", "1"]), Variable("y", ["0", "1"])])
    >>> m = Market(space, 1.0, prior=[0.4, 0.1, 0.1, 0.4])
    >>> round(market_mutual_information(m, "x", "y"), 4)
    0.1927
    """
    return mutual_information(joint_table(market), _names(market, x, "x"),
                              _names(market, y, "y"))


def latent_posterior(market, observation: Mapping[str, Any] | None = None) -> np.ndarray:
    """:math:`P(L \\mid O)` under the market's prices.

    With ``observation`` (a mapping giving a state to every observable variable) the result
    has one axis per latent variable. Without it the result is the whole conditional table,
    observable axes first then latent axes (both in space order).
    """
    lat = _latent_axes(market)
    if not lat:
        raise InvalidInput("the market has no latent variable")
    obs = _observed_axes(market)
    table = np.transpose(joint_table(market), obs + lat)
    obs_shape = tuple(market.space.shape[a] for a in obs)
    marg = table.reshape(obs_shape + (-1,)).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cond = table / marg.reshape(obs_shape + (1,) * len(lat))
    if observation is None:
        return cond
    if not isinstance(observation, Mapping):
        raise InvalidInput(f"observation must be a mapping {{variable: state}}, got "
                           f"{observation!r}")
    assigned = market.space.assignment(observation)
    names = [market.space.names[a] for a in obs]
    missing = [n for n in names if n not in assigned]
    extra = [n for n in assigned if n not in names]
    if missing or extra:
        raise InvalidInput(f"observation must give a state to exactly the observable "
                           f"variables {names!r}; missing {missing!r}, not observable {extra!r}")
    index = tuple(assigned[n] for n in names)
    if marg[index] <= 0:
        raise InvalidInput(f"observation {dict(observation)!r} has price 0 in the market")
    return cond[index]


# -- relabelling ----------------------------------------------------------------------------
def _permutation(permutation: Any, n: int) -> np.ndarray:
    perm = np.asarray(permutation)
    if perm.shape != (n,) or perm.dtype.kind not in "iu" or sorted(perm.tolist()) != list(
            range(n)):
        raise InvalidInput(f"permutation must be a rearrangement of 0..{n - 1}, got "
                           f"{permutation!r}")
    return perm.astype(int)


def relabel(table: Any, axis: int, permutation: Sequence[int]) -> np.ndarray:
    """Rename the states along ``axis``: old state ``l`` becomes state ``permutation[l]``.

    Examples
    --------
    >>> relabel(np.array([[0.1, 0.2], [0.3, 0.4]]), 0, [1, 0])
    array([[0.3, 0.4],
           [0.1, 0.2]])
    """
    arr = np.asarray(table, dtype=float)
    if not isinstance(axis, (int, np.integer)) or not 0 <= axis < arr.ndim:
        raise InvalidInput(f"axis must be one of 0..{arr.ndim - 1}, got {axis!r}")
    perm = _permutation(permutation, arr.shape[axis])
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(len(perm))
    return np.take(arr, inverse, axis=axis)


def align_labels(estimate: Any, truth: Any, axis: int = 0) -> np.ndarray:
    """The relabelling of ``estimate``'s states along ``axis`` that best matches ``truth``.

    Solves the assignment problem (Hungarian algorithm) on the L1 distances between the
    slices of the two tables, so ``relabel(estimate, axis, align_labels(estimate, truth,
    axis))`` is the estimate with the labels put back in the truth's order. Latent classes
    are identified at best up to such a permutation.

    Examples
    --------
    >>> est = np.array([[0.1, 0.9], [0.8, 0.2]])
    >>> truth = np.array([[0.75, 0.25], [0.15, 0.85]])
    >>> align_labels(est, truth).tolist()
    [1, 0]
    """
    from scipy.optimize import linear_sum_assignment

    est = np.asarray(estimate, dtype=float)
    tru = np.asarray(truth, dtype=float)
    if est.shape != tru.shape:
        raise InvalidInput(f"estimate and truth must have the same shape, got {est.shape} "
                           f"and {tru.shape}")
    if not isinstance(axis, (int, np.integer)) or not 0 <= axis < est.ndim:
        raise InvalidInput(f"axis must be one of 0..{est.ndim - 1}, got {axis!r}")
    e = np.moveaxis(est, axis, 0).reshape(est.shape[axis], -1)
    t = np.moveaxis(tru, axis, 0).reshape(tru.shape[axis], -1)
    cost = np.abs(e[:, None, :] - t[None, :, :]).sum(axis=-1)
    rows, cols = linear_sum_assignment(cost)
    perm = np.empty(len(rows), dtype=int)
    perm[rows] = cols
    return perm


# -- moving a market to a distribution ------------------------------------------------------
@dataclass(frozen=True)
class Edit:
    """One edit of a chain: set :math:`P(A \\mid B)` to ``probability``."""

    event: Any
    given: Any
    probability: float


def _cell_expr(space, assignment: Sequence[tuple[int, int]]):
    """Conjunction ``var == state`` over ``(axis, state index)`` pairs."""
    terms = [atom(space.names[a], space.variable(space.names[a]).states[s])
             for a, s in assignment]
    return sympy.And(*terms) if terms else sympy.true


def _apply_edit(table: np.ndarray, in_a: np.ndarray, in_b: np.ndarray, p: float) -> None:
    """Hanson's edit on an explicit table, in place (used to check a chain in advance)."""
    mass_b = table[in_b].sum()
    mass_ab = table[in_a & in_b].sum()
    table[in_a & in_b] *= p * mass_b / mass_ab
    table[~in_a & in_b] *= (1 - p) * mass_b / (mass_b - mass_ab)


def edit_chain(space, current: np.ndarray, target: np.ndarray,
               order: Sequence[int]) -> tuple[list[Edit], list[np.ndarray]]:
    """The chain-rule edits that move ``current`` to ``target`` along ``order``.

    For each variable :math:`V_k` in ``order``, each assignment :math:`r` of the variables
    before it, and each of its states :math:`s_j` but the last, one edit sets

    .. math:: P(V_k = s_j \\mid r, V_k \\notin \\{s_1..s_{j-1}\\})
              \\leftarrow T(V_k = s_j \\mid r, V_k \\notin \\{s_1..s_{j-1}\\}).

    An edit keeps :math:`P(B)` and the distributions inside :math:`A\\wedge B` and
    :math:`\\neg A\\wedge B`, so after variable :math:`V_k` the marginal on
    :math:`V_1..V_k` equals the target's while every conditional of later variables given
    earlier ones is unchanged [2]_. If ``order`` covers every variable the result is the
    target exactly; if it covers the observable ones only, the observed marginal becomes
    the target's and :math:`P(L \\mid O)` is unchanged.

    Both tables have one axis per variable; outcomes outside the support of ``current``
    (ruled out by observations) are skipped. Returns the edits and the table after each.
    """
    cur = np.array(current, dtype=float)
    tgt = np.asarray(target, dtype=float)
    grids = np.indices(cur.shape)
    edits: list[Edit] = []
    states: list[np.ndarray] = []
    for k, axis in enumerate(order):
        prev = list(order[:k])
        prev_shape = [cur.shape[a] for a in prev]
        for r in np.ndindex(*prev_shape):
            in_r = np.ones(cur.shape, dtype=bool)
            for a, s in zip(prev, r):
                in_r &= grids[a] == s
            remaining = in_r.copy()
            tgt_r = tgt[in_r].sum()
            if cur[in_r].sum() <= 0 or tgt_r <= 0:
                continue
            for s in range(cur.shape[axis] - 1):
                in_a = grids[axis] == s
                mass_b, mass_ab = cur[remaining].sum(), cur[remaining & in_a].sum()
                t_b, t_ab = tgt[remaining].sum(), tgt[remaining & in_a].sum()
                if mass_ab <= 0 or mass_ab >= mass_b or t_b <= 0:
                    remaining &= ~in_a
                    continue
                p_new = t_ab / t_b
                if not 0.0 < p_new < 1.0:
                    raise InvalidInput(
                        f"target gives conditional probability {p_new!r} where the market "
                        "still has both outcomes open; the target must be strictly positive "
                        "on every outcome the market can reach")
                if abs(p_new - mass_ab / mass_b) > _SKIP:
                    _apply_edit(cur, in_a, remaining, p_new)
                    excluded = [(axis, j) for j in range(s)]
                    given = sympy.And(_cell_expr(space, list(zip(prev, r))),
                                      *[~atom(space.names[a], space.variable(
                                          space.names[a]).states[j]) for a, j in excluded])
                    edits.append(Edit(_cell_expr(space, [(axis, s)]),
                                      None if given is sympy.true else given, float(p_new)))
                    states.append(cur.copy())
                remaining &= ~in_a
    return edits, states


def _target_table(market, target: Any, shape: tuple[int, ...], name: str) -> np.ndarray:
    arr = np.asarray(target, dtype=float)
    if arr.size != int(np.prod(shape)):
        raise InvalidInput(f"{name} must have {int(np.prod(shape))} entries (shape {shape}), "
                           f"got shape {arr.shape}")
    return _distribution(name, arr.reshape(shape))


def _execute_chain(market, account, edits: list[Edit], states: list[np.ndarray],
                   start: np.ndarray) -> tuple:
    """Check that every intermediate state is affordable, then send the edits."""
    b = market.liquidity
    lat = _latent_axes(market)
    assets = market.assets(account)
    p0 = start.sum(axis=lat) if lat else start
    live = ~np.isnan(assets)
    with np.errstate(divide="ignore", invalid="ignore"):
        for k, state in enumerate(states):
            pk = state.sum(axis=lat) if lat else state
            final = assets[live] + b * (np.log(pk[live]) - np.log(p0[live]))
            worst = float(final.min())
            if worst < -1e-9 * (1.0 + abs(float(np.nanmax(np.abs(assets))))):
                raise InsufficientFunds(
                    f"account {str(account)!r} cannot afford edit {k + 1} of {len(states)} "
                    f"of the move: it would leave a worst-case final cash of {worst:.6g}; "
                    "expected >= 0 (nothing was traded)")
    return tuple(market.edit(account, e.event, e.probability, given=e.given) for e in edits)


def trade_to_distribution(market, account, target: Any) -> tuple:
    """Move the market's whole joint to ``target`` with a chain of Hanson edits.

    Edits cost nothing now; the chain's net payoff on observable outcome :math:`o` is
    :math:`b \\log(T_O(o) / P_O(o))`. Variables are edited observable ones first, then
    latent ones, so the latent part is a chain of edits conditional on the whole
    observation (those pay 0). Every intermediate state is checked against the account's
    budget before the first edit is sent: either the whole move is made or nothing is
    (:class:`~predmarket.errors.InsufficientFunds`).

    Parameters
    ----------
    market : Market
    account : Account or str
    target : array_like
        Strictly positive joint over the flat space (or shaped like it) that sums to 1.
        Outcomes ruled out by observations are ignored and the rest renormalised.

    Returns
    -------
    tuple of Quote
        One per edit sent.
    """
    shape = market.space.shape
    tgt = _target_table(market, target, shape, "target")
    start = joint_table(market)
    tgt = np.where(start > 0, tgt, 0.0)
    if tgt.sum() <= 0:
        raise InvalidInput("target puts no mass on any outcome the market can still reach")
    tgt = tgt / tgt.sum()
    order = _observed_axes(market) + _latent_axes(market)
    edits, states = edit_chain(market.space, start, tgt, order)
    return _execute_chain(market, account, edits, states, start)


def trade_observed_marginal(market, account, target_observed: Any) -> tuple:
    """Move the market's observed marginal :math:`P_O` to ``target_observed`` and leave
    :math:`P(L \\mid O)` unchanged (chain of edits over the observable variables only).

    The net payoff on observable outcome :math:`o` is :math:`b \\log(T(o)/P_O(o))`.
    ``target_observed`` has one entry per observable outcome (axes in space order).
    """
    obs = _observed_axes(market)
    lat = _latent_axes(market)
    obs_shape = tuple(market.space.shape[a] for a in obs)
    tgt_o = _target_table(market, target_observed, obs_shape, "target_observed")
    start = joint_table(market)
    p_o = start.sum(axis=lat) if lat else start
    tgt_o = np.where(p_o > 0, tgt_o, 0.0)
    if tgt_o.sum() <= 0:
        raise InvalidInput("target puts no mass on any outcome the market can still reach")
    tgt_o = tgt_o / tgt_o.sum()
    if lat:
        with np.errstate(invalid="ignore", divide="ignore"):
            cond = np.where(p_o > 0, 1.0 / p_o, 0.0)
        expand = tuple(slice(None) if a in obs else None for a in range(start.ndim))
        tgt = start * (cond * tgt_o)[expand]
    else:
        tgt = tgt_o
    edits, states = edit_chain(market.space, start, tgt, obs)
    return _execute_chain(market, account, edits, states, start)


def relabel_latent(market, account, variable: str, permutation: Sequence[int]) -> tuple:
    """Rename the states of latent ``variable`` in the market's prices by a trade: old state
    ``l`` takes the price of new state ``permutation[l]``.

    It changes only :math:`P(L \\mid O)`, so it costs 0 and pays 0 on every observable
    outcome (the chain of edits conditions on the whole observation).
    """
    if not isinstance(variable, str) or variable not in market.latent:
        raise InvalidInput(f"{variable!r} is not a latent variable of the market; latent "
                           f"variables are {list(market.latent)!r}")
    axis = market.space.axis(variable)
    start = joint_table(market)
    target = relabel(start, axis, permutation)
    order = _observed_axes(market) + _latent_axes(market)
    edits, states = edit_chain(market.space, start, target, order)
    return _execute_chain(market, account, edits, states, start)


def geometric_mixture(p: Any, q: Any, weight: float) -> np.ndarray:
    """:math:`P^{1-w} Q^{w}` renormalised: the distribution a trader reaches by moving the
    market's log-weights a fraction ``weight`` of the way toward its belief ``q``.

    Examples
    --------
    >>> geometric_mixture([0.5, 0.5], [0.9, 0.1], 1.0).round(3).tolist()
    [0.9, 0.1]
    """
    a = np.asarray(p, dtype=float)
    b = np.asarray(q, dtype=float)
    w = finite_number("weight", weight)
    if not 0.0 <= w <= 1.0:
        raise InvalidInput(f"weight must lie in [0, 1], got {weight!r}")
    if a.shape != b.shape:
        raise InvalidInput(f"p and q must have the same shape, got {a.shape} and {b.shape}")
    with np.errstate(divide="ignore"):
        log = (1 - w) * np.log(a) + w * np.log(b) if 0 < w < 1 else np.log(b if w else a)
    log = np.where(a > 0, log, -np.inf)
    out = np.exp(log - np.max(log))
    return out / out.sum()


# -- latent class models --------------------------------------------------------------------
@dataclass(frozen=True)
class LatentClassModel:
    """A latent class model: :math:`L` with ``K`` classes, indicators conditionally
    independent given :math:`L`.

    .. math:: P(\\ell, o_1, \\dots, o_m) = \\pi_\\ell \\prod_j \\theta_j(o_j \\mid \\ell)

    Attributes
    ----------
    weights : ndarray, shape (K,)
        Class probabilities :math:`\\pi`.
    conditionals : tuple of ndarray, each shape (K, kappa_j)
        :math:`\\theta_j(\\cdot \\mid \\ell)` for each indicator.
    """

    weights: np.ndarray
    conditionals: tuple

    def joint(self) -> np.ndarray:
        """The table over :math:`(L, O_1, \\dots, O_m)`."""
        table = self.weights.copy()
        for theta in self.conditionals:
            table = table[..., None] * theta.reshape((theta.shape[0],) + (1,) * (
                table.ndim - 1) + (theta.shape[1],))
        return table

    def observed(self) -> np.ndarray:
        """:math:`P_O`: the joint summed over :math:`L`."""
        return self.joint().sum(axis=0)

    def posterior(self) -> np.ndarray:
        """:math:`P(L \\mid O)`, class axis first."""
        table = self.joint()
        return table / table.sum(axis=0, keepdims=True)

    def sample(self, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
        """``n`` draws: latent classes (shape (n,)) and indicators (shape (n, m))."""
        gen = np.random.default_rng(rng)
        classes = gen.choice(len(self.weights), size=n, p=self.weights)
        obs = np.empty((n, len(self.conditionals)), dtype=int)
        for j, theta in enumerate(self.conditionals):
            cum = np.cumsum(theta[classes], axis=1)
            obs[:, j] = (gen.random(n)[:, None] > cum).sum(axis=1).clip(0, theta.shape[1] - 1)
        return classes, obs


def fit_latent_class(observed: Any, n_classes: int, *, rng=None, n_starts: int = 5,
                     max_iter: int = 500, tol: float = 1e-10) -> LatentClassModel:
    """Fit a latent class model to an observed distribution (or normalised counts) by EM
    [4]_, keeping the best of ``n_starts`` random starts.

    EM on a distribution :math:`P_O` maximises :math:`\\sum_o P_O(o) \\log Q_O(o)`, i.e.
    minimises :math:`\\mathrm{KL}(P_O \\| Q_O)` over latent class models :math:`Q`:

    .. math:: r(\\ell \\mid o) \\propto \\pi_\\ell \\prod_j \\theta_j(o_j\\mid\\ell), \\quad
              \\pi_\\ell = \\sum_o P_O(o)\\, r(\\ell\\mid o), \\quad
              \\theta_j(s\\mid\\ell) \\propto \\sum_{o: o_j = s} P_O(o)\\, r(\\ell\\mid o).

    When the model is identified (see the module docstring) the fit's posterior is the
    truth's up to relabelling; when it is not, different starts give the same
    :math:`Q_O` and different posteriors.

    Parameters
    ----------
    observed : array_like
        Distribution over the indicators, one axis per indicator.
    n_classes : int
        :math:`K \\ge 1`.
    rng : numpy.random.Generator or int, optional
    n_starts, max_iter : int
    tol : float
        Stop when the log-likelihood improves by less than this.
    """
    p_o = _distribution("observed", observed)
    if p_o.ndim < 1:
        raise InvalidInput("observed must have one axis per indicator")
    for name, v in (("n_classes", n_classes), ("n_starts", n_starts), ("max_iter", max_iter)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise InvalidInput(f"{name} must be a positive integer, got {v!r}")
    if finite_number("tol", tol) < 0:
        raise InvalidInput(f"tol must be a finite number >= 0, got {tol!r}")
    gen = np.random.default_rng(rng)
    shape = p_o.shape
    cells = np.array(list(np.ndindex(*shape)), dtype=int)  # (n_cells, m)
    weights_o = p_o.ravel()
    best, best_ll = None, -math.inf
    for _ in range(n_starts):
        pi = gen.dirichlet(np.ones(n_classes))
        thetas = [gen.dirichlet(np.ones(k), size=n_classes) for k in shape]
        last = -math.inf
        for _it in range(max_iter):
            log_r = np.log(pi)[None, :] + sum(
                np.log(th[:, cells[:, j]]).T for j, th in enumerate(thetas))
            top = log_r.max(axis=1, keepdims=True)
            norm = top + np.log(np.exp(log_r - top).sum(axis=1, keepdims=True))
            ll = float(np.sum(weights_o * norm[:, 0]))
            resp = np.exp(log_r - norm) * weights_o[:, None]
            pi = np.clip(resp.sum(axis=0), 1e-300, None)
            pi /= pi.sum()
            new = []
            for j, k in enumerate(shape):
                counts = np.stack([resp[cells[:, j] == s].sum(axis=0) for s in range(k)], 1)
                counts = np.clip(counts, 1e-300, None)
                new.append(counts / counts.sum(axis=1, keepdims=True))
            thetas = new
            if ll - last < tol:
                break
            last = ll
        if ll > best_ll:
            best_ll, best = ll, LatentClassModel(pi, tuple(thetas))
    return best
