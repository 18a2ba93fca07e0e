"""Trader-programs of the simulation layer trade on a WorldsMarket unchanged.

Skipped where the simulation layer (``predmarket.sim``, ``predmarket.traders``) is absent.
"""

from __future__ import annotations

import math

import pytest

sim = pytest.importorskip("predmarket.sim")
traders = pytest.importorskip("predmarket.traders")

from predmarket.logic import WorldsMarket


def factory():
    return WorldsMarket(["A", "B", "A & B", "A | B", "A -> B"], liquidity=10.0, theorems=["A | B"])


def test_protocol_is_met():
    assert isinstance(factory(), sim.MarketLike)
    sim.protocol.require_market(factory())


def test_simulation_with_built_in_traders_runs_and_conserves_money():
    programs = {
        "noise": traders.NoiseTrader(["A", "A & B", "A | B"]),
        "momentum": traders.MomentumTrader(["A", "B"]),
        "arb": traders.Arbitrageur([["A & B", "A & ~B", "~A"]]),
        "believer": lambda view: sim.Target("A -> B", 0.9),
    }
    recorder = sim.Recorder(["A", "A & B"])
    result = sim.Simulation(
        factory,
        programs,
        rounds=15,
        episodes=3,
        rng=1,
        recorder=recorder,
        world=lambda rng: {"A": bool(rng.random() < 0.6), "B": True},
    ).run()
    assert result.faults == [] or all(f.kind != "raised" for f in result.faults)
    # the believer is right every episode (B is always true), so it gains
    assert result.cash["believer"] > 100.0
    assert math.isfinite(sum(result.cash.values()))


def test_check_trader_accepts_sentence_orders():
    report = sim.check_trader(lambda view: sim.Target("A & ~B", 0.2), factory)
    assert report.orders > 0
