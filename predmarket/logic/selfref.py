"""Self-reference: sentences and assets whose truth depends on the market's own prices.

A price atom :math:`P_n(\\varphi) < p` (:func:`~predmarket.logic.sentences.price_atom`) is a
sentence about the market. It is priced soundly by two rules (DESIGN.md sec. 7):

1. **The instant the price is read.** Day :math:`n`'s price of :math:`\\varphi` is the price
   when day :math:`n` *closes*: after the last trade of the day, before any proof of the
   next day is observed. :class:`PriceHistory` records it once; it never changes.
2. **The tie rule.** The atom is true iff that recorded price is *strictly* below
   :math:`p`; a price equal to :math:`p` makes it false (``"false_at_equality"``, the
   default; ``"true_at_equality"`` is the other explicit choice). See
   :func:`~predmarket.logic.deductive.settle_price_atom`.

Only then is the atom settled (observed as proven or refuted). Until then it is an ordinary
atom of the worlds, so the market's prices stay coherent and the LMSR loss bound holds
whatever the atom says: in a :class:`~predmarket.logic.worlds_market.WorldsMarket` the
maker's loss is :math:`b\\log(P_{\\text{close}}(S)/P_0(S))` whatever rule picks the world
:math:`S`, even one that reads the closing prices.

**The Gödelian asset.** :math:`\\chi := \\text{“}P_n(\\chi) < p\\text{”}` pays 1 iff its own
closing price is below :math:`p`. No closing price :math:`q` is right:

.. math:: \\inf_{q \\in [0,1]} \\bigl|\\mathbf 1[q < p] - q\\bigr| = \\min(p,\\, 1 - p),

attained at :math:`q = p` under the strict tie rule when :math:`p \\le 1/2` (the infimum
:math:`1-p` is approached from below :math:`p` otherwise). A last trader who knows the rule
profits most by closing the price at the threshold (:func:`last_trader_target`), and the
maker of an LMSR with uniform prior over :math:`\\{\\chi, \\lnot\\chi\\}` loses at most

.. math:: b \\log\\bigl(2 \\max(p, 1 - p)\\bigr) \\le b \\log 2

against any adversary: if :math:`\\chi` is true its closing price is :math:`< p`, so the
maker's loss :math:`b\\log(2P_{\\text{close}}(\\chi)) < b\\log 2p`; if false,
:math:`P_{\\text{close}}(\\lnot\\chi) \\le 1 - p`.

References
----------
.. [1] S. Garrabrant, T. Benson-Tilsen, A. Critch, N. Soares, J. Taylor, "Logical
   induction", arXiv:1609.03543 v5 (2020), sec. 4.11 (paradox resistance, Thm. 4.11.2).
.. [2] R. Hanson, "Logarithmic market scoring rules for modular combinatorial information
   aggregation", Journal of Prediction Markets 1(1), 2007 (bounded loss).
"""

from __future__ import annotations

import math
from typing import Any

from sympy.logic.boolalg import Boolean

from predmarket.errors import InvalidInput, MarketClosed
from predmarket.ledger import Account, Quote
from predmarket.logic.deductive import TIE_RULES, PriceAtomProcess, settle_price_atom
from predmarket.logic.sentences import PriceAtom, negate, parse_sentence, self_referential
from predmarket.logic.worlds_market import WorldsMarket

__all__ = [
    "GodelianAsset",
    "PriceHistory",
    "close_day",
    "closing_error",
    "last_trader_profit",
    "last_trader_target",
    "maker_loss_bound",
    "min_closing_error",
    "read_price",
]


def _check_tie_rule(tie_rule: str) -> str:
    if tie_rule not in TIE_RULES:
        raise InvalidInput(f"tie_rule must be one of {TIE_RULES}, got {tie_rule!r}")
    return tie_rule


def _check_unit(name: str, value: Any, *, open_interval: bool = False) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a number in [0, 1], got {value!r}") from None
    ok = 0.0 < x < 1.0 if open_interval else 0.0 <= x <= 1.0
    if not math.isfinite(x) or not ok:
        where = "(0, 1)" if open_interval else "[0, 1]"
        raise InvalidInput(f"{name} must be a finite number in {where}, got {value!r}")
    return x


