"""Forecasting from code: three small trader-programs, each seeing part of the evidence.

A synthetic process decides each day whether a storm comes (prior 0.3). Three sensors see
it only indirectly: a thermometer (storm days are colder), a barometer (pressure drops)
and a lightning counter (more flashes). Each trader-program reads one sensor, turns its
reading into a log-likelihood ratio, and adds that evidence to the market's log-odds of
a storm. No trader sees the others' readings, yet the market's closing price pools all
three; its log score beats every single trader's own forecast.

Run:  python examples/forecasting_from_code.py [--episodes 300] [--seed 0]
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from predmarket import Market, OutcomeSpace, Variable
from predmarket.sim import Recorder, Simulation, Target, World

PRIOR = 0.3
SPACE = OutcomeSpace([Variable("weather", ["storm", "calm"])])
STORM = "weather == storm"


def logit(p):
    return math.log(p / (1 - p))


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


class EvidenceTrader:
    """Adds its sensor's log-likelihood ratio to the market's log-odds, once a day."""

    def forecast(self, reading):  # what the trader believes on its own
        return sigmoid(logit(PRIOR) + self.evidence(reading))

    def act(self, view):
        belief = sigmoid(logit(view.price(STORM)) + self.evidence(view.signal))
        return Target(STORM, min(max(belief, 1e-6), 1 - 1e-6))


# -- the three trader-programs (about ten lines each) ---------------------------------------
class Thermometer(EvidenceTrader):
    """Sees the temperature: N(12, 3) degrees on storm days, N(17, 3) otherwise."""

    sensor = "temperature"

    def evidence(self, t):
        return ((t - 17) ** 2 - (t - 12) ** 2) / (2 * 3.0 ** 2)


class Barometer(EvidenceTrader):
    """Sees the pressure: N(1000, 8) hPa on storm days, N(1012, 8) otherwise."""

    sensor = "pressure"

    def evidence(self, hpa):
        return ((hpa - 1012) ** 2 - (hpa - 1000) ** 2) / (2 * 8.0 ** 2)


class LightningCounter(EvidenceTrader):
    """Counts flashes: Poisson(3) on storm days, Poisson(1) otherwise."""

    sensor = "flashes"

    def evidence(self, n):
        return n * math.log(3 / 1) - (3 - 1)


TRADERS = {"thermometer": Thermometer(), "barometer": Barometer(),
           "lightning": LightningCounter()}


def weather(rng: np.random.Generator) -> World:
    """The synthetic process: draw the day, then each sensor's reading; each trader is
    handed only its own sensor's reading."""
    storm = rng.random() < PRIOR
    readings = {"temperature": rng.normal(12 if storm else 17, 3),
                "pressure": rng.normal(1000 if storm else 1012, 8),
                "flashes": int(rng.poisson(3 if storm else 1))}
    return World({"weather": "storm" if storm else "calm"},
                 signals={name: readings[t.sensor] for name, t in TRADERS.items()})


def main(episodes: int = 300, seed: int = 0, out=print) -> dict:
    recorder, worlds = Recorder([STORM]), []

    def world(rng):  # keep each day's readings, to score the traders on their own
        worlds.append(weather(rng))
        return worlds[-1]

    result = Simulation(lambda: Market(SPACE, liquidity=10.0, prior=[PRIOR, 1 - PRIOR]),
                        TRADERS, cash=1000.0, rounds=1, episodes=episodes, world=world,
                        rng=seed, recorder=recorder, carry_cash=False).run()
    outcome = np.array([w.outcome["weather"] == "storm" for w in worlds])

    def log_score(p):
        p = np.asarray(p, dtype=float)
        return float(np.mean(np.where(outcome, np.log(p), np.log1p(-p))))

    closing = [price for _, event, price, _ in recorder.rows("outcomes")]
    scores = {"market": log_score(closing), "prior only": log_score([PRIOR] * episodes)}
    for name, trader in TRADERS.items():
        scores[name] = log_score([trader.forecast(w.signals[name]) for w in worlds])
    pooled = [sigmoid(logit(PRIOR) + sum(t.evidence(w.signals[n]) for n, t in TRADERS.items()))
              for w in worlds]
    gap = max(abs(a - b) for a, b in zip(closing, pooled))
    out(f"{episodes} days, storm on {int(outcome.sum())}; mean log score (higher is better)")
    for name, score in sorted(scores.items(), key=lambda kv: -kv[1]):
        out(f"  {name:<12} {score:8.4f}")
    beats = all(scores["market"] > scores[n] for n in TRADERS)
    out(f"market's closing price vs Bayes on all three readings: largest gap {gap:.1e}")
    out(f"market beats every single trader: {beats}")
    return {"scores": scores, "market_beats_every_trader": beats, "faults": result.faults,
            "gap_to_pooled_bayes": gap}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.episodes, args.seed)
