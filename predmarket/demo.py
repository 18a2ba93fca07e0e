"""A small market in which three trader-programs with different beliefs trade, then settle.

Each trader holds a belief about the joint of ``rain`` and ``wind`` and, on its turn,
brings the market's price of three questions halfway toward its belief (``Target``
orders). A :class:`~predmarket.sim.Simulation` runs the rounds in a seeded, shuffled
order and records prices and cash after each round; settlement then pays each trade by
the LMSR rule.
"""

from __future__ import annotations

import sys
from typing import TextIO

import numpy as np

from predmarket.market import Market
from predmarket.sim import Recorder, Simulation, Target, World
from predmarket.spaces import OutcomeSpace, Variable

__all__ = ["demo_market", "halfway_trader", "run_demo"]

BELIEFS = {
    # P(rain = yes), P(wind = strong | rain = yes), P(wind = strong | rain = no)
    "optimist": (0.2, 0.3, 0.2),
    "pessimist": (0.8, 0.7, 0.4),
    "meteorologist": (0.6, 0.6, 0.3),
}
QUESTIONS = [("rain == yes", None), ("wind == strong", "rain == yes"),
             ("wind == strong", "rain == no")]
LABELS = ["P(rain)", "P(wind|rain)", "P(wind|dry)"]


def demo_space() -> OutcomeSpace:
    return OutcomeSpace([Variable("rain", ["yes", "no"]), Variable("wind", ["calm", "strong"])])


def demo_market() -> Market:
    """The demo's market: rain x wind, liquidity 10 (accounts are opened by the run)."""
    return Market(demo_space(), liquidity=10.0)


def halfway_trader(belief):
    """A trader-program: move each question's price halfway toward ``belief``."""
    def trader(view):
        orders = []
        for (event, given), p in zip(QUESTIONS, belief):
            current = view.price(event, given)
            orders.append(Target(event, current + 0.5 * (p - current), given=given))
        return orders
    return trader


def run_demo(rounds: int = 4, rng=0, out: TextIO = sys.stdout) -> Market:
    """Run the demo, print prices and cash after each round, settle, and print payouts."""
    names = list(BELIEFS)

    def world(gen: np.random.Generator) -> World:
        wet = gen.random() < 0.5
        return World({"rain": "yes", "wind": "strong"} if wet else
                     {"rain": "no", "wind": "calm"})

    recorder = Recorder(["rain == yes", "rain == no", "wind == strong & rain == yes",
                         "wind == strong & rain == no"])
    result = Simulation(demo_market, {n: halfway_trader(BELIEFS[n]) for n in names},
                        cash=50.0, rounds=rounds, world=world, rng=rng,
                        recorder=recorder).run()
    market = result.markets["market"]
    prices: dict[int, dict[str, float]] = {}
    for _, day, label, price in recorder.rows("prices"):
        prices.setdefault(day, {})[label] = price
    cash = {(day, trader): c for _, day, trader, _, c, _, _ in recorder.rows("accounts")}

    print("predmarket demo: LMSR market over rain x wind (b = 10), three trader-programs",
          file=out)
    header = f"{'round':>5} " + " ".join(f"{label:>12}" for label in LABELS) + " " + \
        " ".join(f"{n[:13]:>13}" for n in names)
    print(header, file=out)
    print("-" * len(header), file=out)
    for day in sorted(prices):
        p = prices[day]
        row = [p["rain == yes"],
               p["wind == strong & rain == yes"] / p["rain == yes"],
               p["wind == strong & rain == no"] / p["rain == no"]]
        print(f"{day:>5} " + " ".join(f"{x:12.3f}" for x in row) + " " +
              " ".join(f"{cash[(day, n)]:13.2f}" for n in names), file=out)
    payouts = result.payouts[0]
    print(f"\nsettled on {market.observed}", file=out)
    for name in names:
        print(f"  {name:<14} payout {payouts[name]:8.2f}   final cash {market.cash(name):8.2f}",
              file=out)
    print(f"  {'market maker':<14} subsidy {market.subsidy:7.2f}   final cash "
          f"{market.maker_cash:8.2f}", file=out)
    market.check()
    return market
