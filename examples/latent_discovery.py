"""Latent discovery: traders with competing hypotheses about a hidden cause.

Data come from a latent class model: a hidden class ``L`` (2 classes) and 4 binary
indicators, conditionally independent given ``L``. Every round a market over
``(L, I0..I3)`` with ``L`` latent opens at the previous round's closing prices, traders
trade, and the market settles on one new observation of the indicators (``L`` is never
observed, so trades pay by how well they predicted the indicators).

Traders (each refits its hypothesis to every observation so far, with half a pseudo-count):

* ``latent-class``: the true structure; it moves the whole joint, latent included;
* ``independent``: no hidden cause, indicators independent; it trades the observed part only;
* ``chain``: no hidden cause, a Markov chain I0 -> I1 -> I2 -> I3; observed part only.

Each moves the market's log-weights toward its belief by a fraction equal to its share of
the traders' wealth (halved until its budget allows). Wealth flows to the right hypothesis,
the market's observed distribution converges to the truth, and its latent posterior
P(L | indicators) converges to the truth up to relabelling.

When are latent prices identified? Settlement rewards only the observed distribution, so
P(L | indicators) is pinned down only by structure: here 4 conditionally independent binary
indicators and K = 2 classes (3 suffice: 2+2+2 >= 2K+2, Allman, Matias & Rhodes 2009), up
to swapping the labels. With K = 3 classes and 3 binary indicators it is not identified:
the last table fits both to the market's final prices from several starts.

Run: ``PYTHONPATH=. python examples/latent_discovery.py`` (small, seconds) or ``--full``.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from predmarket import Market, OutcomeSpace, Variable
from predmarket.errors import InsufficientFunds
from predmarket.latent import (
    LatentClassModel,
    align_labels,
    fit_latent_class,
    geometric_mixture,
    joint_table,
    kl_divergence,
    latent_posterior,
    observed_distribution,
    relabel,
    trade_observed_marginal,
    trade_to_distribution,
)

TRUTH = LatentClassModel(
    np.array([0.4, 0.6]),
    tuple(np.array(t) for t in ([[0.85, 0.15], [0.2, 0.8]], [[0.75, 0.25], [0.1, 0.9]],
                                [[0.9, 0.1], [0.3, 0.7]], [[0.7, 0.3], [0.15, 0.85]])))
N_IND = len(TRUTH.conditionals)
SPACE = OutcomeSpace([Variable("L", ["c0", "c1"])]
                     + [Variable(f"I{j}", ["0", "1"]) for j in range(N_IND)])
LIQUIDITY = 1.0
WEALTH = 3.0  # each trader's starting cash, in units of the liquidity


def empirical(data: np.ndarray) -> np.ndarray:
    counts = np.full((2,) * N_IND, 0.5)
    np.add.at(counts, tuple(data.T), 1.0)
    return counts / counts.sum()


def independent_belief(data: np.ndarray) -> np.ndarray:
    table = np.ones(())
    for j in range(N_IND):
        p1 = (data[:, j].sum() + 0.5) / (len(data) + 1.0)
        table = table[..., None] * np.array([1 - p1, p1])
    return table


def chain_belief(data: np.ndarray) -> np.ndarray:
    p1 = (data[:, 0].sum() + 0.5) / (len(data) + 1.0)
    table = np.array([1 - p1, p1])
    for j in range(1, N_IND):
        trans = np.empty((2, 2))
        for a in range(2):
            rows = data[data[:, j - 1] == a, j]
            q = (rows.sum() + 0.5) / (len(rows) + 1.0)
            trans[a] = [1 - q, q]
        table = table[..., None] * trans.reshape((1,) * (j - 1) + (2, 2))
    return table


def latent_class_belief(data: np.ndarray, market: Market, rng) -> np.ndarray:
    fit = fit_latent_class(empirical(data), 2, rng=rng, n_starts=2, max_iter=300, tol=1e-9)
    joint = fit.joint()
    # keep the market's labels: relabelling is free, and it keeps the latent prices readable
    perm = align_labels(fit.posterior(), np.moveaxis(latent_posterior(market), -1, 0))
    return relabel(joint, 0, perm)


def move(market: Market, trader: str, belief: np.ndarray, weight: float, observed_only: bool):
    """Move the market a fraction ``weight`` toward ``belief``, halving until affordable."""
    for _ in range(12):
        try:
            if observed_only:
                target = geometric_mixture(observed_distribution(market), belief, weight)
                trade_observed_marginal(market, trader, target)
            else:
                target = geometric_mixture(joint_table(market), belief, weight)
                trade_to_distribution(market, trader, target.ravel())
            return weight
        except InsufficientFunds:
            weight /= 2
    return 0.0


def posterior_error(market: Market) -> float:
    """Expected max error of P(L | o) over o ~ P*_O, after the best relabelling."""
    est = np.moveaxis(latent_posterior(market), -1, 0)
    truth = TRUTH.posterior()
    est = relabel(est, 0, align_labels(est, truth))
    return float(np.sum(TRUTH.observed() * np.abs(est - truth).max(axis=0)))


def run(rounds: int, warmup: int, seed: int):
    rng = np.random.default_rng(seed)
    _, data = TRUTH.sample(warmup + rounds, rng)
    wealth = dict.fromkeys(("latent-class", "independent", "chain"), WEALTH)
    prior = None
    history = []
    for t in range(rounds):
        seen = data[: warmup + t]
        market = Market(SPACE, LIQUIDITY, latent=["L"], prior=prior)
        for name, cash in wealth.items():
            market.open_account(name, cash)
        beliefs = {"latent-class": latent_class_belief(seen, market, rng),
                   "independent": independent_belief(seen),
                   "chain": chain_belief(seen)}
        total = sum(wealth.values())
        for name in rng.permutation(list(wealth)):
            move(market, name, beliefs[name], wealth[name] / total, name != "latent-class")
        p_o = observed_distribution(market)
        record = {"round": t + 1, "kl": kl_divergence(TRUTH.observed(), p_o),
                  "kl_fit": kl_divergence(TRUTH.observed(),
                                          beliefs["latent-class"].sum(axis=0)),
                  "posterior_error": posterior_error(market)}
        prior = market.probabilities()
        o = data[warmup + t]
        market.settle({f"I{j}": str(int(o[j])) for j in range(N_IND)})
        market.check()
        wealth = {name: market.cash(name) for name in wealth}
        total = sum(wealth.values())
        record.update({f"share:{n}": w / total for n, w in wealth.items()})
        history.append(record)
    return history, prior.reshape(SPACE.shape)


def identification_table(final: np.ndarray, seed: int) -> list[tuple]:
    """Fit latent class models to the market's final observed prices from several starts."""
    p_o = final.sum(axis=0)
    rows = []
    for label, observed, k in (("K=2, 4 indicators", p_o, 2),
                               ("K=2, 3 indicators", p_o.sum(axis=3), 2),
                               ("K=3, 3 indicators", p_o.sum(axis=3), 3)):
        fits = [fit_latent_class(observed, k, rng=seed + s, n_starts=1, max_iter=3000,
                                 tol=1e-13) for s in range(5)]
        base = fits[0].posterior()
        spread = max(np.abs(relabel(f.posterior(), 0, align_labels(f.posterior(), base))
                            - base).max() for f in fits[1:])
        fit_kl = max(kl_divergence(observed, f.observed()) for f in fits)
        rows.append((label, fit_kl, spread, "yes" if spread < 1e-3 else "no"))
    return rows