def _truth(price: float, threshold: float, tie_rule: str) -> bool:
    return settle_price_atom(self_referential("chi", 1, threshold), price, tie_rule=tie_rule)


def closing_error(price: float, threshold: float, *, tie_rule: str = "false_at_equality") -> float:
    """How wrong a closing price of the Gödelian asset is: :math:`|\\mathbf 1[q < p] - q|`.

    Examples
    --------
    >>> closing_error(0.4, 0.4), round(closing_error(0.39, 0.4), 2), closing_error(0.5, 0.4)
    (0.4, 0.61, 0.5)
    """
    q = _check_unit("price", price)
    p = _check_unit("threshold", threshold, open_interval=True)
    return abs(float(_truth(q, p, _check_tie_rule(tie_rule))) - q)


def min_closing_error(threshold: float) -> float:
    """:math:`\\inf_q |\\mathbf 1[q < p] - q| = \\min(p, 1 - p)`: no closing price is right.

    Examples
    --------
    >>> min_closing_error(0.4), min_closing_error(0.7)
    (0.4, 0.30000000000000004)
    """
    p = _check_unit("threshold", threshold, open_interval=True)
    return min(p, 1.0 - p)


def last_trader_profit(
    open_price: float,
    close_price: float,
    threshold: float,
    liquidity: float,
    *,
    tie_rule: str = "false_at_equality",
) -> float:
    """Net profit of the last trader who moves the Gödelian asset's price from ``open_price``
    to ``close_price`` with an LMSR of liquidity :math:`b` (and closes the market):

    .. math:: b\\log\\frac{q'}{q} \\text{ if } \\chi \\text{ is then true}, \\qquad
              b\\log\\frac{1-q'}{1-q} \\text{ otherwise}.
    """
    q0 = _check_unit("open_price", open_price, open_interval=True)
    q1 = _check_unit("close_price", close_price, open_interval=True)
    p = _check_unit("threshold", threshold, open_interval=True)
    if _truth(q1, p, _check_tie_rule(tie_rule)):
        return liquidity * (math.log(q1) - math.log(q0))
    return liquidity * (math.log1p(-q1) - math.log1p(-q0))


def last_trader_target(
    open_price: float,
    threshold: float,
    *,
    tie_rule: str = "false_at_equality",
    margin: float = 1e-9,
) -> float:
    """The closing price that maximises :func:`last_trader_profit`: the threshold itself.

    Profit rises with :math:`q'` while :math:`\\chi` stays true and falls with :math:`q'`
    once it is false, so the best closing price is at the threshold: exactly :math:`p` on
    the side the tie rule gives it, and :math:`p \\mp` ``margin`` on the other side (whose
    supremum is not attained). Whichever side pays more wins.

    Examples
    --------
    >>> last_trader_target(0.9, 0.4)        # sell down to 0.4, where chi is false
    0.4
    >>> last_trader_target(0.1, 0.4)        # buy up to just below 0.4, chi stays true
    0.399999999
    """
    q0 = _check_unit("open_price", open_price, open_interval=True)
    p = _check_unit("threshold", threshold, open_interval=True)
    tie_rule = _check_tie_rule(tie_rule)
    if not (math.isfinite(margin) and 0.0 < margin < min(p, 1 - p)):
        raise InvalidInput(f"margin must be in (0, min(p, 1-p)), got {margin!r}")
    if tie_rule == "false_at_equality":
        true_side, false_side = p - margin, p
    else:
        true_side, false_side = p, p + margin
    gain_true = math.log(true_side) - math.log(q0)
    gain_false = math.log1p(-false_side) - math.log1p(-q0)
    return true_side if gain_true > gain_false else false_side


def maker_loss_bound(threshold: float, liquidity: float) -> float:
    """Worst-case loss of the Gödelian asset's maker (uniform prior):
    :math:`b\\log(2\\max(p, 1-p)) \\le b\\log 2`.

    Examples
    --------
    >>> round(maker_loss_bound(0.4, 1.0), 6), round(math.log(1.2), 6)
    (0.182322, 0.182322)
    """
    p = _check_unit("threshold", threshold, open_interval=True)
    return liquidity * math.log(2.0 * max(p, 1.0 - p))


