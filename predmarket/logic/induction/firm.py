"""The TradingFirm: one trader made of many budgeted traders, weighted :math:`2^{-k}`.

Garrabrant et al. (2016, Def. 5.3.1) combine an enumeration :math:`T^1, T^2, \\dots` of
traders into

.. math::

    \\mathrm{TradingFirm}_n = \\sum_{k} \\sum_{b} 2^{-k-b}\\, B^b_n(T^k),

where :math:`B^b` is the Budgeter (:mod:`~predmarket.logic.induction.budgeter`) and the
:math:`k`-th trader enters on day :math:`k`. If any trader exploits the market, so does the
firm; the market maker then prices so that the firm cannot, and hence no trader in it can.

Here the enumeration is a finite list (generic families from
:mod:`~predmarket.logic.induction.traders`, or a user's own list; :meth:`TradingFirm.add`
appends during a run), the :math:`k`-th trader (1-based) has weight :math:`2^{-k}` unless
weights are given, and the budgets are a finite list :math:`b_1, \\dots` with weights
:math:`2^{-b}` (the paper's sum over all :math:`b \\in \\mathbb N^+`, truncated; the paper's
tail, where :math:`b` exceeds every loss the trader can make, is the raw trader, which a
finite list replaces by its largest budget). With ``stagger=True`` the :math:`k`-th trader
starts on day :math:`k`, as in the paper.

References
----------
.. [1] S. Garrabrant, T. Benson-Tilsen, A. Critch, N. Soares, J. Taylor, "Logical
   induction", arXiv:1609.03543 v5 (2016), Def. 5.3.1 and Lemma 5.3.2 (TradingFirm).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from predmarket.errors import InvalidInput
from predmarket.logic.induction.budgeter import BudgetedDay, TraderAccount, check_budgets
from predmarket.logic.induction.features import Feature, FeatureProgram, as_feature
from predmarket.logic.induction.traders import Trader, TradingContext
from predmarket.logic.sentences import parse_sentence

__all__ = ["FirmDay", "TradingFirm"]


class TradingFirm:
    """A weighted mixture of budgeted traders.

    Parameters
    ----------
    traders : iterable of Trader
        In enumeration order.
    budgets : sequence of float
        Budgets :math:`b`, each with weight :math:`2^{-b}` (default 1, 2, 3, 4).
    weights : {"index", "level"} or sequence of float
        ``"index"`` (default, the paper): :math:`2^{-k}` for the :math:`k`-th trader.
        ``"level"``: :math:`2^{-\\ell}` for a trader of an enumerated family at refinement
        level :math:`\\ell` (its ``level`` attribute, e.g. from
        :func:`~predmarket.logic.induction.traders.threshold_family`), so that each level of
        a dyadic grid carries the same total weight; traders without a level get
        :math:`2^{-k}`. Or explicit weights (> 0), one per trader.
    stagger : bool
        Trader :math:`k` starts no earlier than day :math:`k` (the paper's enumeration).

    Examples
    --------
    >>> from predmarket.logic.induction.traders import threshold_family
    >>> firm = TradingFirm(threshold_family("A", 2), budgets=(1, 2))
    >>> len(firm), firm.weight(0), firm.weight(1)
    (6, 0.5, 0.25)
    """

    def __init__(
        self,
        traders: Iterable[Trader] = (),
        *,
        budgets: Sequence[float] = (1, 2, 3, 4),
        weights: str | Sequence[float] = "index",
        stagger: bool = False,
    ):
        self.budgets = check_budgets(budgets)
        self.budget_weights = tuple(2.0 ** (-b) for b in self.budgets)
        self.stagger = bool(stagger)
        self.traders: list[Trader] = []
        self.accounts: list[TraderAccount] = []
        self._weights: list[float] = []
        self._start: list[int] = []
        self._holders: dict[Any, set[int]] = {}
        traders = list(traders)
        if isinstance(weights, str):
            if weights not in ("index", "level"):
                raise InvalidInput(
                    f"weights must be 'index', 'level' or a sequence, got {weights!r}"
                )
            self.weighting = weights
            chosen = [None] * len(traders)
        else:
            self.weighting = "index"
            chosen = list(weights)
            if len(chosen) != len(traders):
                raise InvalidInput(f"got {len(chosen)} weights for {len(traders)} traders")
        for t, w in zip(traders, chosen):
            self.add(t, weight=w)

    def __len__(self) -> int:
        return len(self.traders)

    def add(self, trader: Trader, *, weight: float | None = None) -> int:
        """Append a trader (weight :math:`2^{-k}` by default); returns its index."""
        if not isinstance(trader, Trader):
            raise InvalidInput(f"expected a Trader, got {trader!r}")
        k = len(self.traders) + 1
        if weight is None:
            level = getattr(trader, "level", None)
            use_level = getattr(self, "weighting", "index") == "level" and level is not None
            weight = 2.0 ** (-level) if use_level else 2.0 ** (-k)
        if not (isinstance(weight, int | float) and math.isfinite(weight) and weight > 0):
            raise InvalidInput(f"a trader weight must be a finite number > 0, got {weight!r}")
        self.traders.append(trader)
        self.accounts.append(TraderAccount())
        self._weights.append(float(weight))
        self._start.append(max(trader.start_day, k) if self.stagger else trader.start_day)
        return k - 1

    def weight(self, index: int) -> float:
        return self._weights[index]

    def alive_budgets(self, index: int) -> np.ndarray:
        """Which budgets of trader ``index`` still trade."""
        low = self.accounts[index].lowest
        return np.array([low > -b for b in self.budgets])

    def held_sentences(self) -> list:
        """Unsettled sentences some trader holds shares of (in first-held order)."""
        return [s for s, ks in self._holders.items() if ks]

    def snapshot(self) -> tuple:
        """Every account's cash, shares and lowest value, and who holds what, for
        :meth:`restore`."""
        accounts = [(a.cash, dict(a.shares), a.lowest) for a in self.accounts]
        return accounts, {s: set(ks) for s, ks in self._holders.items()}

    def restore(self, state: tuple) -> None:
        """Go back to the holdings of a :meth:`snapshot` (taken with the same traders)."""
        accounts, holders = state
        for account, (cash, shares, lowest) in zip(self.accounts, accounts, strict=True):
            account.cash, account.shares, account.lowest = cash, shares, lowest
        self._holders = holders

    def settle(self, truths: Mapping[Any, bool]) -> None:
        """Pay out settled sentences into cash for every holder."""
        for s, truth in truths.items():
            for k in self._holders.pop(s, ()):
                self.accounts[k].settle({s: truth})

    def collect(self, context: TradingContext) -> list[tuple[int, dict]]:
        """Today's trades of every trader that has started and is alive for some budget."""
        out = []
        min_budget = -max(self.budgets)
        for k, trader in enumerate(self.traders):
            if self._start[k] > context.day or self.accounts[k].lowest <= min_budget:
                continue
            raw = trader.trade(context)
            if not isinstance(raw, Mapping):
                raise InvalidInput(f"trader {trader.name} returned {raw!r}; expected a mapping")
            trade = {}
            for s, f in raw.items():
                f = as_feature(f)
                if f.op == "const" and f.args[0] == 0.0:
                    continue
                s = parse_sentence(s)
                trade[s] = trade[s] + f if s in trade else f
            if trade:
                out.append((k, trade))
        return out

    def prepare(
        self,
        day: int,
        trades: list[tuple[int, dict]],
        today_index: Mapping[Any, int],
        past_price,
        worlds_table,
    ) -> FirmDay:
        """Compile today's trades into a :class:`FirmDay` for the market maker.

        ``worlds_table(sentences)`` returns the distinct truth patterns of ``sentences`` in
        the worlds consistent with today's theorems.
        """
        return FirmDay(self, day, trades, today_index, past_price, worlds_table)


class FirmDay:
    """The firm's trade on one day as a function of today's prices.

    :meth:`evaluate` gives :math:`q(p)` and :math:`\\partial q/\\partial p` for
    :func:`~predmarket.logic.induction.market_maker.solve_prices`; :meth:`commit` books the
    trades at the chosen prices and updates each trader's lowest plausible value.
    """

    def __init__(
        self,
        firm: TradingFirm,
        day: int,
        trades: list[tuple[int, dict]],
        today_index: Mapping[Any, int],
        past_price,
        worlds_table,
    ):
        self.firm = firm
        self.day = day
        self.m = len(today_index)
        self.index = today_index
        self.traders = [k for k, _ in trades]
        features: list[Feature] = []
        term_trader, term_col, term_sent = [], [], []
        for row, (k, trade) in enumerate(trades):
            for s, f in trade.items():
                features.append(f)
                term_trader.append(row)
                term_col.append(today_index[s])
                term_sent.append(s)
        self.term_sent = term_sent
        self.features = features
        self.term_col = np.array(term_col, dtype=np.intp)
        self.term_trader = np.array(term_trader, dtype=np.intp)
        self.program = FeatureProgram(
            features, day=day, today_index=today_index, past_price=past_price
        )
        K = len(trades)
        patterns, holdings, cash = [], [], np.zeros(K)
        for row, (k, trade) in enumerate(trades):
            acc = firm.accounts[k]
            held = list(acc.shares)
            patterns.append(worlds_table(tuple(trade) + tuple(held)))
            holdings.append(np.array([acc.shares[s] for s in held], dtype=float))
            cash[row] = acc.cash
        self.weights = np.array([firm.weight(k) for k in self.traders], dtype=float)
        alive = np.array([firm.alive_budgets(k) for k in self.traders], dtype=bool).reshape(
            K, len(firm.budgets)
        )
        self.budgeted = BudgetedDay(
            n_prices=self.m,
            term_trader=self.term_trader,
            term_col=self.term_col,
            weights=self.weights,
            alive=alive,
            budgets=np.array(firm.budgets),
            budget_weights=np.array(firm.budget_weights),
            patterns=patterns,
            holdings=holdings,
            cash=cash,
        )
        bounds = np.array([f.bound() for f in features], dtype=float)
        live_weight = (alive * np.array(firm.budget_weights)).sum(axis=1)
        mag = np.bincount(
            self.term_col,
            weights=self.weights[self.term_trader] * live_weight[self.term_trader] * bounds,
            minlength=self.m,
        )
        self.magnitude = mag
        self.scale = np.where(mag > 0, mag, 1.0)

    def components(self) -> np.ndarray:
        """A label per priced sentence; :math:`q_i` depends only on prices with its label.

        Sentences are joined when one trader trades both, or trades one with a quantity that
        reads today's price of the other (the budget factor couples all of a trader's
        sentences).
        """
        parent = list(range(self.m))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        groups: dict[int, set[int]] = {}
        for t, f in enumerate(self.features):
            cols = groups.setdefault(int(self.term_trader[t]), set())
            cols.add(int(self.term_col[t]))
            cols.update(self.index[s] for s, d in f.prices() if d == self.day)
        for cols in groups.values():
            first, *rest = cols
            for c in rest:
                a, b = find(first), find(c)
                if a != b:
                    parent[b] = a
        return np.array([find(i) for i in range(self.m)], dtype=np.intp)

    def evaluate(self, p: np.ndarray, jacobian: bool = False):
        xi, G = self.program.evaluate(p, jacobian=jacobian)
        return self.budgeted.trade(xi, G, p)

    def commit(self, p: np.ndarray) -> None:
        """Book every trader's raw trade at prices ``p`` and update its lowest value."""
        xi, _ = self.program.evaluate(p)
        lowest = self.budgeted.lowest_after(xi, p)
        firm = self.firm
        for t, s in enumerate(self.term_sent):
            k = self.traders[self.term_trader[t]]
            q = float(xi[t])
            if q == 0.0:
                continue
            acc = firm.accounts[k]
            acc.cash -= q * float(p[self.term_col[t]])
            acc.shares[s] = acc.shares.get(s, 0.0) + q
            firm._holders.setdefault(s, set()).add(k)
        for row, k in enumerate(self.traders):
            acc = firm.accounts[k]
            acc.lowest = min(acc.lowest, float(lowest[row]))
