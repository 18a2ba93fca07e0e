"""The MarketMaker step of logical induction: prices the firm's trade cannot profit from.

On day :math:`n` the trading firm's trade is a vector of feature-valued quantities
:math:`q_i(p)`, one per priced sentence :math:`\\varphi_i`, continuous in today's prices
:math:`p \\in [0,1]^m`. Its value in a world :math:`W` is
:math:`W(T) = \\sum_i q_i(p)\\,(W(\\varphi_i) - p_i)`. Garrabrant et al. (2016, Lemma 5.1.1)
ask for prices with

.. math::

    \\max_{W} W(T(p)) \\le 2^{-n},

the maximum over *all* worlds (every truth assignment to the sentences, consistent or not).
That maximum splits per sentence, since each :math:`W(\\varphi_i)` can be chosen freely:

.. math::

    \\max_W W(T(p)) = \\sum_i \\max\\bigl(q_i(p)(1 - p_i),\\; -q_i(p)\\,p_i\\bigr) \\ge 0,

and it is zero exactly at a solution of the box-constrained complementarity problem

.. math::

    0 < p_i < 1 \\Rightarrow q_i(p) = 0,\\qquad p_i = 0 \\Rightarrow q_i(p) \\le 0,\\qquad
    p_i = 1 \\Rightarrow q_i(p) \\ge 0,

i.e. a zero of :math:`G(p) = p - \\Pi_{[0,1]^m}(p + D q(p))` for any positive diagonal
scaling :math:`D` (the fixed point of the paper's Brouwer map). :func:`solve_prices`,
warm-started from yesterday's prices:

1. splits the sentences into independent components (:math:`q_i` reads only prices of its
   own component); a sentence alone in its component is a one-dimensional problem, solved
   for all such sentences at once by a vectorised safeguarded Newton method on a bracket
   (a root of :math:`q_i` is bracketed whenever neither price 0 nor 1 solves it, by
   continuity), so it always succeeds;
2. solves the coupled components with a semismooth Newton method on :math:`G` (the
   generalized Jacobian of the projection has identity rows for clamped prices), with a
   backtracking line search on :math:`\\|G\\|_2`;
3. if Newton stalls (a kink where the Jacobian describes the wrong side, or a flat piece), it
   retries with central differences across the kink, then solves the worst coordinates'
   one-dimensional problems exactly and extrapolates along the resulting zigzag; and raises
   :class:`~predmarket.errors.MarketMakerFailed` if the tolerance is still not met.

Floating point cannot certify :math:`2^{-n}` once :math:`n` exceeds about 30; the tolerance
is :math:`\\max(2^{-n}, \\epsilon)` with a floor :math:`\\epsilon` chosen by the caller
(:class:`~predmarket.logic.induction.inductor.LogicalInductor` uses :math:`10^{-9}` times the
firm's magnitude bound :math:`\\sum_i \\sum_k w_k \\sum_b 2^{-b} \\,\\mathrm{bound}(\\xi_{k,i})`).
:func:`verify_prices` checks a price vector against that condition; the tests call it on
every day of every run.

References
----------
.. [1] S. Garrabrant, T. Benson-Tilsen, A. Critch, N. Soares, J. Taylor, "Logical
   induction", arXiv:1609.03543 v5 (2016), sec. 5.1 (MarketMaker).
.. [2] L. Qi, J. Sun, "A nonsmooth version of Newton's method", Math. Programming 58
   (1993) 353-367 (semismooth Newton).
.. [3] F. Facchinei, J.-S. Pang, *Finite-Dimensional Variational Inequalities and
   Complementarity Problems*, Springer, 2003, ch. 7-9.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from predmarket.errors import InvalidInput, MarketMakerFailed

__all__ = ["MarketMakerResult", "solve_prices", "verify_prices", "worst_case_value"]


def worst_case_value(trade: np.ndarray, prices: np.ndarray) -> float:
    """:math:`\\max_W W(T) = \\sum_i \\max(q_i(1-p_i), -q_i p_i)` over all worlds.

    Examples
    --------
    >>> worst_case_value(np.array([2.0, -1.0]), np.array([0.25, 0.5]))
    2.0
    """
    q = np.asarray(trade, dtype=float)
    p = np.asarray(prices, dtype=float)
    return float(np.maximum(q * (1.0 - p), -q * p).sum())


def verify_prices(trade: np.ndarray, prices: np.ndarray, tolerance: float) -> bool:
    """True when the prices are in :math:`[0,1]` and the trade is worth at most ``tolerance``
    in every world (the MarketMaker condition).

    >>> verify_prices(np.array([0.0, 1.0]), np.array([0.3, 1.0]), 1e-9)
    True
    >>> verify_prices(np.array([0.5]), np.array([0.3]), 1e-9)
    False
    """
    p = np.asarray(prices, dtype=float)
    q = np.asarray(trade, dtype=float)
    if p.shape != q.shape or not (np.all(np.isfinite(p)) and np.all(np.isfinite(q))):
        return False
    if np.any(p < 0.0) or np.any(p > 1.0):
        return False
    return worst_case_value(q, p) <= tolerance


@dataclass(frozen=True)
class MarketMakerResult:
    """Prices found by :func:`solve_prices` with the trade at those prices.

    Attributes
    ----------
    prices, trade : ndarray
        :math:`p` and :math:`q(p)`.
    worst_case : float
        :math:`\\max_W W(T(p))`.
    tolerance : float
        The bound it was solved to.
    iterations : int
        Function evaluations of the bracketed solver, Newton steps and coordinate rounds.
    method : str
        The path that solved it: ``"bracketed"`` (independent sentences only),
        ``"bracketed+newton"`` (with coupled blocks), ``"newton"`` (no components given),
        ``"newton+coordinate"`` (after the coordinate fallback).
    """

    prices: np.ndarray
    trade: np.ndarray
    worst_case: float
    tolerance: float
    iterations: int
    method: str


Evaluate = Callable[[np.ndarray, bool], tuple[np.ndarray, np.ndarray | None]]


def _residual(p: np.ndarray, q: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return p - np.clip(p + q / scale, 0.0, 1.0)


def solve_prices(
    evaluate: Evaluate,
    start: np.ndarray,
    *,
    tolerance: float,
    scale: np.ndarray | None = None,
    max_newton: int = 60,
    max_sweeps: int = 60,
    xtol: float = 1e-13,
    components: np.ndarray | None = None,
) -> MarketMakerResult:
    """Prices :math:`p \\in [0,1]^m` with :math:`\\max_W W(T(p)) \\le` ``tolerance``.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(p, jacobian) -> (q, J)``: the trade at ``p`` and, when ``jacobian`` is
        true, :math:`J_{ij} = \\partial q_i / \\partial p_j` (else ``None``).
    start : ndarray
        Warm start, e.g. yesterday's prices (clipped into :math:`[0,1]`).
    tolerance : float
        Bound on the worst-case value, > 0.
    scale : ndarray, optional
        Positive per-sentence magnitudes of :math:`q` (the solution set does not depend on
        them; they only condition the Newton system). Default: ones.
    max_newton, max_sweeps : int
        Iteration limits for Newton and for the coordinate fallback rounds.
    xtol : float
        Newton keeps refining until :math:`\\|G\\|_\\infty \\le` ``xtol`` even once the
        tolerance is met, so that small traders still move the price.
    components : int array, optional
        A label per sentence such that :math:`q_i` depends only on the prices of sentences
        with the label of :math:`i`. Sentences alone in their component are solved first,
        all at once, by a vectorised safeguarded Newton method on their brackets; the
        coupled ones then by semismooth Newton with that fallback.

    Raises
    ------
    MarketMakerFailed
        Neither method reached the tolerance (the message gives the best value found).

    Examples
    --------
    A single sentence whose trade is :math:`q(p) = 0.3 - p` is priced at 0.3:

    >>> res = solve_prices(lambda p, jac: (0.3 - p, -np.eye(1) if jac else None),
    ...                    np.array([0.9]), tolerance=1e-12)
    >>> round(float(res.prices[0]), 12), res.method
    (0.3, 'newton')
    """
    if not (isinstance(tolerance, float | int) and math.isfinite(tolerance) and tolerance > 0):
        raise InvalidInput(f"tolerance must be a finite number > 0, got {tolerance!r}")
    p = np.clip(np.asarray(start, dtype=float).copy(), 0.0, 1.0)
    m = p.size
    s = np.ones(m) if scale is None else np.asarray(scale, dtype=float)
    if s.shape != (m,) or np.any(~np.isfinite(s)) or np.any(s <= 0):
        raise InvalidInput(f"scale must be {m} finite positive numbers")
    if m == 0:
        return MarketMakerResult(p, np.zeros(0), 0.0, float(tolerance), 0, "newton")

    iterations = 0
    if components is not None:
        labels = np.asarray(components)
        if labels.shape != (m,):
            raise InvalidInput(f"components must give one label per sentence ({m})")
        _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
        single = counts[inverse] == 1
        if single.any():
            p, iterations = _solve_separable(evaluate, p, np.flatnonzero(single), s, tolerance / m)
        coupled = np.flatnonzero(~single)
        if coupled.size == 0:
            q = evaluate(p, False)[0]
            worst = worst_case_value(q, p)
            if worst <= tolerance:
                return MarketMakerResult(p, q, worst, float(tolerance), iterations, "bracketed")
        elif coupled.size < m:
            base = p.copy()

            def evaluate_block(x: np.ndarray, jacobian: bool):
                full = base.copy()
                full[coupled] = x
                qq, JJ = evaluate(full, jacobian)
                return qq[coupled], (JJ[np.ix_(coupled, coupled)] if jacobian else None)

            rest = tolerance - _separable_worst(evaluate, p, single)
            part_tol = rest if rest > 0.0 else 0.5 * tolerance
            try:
                res = solve_prices(
                    evaluate_block,
                    p[coupled],
                    tolerance=part_tol,
                    scale=s[coupled],
                    max_newton=max_newton,
                    max_sweeps=max_sweeps,
                    xtol=xtol,
                )
                p[coupled] = res.prices
                iterations += res.iterations
            except MarketMakerFailed:
                pass
            q = evaluate(p, False)[0]
            worst = worst_case_value(q, p)
            if worst <= tolerance:
                return MarketMakerResult(
                    p, q, worst, float(tolerance), iterations, "bracketed+newton"
                )

    q, J = evaluate(p, True)
    sweeps = 0
    worst = worst_case_value(q, p)
    method = "newton"
    history: list[np.ndarray] = []
    for _round in range(max_sweeps + 1):
        p, q, J, steps = _newton(evaluate, p, q, J, s, max_newton, xtol)
        iterations += steps
        worst = worst_case_value(q, p)
        if worst <= tolerance:
            return MarketMakerResult(p, q, worst, float(tolerance), iterations + sweeps, method)
        if _round == max_sweeps:
            break
        # Newton stalled (typically on a flat piece of q): solve the worst coordinates'
        # one-dimensional problems exactly, then resume Newton from there.
        method = "newton+coordinate"
        sweeps += 1
        terms = np.maximum(q * (1.0 - p), -q * p)
        block = np.argsort(-terms)[: max(1, int(np.count_nonzero(terms > tolerance / m)))]
        # Newton stalls where p sits on a kink of q and the analytic Jacobian describes
        # the wrong side: retry with central differences across the kink in the block.
        J_fd = J.copy()
        for j in block:
            h = 1e-7
            up, down = p.copy(), p.copy()
            up[j] = min(1.0, p[j] + h)
            down[j] = max(0.0, p[j] - h)
            J_fd[:, j] = (evaluate(up, False)[0] - evaluate(down, False)[0]) / (up[j] - down[j])
        p_fd, q_fd, _, steps = _newton(evaluate, p, q, J_fd, s, 1, xtol)
        if steps and worst_case_value(q_fd, p_fd) < worst_case_value(q, p):
            iterations += steps
            p, q, J = p_fd, q_fd, evaluate(p_fd, True)[1]
            continue
        history.append(p.copy())
        for i in block:
            p[i] = _solve_coordinate(evaluate, p, i, s[i])
        q = evaluate(p, False)[0]
        # Coupled coordinates solved one at a time zigzag toward the solution; extrapolate
        # along the displacement of the last one and two rounds while that lowers the
        # worst-case value.
        best = worst_case_value(q, p)
        for back in (1, 2):
            if len(history) < back:
                continue
            step = p - history[-back]
            for j in range(1, 40):
                trial = np.clip(p + (2.0**j) * step, 0.0, 1.0)
                q_trial = evaluate(trial, False)[0]
                value = worst_case_value(q_trial, trial)
                if value >= best:
                    break
                p, q, best = trial, q_trial, value
        q, J = evaluate(p, True)
    raise MarketMakerFailed(
        f"the market maker found no prices within tolerance {tolerance:.3g}: best worst-case "
        f"value {worst:.3g} after {iterations} Newton steps and {sweeps} coordinate rounds "
        f"over {m} sentences; expected a value <= the tolerance"
    )


def _newton(evaluate: Evaluate, p, q, J, s, max_newton: int, xtol: float):
    """Semismooth Newton on :math:`G(p) = p - \\Pi(p + q/s)` with backtracking on
    :math:`\\|G\\|_2^2`; returns the last accepted point and the number of steps."""
    m = p.size
    G = _residual(p, q, s)
    norm = float(np.dot(G, G))
    steps = 0
    for steps in range(1, max_newton + 1):
        if np.max(np.abs(G)) <= xtol:
            return p, q, J, steps - 1
        z = p + q / s
        free = (z > 0.0) & (z < 1.0)
        H = np.eye(m)
        H[free] = -J[free] / s[free, None]
        try:
            d = np.linalg.solve(H, -G)
        except np.linalg.LinAlgError:
            d = np.linalg.lstsq(H, -G, rcond=None)[0]
        t = 1.0
        accepted = False
        for _ in range(30):
            p_new = np.clip(p + t * d, 0.0, 1.0)
            q_new, J_new = evaluate(p_new, t == 1.0)
            G_new = _residual(p_new, q_new, s)
            norm_new = float(np.dot(G_new, G_new))
            if norm_new <= (1.0 - 1e-4 * t) * norm or norm_new == 0.0:
                accepted = True
                break
            t *= 0.5
        if not accepted:
            return p, q, J, steps - 1
        if J_new is None:
            J_new = evaluate(p_new, True)[1]
        p, q, J, G, norm = p_new, q_new, J_new, G_new, norm_new
    return p, q, J, steps


def _separable_worst(evaluate: Evaluate, p: np.ndarray, mask: np.ndarray) -> float:
    q = evaluate(p, False)[0]
    return worst_case_value(q[mask], p[mask])


def _solve_separable(
    evaluate: Evaluate, p: np.ndarray, idx: np.ndarray, s: np.ndarray, term_tol: float
) -> tuple[np.ndarray, int]:
    """Solve the one-dimensional problems of the coordinates ``idx`` all at once.

    Each :math:`q_i` (``i`` in ``idx``) depends on :math:`p_i` alone, so one evaluation
    gives every coordinate's value at its own trial point. Per coordinate, from the warm
    start :math:`x_0`: keep it if it already solves the problem; if :math:`q_i(x_0) > 0`
    the price must rise: 1 if :math:`q_i(1) \\ge 0`, else a root in :math:`(x_0, 1)`; if
    :math:`q_i(x_0) < 0` it must fall: 0 if :math:`q_i(0) \\le 0`, else a root in
    :math:`(0, x_0)`. Roots are found in a bracket :math:`q_i(a) > 0 > q_i(b)` that shrinks
    at every step: a Newton step when it stays inside the bracket and the last step at least
    halved :math:`|q_i|`, else bisection. So the nearest solution in the direction the
    trade pushes is chosen, and an untraded sentence keeps its price.
    """
    p = p.copy()
    evals = 0

    def values(trial: np.ndarray, jacobian: bool):
        nonlocal evals
        evals += 1
        full = p.copy()
        full[idx] = trial
        q, J = evaluate(full, jacobian)
        d = None if J is None else J[idx, idx] / s[idx]
        return q[idx] / s[idx], d

    def solved(x: np.ndarray, f: np.ndarray) -> np.ndarray:
        term = np.maximum(f * (1.0 - x), -f * x) * s[idx]
        return (
            (f == 0.0)
            | ((x == 1.0) & (f >= 0.0))
            | ((x == 0.0) & (f <= 0.0))
            | (term <= term_tol * 1e-3)
        )

    x = p[idx].copy()
    fx, dfx = values(x, True)
    done = solved(x, fx)
    up = ~done & (fx > 0.0)
    down = ~done & (fx < 0.0)
    lo = np.where(up, x, 0.0)
    hi = np.where(down, x, 1.0)
    if up.any() or down.any():
        ends = np.where(up, 1.0, np.where(down, 0.0, x))
        f_end, _ = values(ends, False)
        to_one = up & (f_end >= 0.0)
        to_zero = down & (f_end <= 0.0)
        x = np.where(to_one, 1.0, np.where(to_zero, 0.0, x))
        done |= to_one | to_zero
    last = np.abs(fx) * 2.0 + 1.0
    for _ in range(200):
        if done.all():
            break
        active = ~done
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = x - fx / dfx
        ok = active & np.isfinite(newton) & (newton > lo) & (newton < hi)
        ok &= np.abs(fx) <= 0.5 * last
        step = np.where(ok, newton, 0.5 * (lo + hi))
        last = np.where(active, np.abs(fx), last)
        x = np.where(active, step, x)
        fx, dfx = values(x, True)
        pos = active & (fx > 0.0)
        neg = active & (fx < 0.0)
        lo[pos] = x[pos]
        hi[neg] = x[neg]
        done |= active & (solved(x, fx) | (hi - lo <= 4e-16))
    p[idx] = x
    return p, evals


def _solve_coordinate(evaluate: Evaluate, p: np.ndarray, i: int, scale: float) -> float:
    """Solve coordinate ``i``'s one-dimensional complementarity problem, others fixed.

    By continuity one of three holds: :math:`q_i(1) \\ge 0` (price 1), :math:`q_i(0) \\le 0`
    (price 0), or :math:`q_i` changes sign on :math:`(0, 1)`, where a root is bracketed
    and found by the Illinois variant of regula falsi, with a bisection step every third
    step (at most 200 evaluations).
    """
    trial = p.copy()

    def f(x: float) -> float:
        trial[i] = x
        return float(evaluate(trial, False)[0][i]) / scale

    f1 = f(1.0)
    if f1 >= 0.0:
        return 1.0
    f0 = f(0.0)
    if f0 <= 0.0:
        return 0.0
    a, fa, b, fb = 0.0, f0, 1.0, f1
    side = 0
    for it in range(200):
        if it % 3 == 2:
            x = 0.5 * (a + b)  # a bisection every third step bounds the work
        else:
            x = (a * fb - b * fa) / (fb - fa)
            if not a < x < b:
                x = 0.5 * (a + b)
        fx = f(x)
        if fx == 0.0:
            return x
        if fx > 0.0:
            a, fa = x, fx
            if side == 1:
                fb *= 0.5
            side = 1
        else:
            b, fb = x, fx
            if side == -1:
                fa *= 0.5
            side = -1
        if b - a <= 4e-16:
            break
    return 0.5 * (a + b)
