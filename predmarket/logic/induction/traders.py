"""Traders: programs that, each day, output a trade whose quantities are expressible features.

A trader (Garrabrant et al. 2016, Def. 3.4.4) maps day :math:`n` to a trade
:math:`T_n = \\sum_i \\xi_i\\,(\\varphi_i - \\varphi_i^{*n})`: buy :math:`\\xi_i` shares of
sentence :math:`\\varphi_i` at today's price, where each :math:`\\xi_i` is an expressible
feature (:mod:`~predmarket.logic.induction.features`) of the prices up to day :math:`n`.
Since a quantity may read today's price, a trader states *how it would react to any price*,
and the market maker picks the prices.

Here a trader is an object with ``trade(context) -> {sentence: feature}``, a ``name`` and a
``start_day``. Built-ins:

* :class:`ThresholdTrader` -- "buy :math:`\\varphi_n` when :math:`P_n(\\varphi_n) < r`" (or sell
  when above), with the continuous indicator :math:`\\mathrm{Ind}_\\delta`;
* :class:`AffineTrader` -- buy (sell) a fixed combination :math:`\\sum_j c_j\\varphi_j` when its
  price :math:`\\sum_j c_j P_n(\\varphi_j)` is below (above) :math:`r`; with the right
  combination this is a coherence arbitrageur, e.g. buy :math:`A` and :math:`\\lnot A` when
  :math:`P(A) + P(\\lnot A) < 1`;
* :class:`ClippedLinearTrader` -- trade :math:`\\mathrm{clip}(t - P_n(\\varphi), -1, 1)` toward a
  target :math:`t` computed from the context;
* :class:`FunctionTrader` -- any user function of the context.

Enumerations (:func:`dyadic_thresholds`, :func:`threshold_family`, :func:`affine_family`)
list generic traders in a fixed order, coarse to fine, so that a
:class:`~predmarket.logic.induction.firm.TradingFirm` can weight the :math:`k`-th by
:math:`2^{-k}`. Nothing in them is told the answer: a trader that is wrong loses its budget.

References
----------
.. [1] S. Garrabrant, T. Benson-Tilsen, A. Critch, N. Soares, J. Taylor, "Logical
   induction", arXiv:1609.03543 v5 (2016), Def. 3.4.4 (traders), sec. 4 and 6 (the traders
   used in the proofs, built from continuous indicators).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from predmarket.errors import InvalidInput
from predmarket.logic.induction.features import Feature, as_feature, clip, indicator, price
from predmarket.logic.sentences import parse_sentence

__all__ = [
    "AffineTrader",
    "ClippedLinearTrader",
    "FunctionTrader",
    "ThresholdTrader",
    "Trader",
    "TradingContext",
    "affine_family",
    "dyadic_thresholds",
    "threshold_family",
]


@dataclass(frozen=True)
class TradingContext:
    """What a trader sees on day :math:`n`: the day, the theorems :math:`D_n`, the sentences
    the market lists today, and a reader of *past* prices (days :math:`< n`)."""

    day: int
    theorems: frozenset
    sentences: tuple
    past_price: Callable[[Any, int], float] = field(repr=False)


SentenceSource = Any  # a sentence (str or Boolean) or a callable day -> sentence or None


def _sentence_on(source: SentenceSource, day: int):
    s = source(day) if callable(source) else source
    return None if s is None else parse_sentence(s)


class Trader:
    """Base class: subclasses implement :meth:`trade`.

    Attributes
    ----------
    name : str
        Shown in reports.
    start_day : int
        First day the trader trades (earlier trades are zero).
    """

    name: str = "trader"
    start_day: int = 1

    def trade(self, context: TradingContext) -> Mapping[Any, Feature]:
        """Quantities to buy today, ``{sentence: feature}`` (negative sells)."""
        raise InvalidInput(f"{type(self).__name__} must implement trade(context)")

    def __repr__(self) -> str:
        return self.name


def _check_start(start_day: Any) -> int:
    if isinstance(start_day, bool) or not isinstance(start_day, int) or start_day < 1:
        raise InvalidInput(f"start_day must be an integer >= 1, got {start_day!r}")
    return start_day


def _check_size(size: Any) -> float:
    if isinstance(size, bool) or not isinstance(size, int | float) or not math.isfinite(size):
        raise InvalidInput(f"size must be a finite number > 0, got {size!r}")
    if size <= 0:
        raise InvalidInput(f"size must be a finite number > 0, got {size!r}")
    return float(size)


def _check_unit(name: str, value: Any, *, open_low: bool = True) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(x) or not (0.0 < x if open_low else 0.0 <= x) or x > 1.0:
        raise InvalidInput(f"{name} must be a finite number in (0, 1], got {value!r}")
    return x


class FunctionTrader(Trader):
    """A trader from a function ``fn(context) -> {sentence: feature or number}``.

    >>> t = FunctionTrader(lambda ctx: {"A": 0.5 - price("A", ctx.day)}, name="toward half")
    >>> ctx = TradingContext(1, frozenset(), (), past_price=None)
    >>> {str(k): v for k, v in t.trade(ctx).items()}
    {'A': ((-1.0 * P1(A)) + 0.5)}
    """

    def __init__(
        self, fn: Callable[[TradingContext], Mapping], *, name: str = "function", start_day: int = 1
    ):
        if not callable(fn):
            raise InvalidInput(f"FunctionTrader needs a callable, got {fn!r}")
        self.fn = fn
        self.name = name
        self.start_day = _check_start(start_day)

    def trade(self, context: TradingContext) -> dict:
        out = self.fn(context)
        if not isinstance(out, Mapping):
            raise InvalidInput(f"trader {self.name} must return a mapping, got {out!r}")
        return {parse_sentence(k): as_feature(v) for k, v in out.items()}


class ThresholdTrader(Trader):
    """Buy :math:`\\varphi_n` when :math:`P_n(\\varphi_n) < r` (``side=+1``) or sell when
    :math:`P_n(\\varphi_n) > r` (``side=-1``):

    .. math::

        \\xi_n = \\mathrm{Ind}_\\delta(P_n(\\varphi_n) < r)\\quad\\text{or}\\quad
        \\xi_n = -\\mathrm{Ind}_\\delta(P_n(\\varphi_n) > r),

    full size at :math:`\\delta` beyond :math:`r`, zero on the other side of :math:`r`.

    Parameters
    ----------
    sentences : sentence or callable
        A fixed sentence, or ``day -> sentence or None`` (no trade that day).
    threshold : float
        :math:`r \\in (0, 1)`.
    side : {+1, -1}
    width : float
        :math:`\\delta > 0`.
    size : float
        Largest quantity, > 0.
    """

    def __init__(
        self,
        sentences: SentenceSource,
        threshold: float,
        side: int,
        *,
        width: float,
        size: float = 1.0,
        start_day: int = 1,
        name: str | None = None,
    ):
        if side not in (1, -1):
            raise InvalidInput(f"side must be +1 (buy below) or -1 (sell above), got {side!r}")
        self.sentences = sentences
        self.threshold = _check_unit("threshold", threshold)
        self.side = side
        self.width = _check_unit("width", width)
        self.size = _check_size(size)
        self.start_day = _check_start(start_day)
        verb = "buy <" if side == 1 else "sell >"
        self.name = name or f"{verb} {self.threshold:g}"

    def trade(self, context: TradingContext) -> dict:
        phi = _sentence_on(self.sentences, context.day)
        if phi is None:
            return {}
        x = price(phi, context.day)
        if self.side == 1:
            q = indicator(x, self.threshold, self.width)
        else:
            q = -indicator(-x, -self.threshold, self.width)
        return {phi: self.size * q}


class AffineTrader(Trader):
    """Trade the combination :math:`\\sum_j c_j\\varphi_j` when its price crosses :math:`r`.

    With :math:`x = \\sum_j c_j P_n(\\varphi_j)`, buys :math:`\\xi\\,c_j` of each
    :math:`\\varphi_j` where :math:`\\xi = \\mathrm{Ind}_\\delta(x < r)` (``side=+1``) or
    :math:`\\xi = -\\mathrm{Ind}_\\delta(x > r)` (``side=-1``).

    >>> t = AffineTrader(["A", "~A"], [1, 1], 1.0, 1, width=0.5)
    >>> ctx = TradingContext(1, frozenset(), (), past_price=None)
    >>> q = t.trade(ctx)
    >>> sorted(str(k) for k in q)
    ['A', '~A']
    """

    def __init__(
        self,
        sentences: Sequence[SentenceSource],
        coefficients: Sequence[float],
        threshold: float,
        side: int,
        *,
        width: float,
        size: float = 1.0,
        start_day: int = 1,
        name: str | None = None,
    ):
        if len(sentences) == 0 or len(sentences) != len(coefficients):
            raise InvalidInput("AffineTrader needs as many coefficients as sentences (>= 1)")
        coefs = [float(c) for c in coefficients]
        if not all(math.isfinite(c) for c in coefs):
            raise InvalidInput(f"coefficients must be finite, got {coefficients!r}")
        if side not in (1, -1):
            raise InvalidInput(f"side must be +1 or -1, got {side!r}")
        if not math.isfinite(float(threshold)):
            raise InvalidInput(f"threshold must be finite, got {threshold!r}")
        self.sentences = list(sentences)
        self.coefficients = coefs
        self.threshold = float(threshold)
        self.side = side
        self.width = _check_unit("width", width)
        self.size = _check_size(size)
        self.start_day = _check_start(start_day)
        self.name = (
            name or f"{'buy' if side == 1 else 'sell'} {coefs}·{self.sentences} vs {threshold:g}"
        )

    def trade(self, context: TradingContext) -> dict:
        phis = [_sentence_on(s, context.day) for s in self.sentences]
        if any(p is None for p in phis):
            return {}
        x = sum(
            (c * price(p, context.day) for c, p in zip(self.coefficients, phis)), as_feature(0.0)
        )
        if self.side == 1:
            xi = indicator(x, self.threshold, self.width)
        else:
            xi = -indicator(-x, -self.threshold, self.width)
        out: dict = {}
        for c, p in zip(self.coefficients, phis):
            out[p] = out.get(p, as_feature(0.0)) + (self.size * c) * xi
        return out


class ClippedLinearTrader(Trader):
    """Push the price of a sentence toward a target: :math:`\\xi = \\mathrm{clip}(t - P_n(\\varphi),
    -1, 1)`, with :math:`t = ` ``target(context)`` in :math:`[0,1]` (``None``: no trade)."""

    def __init__(
        self,
        sentence: SentenceSource,
        target: Callable[[TradingContext], float | None],
        *,
        size: float = 1.0,
        start_day: int = 1,
        name: str | None = None,
    ):
        if not callable(target):
            raise InvalidInput(f"target must be a callable context -> float, got {target!r}")
        self.sentence = sentence
        self.target = target
        self.size = _check_size(size)
        self.start_day = _check_start(start_day)
        self.name = name or f"toward target on {sentence}"

    def trade(self, context: TradingContext) -> dict:
        phi = _sentence_on(self.sentence, context.day)
        if phi is None:
            return {}
        t = self.target(context)
        if t is None:
            return {}
        t = _check_unit("target", t, open_low=False)
        return {phi: self.size * clip(t - price(phi, context.day), -1.0, 1.0)}


def dyadic_thresholds(levels: int) -> list[tuple[float, float]]:
    """Dyadic rationals in (0, 1), coarse to fine, each with its level's width.

    Level :math:`\\ell` adds :math:`r = j/2^\\ell` for odd :math:`j`, with width
    :math:`\\delta = 2^{-\\ell-1}`. Every :math:`p \\in (0,1)` is within :math:`2^{-L}` of a
    threshold of level :math:`\\le L`.

    >>> [r for r, _ in dyadic_thresholds(3)]
    [0.5, 0.25, 0.75, 0.125, 0.375, 0.625, 0.875]
    """
    if isinstance(levels, bool) or not isinstance(levels, int) or levels < 1:
        raise InvalidInput(f"levels must be an integer >= 1, got {levels!r}")
    out = []
    for lvl in range(1, levels + 1):
        for j in range(1, 2**lvl, 2):
            out.append((float(Fraction(j, 2**lvl)), 2.0 ** (-lvl - 1)))
    return out


def threshold_family(
    sentences: SentenceSource, levels: int, *, size: float = 1.0, name: str = ""
) -> list[ThresholdTrader]:
    """Buy-below and sell-above threshold traders over :func:`dyadic_thresholds`, coarse to fine.

    The family is generic: it is not told where the right price is.

    >>> [t.name for t in threshold_family("A", 1)]
    ['buy < 0.5', 'sell > 0.5']
    """
    out = []
    for r, width in dyadic_thresholds(levels):
        for side in (1, -1):
            t = ThresholdTrader(sentences, r, side, width=width, size=size)
            t.level = round(-math.log2(2 * width))
            if name:
                t.name = f"{name}: {t.name}"
            out.append(t)
    return out


def affine_family(
    combinations: Iterable[tuple[Sequence[SentenceSource], Sequence[float]]],
    thresholds: Sequence[float],
    *,
    width: float = 0.05,
    size: float = 1.0,
) -> list[AffineTrader]:
    """For each combination and threshold, a buyer below and a seller above it.

    Which combinations are arbitrage (always worth their threshold) is not given: those that
    are not lose their budget.
    """
    out = []
    for sentences, coefs in combinations:
        for r in thresholds:
            for side in (1, -1):
                out.append(AffineTrader(sentences, coefs, r, side, width=width, size=size))
    return out
