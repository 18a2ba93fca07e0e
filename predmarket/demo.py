"""A small market in which three traders with different beliefs trade, then settle.

Each trader holds a belief about the joint of ``rain`` and ``wind`` and, on its turn, edits
the market's price of one event halfway toward its belief (Hanson's edit). The table shows
how prices and cash move; settlement then pays each trade by the LMSR rule.
"""

from __future__ import annotations

import sys
from typing import TextIO

import numpy as np

from predmarket.market import Market
from predmarket.spaces import OutcomeSpace, Variable

__all__ = ["demo_market", "run_demo"]

BELIEFS = {
    # P(rain = yes), P(wind = strong | rain = yes), P(wind = strong | rain = no)
    "optimist": (0.2, 0.3, 0.2),
    "pessimist": (0.8, 0.7, 0.4),
    "meteorologist": (0.6, 0.6, 0.3),
}
QUESTIONS = [("rain == yes", None, 0), ("wind == strong", "rain == yes", 1),
             ("wind == strong", "rain == no", 2)]


def demo_market() -> Market:
    """The demo's market: rain x wind, liquidity 10, three funded traders."""
    space = OutcomeSpace([Variable("rain", ["yes", "no"]), Variable("wind", ["calm", "strong"])])
    market = Market(space, liquidity=10.0)
    for name in BELIEFS:
        market.open_account(name, cash=50.0)
    return market


def run_demo(rounds: int = 4, rng=0, out: TextIO = sys.stdout) -> Market:
    """Run the demo, print a table of prices and cash per turn, settle, and print payouts."""
    gen = np.random.default_rng(rng)
    market = demo_market()
    names = list(BELIEFS)
    header = f"{'round':>5} {'trader':<14} {'P(rain)':>8} {'P(wind|rain)':>13} " \
             f"{'P(wind|dry)':>12} " + " ".join(f"{n[:10]:>10}" for n in names)
    print("predmarket demo: LMSR market over rain x wind (b = 10)", file=out)
    print(header, file=out)
    print("-" * len(header), file=out)

    def row(rnd, who):
        p = [market.price(e, given=g) for e, g, _ in QUESTIONS]
        cash = " ".join(f"{market.cash(n):10.2f}" for n in names)
        print(f"{rnd:>5} {who:<14} {p[0]:8.3f} {p[1]:13.3f} {p[2]:12.3f} {cash}", file=out)

    row(0, "(start)")
    for rnd in range(1, rounds + 1):
        for i in gen.permutation(len(names)):
            name = names[i]
            for event, given, k in QUESTIONS:
                current = market.price(event, given=given)
                goal = current + 0.5 * (BELIEFS[name][k] - current)
                market.target(name, event, goal, given=given)
            row(rnd, name)
    truth = {"rain": "yes", "wind": "strong"} if gen.random() < 0.5 else \
        {"rain": "no", "wind": "calm"}
    payouts = market.settle(truth)
    print(f"\nsettled on {truth}", file=out)
    for name in names:
        print(f"  {name:<14} payout {payouts[name]:8.2f}   final cash {market.cash(name):8.2f}",
              file=out)
    print(f"  {'market maker':<14} subsidy {market.subsidy:7.2f}   final cash "
          f"{market.maker_cash:8.2f}", file=out)
    market.check()
    return market
