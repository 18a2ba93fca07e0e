"""Ready-made simulations, run by ``predmarket run SCENARIO``.

Each scenario is a function ``(episodes, rounds, rng, show_progress) -> Simulation``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from predmarket.market import Market
from predmarket.sim.recorder import Recorder
from predmarket.sim.simulation import Simulation
from predmarket.sim.worlds import JointWorld
from predmarket.spaces import OutcomeSpace, Variable

__all__ = ["SCENARIOS", "arbitrage", "weather"]


def weather_space() -> OutcomeSpace:
    return OutcomeSpace([Variable("rain", ["yes", "no"]), Variable("wind", ["strong", "calm"]),
                         Variable("cold", ["yes", "no"])])


def weather_truth(space: OutcomeSpace) -> np.ndarray:
    """A true joint over rain x wind x cold: rain makes wind and cold likelier."""
    p = np.zeros(space.shape)
    for r, pr in enumerate((0.35, 0.65)):
        pw = (0.7, 0.25)[r]
        pc = (0.6, 0.3)[r]
        for w in range(2):
            for c in range(2):
                p[r, w, c] = pr * (pw if w == 0 else 1 - pw) * (pc if c == 0 else 1 - pc)
    return p.ravel()


def weather(episodes: int = 30, rounds: int = 8, rng=0, show_progress: bool = False):
    """An informed Bayesian trader, two stubborn ones, a noise and a momentum trader trade
    rain x wind x cold; each episode the weather is drawn from the true joint."""
    from predmarket.traders import (
        BayesianTrader,
        ConstantBelief,
        JointBelief,
        MomentumTrader,
        NoiseTrader,
    )

    space = weather_space()
    truth = weather_truth(space)
    events = ["rain == yes", "wind == strong", "cold == yes", "rain == yes & wind == strong"]
    traders = {
        "bayes": BayesianTrader(JointBelief(space, truth), fraction=0.5),
        "sunny": ConstantBelief("rain == yes", 0.1, fraction=0.5),
        "gloomy": ConstantBelief("rain == yes", 0.8, fraction=0.5),
        "noise": NoiseTrader(events, size=2.0, fraction=0.2),
        "momentum": MomentumTrader(events[:3], strength=0.5, fraction=0.2),
    }
    return Simulation(lambda: Market(space, liquidity=10.0), traders, cash=100.0,
                      rounds=rounds, episodes=episodes, world=JointWorld(space, truth),
                      rng=rng, recorder=Recorder(events), show_progress=show_progress)


def arbitrage(episodes: int = 10, rounds: int = 8, rng=0, show_progress: bool = False):
    """Two makers price the same question; stubborn traders push them apart and an
    arbitrageur earns a riskless profit bringing them back together."""
    from predmarket.traders import Arbitrageur, ConstantBelief

    space = OutcomeSpace([Variable("rain", ["yes", "no"])])
    truth = np.array([0.5, 0.5])
    traders = {
        "high": ConstantBelief("rain == yes", 0.8, fraction=0.5, market="north"),
        "low": ConstantBelief("rain == yes", 0.2, fraction=0.5, market="south"),
        "arbitrageur": Arbitrageur([[("north", "rain == yes"), ("south", "rain == no")]]),
    }
    return Simulation(lambda: {"north": Market(space, 10.0), "south": Market(space, 10.0)},
                      traders, cash=100.0, rounds=rounds, episodes=episodes,
                      world=JointWorld(space, truth), rng=rng, activation="fixed",
                      recorder=Recorder([("north", "rain == yes"), ("south", "rain == yes")]),
                      show_progress=show_progress)


SCENARIOS: dict[str, Callable] = {"weather": weather, "arbitrage": arbitrage}