def _check_decimals(decimals: Any) -> None:
    if decimals is not None and (
        isinstance(decimals, bool) or not isinstance(decimals, int) or not 1 <= decimals <= 15
    ):
        raise InvalidInput(f"decimals must be None or an integer in 1..15, got {decimals!r}")


def read_price(price: float, decimals: int | None = 12) -> float:
    """The closing price as read: ``round(price, decimals)`` (``None`` keeps every bit).

    A price the market computes in floating point carries noise of about
    :math:`10^{-16}`: a trade that targets :math:`p = 0.4` may land on
    ``0.39999999999999997``, which the strict tie rule would call true. Reading prices on a
    grid of :math:`10^{-12}` pins ties; any test of the tie rule then is deterministic.

    Examples
    --------
    >>> read_price(0.39999999999999997)
    0.4
    """
    _check_decimals(decimals)
    value = _check_unit("price", price)
    return value if decimals is None else round(value, decimals)


class PriceHistory:
    """Closing prices of sentences, day by day, recorded once.

    Its :meth:`lookup` is what a :class:`~predmarket.logic.deductive.PriceAtomProcess`
    reads; a price that was never recorded is an error, never a default.

    Examples
    --------
    >>> h = PriceHistory()
    >>> h.record(1, "A", 0.25)
    >>> h.lookup(1, "A")
    0.25
    """

    def __init__(self):
        self._prices: dict[tuple[int, Boolean], float] = {}

    def record(self, day: int, sentence: Any, price: float) -> None:
        """Record the closing price of ``sentence`` on ``day`` (once)."""
        if isinstance(day, bool) or not isinstance(day, int) or day < 1:
            raise InvalidInput(f"day must be an integer >= 1, got {day!r}")
        s = sentence if isinstance(sentence, PriceAtom) else parse_sentence(sentence)
        value = _check_unit("price", price)
        key = (day, s)
        if key in self._prices and self._prices[key] != value:
            raise InvalidInput(
                f"the closing price of {s} on day {day} is already {self._prices[key]!r}; "
                f"a closing price is read once"
            )
        self._prices[key] = value

    def lookup(self, day: int, sentence: Any) -> float:
        """The recorded closing price; raises if there is none."""
        s = sentence if isinstance(sentence, PriceAtom) else parse_sentence(sentence)
        try:
            return self._prices[(day, s)]
        except KeyError:
            raise InvalidInput(f"no closing price of {s} was recorded for day {day}") from None

    def __contains__(self, key) -> bool:
        day, sentence = key
        s = sentence if isinstance(sentence, PriceAtom) else parse_sentence(sentence)
        return (day, s) in self._prices

    def process(
        self, atoms, *, tie_rule: str = "false_at_equality", delay: int = 1
    ) -> PriceAtomProcess:
        """A deductive process settling ``atoms`` from this history."""
        return PriceAtomProcess(self.lookup, atoms=atoms, tie_rule=tie_rule, delay=delay)


def close_day(
    market: WorldsMarket,
    day: int,
    history: PriceHistory,
    *,
    tie_rule: str = "false_at_equality",
    decimals: int | None = 12,
) -> list[Boolean]:
    """Close ``day`` of a :class:`WorldsMarket` whose atoms include price atoms.

    Reads, at this instant, the price of every sentence a day-``day`` price atom refers to
    (for a self-referential atom, its own price), records it in ``history``, then settles
    those atoms by the tie rule and observes the verdicts as proofs. Returns the proofs.

    The price read is rounded to ``decimals`` places (see :func:`read_price`), so a trade
    that targets the threshold exactly lands on it despite floating-point noise.
    """
    tie_rule = _check_tie_rule(tie_rule)
    _check_decimals(decimals)
    due = [a for a in market.atoms if isinstance(a, PriceAtom) and a.day == day]
    for a in due:  # read every price first: a verdict observed now must not move another read
        if (day, a.sentence) not in history:
            history.record(day, a.sentence, read_price(market.price(a.sentence), decimals))
    proofs = []
    for a in due:
        truth = settle_price_atom(a, history.lookup(day, a.sentence), tie_rule=tie_rule)
        proofs.append(a if truth else negate(a))
    if proofs:
        market.observe(proofs)
    return proofs


