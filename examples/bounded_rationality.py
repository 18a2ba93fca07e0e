"""Bounded rationality: how market accuracy grows with the traders' compute.

Four variables follow a known joint distribution (the common prior). Each episode the
world draws an outcome; each of four traders reads two of the variables through a noisy
channel (a reading is wrong with probability 0.2). A trader knows the model but cannot do
exact inference: it estimates its posterior either from ``k`` likelihood-weighted samples
(:class:`predmarket.traders.SamplingTrader`) or from ``k`` Gibbs steps
(:class:`predmarket.traders.GibbsTrader`), then trades toward it, Kelly-sized. We grow
``k`` and report the market's accuracy (mean log score of the true outcome at the close,
higher is better) against the total compute spent, next to two references: the prior
alone and the exact posterior given every trader's readings.

Run:  python examples/bounded_rationality.py [--episodes 30] [--figure accuracy.png]
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np

from predmarket import Market, OutcomeSpace, Variable
from predmarket.sim import Recorder, Simulation, World
from predmarket.sim.recorder import outcome_event
from predmarket.traders import GibbsTrader, JointBelief, SamplingTrader

SPACE = OutcomeSpace([Variable(f"x{i}", ["0", "1"]) for i in range(4)])
FLIP = 0.2
SEES = {f"t{i}": (f"x{i}", f"x{(i + 1) % 4}") for i in range(4)}


def prior() -> JointBelief:
    """A fixed, correlated joint (a chain x0 -> x1 -> x2 -> x3 with sticky links)."""
    p = np.zeros(SPACE.shape)
    for idx in np.ndindex(SPACE.shape):
        prob = 0.6 if idx[0] == 1 else 0.4
        for a, b in itertools.pairwise(idx):
            prob *= 0.85 if a == b else 0.15
        p[idx] = prob
    return JointBelief(SPACE, p.ravel())


def likelihood(readings: dict) -> np.ndarray:
    """P(readings | outcome) over the flat joint."""
    lik = np.ones(SPACE.shape)
    for var, value in readings.items():
        axis = SPACE.axis(var)
        match = np.arange(2) == int(value)
        shape = [1] * len(SPACE.shape)
        shape[axis] = 2
        lik = lik * np.where(match, 1 - FLIP, FLIP).reshape(shape)
    return lik.ravel()


def world_from(model: JointBelief):
    def world(rng: np.random.Generator) -> World:
        outcome = SPACE.sample(rng, model.p)
        signals = {}
        for trader, seen in SEES.items():
            signals[trader] = {v: int(outcome[v]) ^ int(rng.random() < FLIP) for v in seen}
        return World(outcome, signals=signals)
    return world


KINDS = {"sampling": SamplingTrader, "gibbs": GibbsTrader}


def run_budget(kind: str, k: int, episodes: int, seed: int, model: JointBelief):
    worlds = []
    draw = world_from(model)

    def world(rng):
        worlds.append(draw(rng))
        return worlds[-1]

    traders = {name: KINDS[kind](model, likelihood, k, fraction=0.5) for name in SEES}
    rec = Recorder()
    Simulation(lambda: Market(SPACE, liquidity=5.0, prior=model.p), traders, cash=100.0,
               rounds=2, episodes=episodes, world=world, rng=seed, recorder=rec,
               carry_cash=False).run()
    close = [s for ep, day, _, s in rec.rows("scores") if day == 2]
    exact = []
    for w in worlds:
        lik = np.ones(SPACE.size)
        for readings in w.signals.values():
            lik = lik * likelihood(readings)
        exact.append(np.log(model.posterior(lik).probability(outcome_event(w.outcome))))
    prior_score = [np.log(model.probability(outcome_event(w.outcome))) for w in worlds]
    compute = sum(t.compute for t in traders.values())
    return float(np.mean(close)), compute, float(np.mean(exact)), float(np.mean(prior_score))


def main(budgets=(1, 4, 16, 64, 256, 1024), episodes: int = 30, seed: int = 0,
         figure: str | None = None, out=print) -> list[dict]:
    model = prior()
    rows = []
    for kind in KINDS:
        for k in budgets:
            score, compute, exact, prior_score = run_budget(kind, k, episodes, seed, model)
            rows.append({"kind": kind, "k": k, "total_compute": compute,
                         "market_log_score": score, "exact_posterior": exact,
                         "prior": prior_score})
    out(f"{episodes} episodes per budget, 4 traders; log score of the truth (higher is better)")
    out(f"{'inference':>9} {'budget k':>9} {'total compute':>14} {'market':>9} {'prior':>9} "
        f"{'exact Bayes':>12}")
    for r in rows:
        out(f"{r['kind']:>9} {r['k']:>9} {r['total_compute']:>14} "
            f"{r['market_log_score']:9.4f} {r['prior']:9.4f} {r['exact_posterior']:12.4f}")
    for kind in KINDS:
        mine = [r for r in rows if r["kind"] == kind]
        gain = mine[-1]["market_log_score"] - mine[0]["market_log_score"]
        out(f"{kind}: accuracy gained from k={mine[0]['k']} to k={mine[-1]['k']}: "
            f"{gain:+.4f} nats")
    if figure:
        _plot(rows, figure)
        out(f"figure: {figure}")
    return rows


def _plot(rows, path):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()
    for i, kind in enumerate(KINDS):
        mine = [r for r in rows if r["kind"] == kind]
        ax.plot([r["total_compute"] for r in mine], [r["market_log_score"] for r in mine],
                marker="o", color=f"C{i}", label=f"market, {kind} traders")
    ax.axhline(rows[0]["exact_posterior"], color="C2", linestyle="--",
               label="exact posterior, all readings")
    ax.axhline(rows[0]["prior"], color="grey", linestyle=":", label="prior only")
    ax.set_xscale("log")
    ax.set_xlabel("total compute (samples or Gibbs steps, all traders)")
    ax.set_ylabel("mean log score of the truth")
    ax.set_title("Market accuracy against the traders' compute")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    fig.savefig(path)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--figure", default=None, help="write the figure to this PNG")
    args = parser.parse_args()
    main(episodes=args.episodes, seed=args.seed, figure=args.figure)
