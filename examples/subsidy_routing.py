"""Subsidy routing: what a sponsor's budget buys when it funds subsidiary markets.

Many random instances (``predmarket.subsidy.signals``): a binary root X and 8 signals Y_i,
conditionally independent given X, of accuracy U(0.55, 0.8) and cost U(0.02, 0.2) x B to
learn; specialists buy their signal when the expected profit from the root and their
signal's market exceeds its cost, then trade on it. A budget B = 1 is routed by each
policy (root keeps half unless root-only); every policy sees the same instances (truth,
costs, order). Printed: the root's expected log-loss on X per policy with its standard
error, the paired difference to root-only with its standard error, signals bought, and
the sponsor's realised loss.

The second table measures free riding: a trader funds the market for a signal itself to
profit on the root; public prices let riders race it to the root, prices hidden until the
root closes do not.

Run: ``PYTHONPATH=. python examples/subsidy_routing.py`` (400 instances, seconds) or
``--full`` (2000 instances: the table in papers/subsidy_routing.md).
"""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np

from predmarket.subsidy import POLICIES, SubsidyRouter
from predmarket.subsidy.signals import random_instance, run_funded_signal, run_routing

N_SIGNALS = 8
ACCURACY = (0.55, 0.8)
COST = (0.02, 0.2)
BUDGET = 1.0
ROOT_SHARE = 0.5


def se(x) -> float:
    x = np.asarray(x, float)
    return float(x.std(ddof=1) / math.sqrt(len(x))) if len(x) > 1 else math.nan


def routing_table(instances: int, seed: int, show_progress: bool = False, *,
                  n_signals: int = N_SIGNALS, accuracy=ACCURACY, cost=COST) -> dict:
    results = {p: [] for p in POLICIES}
    seeds = range(seed, seed + instances)
    if show_progress:
        from tqdm import tqdm

        seeds = tqdm(seeds, desc="instances")
    for s in seeds:
        inst = random_instance(np.random.default_rng(s), n_signals, budget=BUDGET,
                               accuracy_range=accuracy, cost_range=cost)
        for policy in POLICIES:
            results[policy].append(run_routing(inst, SubsidyRouter(
                policy, root_share=ROOT_SHARE), BUDGET))
    base = np.array([o.log_loss for o in results["root-only"]])
    table = {}
    for policy, outs in results.items():
        loss = np.array([o.log_loss for o in outs])
        table[policy] = {
            "log_loss": float(loss.mean()), "se": se(loss),
            "diff": float((loss - base).mean()), "diff_se": se(loss - base),
            "signals": float(np.mean([o.acquired.sum() for o in outs])),
            "sponsor_loss": float(np.mean([o.sponsor_loss for o in outs]))}
    return table


def free_riding_table(instances: int, seed: int) -> dict:
    table = {}
    for hidden in (False, True):
        outs = [run_funded_signal(random_instance(np.random.default_rng(s), 1, budget=BUDGET),
                                  budget=BUDGET, hidden=hidden, rng=s)
                for s in range(seed, seed + instances)]
        table["hidden until root closes" if hidden else "public"] = {
            "funded": float(np.mean([o.funded for o in outs])),
            "log_loss": float(np.mean([o.log_loss for o in outs])),
            "se": se([o.log_loss for o in outs]),
            "funder": float(np.mean([o.funder_net for o in outs])),
            "riders": float(np.mean([o.riders_net for o in outs])),
            "specialist": float(np.mean([o.specialist_net for o in outs]))}
    return table


def main(argv=None, out=sys.stdout) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="2000 instances instead of 400")
    parser.add_argument("--instances", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--progress", action="store_true", help="show a progress bar")
    parser.add_argument("--signals", type=int, default=N_SIGNALS, help="signals per instance")
    parser.add_argument("--accuracy", type=float, nargs=2, default=ACCURACY,
                        metavar=("LO", "HI"), help="range of P(Y_i = X)")
    parser.add_argument("--cost", type=float, nargs=2, default=COST, metavar=("LO", "HI"),
                        help="range of signal costs, as a fraction of the budget")
    args = parser.parse_args(argv)
    n = args.instances if args.instances is not None else (2000 if args.full else 400)
    if n < 2:
        parser.error(f"--instances must be at least 2 (standard errors need two), got {n}")
    accuracy, cost = tuple(args.accuracy), tuple(args.cost)
    routing = routing_table(n, args.seed, args.progress, n_signals=args.signals,
                            accuracy=accuracy, cost=cost)
    print(f"subsidy routing: {n} instances (seeds {args.seed}..{args.seed + n - 1}), "
          f"{args.signals} signals, accuracy U{accuracy}, cost U{cost} x B, B = {BUDGET}, "
          f"root share {ROOT_SHARE}", file=out)
    print(f"{'policy':<22} {'log-loss on X':>14} {'± se':>7} {'vs root-only':>13} {'± se':>7} "
          f"{'signals':>8} {'sponsor loss':>13}", file=out)
    for policy, row in routing.items():
        print(f"{policy:<22} {row['log_loss']:>14.4f} {row['se']:>7.4f} {row['diff']:>+13.4f} "
              f"{row['diff_se']:>7.4f} {row['signals']:>8.2f} {row['sponsor_loss']:>13.4f}",
              file=out)
    voi = routing["value-of-information"]
    margin = -voi["diff"] / voi["diff_se"] if voi["diff_se"] > 0 else math.nan
    print(f"value-of-information vs root-only: {voi['diff']:+.4f} ± {voi['diff_se']:.4f} "
          f"({margin:.1f} standard errors)", file=out)
    print(f"value-of-information beats root-only by more than its standard error: "
          f"{bool(margin > 1)}", file=out)
    riding = free_riding_table(n, args.seed)
    print(f"\nfree riding: a trader funds the market for one signal itself, 2 riders, "
          f"{n} instances", file=out)
    print(f"{'sub-market prices':<26} {'funded':>7} {'log-loss on X':>14} {'± se':>7} "
          f"{'funder net':>11} {'riders net':>11} {'specialist':>11}", file=out)
    for label, row in riding.items():
        print(f"{label:<26} {row['funded']:>7.3f} {row['log_loss']:>14.4f} {row['se']:>7.4f} "
              f"{row['funder']:>+11.4f} {row['riders']:>+11.4f} {row['specialist']:>+11.4f}",
              file=out)
    return {"routing": routing, "free_riding": riding, "margin": margin}


if __name__ == "__main__":
    main()
