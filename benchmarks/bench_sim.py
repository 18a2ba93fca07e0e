"""Benchmark of the simulation loop: trades per second for simple traders.

What is measured
----------------
A small joint market: four binary variables ``x0 .. x3`` (16 outcomes), liquidity
``b = 10``; eight traders each funded with 1e6 (nothing is refused); one episode of
``--rounds`` rounds (default 2000), shuffled activation, seed 0. One JSON line per case:

* ``noise``: eight :class:`~predmarket.traders.NoiseTrader` (a random Buy or Sell of a
  random marginal event per turn), recording prices of two events and every account
  after each round (the default recorder plus events);
* ``noise_quiet``: the same, recording only at the start and end of the episode;
* ``buyers``: eight plain functions each returning one ``Buy`` of a fixed event, quiet;
* ``buyers_budget``: the same with ``time_budget=1.0`` (each turn under a POSIX interval
  timer, the isolation against runaway traders).

Fields: ``trades`` (orders executed), ``seconds`` (wall time of ``Simulation.run``),
``trades_per_s``; ``baseline_trades_per_s``: the same number of trades, on the same events
with the same share sizes, made by calling ``Market.buy`` directly in a loop, in the same
process; ``ratio`` = ``trades_per_s / baseline_trades_per_s`` (the share of the bare
market's speed the simulation keeps; the rest pays for views, validation, isolation,
public history and recording); ``target_met``: ``trades_per_s >= 5000``.

How to run
----------
::

    python benchmarks/bench_sim.py                 # about 10 s
    python benchmarks/bench_sim.py --rounds 200    # quick run
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from predmarket import Market, OutcomeSpace, Variable
from predmarket.sim import Buy, Recorder, Simulation
from predmarket.traders import NoiseTrader

SPACE = OutcomeSpace([Variable(f"x{i}", ["0", "1"]) for i in range(4)])
EVENTS = [f"x{i} == 1" for i in range(4)]
N_TRADERS = 8
TARGET = 5000.0


def factory():
    return Market(SPACE, liquidity=10.0)


def fixed_buyer(i):
    event = EVENTS[i % len(EVENTS)]

    def trader(view):
        return Buy(event, 0.01)
    return trader


def run_case(name, traders, rounds, **kwargs):
    sim = Simulation(factory, traders, cash=1e6, rounds=rounds, rng=0, **kwargs)
    start = time.perf_counter()
    result = sim.run()
    seconds = time.perf_counter() - start
    trades = [(r[5], r[7]) for r in result.recorder.rows("trades")]
    return result, seconds, trades


def baseline(trades):
    """The same trades through Market.buy in a plain loop."""
    market = factory()
    market.open_account("a", 1e6)
    start = time.perf_counter()
    for event, shares in trades:
        market.buy("a", event, shares)
    return len(trades) / (time.perf_counter() - start)


def main(rounds: int) -> None:
    cases = {
        "noise": ({f"n{i}": NoiseTrader(EVENTS, size=0.5) for i in range(N_TRADERS)},
                  {"recorder": Recorder(EVENTS[:2])}),
        "noise_quiet": ({f"n{i}": NoiseTrader(EVENTS, size=0.5) for i in range(N_TRADERS)},
                        {"record_every": "episode"}),
        "buyers": ({f"b{i}": fixed_buyer(i) for i in range(N_TRADERS)},
                   {"record_every": "episode"}),
        "buyers_budget": ({f"b{i}": fixed_buyer(i) for i in range(N_TRADERS)},
                          {"record_every": "episode", "time_budget": 1.0}),
    }
    factory().price(EVENTS[0])  # compile events once, outside the timings
    for name, (traders, kwargs) in cases.items():
        result, seconds, trades = run_case(name, traders, rounds, **kwargs)
        rate = len(trades) / seconds
        base = baseline(trades)
        print(json.dumps({
            "case": name, "outcomes": SPACE.size, "traders": N_TRADERS, "rounds": rounds,
            "trades": len(trades), "seconds": round(seconds, 4),
            "trades_per_s": round(rate, 1), "baseline_trades_per_s": round(base, 1),
            "ratio": round(rate / base, 3), "faults": len(result.faults),
            "target_met": bool(rate >= TARGET)}), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="trades per second of Simulation")
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    np.seterr(all="raise")
    main(args.rounds)