class GodelianAsset:
    """An LMSR asset that pays 1 iff its own closing price is below ``threshold``.

    A :class:`WorldsMarket` over the single self-referential atom
    :math:`\\chi := \\text{“}P_n(\\chi) < p\\text{”}` (two worlds, uniform prior, subsidy
    :math:`b\\log 2`). Trade it with :meth:`buy`, :meth:`sell`, :meth:`target`,
    :meth:`edit` (the sentence is implied). :meth:`close` reads the closing price — the
    instant is pinned: after the last trade, with trading then refused; the price is read on
    a grid of ``10**-decimals`` (:func:`read_price`) — and :meth:`settle` settles
    :math:`\\chi` by the tie rule on that price.

    Examples
    --------
    >>> g = GodelianAsset(0.4, liquidity=1.0)
    >>> a = g.open_account("last", 10.0)
    >>> q = g.target(a, 0.4)              # drive the price to the threshold
    >>> g.close()
    0.4
    >>> g.settle()["last"], g.truth       # 0.4 is not < 0.4: chi is false
    (0.0, False)
    >>> round(g.maker_loss, 6) == round(math.log(0.6 / 0.5), 6)
    True
    """

    def __init__(
        self,
        threshold: float = 0.4,
        *,
        liquidity: float,
        name: str = "chi",
        day: int = 1,
        tie_rule: str = "false_at_equality",
        decimals: int | None = 12,
    ):
        self.tie_rule = _check_tie_rule(tie_rule)
        _check_decimals(decimals)
        self.decimals = decimals
        self.atom = self_referential(name, day, threshold)
        self.threshold = self.atom.threshold
        self.market = WorldsMarket([self.atom], liquidity=liquidity)
        self.history = PriceHistory()
        self.closing_price: float | None = None
        self.truth: bool | None = None

    # -- trading (the asset's sentence is implied) ---------------------------------------
    def open_account(self, name: str, cash: float) -> Account:
        return self.market.open_account(name, cash)

    def price(self) -> float:
        """The current price of :math:`\\chi`."""
        return self.market.price(self.atom)

    def buy(self, account: Any, shares: float) -> float:
        return self.market.buy(account, self.atom, shares)

    def sell(self, account: Any, shares: float) -> float:
        return self.market.sell(account, self.atom, shares)

    def target(self, account: Any, probability: float) -> Quote:
        return self.market.target(account, self.atom, probability)

    def edit(self, account: Any, probability: float) -> Quote:
        return self.market.edit(account, self.atom, probability)

    def quote(
        self, account: Any, *, shares: float | None = None, probability: float | None = None
    ) -> float:
        return self.market.quote(account, self.atom, shares=shares, probability=probability)

    def cash(self, account: Any) -> float:
        return self.market.cash(account)

    def min_asset(self, account: Any) -> float:
        return self.market.min_asset(account)

    # -- closing and settlement ----------------------------------------------------------
    def close(self) -> float:
        """Read the closing price now and stop trading; return the price."""
        if self.closing_price is not None:
            raise MarketClosed(f"the asset closed already at price {self.closing_price!r}")
        price = read_price(self.price(), self.decimals)
        self.market.close()
        self.history.record(self.atom.day, self.atom, price)
        self.closing_price = price
        return price

    def settle(self) -> dict[str, float]:
        """Settle :math:`\\chi` by the tie rule on the closing price; return the payouts."""
        if self.closing_price is None:
            raise MarketClosed("close the asset (read its closing price) before settling it")
        self.truth = settle_price_atom(self.atom, self.closing_price, tie_rule=self.tie_rule)
        return self.market.settle(self.atom if self.truth else negate(self.atom))

    @property
    def maker_loss(self) -> float:
        """Payouts minus costs received so far: :math:`\\text{subsidy} - \\text{maker cash}`."""
        return self.market.subsidy - self.market.maker_cash

    @property
    def loss_bound(self) -> float:
        """:func:`maker_loss_bound` of this asset (:math:`\\le b \\log 2`)."""
        return maker_loss_bound(self.threshold, self.market.liquidity)
