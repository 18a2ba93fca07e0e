"""The logical inductor: day by day, prices that no trader in the firm can exploit.

On day :math:`n` (Garrabrant et al. 2016, Def. 5.4.1):

1. read the theorems :math:`D_n` (the user's deductive process, together with the
   settlement of price atoms about earlier days), pay settled sentences out into cash, and
   narrow the plausible worlds :math:`\\mathrm{PC}(D_n)`;
2. ask every trader of the :class:`~predmarket.logic.induction.firm.TradingFirm` for its
   trade, a feature-valued function of today's prices;
3. set :math:`P_n = \\mathrm{MarketMaker}_n(\\mathrm{TradingFirm}_n)`: prices at which the
   firm's trade is worth at most :math:`\\max(2^{-n}, \\epsilon)` in every world
   (:mod:`~predmarket.logic.induction.market_maker`), warm-started from :math:`P_{n-1}`;
4. book the trades at :math:`P_n` and update each trader's lowest plausible value.

The sentences priced on day :math:`n` are the listed ones, those the traders trade, and those
whose day-:math:`n` price a trader reads. A price atom :math:`P_m(\\varphi) < p` in a priced
sentence is settled on day :math:`m + 1` from the fixed price :math:`P_m(\\varphi)` with an
explicit tie rule (:class:`~predmarket.logic.deductive.PriceAtomProcess`); so the
self-referential :math:`\\chi_n := \\text{“}P_n(\\chi_n) < p\\text{”}` is an ordinary sentence
whose truth arrives the next day. A price that was never set is an error, never 0.

References
----------
.. [1] S. Garrabrant, T. Benson-Tilsen, A. Critch, N. Soares, J. Taylor, "Logical
   induction", arXiv:1609.03543 v5 (2016), sec. 5.4 (LIA) and Theorem 4.11.2
   (paradox resistance).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from predmarket.errors import InvalidInput
from predmarket.logic.deductive import PriceAtomProcess, as_process
from predmarket.logic.induction.firm import TradingFirm
from predmarket.logic.induction.market_maker import MarketMakerResult, solve_prices
from predmarket.logic.induction.traders import Trader, TradingContext
from predmarket.logic.induction.truth import ConsistentWorlds
from predmarket.logic.sentences import is_price_atom, parse_sentence

__all__ = ["LogicalInductor"]


class LogicalInductor:
    """Garrabrant et al.'s logical induction algorithm over a finite trading firm.

    Parameters
    ----------
    firm : TradingFirm or sequence of Trader
        The traders (a list is wrapped in a :class:`TradingFirm` with ``budgets``).
    sentences : iterable of sentences, or callable ``day -> iterable``
        Sentences listed (priced) every day, besides those the traders trade.
    deductive : deductive process, optional
        ``theorems(day) -> frozenset`` (cumulative; refutations as negations).
    tie_rule : str
        How price atoms are settled at equality (see
        :func:`~predmarket.logic.deductive.settle_price_atom`).
    budgets : sequence of float
        Used only when ``firm`` is a list.
    max_atoms : int
        Limit on the open atoms of the plausible-world tables.
    initial_price : float
        First-day price of a sentence nobody trades (and the warm start of new sentences).
    tolerance_floor : float
        :math:`\\epsilon / \\sum_i \\text{bound}_i`: the market-maker tolerance is
        :math:`\\max(2^{-n}, \\epsilon)` with :math:`\\epsilon` = this times the firm's
        magnitude bound (floating point cannot certify :math:`2^{-n}` for large
        :math:`n`).

    Examples
    --------
    A tautology, priced by a generic family of threshold traders that is not told it is
    one; sellers lose their budgets and the price climbs:

    >>> from predmarket.logic.induction.traders import threshold_family
    >>> firm = TradingFirm(threshold_family("A | ~A", 4), weights="level")
    >>> li = LogicalInductor(firm, sentences=["A | ~A"])
    >>> _ = li.run(60)
    >>> round(li.price("A | ~A", 1), 3), li.price("A | ~A") > 0.85
    (0.5, True)
    """

    def __init__(
        self,
        firm: TradingFirm | Sequence[Trader],
        *,
        sentences: Any = (),
        deductive: Any = None,
        tie_rule: str = "false_at_equality",
        budgets: Sequence[float] = (1, 2, 3, 4),
        max_atoms: int = 16,
        initial_price: float = 0.5,
        tolerance_floor: float = 1e-9,
    ):
        if isinstance(firm, TradingFirm):
            self.firm = firm
        else:
            self.firm = TradingFirm(list(firm), budgets=budgets)
        if callable(sentences):
            self._listed: Callable[[int], Iterable] = sentences
        else:
            fixed = tuple(parse_sentence(s) for s in sentences)
            self._listed = lambda day: fixed
        self.deductive = None if deductive is None else as_process(deductive)
        self.price_atoms = PriceAtomProcess(self.lookup, tie_rule=tie_rule)
        self.worlds = ConsistentWorlds(max_atoms=max_atoms)
        try:
            self.initial_price = float(initial_price)
        except (TypeError, ValueError):
            raise InvalidInput(
                f"initial_price must be a number in [0, 1], got {initial_price!r}"
            ) from None
        if not 0.0 <= self.initial_price <= 1.0:
            raise InvalidInput(f"initial_price must be in [0, 1], got {initial_price!r}")
        if not (
            isinstance(tolerance_floor, float | int)
            and math.isfinite(tolerance_floor)
            and tolerance_floor > 0
        ):
            raise InvalidInput(
                f"tolerance_floor must be a finite number > 0, got {tolerance_floor!r}"
            )
        self.tolerance_floor = float(tolerance_floor)
        self.day = 0
        self.prices: list[dict] = []  # prices[n-1] = {sentence: P_n}
        self.results: list[MarketMakerResult] = []
        self.magnitudes: list[float] = []  # the firm's magnitude bound, day by day
        self.sentences_of_day: list[tuple] = []
        self.theorems: frozenset = frozenset()
        self._open: set = set()  # held sentences known to be open under the current theorems

    # ------------------------------------------------------------------ price lookup
    def lookup(self, day: int, sentence: Any) -> float:
        """:math:`P_{day}(\\varphi)`; raises :class:`InvalidInput` if it was never set."""
        if isinstance(day, bool) or not isinstance(day, int) or not 1 <= day <= self.day:
            raise InvalidInput(f"no prices for day {day!r}: days 1..{self.day} are priced")
        got = self.prices[day - 1].get(sentence)
        if got is None:
            raise InvalidInput(f"{sentence} was not priced on day {day}; no default price exists")
        return got

    def price(self, sentence: Any, day: int | None = None) -> float:
        """The price of ``sentence`` on ``day`` (default: the last day)."""
        return self.lookup(self.day if day is None else day, parse_sentence(sentence))

    def price_path(self, sentence: Any) -> np.ndarray:
        """Prices of ``sentence`` on days 1..n (NaN where it was not priced)."""
        s = parse_sentence(sentence)
        return np.array([d.get(s, np.nan) for d in self.prices])

    def _past(self, day: int):
        def past_price(sentence: Any, d: int) -> float:
            if d >= day:
                raise InvalidInput(f"on day {day} only prices of days < {day} are past")
            return self.lookup(d, sentence)

        return past_price

    # ------------------------------------------------------------------ the day loop
    def _theorems_on(self, day: int) -> frozenset:
        got = self.price_atoms.theorems(day)
        if self.deductive is not None:
            user = self.deductive.theorems(day)
            if not isinstance(user, frozenset):
                raise InvalidInput(
                    f"theorems({day}) must return a frozenset, got {type(user).__name__}"
                )
            got = got | frozenset(parse_sentence(t) for t in user - self.theorems)
            got = got | (user & self.theorems)
        return got

    def step(self) -> dict:
        """Run day :math:`n+1`; returns ``{sentence: price}``.

        If the day fails (malformed or contradictory theorems, a trader's bad trade, the
        market maker finding no prices), the error propagates and the inductor is left as
        it was before the call: theorems, plausible worlds, accounts and registered price
        atoms.
        """
        state = (
            self.theorems,
            set(self._open),
            self.worlds.snapshot(),
            self.firm.snapshot(),
            self.price_atoms.atoms,
        )
        try:
            return self._step()
        except BaseException:
            theorems, open_, worlds, firm, atoms = state
            self.theorems = theorems
            self._open = open_
            self.worlds.restore(worlds)
            self.firm.restore(firm)
            self.price_atoms.keep_only(atoms)
            raise

    def _step(self) -> dict:
        n = self.day + 1
        theorems = self._theorems_on(n)
        if not self.theorems <= theorems:
            raise InvalidInput(
                f"the deductive process forgot theorems on day {n}; it must be cumulative"
            )
        new = theorems - self.theorems
        if new:
            self.worlds.add_theorems(new)
        self.theorems = theorems
        if new:
            self._open = set()
        held = [s for s in self.firm.held_sentences() if s not in self._open]
        if held:
            settled = {}
            for s in held:
                column = self.worlds.table((s,))[:, 0]
                if column.all() or not column.any():
                    settled[s] = bool(column[0])
            if settled:
                self.firm.settle(settled)
            self._open.update(s for s in held if s not in settled)
        listed = tuple(dict.fromkeys(parse_sentence(s) for s in self._listed(n)))
        past = self._past(n)
        context = TradingContext(n, theorems, listed, past)
        trades = self.firm.collect(context)
        priced: dict[Any, int] = {}
        for s in listed:
            priced.setdefault(s, len(priced))
        for _, trade in trades:
            for s, f in trade.items():
                priced.setdefault(s, len(priced))
                for ref, d in f.prices():
                    if d == n:
                        priced.setdefault(ref, len(priced))
        for s in priced:
            for a in s.free_symbols:
                if is_price_atom(a):
                    self.price_atoms.add(a)
        day_firm = self.firm.prepare(n, trades, priced, past, self.worlds.table)
        previous = self.prices[-1] if self.prices else {}
        start = np.array([previous.get(s, self.initial_price) for s in priced], dtype=float)
        tol = max(2.0 ** (-min(n, 1000)), self.tolerance_floor * float(day_firm.magnitude.sum()))
        result = solve_prices(
            day_firm.evaluate,
            start,
            tolerance=tol,
            scale=day_firm.scale,
            components=day_firm.components(),
        )
        prices = {s: float(result.prices[i]) for s, i in priced.items()}
        day_firm.commit(result.prices)
        self.day = n
        self.prices.append(prices)
        self.results.append(result)
        self.magnitudes.append(float(day_firm.magnitude.sum()))
        self.sentences_of_day.append(tuple(priced))
        return prices

    def tolerance(self, day: int) -> float:
        """The market-maker tolerance used on ``day``: :math:`\\max(2^{-n}, \\epsilon)`."""
        return max(2.0 ** (-min(day, 1000)), self.tolerance_floor * self.magnitudes[day - 1])

    def verify(self) -> bool:
        """True when every day's prices pass the MarketMaker condition at that day's
        tolerance (:func:`~predmarket.logic.induction.market_maker.verify_prices`)."""
        from predmarket.logic.induction.market_maker import verify_prices

        return all(
            verify_prices(r.trade, r.prices, self.tolerance(n))
            for n, r in enumerate(self.results, start=1)
        )

    def run(self, days: int, *, show_progress: bool = False) -> list[dict]:
        """Run ``days`` more days; returns their price dictionaries."""
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            raise InvalidInput(f"days must be an integer >= 0, got {days!r}")
        it = range(days)
        if show_progress:
            from tqdm import tqdm

            it = tqdm(it, desc="logical induction")
        return [self.step() for _ in it]
