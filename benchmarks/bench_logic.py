"""Benchmark of the logical inductor (``predmarket.logic.induction``) against PyPI
``logicalinduction`` 0.1.6, run in the same process.

What is measured
----------------
* ``k_atoms`` -- the scenario of the issue: K atomic sentences ``A1..AK`` with truth values
  drawn from a seeded rng; day d proves (or refutes) atom ``A{(d-1) mod K + 1}``, and adds
  one clipped linear trader on that atom that buys
  :math:`\\mathrm{clip}(t - P_n(A_j), -1, 1)`, with target :math:`t` the atom's truth once it
  is revealed and 0.5 before. Every past trader stays in the firm (weight :math:`2^{-k}`,
  budgets 1..4). All K atoms are priced every day. One JSON line per K with ``seconds``,
  ``days_per_second``, ``sentences_priced_per_day`` and how many days each market-maker
  path solved (``solver_methods``: ``bracketed`` for independent sentences, ``+newton`` for
  coupled blocks, ``+coordinate`` when Newton needed the coordinate fallback).
* ``k_atoms_vs_logicalinduction`` -- the same scenario with the package's
  ``LogicalInductor.update(observation, trader)``: the observation is the day's literal,
  the trader a generator of ``{atom: Max(-1, Min(1, t - Price(atom, i)))}`` formulas (its
  own ``Formula`` classes). The package searches rational credences by brute force, so it
  is run with a wall-clock budget per K (``--baseline-seconds``, default 20; a day that would
  exceed the budget is interrupted with ``SIGALRM``). The line reports the days it reached,
  its seconds, ours for the same days, and ``speedup`` = its seconds / ours. The package is
  installed only here, at run time (``pip install --target`` into a temporary directory) if it
  is not importable; offline, the line says ``"skipped"``.
* ``large`` -- 100 priced sentences over at most 12 unresolved atoms (a sliding window: day
  d proves atom d; each sentence slot draws a random And/Or/Xor formula over 1-3 window atoms
  and is replaced every 12 days), 100 traders (threshold, clipped linear toward a fixed
  target, and affine traders on pairs of slots) x 4 budgets (1, 2, 3, 4), 1,000 days.

* ``paradox`` -- the self-referential sentences :math:`\\chi_n := \\text{“}P_n(\\chi_n) < p\\text{”}`
  for p = 0.4 and 0.7, one new sentence a day, priced by the 4-level threshold family
  (30 traders, not told p), 400 days: ``seconds`` and the mean error
  :math:`|P_n(\\chi_n) - p|` over days 301-400.

Targets (from the issue): K = 16 for 100 days in under 10 s and at least 100x the package's
speed at equal size; ``large`` in at most 60 s. Each line has ``targets`` with booleans.

* ``worlds_market`` -- the worlds market (``WorldsMarket``, an LMSR over the SAT-enumerated
  consistent worlds) on the same K-atom scenario, and its world enumeration and sentence
  pricing: the cases of ``benchmarks/bench_worlds.py``, each with its own same-process
  baseline (skip with ``--no-worlds``).

Every run's prices are verified against the MarketMaker condition on every day
(``verified``).

How to run
----------
::

    python benchmarks/bench_logic.py                       # everything (about 2-3 minutes)
    python benchmarks/bench_logic.py --quick               # K in {2, 8}, large for 200 days
    python benchmarks/bench_logic.py --no-baseline         # skip the PyPI package
    python benchmarks/bench_logic.py --no-worlds           # skip the worlds-market cases
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import sympy

from predmarket.logic.deductive import GeneratorProcess
from predmarket.logic.induction import (
    AffineTrader,
    ClippedLinearTrader,
    LogicalInductor,
    ThresholdTrader,
    TradingFirm,
)
from predmarket.logic.sentences import parse_sentence


def k_atoms_ours(K: int, days: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    truth = rng.random(K) < 0.5
    atoms = [f"A{j + 1}" for j in range(K)]

    def atom_of(d: int) -> int:
        return (d - 1) % K

    def batches():
        d = 0
        while True:
            d += 1
            j = atom_of(d)
            yield [atoms[j] if truth[j] else "~" + atoms[j]]

    def target_for(j: int):
        return lambda ctx: float(truth[j]) if ctx.day >= j + 1 else 0.5

    firm = TradingFirm(budgets=(1, 2, 3, 4))
    li = LogicalInductor(firm, sentences=atoms, deductive=GeneratorProcess(batches()))
    start = time.perf_counter()
    for d in range(1, days + 1):
        j = atom_of(d)
        firm.add(ClippedLinearTrader(atoms[j], target_for(j), start_day=d))
        li.step()
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "days": days,
        "days_per_second": days / seconds,
        "sentences_priced_per_day": float(np.mean([len(s) for s in li.sentences_of_day])),
        "solver_methods": dict(Counter(r.method for r in li.results)),
        "verified": li.verify(),
    }


def load_baseline():
    try:
        return importlib.import_module("logicalinduction")
    except ImportError:
        pass
    target = tempfile.mkdtemp(prefix="bench_logic_")
    try:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "--target",
                target,
                "logicalinduction==0.1.6",
            ],
            check=True,
            timeout=120,
            capture_output=True,
        )
    except (subprocess.SubprocessError, OSError):
        return None
    sys.path.insert(0, target)
    try:
        return importlib.import_module("logicalinduction")
    except ImportError:
        return None


class _Interrupted(Exception):
    pass


def k_atoms_baseline(pkg, K: int, max_days: int, budget: float, seed: int = 0) -> list[float]:
    """Seconds per day of the package on the same scenario, until the budget runs out."""
    rng = np.random.default_rng(seed)
    truth = rng.random(K) < 0.5
    atoms = [pkg.Atom(f"A{j + 1}") for j in range(K)]

    def trader(j: int, start: int):
        i = 0
        while True:
            i += 1
            target = float(truth[j]) if i >= j + 1 else 0.5
            f = pkg.Sum(pkg.Constant(target), pkg.Product(pkg.Constant(-1), pkg.Price(atoms[j], i)))
            f = pkg.Max(pkg.Constant(-1), pkg.Min(pkg.Constant(1), f))
            yield {atoms[j]: f} if i >= start else {}

    def alarm(signum, frame):
        raise _Interrupted

    inductor = pkg.LogicalInductor()
    times: list[float] = []
    previous = signal.signal(signal.SIGALRM, alarm)
    try:
        for d in range(1, max_days + 1):
            remaining = budget - sum(times)
            if remaining <= 0:
                break
            j = (d - 1) % K
            obs = atoms[j] if truth[j] else pkg.Negation(atoms[j])
            signal.setitimer(signal.ITIMER_REAL, remaining)
            t0 = time.perf_counter()
            try:
                inductor.update(obs, trader(j, d))
            except _Interrupted:
                break
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            times.append(time.perf_counter() - t0)
    finally:
        signal.signal(signal.SIGALRM, previous)
    return times


def large(
    days: int, n_sentences: int = 100, n_traders: int = 100, window: int = 12, seed: int = 0
) -> dict:
    rng = np.random.default_rng(seed)
    n_atoms = days + window + 2
    X = sympy.symbols(f"X1:{n_atoms + 1}")
    truth = rng.random(n_atoms) < 0.5
    cache: dict = {}

    def sentence(slot: int, day: int):
        epoch = (day + slot) // window
        key = (slot, epoch)
        if key not in cache:
            created = max(epoch * window - slot, 0)
            r = np.random.default_rng([seed, slot, epoch])
            idx = created + 1 + r.choice(window, size=int(r.integers(1, 4)), replace=False)
            lits = [X[i - 1] if r.random() < 0.5 else ~X[i - 1] for i in idx]
            op = int(r.integers(3))
            if len(lits) == 1:
                expr = lits[0]
            else:
                expr = (sympy.And, sympy.Or, sympy.Xor)[op](*lits)
            cache[key] = parse_sentence(expr)
        return cache[key]

    def batches():
        d = 0
        while True:
            d += 1
            yield [X[d - 1] if truth[d - 1] else ~X[d - 1]]

    def slot_source(slot: int):
        return lambda day: sentence(slot, day)

    traders = []
    for i in range(n_traders):
        slot = i % n_sentences
        kind = i % 3
        if kind == 0:
            traders.append(
                ThresholdTrader(
                    slot_source(slot),
                    rng.uniform(0.1, 0.9),
                    1 if rng.random() < 0.5 else -1,
                    width=0.1,
                )
            )
        elif kind == 1:
            target = rng.uniform(0.2, 0.8)
            traders.append(ClippedLinearTrader(slot_source(slot), lambda ctx, t=target: t))
        else:
            traders.append(
                AffineTrader(
                    [slot_source(slot), slot_source((slot + 1) % n_sentences)],
                    [1.0, -1.0],
                    rng.uniform(-0.3, 0.3),
                    1 if rng.random() < 0.5 else -1,
                    width=0.1,
                )
            )
    firm = TradingFirm(traders, budgets=(1, 2, 3, 4))
    li = LogicalInductor(
        firm,
        sentences=lambda d: [sentence(i, d) for i in range(n_sentences)],
        deductive=GeneratorProcess(batches()),
        max_atoms=window,
    )
    start = time.perf_counter()
    li.run(days)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "days": days,
        "days_per_second": days / seconds,
        "sentences_priced_per_day": float(np.mean([len(s) for s in li.sentences_of_day])),
        "traders_alive_at_end": sum(acc.lowest > -max(firm.budgets) for acc in firm.accounts),
        "solver_methods": dict(Counter(r.method for r in li.results)),
        "verified": li.verify(),
    }


def paradox(p: float, days: int) -> dict:

    from predmarket.logic.induction import threshold_family
    from predmarket.logic.sentences import self_referential

    @functools.cache
    def chi(n: int):
        return self_referential(f"chi_{n}", n, p)

    li = LogicalInductor(
        TradingFirm(threshold_family(chi, 4), weights="level"), sentences=lambda n: [chi(n)]
    )
    start = time.perf_counter()
    li.run(days)
    seconds = time.perf_counter() - start
    path = np.array([li.price(chi(n), n) for n in range(1, days + 1)])
    return {
        "seconds": seconds,
        "days": days,
        "days_per_second": days / seconds,
        "mean_error_last_quarter": float(np.abs(path[-days // 4 :] - p).mean()),
        "verified": li.verify(),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--no-worlds", action="store_true")
    ap.add_argument("--baseline-seconds", type=float, default=20.0)
    args = ap.parse_args(argv)
    ks = (2, 8) if args.quick else (2, 8, 12, 16)
    for K in ks:
        ours = k_atoms_ours(K, 100)
        targets = {"k16_100_days_under_10s": ours["seconds"] < 10.0} if K == 16 else {}
        print(json.dumps({"case": "k_atoms", "K": K, **ours, "targets": targets}), flush=True)
    if not args.no_baseline:
        pkg = load_baseline()
        for K in ks:
            if pkg is None:
                print(
                    json.dumps(
                        {
                            "case": "k_atoms_vs_logicalinduction",
                            "K": K,
                            "skipped": "logicalinduction 0.1.6 not installable (offline?)",
                        }
                    )
                )
                continue
            times = k_atoms_baseline(pkg, K, 100, args.baseline_seconds)
            days = len(times)
            ours = k_atoms_ours(K, days) if days else None
            line = {
                "case": "k_atoms_vs_logicalinduction",
                "K": K,
                "baseline_days_reached": days,
                "baseline_seconds": sum(times),
                "baseline_last_day_seconds": times[-1] if times else None,
                "ours_seconds_same_days": ours["seconds"] if ours else None,
                "speedup": (sum(times) / ours["seconds"]) if ours else None,
            }
            line["targets"] = {"speedup_at_least_100x": bool(ours) and line["speedup"] >= 100}
            print(json.dumps(line), flush=True)
    for p in (0.4, 0.7):
        print(json.dumps({"case": "paradox", "p": p, **paradox(p, 400)}), flush=True)
    result = large(200 if args.quick else 1000)
    targets = {} if args.quick else {"large_1000_days_under_60s": result["seconds"] <= 60.0}
    print(
        json.dumps(
            {
                "case": "large",
                "sentences": 100,
                "max_open_atoms": 12,
                "traders": 100,
                "budgets": 4,
                **result,
                "targets": targets,
            }
        ),
        flush=True,
    )
    if not args.no_worlds:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from bench_worlds import cases as worlds_cases

        for case in worlds_cases():
            print(json.dumps({"suite": "worlds_market", **case}), flush=True)


if __name__ == "__main__":
    main()
