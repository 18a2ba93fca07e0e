"""Benchmark of the worlds layer: SAT world enumeration and the ``WorldsMarket``.

What is measured (one JSON line per case, each with a baseline run in the same process)
----------------------------------------------------------------------------------------
``enumerate``
    ``enumerate_worlds(atoms, theorems)`` for ``k`` atoms under the theory
    ``{a_i -> a_{i+1}}`` on the first ``m`` atoms (so ``m + 1`` consistent assignments of
    them) and ``k - m`` free atoms, against the *brute-force baseline*: build all
    :math:`2^k` assignments as a numpy Boolean table and keep the rows satisfying every
    theorem (vectorised). Fields: ``worlds``, ``seconds``, ``baseline_seconds``,
    ``speedup`` (baseline / ours), ``same_worlds`` (the two sets agree).
``enumerate_sparse``
    ``k`` = 60 and 300 atoms chained by equivalences (2 worlds), where :math:`2^k` rows are
    out of reach; the baseline is sympy's own ``satisfiable(all_models=True)`` on the
    conjunction (the pure-Python fallback).
``enumerate_random_3cnf``
    a random 3-CNF over 40 atoms with 120 clauses (seeded; about 19,000 models), against
    sympy's ``satisfiable(all_models=True)``. Blocking-clause enumeration pays one solver
    call per world; sympy's DPLL enumerator backtracks instead and is faster when the
    models run into the tens of thousands.
``worlds_market_days``
    the issue's scenario on a ``WorldsMarket``: ``K`` atomic sentences; day ``n`` reveals
    atom ``n`` (for ``n <= K``) as a proof and adds one trader; every trader ``i`` pushes the
    price of atom ``i`` toward 0.5 while it is open (a clipped linear move: half-way to 0.5,
    by ``target``) and stops once it is revealed. Baseline: the same trades on the core
    ``Market`` over ``K`` binary variables (observation of a variable in place of a proof).
    Fields: ``days``, ``days_per_second``, ``baseline_days_per_second``, ``speedup``,
    ``sentences`` (priced per day), ``same_prices`` (final prices agree to 1e-9).
``worlds_market_prices``
    pricing 200 compound sentences (random 3-literal clauses over ``K`` atoms) on a
    ``WorldsMarket`` after 50 trades, against evaluating each sentence by sympy
    substitution on every world (the obvious implementation). Fields:
    ``sentences_per_second``, ``baseline_sentences_per_second``, ``speedup``.

How to run
----------
::

    PYTHONPATH=. python benchmarks/bench_worlds.py          # about half a minute

``cases()`` yields the same dicts, for other benchmarks to import.
"""

from __future__ import annotations

import json
import time

import numpy as np
import sympy


def _brute_force(atoms: list[str], theorems: list[tuple[int, int]]) -> np.ndarray:
    """All 2^k assignments, kept when every implication a_i -> a_j holds (vectorised)."""
    k = len(atoms)
    codes = np.arange(2**k, dtype=np.int64)
    table = ((codes[:, None] >> np.arange(k)) & 1).astype(bool)
    keep = np.ones(len(table), dtype=bool)
    for i, j in theorems:
        keep &= ~table[:, i] | table[:, j]
    return table[keep]


def _enumerate_case(k: int, m: int) -> dict:
    from predmarket.logic.worlds import enumerate_worlds

    atoms = [f"a{i}" for i in range(k)]
    pairs = [(i, i + 1) for i in range(m - 1)]
    theorems = [f"a{i} -> a{j}" for i, j in pairs]
    t0 = time.perf_counter()
    w = enumerate_worlds(atoms, theorems, max_worlds=1 << 22)
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    base = _brute_force(atoms, pairs)
    baseline = time.perf_counter() - t0
    same = {r.tobytes() for r in w.table} == {r.tobytes() for r in base}
    return {
        "case": "enumerate",
        "k": k,
        "constrained": m,
        "worlds": len(w),
        "seconds": round(ours, 5),
        "baseline_seconds": round(baseline, 5),
        "speedup": round(baseline / ours, 2),
        "same_worlds": bool(same),
    }


def _sparse_case(k: int) -> dict:
    from sympy.logic.inference import satisfiable

    from predmarket.logic.sentences import parse_sentence
    from predmarket.logic.worlds import enumerate_worlds

    atoms = [f"p{i}" for i in range(k)]
    theorems = [parse_sentence(f"p{i} <-> p{i + 1}") for i in range(k - 1)]  # both get formulas
    t0 = time.perf_counter()
    w = enumerate_worlds(atoms, theorems)
    ours = time.perf_counter() - t0
    formula = sympy.And(*theorems)
    t0 = time.perf_counter()
    models = list(satisfiable(formula, all_models=True))
    baseline = time.perf_counter() - t0
    return {
        "case": "enumerate_sparse",
        "k": k,
        "worlds": len(w),
        "seconds": round(ours, 5),
        "baseline": "sympy satisfiable(all_models=True)",
        "baseline_seconds": round(baseline, 5),
        "speedup": round(baseline / ours, 2),
        "same_worlds": len(models) == len(w),
    }


