"""A day-by-day walk through logical induction (Garrabrant et al. 2016).

The market prices three kinds of sentence, every day, long before it can check them:

* ``T_n`` -- "q is prime" for a prime q that grows with n; a theorem;
* ``R_n`` -- "m is prime" for m = p * p' with two large primes; refutable;
* ``chi_n`` -- the self-referential "P_n(chi_n) < 0.4": true exactly when the market's own
  price of it today is below 0.4 (settled the next day, false at equality).

The deductive process is a computer doing trial division with a budget of 30 n steps on
day n: each ``T_n`` and ``R_n`` needs about 30 (n + 2) steps, so its proof arrives about
three days after it is listed. The traders are generic: buy-below / sell-above threshold
traders over a dyadic grid of prices, one family per sequence, not told which facts are
true nor the threshold 0.4. Traders that are wrong lose their budgets; the prices of the
theorems rise toward 1 and those of the refutable facts fall toward 0 *before* the proofs
arrive (provability induction), and ``chi_n`` settles at its threshold (paradox
resistance).

Run::

    python examples/teaching_logical_induction.py            # prints the walk
    python examples/teaching_logical_induction.py --plot prices.png
"""

from __future__ import annotations

import argparse
from functools import cache

import numpy as np
import sympy

from predmarket.logic.deductive import ComputationProcess
from predmarket.logic.facts import is_prime
from predmarket.logic.induction import LogicalInductor, TradingFirm, threshold_family
from predmarket.logic.sentences import self_referential

DAYS = 120
THRESHOLD = 0.4


def scale(n: int) -> int:
    return 90 * (n + 2)


@cache
def theorem(n: int):
    return is_prime(int(sympy.nextprime(scale(n) ** 2)))


@cache
def refutable(n: int):
    a = int(sympy.nextprime(scale(n)))
    return is_prime(a * int(sympy.nextprime(a)))


@cache
def chi(n: int):
    return self_referential(f"chi_{n}", n, THRESHOLD)


def build() -> LogicalInductor:
    facts = [theorem(n) for n in range(1, DAYS + 1)] + [refutable(n) for n in range(1, DAYS + 1)]
    computer = ComputationProcess(facts, lambda n: 30 * n)
    traders = (
        threshold_family(theorem, 4, name="T")
        + threshold_family(refutable, 4, name="R")
        + threshold_family(chi, 4, name="chi")
    )
    return LogicalInductor(
        TradingFirm(traders, weights="level"),
        sentences=lambda n: [theorem(n), refutable(n), chi(n)],
        deductive=computer,
    )


def walk(li: LogicalInductor, days: int = DAYS) -> dict:
    paths = {"T": [], "R": [], "chi": []}
    proven_on: dict = {}
    print(f"{'day':>3}  {'P(T_n)':>7} {'P(R_n)':>7} {'P(chi_n)':>8}   proofs arriving today")
    seen: frozenset = frozenset()
    for n in range(1, days + 1):
        prices = li.step()
        new = li.theorems - seen
        seen = li.theorems
        for s in new:
            proven_on[s] = n
        paths["T"].append(prices[theorem(n)])
        paths["R"].append(prices[refutable(n)])
        paths["chi"].append(prices[chi(n)])
        facts = sorted(str(s) for s in new if "chi" not in str(s))
        shown = ", ".join(facts[:2]) + (f" (+{len(facts) - 2})" if len(facts) > 2 else "")
        print(
            f"{n:>3}  {paths['T'][-1]:7.3f} {paths['R'][-1]:7.3f} {paths['chi'][-1]:8.3f}   {shown}"
        )
    lag = [proven_on[theorem(n)] - n for n in range(1, days + 1) if theorem(n) in proven_on]
    print(f"\nproofs of T_n arrive {np.mean(lag):.1f} days after T_n is listed (mean)")
    late = slice(days // 2, days)
    print(
        f"days {days // 2 + 1}-{days}: mean P_n(T_n) = {np.mean(paths['T'][late]):.3f}, "
        f"mean P_n(R_n) = {np.mean(paths['R'][late]):.3f}, "
        f"mean |P_n(chi_n) - {THRESHOLD}| = {np.mean(np.abs(np.array(paths['chi'][late]) - THRESHOLD)):.3f}"
    )
    print(f"every day's prices pass the MarketMaker check: {li.verify()}")
    return paths


def plot(paths: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = np.arange(1, len(paths["T"]) + 1)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.plot(days, paths["T"], label="P_n(T_n): 'q_n is prime' (theorem)")
    ax.plot(days, paths["R"], label="P_n(R_n): 'p_n p_n\u2032 is prime' (refutable)")
    ax.plot(days, paths["chi"], label="P_n(\u03c7_n), \u03c7_n := 'P_n(\u03c7_n) < 0.4'")
    ax.axhline(THRESHOLD, color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel("day n (each sentence's proof arrives about 3 days after it is listed)")
    ax.set_ylabel("price on the day the sentence is listed")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(loc="center right", fontsize=8)
    ax.set_title("Logical induction: prices before proofs, and a paradox settling at 0.4")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"plot written to {path}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--plot", metavar="PNG", help="write the price paths to this file")
    ap.add_argument("--days", type=int, default=DAYS)
    args = ap.parse_args(argv)
    paths = walk(build(), args.days)
    if args.plot:
        plot(paths, args.plot)


if __name__ == "__main__":
    main()