def plot(history, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    r = [h["round"] for h in history]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    axes[0].semilogy(r, [h["kl"] for h in history])
    axes[0].set(title="KL(P*_O || market P_O)", xlabel="round")
    axes[1].plot(r, [h["posterior_error"] for h in history])
    axes[1].set(title="latent posterior error (after relabelling)", xlabel="round")
    for name in ("latent-class", "independent", "chain"):
        axes[2].plot(r, [h[f"share:{name}"] for h in history], label=name)
    axes[2].set(title="wealth share", xlabel="round")
    axes[2].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None, out=sys.stdout) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="400 rounds instead of 40")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--figure", default="latent_discovery.png",
                        help="where to write the PNG (empty: no figure)")
    args = parser.parse_args(argv)
    rounds = args.rounds or (400 if args.full else 40)
    history, final = run(rounds, warmup=30, seed=args.seed)
    print(f"latent discovery: {rounds} rounds, b = {LIQUIDITY}, seed {args.seed}", file=out)
    print("KL: of the market's observed prices (and of the latent-class trader's own fit) "
          "from the truth; posterior error: E_o max_l |P(l|o) - P*(l|o)| after relabelling; "
          "then wealth shares", file=out)
    print(f"{'round':>6} {'KL(P*_O||P_O)':>14} {'(fit)':>8} {'post. error':>12} "
          f"{'latent-class':>13} {'independent':>12} {'chain':>8}", file=out)
    marks = sorted({1, *range(max(1, rounds // 8), rounds + 1, max(1, rounds // 8)), rounds})
    for h in history:
        if h["round"] in marks:
            print(f"{h['round']:>6} {h['kl']:>14.5f} {h['kl_fit']:>8.5f} "
                  f"{h['posterior_error']:>12.4f} "
                  f"{h['share:latent-class']:>13.3f} {h['share:independent']:>12.3f} "
                  f"{h['share:chain']:>8.3f}", file=out)
    print("\nidentification from the market's final observed prices (5 EM starts each):",
          file=out)
    print(f"{'model':<20} {'max KL of fit':>14} {'posterior spread':>17} {'identified':>11}",
          file=out)
    rows = identification_table(final, args.seed)
    for label, fit_kl, spread, ident in rows:
        print(f"{label:<20} {fit_kl:>14.2e} {spread:>17.4f} {ident:>11}", file=out)
    if args.figure:
        plot(history, args.figure)
        print(f"\nfigure: {args.figure}", file=out)
    return {"history": history, "identification": rows}


if __name__ == "__main__":
    main()