def _random_3cnf_case(k: int, ratio: float, seed: int) -> dict:
    from sympy.logic.inference import satisfiable

    from predmarket.logic.sentences import parse_sentence
    from predmarket.logic.worlds import enumerate_worlds

    rng = np.random.default_rng(seed)
    clauses = []
    for _ in range(int(ratio * k)):
        picks = rng.choice(k, size=3, replace=False)
        signs = rng.random(3) < 0.5
        clauses.append(
            " | ".join(("~" if s else "") + f"x{i}" for i, s in zip(picks, signs, strict=True))
        )
    theorems = [parse_sentence(c) for c in clauses]
    t0 = time.perf_counter()
    w = enumerate_worlds([f"x{i}" for i in range(k)], theorems, max_worlds=1 << 20)
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    n_models = sum(1 for _ in satisfiable(sympy.And(*theorems), all_models=True))
    baseline = time.perf_counter() - t0
    return {
        "case": "enumerate_random_3cnf",
        "k": k,
        "clauses": len(clauses),
        "seed": seed,
        "worlds": len(w),
        "seconds": round(ours, 4),
        "baseline": "sympy satisfiable(all_models=True)",
        "baseline_seconds": round(baseline, 4),
        "speedup": round(baseline / ours, 2),
        "same_worlds": n_models == len(w),
    }


def _days_case(K: int, days: int) -> dict:
    from predmarket import Market, OutcomeSpace, Variable
    from predmarket.logic.worlds_market import WorldsMarket

    rng = np.random.default_rng(K)
    truth = rng.random(K) < 0.5
    names = [f"s{i}" for i in range(K)]

    def run_worlds():
        m = WorldsMarket(names, liquidity=10.0)
        traders = []
        for day in range(1, days + 1):
            if day <= K:
                i = day - 1
                m.observe(names[i] if truth[i] else f"~{names[i]}")
                traders.append(i)
                m.open_account(f"t{i}", 1e6)
            for i in traders:
                (p,) = m.prices([names[i]]).values()  # 0 or 1 once revealed
                if 0.0 < p < 1.0 and abs(p - 0.5) > 1e-12:
                    m.target(f"t{i}", names[i], p + 0.5 * (0.5 - p))
            m.prices([names[i] for i in range(K)])
        return m, list(m.prices(names).values())

    def run_core():
        space = OutcomeSpace([Variable(n, ["0", "1"]) for n in names])
        m = Market(space, liquidity=10.0)
        traders = []
        for day in range(1, days + 1):
            if day <= K:
                i = day - 1
                m.observe({names[i]: "1" if truth[i] else "0"})
                traders.append(i)
                m.open_account(f"t{i}", 1e6)
            for i in traders:
                if names[i] in m.observed:
                    continue
                p = m.marginal(names[i])["1"]
                if abs(p - 0.5) > 1e-12:
                    m.target(f"t{i}", f"{names[i]} == 1", p + 0.5 * (0.5 - p))
            for n in names:
                m.marginal(n)
        return m, [m.marginal(n)["1"] for n in names]

    t0 = time.perf_counter()
    _, ours_prices = run_worlds()
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    _, core_prices = run_core()
    base = time.perf_counter() - t0
    return {
        "case": "worlds_market_days",
        "K": K,
        "days": days,
        "worlds": 2**K,
        "seconds": round(ours, 4),
        "days_per_second": round(days / ours, 1),
        "baseline": "core Market over K binary variables",
        "baseline_days_per_second": round(days / base, 1),
        "speedup": round(base / ours, 2),
        "sentences": K,
        "same_prices": bool(np.allclose(ours_prices, core_prices, atol=1e-9)),
    }


def _prices_case(K: int, n_sentences: int) -> dict:
    from predmarket.logic.sentences import parse_sentence
    from predmarket.logic.worlds_market import WorldsMarket

    rng = np.random.default_rng(7)
    names = [f"s{i}" for i in range(K)]
    m = WorldsMarket(names, liquidity=5.0)
    m.open_account("x", 1e9)
    for _ in range(50):
        i = int(rng.integers(K))
        m.buy("x", names[i], float(rng.normal(0, 3)))
    sentences = []
    for _ in range(n_sentences):
        picks = rng.choice(K, size=3, replace=False)
        signs = rng.random(3) < 0.5
        sentences.append(
            " | ".join(("~" if s else "") + names[j] for j, s in zip(picks, signs, strict=True))
        )
    parsed = [parse_sentence(s) for s in sentences]
    t0 = time.perf_counter()
    ours = [m.price(s) for s in parsed]
    t_ours = time.perf_counter() - t0
    probs = m.probabilities()
    assignments = [m.worlds.assignment(i) for i in range(len(m.worlds))]
    subset = parsed[:5]  # the baseline is slow: time a few and scale
    t0 = time.perf_counter()
    base = [
        sum(p for p, w in zip(probs, assignments, strict=True) if bool(s.xreplace(w)))
        for s in subset
    ]
    t_base = (time.perf_counter() - t0) * len(parsed) / len(subset)
    return {
        "case": "worlds_market_prices",
        "K": K,
        "worlds": len(m.worlds),
        "sentences": n_sentences,
        "sentences_per_second": round(n_sentences / t_ours, 1),
        "baseline": "sympy substitution on every world",
        "baseline_sentences_per_second": round(n_sentences / t_base, 2),
        "speedup": round(t_base / t_ours, 1),
        "same_prices": bool(np.allclose(ours[:5], base, atol=1e-9)),
    }


def cases():
    """Yield one JSON-able dict per benchmark case (see the module docstring)."""
    for k, m in [(12, 12), (16, 8), (20, 10)]:
        yield _enumerate_case(k, m)
    for k in (60, 300):
        yield _sparse_case(k)
    yield _random_3cnf_case(40, 3.0, 0)
    for K, days in [(8, 100), (12, 100), (16, 100)]:
        yield _days_case(K, days)
    yield _prices_case(12, 200)


def main() -> None:
    for case in cases():
        print(json.dumps(case), flush=True)


if __name__ == "__main__":
    main()
