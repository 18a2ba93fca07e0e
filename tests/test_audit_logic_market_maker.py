"""The MarketMaker condition, checked against an independent replay of the firm.

``LogicalInductor.verify`` checks each day's stored trade against that day's prices; the
stored trade comes from the same compiled program the solver used. Here the firm's trade is
recomputed from scratch on every day from the definitions alone: each trader's raw features
evaluated at the published prices, the Budgeter of Def. 5.2.1 by brute force over the
plausible worlds (past trades valued at their own day's prices, the first clause from the
lowest value ever reached), the firm's weights :math:`w_k 2^{-b}`; and the worst case over
*all* :math:`2^m` worlds by enumeration, not by the per-sentence formula.
"""

from __future__ import annotations

import itertools

import numpy as np
import sympy

from predmarket.logic.induction import (
    AffineTrader,
    ClippedLinearTrader,
    LogicalInductor,
    ThresholdTrader,
    TradingFirm,
    threshold_family,
)
from predmarket.logic.induction.budgeter import budget_factor
from predmarket.logic.induction.traders import TradingContext
from predmarket.logic.sentences import parse_sentence, self_referential

LISTED = ["A", "B", "A & B", "A | C", "~B"]
PROOFS = [[], [], [], ["A | C"], [], ["A"], [], [], ["~B"]]


def chi(n):
    return self_referential(f"chi_{n}", n, 0.35)


def build() -> LogicalInductor:
    traders = threshold_family("A & B", 2) + threshold_family("A | C", 2)
    traders += threshold_family(chi, 2, name="chi")
    traders += [
        ThresholdTrader("~B", 0.6, 1, width=0.2),
        ThresholdTrader("B", 0.3, -1, width=0.1),
        AffineTrader(["A", "~B"], [1.0, 1.0], 1.0, -1, width=0.3),
        ClippedLinearTrader("A", lambda ctx: 0.9 if ctx.day > 2 else None),
        ClippedLinearTrader("C", lambda ctx: 0.2),
    ]
    return LogicalInductor(
        TradingFirm(traders, budgets=(0.5, 1, 2)),
        sentences=lambda n: [*LISTED, chi(n)],
        deductive=PROOFS,
    )


def test_every_day_passes_an_independent_market_maker_check():
    """On each of 16 days: the firm's trade rebuilt from the definitions equals the stored
    trade (1e-9 absolute), and its value over every one of the 2^m truth assignments of the
    priced sentences is at most that day's tolerance max(2^-n, 1e-9 x magnitude)."""
    days = 16
    li = build()
    li.run(days)
    firm = li.firm
    plain = sympy.symbols("A B C")
    base = [dict(zip(plain, bits)) for bits in itertools.product([False, True], repeat=3)]

    def truth(sentence, world):
        return bool(
            sentence.xreplace({a: sympy.true if v else sympy.false for a, v in world.items()})
        )

    K = len(firm.traders)
    cash = np.zeros(K)
    shares: list[dict] = [{} for _ in range(K)]
    lowest = np.zeros(K)
    checked_budget_cut = False
    for n in range(1, days + 1):
        proven = {parse_sentence(t) for d in PROOFS[:n] for t in d}
        # a world: values of A, B, C consistent with the proofs, chi_m (m < n) settled the
        # day after by its fixed day-m price (strict "<"), today's chi_n open
        settled = {chi(m): li.price(chi(m), m) < 0.35 for m in range(1, n)}
        plausible = [
            {**w, **settled, chi(n): today}
            for w in base
            if all(truth(t, w) for t in proven)
            for today in (False, True)
        ]
        prices = li.prices[n - 1]

        def lookup_today(s, d, prices=prices, n=n):
            return prices[s] if d == n else li.price(s, d)

        def past(s, d, n=n):
            assert d < n, "a trader read a price that is not yet past"
            return li.price(s, d)

        listed = tuple(dict.fromkeys(parse_sentence(s) for s in [*LISTED, chi(n)]))
        context = TradingContext(n, frozenset(proven), listed, past)
        total: dict = {}
        raw_today = []
        for k, trader in enumerate(firm.traders):
            if lowest[k] <= -max(firm.budgets):
                raw_today.append({})
                continue
            raw = {
                parse_sentence(s): f.evaluate(lookup_today)
                for s, f in trader.trade(context).items()
            }
            raw_today.append(raw)
            if not raw:
                continue
            sents = list(raw)
            q = [raw[s] for s in sents]
            p = [prices[s] for s in sents]
            pattern = np.array([[truth(s, w) for s in sents] for w in plausible])
            value = [
                cash[k] + sum(x for s, x in shares[k].items() if truth(s, w)) for w in plausible
            ]
            scale = 0.0
            for b in firm.budgets:
                if lowest[k] > -b:
                    factor = budget_factor(q, p, pattern, value, b)
                    checked_budget_cut |= factor < 1.0
                    scale += 2.0**-b * factor
            for s, x in raw.items():
                total[s] = total.get(s, 0.0) + firm.weight(k) * scale * x
        result = li.results[n - 1]
        order = li.sentences_of_day[n - 1]
        rebuilt = np.array([total.get(s, 0.0) for s in order])
        assert np.allclose(rebuilt, result.trade, rtol=0, atol=1e-9), n
        p_vec = np.array([prices[s] for s in order])
        worst = max(
            float(np.dot(rebuilt, np.array(bits) - p_vec))
            for bits in itertools.product([0.0, 1.0], repeat=len(order))
        )
        assert worst <= li.tolerance(n) + 1e-12, (n, worst)
        assert np.all((p_vec >= 0) & (p_vec <= 1))
        # book the raw trades at today's prices; the lowest value over today's worlds
        for k, raw in enumerate(raw_today):
            for s, x in raw.items():
                cash[k] -= x * prices[s]
                shares[k][s] = shares[k].get(s, 0.0) + x
            if raw or shares[k]:
                low = min(
                    cash[k] + sum(x for s, x in shares[k].items() if truth(s, w)) for w in plausible
                )
                lowest[k] = min(lowest[k], low)
    assert checked_budget_cut  # the Budgeter's scaling was exercised, not only factor 1
    assert any(lowest[k] <= -min(firm.budgets) for k in range(K))  # some budget died
