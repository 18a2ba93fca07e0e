"""Expressible features: the numbers a logical-induction trader may compute from prices.

An *expressible feature* (Garrabrant et al. 2016, Def. 3.4.3) is built from

* rational constants :math:`c`,
* price features :math:`\\varphi^{*n}`, the market's price of sentence :math:`\\varphi` on day
  :math:`n`,
* sums :math:`\\alpha + \\beta`, products :math:`\\alpha\\beta`, maxima
  :math:`\\max(\\alpha, \\beta)`, and
* the safe reciprocal :math:`1/\\max(1, \\alpha)`.

Derived features (:func:`fmin`, :func:`clip`, :func:`indicator`) are written in those terms,
so every feature is continuous in the prices, which is what lets the market maker find a
fixed point (Garrabrant et al. 2016, sec. 5.1).

Features are immutable values: two features built the same way compare and hash equal,
whatever objects they were built from. Each has a :meth:`Feature.bound`, an upper bound on
its absolute value over all price histories with prices in :math:`[0, 1]`:

.. math::

    |c| \\le |c|,\\quad |\\varphi^{*n}| \\le 1,\\quad
    |\\alpha+\\beta| \\le B_\\alpha + B_\\beta,\\quad |\\alpha\\beta| \\le B_\\alpha B_\\beta,\\quad
    |\\max(\\alpha,\\beta)| \\le \\max(B_\\alpha, B_\\beta),\\quad
    0 < 1/\\max(1,\\alpha) \\le 1.

In particular :math:`|\\min(\\alpha,\\beta)| \\le \\max(B_\\alpha, B_\\beta)`, not the minimum of
the two bounds.

:class:`FeatureProgram` compiles many features into a flat, level-by-level numpy program
that evaluates all of them, and their gradients with respect to today's prices, in one
vectorised pass; the market maker calls it many times per day.

References
----------
.. [1] S. Garrabrant, T. Benson-Tilsen, A. Critch, N. Soares, J. Taylor, "Logical
   induction", arXiv:1609.03543 v5 (2016), Def. 3.4.3 (expressible features) and
   sec. 5 (the construction).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from numbers import Real
from typing import Any

import numpy as np

from predmarket.errors import InvalidInput

__all__ = [
    "Feature",
    "FeatureProgram",
    "clip",
    "constant",
    "fmax",
    "fmin",
    "indicator",
    "price",
    "safe_reciprocal",
]

_CONST, _PRICE, _SUM, _PROD, _MAX, _RECIP = "const", "price", "sum", "prod", "max", "recip"


class Feature:
    """An expressible feature: a continuous function of the price history.

    Build features with :func:`constant`, :func:`price`, ``+``, ``-``, ``*``, :func:`fmax`,
    :func:`fmin` and :func:`safe_reciprocal`; do not call the constructor directly.

    Examples
    --------
    >>> x = price("A", 2)
    >>> f = 2 * x - 1
    >>> f.evaluate(lambda sentence, day: 0.75)
    0.5
    >>> f == 2 * price("A", 2) - 1
    True
    >>> fmin(x, 0.5).bound()
    1.0
    """

    __slots__ = ("_bound", "_hash", "_prices", "args", "op")

    def __init__(self, op: str, args: tuple):
        self.op = op
        self.args = args
        self._hash = hash((op, args))
        self._bound = None
        self._prices = None

    # ---------------------------------------------------------------- value semantics
    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, Feature) or self._hash != other._hash:
            return False
        return self.op == other.op and self.args == other.args

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        if self.op == _CONST:
            return repr(self.args[0])
        if self.op == _PRICE:
            return f"P{self.args[1]}({self.args[0]})"
        if self.op == _RECIP:
            return f"1/max(1, {self.args[0]!r})"
        if self.op == _MAX:
            return f"max({', '.join(map(repr, self.args))})"
        sep = " + " if self.op == _SUM else " * "
        return "(" + sep.join(map(repr, self.args)) + ")"

    # ---------------------------------------------------------------- arithmetic
    def __add__(self, other: Any) -> Feature:
        return _sum(self, as_feature(other))

    __radd__ = __add__

    def __mul__(self, other: Any) -> Feature:
        return _prod(self, as_feature(other))

    __rmul__ = __mul__

    def __neg__(self) -> Feature:
        return _prod(constant(-1.0), self)

    def __sub__(self, other: Any) -> Feature:
        return _sum(self, -as_feature(other))

    def __rsub__(self, other: Any) -> Feature:
        return _sum(as_feature(other), -self)

    # ---------------------------------------------------------------- queries
    def bound(self) -> float:
        """An upper bound on :math:`|\\alpha|` for every price history in :math:`[0, 1]`."""
        if self._bound is None:
            self._bound = self._compute_bound()
        return self._bound

    def _compute_bound(self) -> float:
        if self.op == _CONST:
            return abs(self.args[0])
        if self.op == _PRICE:
            return 1.0
        if self.op == _RECIP:
            return 1.0
        bounds = [a.bound() for a in self.args]
        if self.op == _SUM:
            return float(sum(bounds))
        if self.op == _PROD:
            return float(math.prod(bounds))
        return float(max(bounds))

    def prices(self) -> frozenset:
        """The ``(sentence, day)`` pairs whose price the feature reads."""
        if self._prices is None:
            self._prices = self._compute_prices()
        return self._prices

    def _compute_prices(self) -> frozenset:
        if self.op == _CONST:
            return frozenset()
        if self.op == _PRICE:
            return frozenset([self.args])
        if self.op == _RECIP:
            return self.args[0].prices()
        return frozenset().union(*(a.prices() for a in self.args))

    def evaluate(self, lookup: Callable[[Any, int], float]) -> float:
        """Value of the feature, reading prices with ``lookup(sentence, day)``.

        ``lookup`` must raise for a price it does not know: there is no default price.
        """
        if self.op == _CONST:
            return self.args[0]
        if self.op == _PRICE:
            return float(lookup(*self.args))
        vals = [a.evaluate(lookup) for a in self.args]
        if self.op == _SUM:
            return float(sum(vals))
        if self.op == _PROD:
            return float(math.prod(vals))
        if self.op == _MAX:
            return float(max(vals))
        return 1.0 / max(1.0, vals[0])


def as_feature(value: Any) -> Feature:
    """A feature from a feature or a finite real number."""
    if isinstance(value, Feature):
        return value
    if isinstance(value, bool) or not isinstance(value, Real):
        raise InvalidInput(f"a feature must be a Feature or a finite number, got {value!r}")
    return constant(value)


def constant(value: float) -> Feature:
    """The constant feature :math:`c` (finite).

    >>> constant(0.25).bound()
    0.25
    """
    if type(value) is not float:
        if isinstance(value, bool) or not isinstance(value, Real):
            raise InvalidInput(f"a constant feature must be a finite number, got {value!r}")
        value = float(value)
    if not math.isfinite(value):
        raise InvalidInput(f"a constant feature must be a finite number, got {value!r}")
    return Feature(_CONST, (value,))


def price(sentence: Any, day: int) -> Feature:
    """The price feature :math:`\\varphi^{*n}`: the market's price of ``sentence`` on ``day``.

    ``sentence`` is parsed to its canonical form, so ``price("A & B", 3)`` and
    ``price("B & A", 3)`` are the same feature.

    >>> price("A & B", 3) == price("B & A", 3)
    True
    """
    from predmarket.logic.sentences import parse_sentence

    if isinstance(day, bool) or not isinstance(day, int | np.integer) or day < 1:
        raise InvalidInput(f"a price feature needs a day >= 1, got {day!r}")
    return Feature(_PRICE, (parse_sentence(sentence), int(day)))


def _flatten(op: str, items: Iterable[Feature]) -> list[Feature]:
    out: list[Feature] = []
    for item in items:
        out.extend(item.args if item.op == op else (item,))
    return out


def _sum(*items: Feature) -> Feature:
    terms = _flatten(_SUM, items)
    consts = [t.args[0] for t in terms if t.op == _CONST]
    rest = [t for t in terms if t.op != _CONST]
    c = float(sum(consts))
    if c != 0.0 or not rest:
        rest.append(constant(c))
    return rest[0] if len(rest) == 1 else Feature(_SUM, tuple(rest))


def _prod(*items: Feature) -> Feature:
    terms = _flatten(_PROD, items)
    c = float(math.prod(t.args[0] for t in terms if t.op == _CONST))
    rest = [t for t in terms if t.op != _CONST]
    if c == 0.0 or not rest:
        return constant(c)
    if c != 1.0:
        rest.insert(0, constant(c))
    return rest[0] if len(rest) == 1 else Feature(_PROD, tuple(rest))


def fmax(*items: Any) -> Feature:
    """:math:`\\max(\\alpha_1, \\dots, \\alpha_k)` (at least one argument)."""
    if not items:
        raise InvalidInput("fmax needs at least one argument")
    feats = [as_feature(x) for x in items]
    return feats[0] if len(feats) == 1 else Feature(_MAX, tuple(feats))


def fmin(*items: Any) -> Feature:
    """:math:`\\min(\\alpha_1, \\dots) = -\\max(-\\alpha_1, \\dots)`; bound :math:`\\max_i B_i`."""
    return -fmax(*(-as_feature(x) for x in items))


def safe_reciprocal(value: Any) -> Feature:
    """The paper's safe reciprocal :math:`1/\\max(1, \\alpha)`, in :math:`(0, 1]`.

    >>> safe_reciprocal(constant(4.0)).evaluate(None)
    0.25
    >>> safe_reciprocal(constant(-3.0)).evaluate(None)
    1.0
    """
    return Feature(_RECIP, (as_feature(value),))


def clip(value: Any, low: float, high: float) -> Feature:
    """:math:`\\min(\\text{high}, \\max(\\text{low}, \\alpha))` for constants ``low < high``."""
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise InvalidInput(f"clip needs finite low < high, got {low!r}, {high!r}")
    return fmin(fmax(value, low), high)


def indicator(x: Any, y: Any, width: float) -> Feature:
    """The continuous indicator :math:`\\mathrm{Ind}_\\delta(x < y)` of Garrabrant et al.:

    .. math::

        \\mathrm{Ind}_\\delta(x < y) = \\max\\Bigl(0, \\min\\Bigl(1, \\frac{y - x}{\\delta}\\Bigr)\\Bigr),

    which is 1 when :math:`x \\le y - \\delta`, 0 when :math:`x \\ge y`, linear between.

    >>> f = indicator(price("A", 1), 0.5, 0.25)
    >>> [f.evaluate(lambda s, d: p) for p in (0.25, 0.375, 0.6)]
    [1.0, 0.5, 0.0]
    """
    if not (isinstance(width, Real) and math.isfinite(width) and width > 0):
        raise InvalidInput(f"indicator width must be a finite number > 0, got {width!r}")
    return clip((as_feature(y) - as_feature(x)) * (1.0 / width), 0.0, 1.0)


# ----------------------------------------------------------------------------- compiled form


class FeatureProgram:
    """Many features compiled into one vectorised program over today's prices.

    Prices of earlier days become constants (read once through ``past_price``, which must
    raise for an unknown price); prices of day ``day`` become inputs, indexed by
    ``today_index``; a price of a later day is an error.

    :meth:`evaluate` returns the values of all features at a price vector ``p`` and, on
    request, their Jacobian :math:`\\partial\\alpha_j/\\partial p_i` (dense, forward mode,
    with the subgradient convention ``max`` -> the first maximal argument, safe reciprocal
    -> slope 0 at :math:`\\alpha = 1`).

    Examples
    --------
    >>> x = price("A", 2)
    >>> prog = FeatureProgram([x * x, fmax(x, 0.5)], day=2, today_index={x.args[0]: 0},
    ...                       past_price=None)
    >>> v, J = prog.evaluate(np.array([0.25]), jacobian=True)
    >>> v.tolist(), J.ravel().tolist()
    ([0.0625, 0.5], [0.5, 0.0])
    """

    def __init__(
        self,
        features: Sequence[Feature],
        *,
        day: int,
        today_index: Mapping[Any, int],
        past_price: Callable[[Any, int], float] | None,
    ):
        self.day = day
        self.n_inputs = (max(today_index.values()) + 1) if today_index else 0
        ids: dict[Feature, int] = {}
        consts: list[tuple[int, float]] = []
        inputs: list[tuple[int, int]] = []
        ops: list[tuple[int, str, int, int, int]] = []  # (level, op, node, a, b)
        level: list[int] = []
        counter = [0]

        def new_node(lvl: int) -> int:
            level.append(lvl)
            counter[0] += 1
            return counter[0] - 1

        def visit(f: Feature) -> int:
            found = ids.get(f)
            if found is not None:
                return found
            if f.op == _CONST:
                idx = new_node(0)
                consts.append((idx, f.args[0]))
            elif f.op == _PRICE:
                sentence, d = f.args
                if d < day:
                    if past_price is None:
                        raise InvalidInput(f"feature reads {f!r} but no past prices are given")
                    idx = new_node(0)
                    consts.append((idx, float(past_price(sentence, d))))
                elif d == day:
                    if sentence not in today_index:
                        raise InvalidInput(
                            f"feature reads {f!r} but {sentence} is not priced today"
                        )
                    idx = new_node(0)
                    inputs.append((idx, today_index[sentence]))
                else:
                    raise InvalidInput(f"a trade on day {day} cannot read the future price {f!r}")
            elif f.op == _RECIP:
                a = visit(f.args[0])
                idx = new_node(level[a] + 1)
                ops.append((level[idx], _RECIP, idx, a, a))
            else:
                # n-ary sums, products and maxima become left-deep chains of binary nodes
                acc = visit(f.args[0])
                for arg in f.args[1:]:
                    b = visit(arg)
                    idx = new_node(max(level[acc], level[b]) + 1)
                    ops.append((level[idx], f.op, idx, acc, b))
                    acc = idx
                idx = acc
            ids[f] = idx
            return idx

        self.outputs = np.array([visit(f) for f in features], dtype=np.intp)
        self.n_nodes = counter[0]
        self._const_idx = np.array([i for i, _ in consts], dtype=np.intp)
        self._const_val = np.array([v for _, v in consts], dtype=float)
        self._in_idx = np.array([i for i, _ in inputs], dtype=np.intp)
        self._in_col = np.array([c for _, c in inputs], dtype=np.intp)
        # group the operations by (level, op) so that each group is one numpy call
        groups: dict[tuple[int, str], list[tuple[int, int, int]]] = {}
        for lvl, op, node, a, b in ops:
            groups.setdefault((lvl, op), []).append((node, a, b))
        self._steps = []
        for lvl, op in sorted(groups):
            arr = np.array(groups[(lvl, op)], dtype=np.intp)
            self._steps.append((op, arr[:, 0], arr[:, 1], arr[:, 2]))

    def evaluate(self, p: np.ndarray, *, jacobian: bool = False):
        """Values of the features at today's prices ``p`` (and the Jacobian if asked)."""
        v = np.empty(self.n_nodes)
        v[self._const_idx] = self._const_val
        v[self._in_idx] = p[self._in_col]
        G = None
        if jacobian:
            G = np.zeros((self.n_nodes, self.n_inputs))
            G[self._in_idx, self._in_col] = 1.0
        for op, out, a, b in self._steps:
            va, vb = v[a], v[b]
            if op == _SUM:
                v[out] = va + vb
                if G is not None:
                    G[out] = G[a] + G[b]
            elif op == _PROD:
                v[out] = va * vb
                if G is not None:
                    G[out] = G[a] * vb[:, None] + G[b] * va[:, None]
            elif op == _MAX:
                first = va >= vb
                v[out] = np.where(first, va, vb)
                if G is not None:
                    G[out] = np.where(first[:, None], G[a], G[b])
            else:
                big = va > 1.0
                v[out] = 1.0 / np.maximum(1.0, va)
                if G is not None:
                    scale = np.where(big, -1.0 / np.where(big, va, 1.0) ** 2, 0.0)
                    G[out] = G[a] * scale[:, None]
        vals = v[self.outputs]
        if jacobian:
            return vals, G[self.outputs]
        return vals, None
