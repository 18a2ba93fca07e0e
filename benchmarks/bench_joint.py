"""Benchmark of the explicit-joint market (``Market`` over ``JointMaker``) against a naive LMSR.

What is measured
----------------
For ``k`` binary variables ``x0 .. x{k-1}`` (states ``"0"``/``"1"``, so ``2**k`` joint
outcomes; default ``k`` = 10, 16, 20, 24), liquidity ``b = 100`` and two events:

* ``narrow``: a 3-variable conjunction over variables spread across the axis order,
  ``x0 == 1 & x{k//2} == 0 & x{k-1} == 1`` (1/8 of the outcomes);
* ``half``: the 1-variable event ``x3 == 1`` (1/2 of the outcomes).

For each (k, event) one JSON line is printed with

* ``price_ms_median`` / ``price_ms_p90``: one ``Market.price(event)`` call (event passed as
  the string, as a user would; it is compiled once, before timing, and then served from
  the space's event cache);
* ``trade_ms_median`` / ``trade_ms_p90`` (and ``trade_ms_max``): one
  ``Market.buy(account, event, shares)`` call. Shares alternate in sign with magnitudes
  drawn uniformly from [1, 10] (seeded ``numpy.random.Generator``), so prices stay
  moderate; the account is funded with 1e9 so no trade is refused;
* ``maker_trade_ms_median``: the same share sequence applied directly to the maker,
  ``maker.apply([E.selection, (~E).selection], [x, 0.0])`` with the selections built before
  timing; the difference to ``trade_ms_median`` is the ``Market`` overhead (event lookup,
  budget check, holdings bookkeeping, ledger);
* ``peak_mib``: ``tracemalloc`` peak (MiB) over building the market, opening the account
  and doing the same trades through ``Market.buy``, in a separate untimed pass
  (tracemalloc slows Python code down). ``Market`` allocates an account's holdings array
  (one double per joint outcome) lazily, when pending holdings updates are folded; with
  one repeated event that may never happen, so the peak may not include it;
* ``naive_price_ms_median`` / ``naive_trade_ms_median``: a naive LMSR in the same process,
  a float64 share vector ``q`` over all ``2**k`` outcomes and a boolean mask of the event.
  A naive trade does ``q[mask] += x`` and prices it as ``b*logsumexp(q/b)`` after minus
  before (the "before" value is cached from the previous trade); a naive price query is
  a full softmax sum, ``e = exp(q/b - max(q/b)); e[mask].sum() / e.sum()``;
* ``price_speedup`` / ``trade_speedup``: naive median / ``Market`` median;
* ``targets``: the issue's targets -- ``Market.buy`` median <= 0.5 ms at k = 20 and
  <= 10 ms at k = 24, and a trade speedup >= 20x over the naive baseline at k = 20 --
  with a boolean per target (empty for k without targets);
* ``costs_match``: sanity check that the naive trades, replayed from the same start state,
  cost what ``Market.buy`` charged (relative tolerance 1e-8) and end at the same price.

Repetitions: 200 price queries and 200 trades per case for k <= 20, 30 for larger k
(``--repeats N`` overrides this for every k). A few warm-up calls precede each timed loop.
Times come from ``time.perf_counter`` around each single call; medians and 90th percentiles
are over those calls. Each case uses a fresh market. The share sizes keep the maker's
accumulated rescaling well below its resync threshold, so the timings contain no full
cache rebuild (an O(2**k) ``exp`` that the maker amortises over many trades).

How to run
----------
::

    python benchmarks/bench_joint.py                            # all four k, under a minute
    python benchmarks/bench_joint.py --ks 10,16 --repeats 50   # quick run

k = 24 needs about 1.1 GB of memory: a market holds two joint-sized arrays (128 MiB each at
k = 24) but briefly needs about eight while it is built, and the naive baseline needs a
few more.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc

import numpy as np
from scipy.special import logsumexp

from predmarket import Market, OutcomeSpace, Variable

LIQUIDITY = 100.0
CASH = 1e9
SEED = 20240611
WARMUP = 3
SHARE_RANGE = (1.0, 10.0)
DEFAULT_KS = (10, 16, 20, 24)
#: The issue's targets: Market.buy median (ms) per k, and minimum trade speedup per k.
TRADE_MS_TARGET = {20: 0.5, 24: 10.0}
SPEEDUP_TARGET = {20: 20.0}


def make_space(k: int) -> OutcomeSpace:
    return OutcomeSpace([Variable(f"x{i}", ["0", "1"]) for i in range(k)])


def event_spec(k: int, width: str) -> str:
    if width == "narrow":
        return f"x0 == 1 & x{k // 2} == 0 & x{k - 1} == 1"
    if width == "half":
        return "x3 == 1"
    raise ValueError(width)


def share_sequence(n: int, seed: int) -> np.ndarray:
    """``n`` share amounts alternating +, -, +, ... with magnitudes in SHARE_RANGE."""
    rng = np.random.default_rng(seed)
    mags = rng.uniform(*SHARE_RANGE, size=n)
    signs = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    return mags * signs


def build(k: int):
    market = Market(make_space(k), LIQUIDITY)
    account = market.open_account("bench", cash=CASH)
    return market, account


def ms_stats(times: list[float]) -> tuple[float, float, float]:
    a = np.asarray(times) * 1e3
    return float(np.median(a)), float(np.percentile(a, 90)), float(a.max())


def measure_peak(k: int, spec: str, n_trades: int) -> float:
    """tracemalloc peak (MiB) over building the market and trading through Market.buy."""
    shares = np.concatenate([share_sequence(WARMUP, SEED + 1000 + k),
                             share_sequence(n_trades, SEED + k)])
    tracemalloc.start()
    try:
        market, account = build(k)
        for x in shares:
            market.buy(account, spec, float(x))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del market
    return peak / 2**20


def measure_ours(k: int, spec: str, n_prices: int, n_trades: int) -> dict:
    market, account = build(k)
    event = market.event(spec)  # compiled once; Market calls below hit the cache
    warm = share_sequence(WARMUP, SEED + 1000 + k)
    for x in warm:
        market.price(spec)
        market.buy(account, spec, float(x))
    log_state = market.maker.log_weights()  # start state for the naive replay

    price_t = []
    for _ in range(n_prices):
        t0 = time.perf_counter()
        market.price(spec)
        price_t.append(time.perf_counter() - t0)

    shares = share_sequence(n_trades, SEED + k)
    trade_t, costs = [], []
    for x in shares:
        x = float(x)
        t0 = time.perf_counter()
        c = market.buy(account, spec, x)
        trade_t.append(time.perf_counter() - t0)
        costs.append(c)
    final_price = market.price(spec)

    maker = market.maker
    parts = [event.selection, (~event).selection]
    for x in warm:
        maker.apply(parts, [float(x), 0.0])
    maker_t = []
    for x in shares:
        values = [float(x), 0.0]
        t0 = time.perf_counter()
        maker.apply(parts, values)
        maker_t.append(time.perf_counter() - t0)

    mask = np.array(event.mask)
    del market, maker, parts
    return {
        "price": ms_stats(price_t),
        "trade": ms_stats(trade_t),
        "maker": ms_stats(maker_t),
        "costs": np.asarray(costs),
        "final_price": final_price,
        "start_q": LIQUIDITY * log_state,
        "mask": mask,
        "shares": shares,
    }


def measure_naive(q: np.ndarray, mask: np.ndarray, shares: np.ndarray, n_prices: int):
    """Naive LMSR on the explicit share vector ``q`` (modified in place)."""
    b = LIQUIDITY

    def price() -> float:
        s = q / b
        e = np.exp(s - s.max())
        return float(e[mask].sum() / e.sum())

    price()
    price_t = []
    for _ in range(n_prices):
        t0 = time.perf_counter()
        price()
        price_t.append(time.perf_counter() - t0)

    before = b * float(logsumexp(q / b))
    trade_t, costs = [], []
    for x in shares:
        x = float(x)
        t0 = time.perf_counter()
        q[mask] += x
        after = b * float(logsumexp(q / b))
        cost = after - before
        before = after
        trade_t.append(time.perf_counter() - t0)
        costs.append(cost)
    return ms_stats(price_t), ms_stats(trade_t), np.asarray(costs), price()


def r(v: float) -> float:
    return round(float(v), 4)


def targets_for(k: int, trade_ms: float, trade_speedup: float) -> dict:
    out = {}
    if k in TRADE_MS_TARGET:
        out["trade_ms_median_max"] = TRADE_MS_TARGET[k]
        out["trade_ms_met"] = bool(trade_ms <= TRADE_MS_TARGET[k])
    if k in SPEEDUP_TARGET:
        out["trade_speedup_min"] = SPEEDUP_TARGET[k]
        out["trade_speedup_met"] = bool(trade_speedup >= SPEEDUP_TARGET[k])
    return out


def run_case(k: int, width: str, repeats: int | None) -> dict:
    n = repeats if repeats is not None else (200 if k <= 20 else 30)
    spec = event_spec(k, width)
    peak = measure_peak(k, spec, n)
    ours = measure_ours(k, spec, n, n)
    q = ours.pop("start_q")
    n_price, n_trade, n_costs, n_final = measure_naive(q, ours["mask"], ours["shares"], n)
    del q
    costs_match = bool(np.allclose(n_costs, ours["costs"], rtol=1e-8, atol=1e-9)
                       and abs(n_final - ours["final_price"]) < 1e-9)
    price_speedup = n_price[0] / ours["price"][0]
    trade_speedup = n_trade[0] / ours["trade"][0]
    return {
        "case": "joint",
        "k": k,
        "event": width,
        "price_ms_median": r(ours["price"][0]),
        "price_ms_p90": r(ours["price"][1]),
        "trade_ms_median": r(ours["trade"][0]),
        "trade_ms_p90": r(ours["trade"][1]),
        "maker_trade_ms_median": r(ours["maker"][0]),
        "naive_price_ms_median": r(n_price[0]),
        "naive_trade_ms_median": r(n_trade[0]),
        "price_speedup": round(price_speedup, 2),
        "trade_speedup": round(trade_speedup, 2),
        "peak_mib": round(peak, 1),
        "targets": targets_for(k, ours["trade"][0], trade_speedup),
        "trade_ms_max": r(ours["trade"][2]),
        "repeats": n,
        "costs_match": costs_match,
        "event_spec": spec,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ks", default=",".join(map(str, DEFAULT_KS)),
                        help="comma-separated numbers of binary variables (default 10,16,20,24)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="price queries and trades per case (default 200 for k<=20, else 30)")
    args = parser.parse_args(argv)
    ks = [int(s) for s in args.ks.split(",") if s.strip()]
    if any(k < 4 for k in ks):
        parser.error("every k must be >= 4 (the 'half' event uses x3)")
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be >= 1")
    for k in ks:
        for width in ("narrow", "half"):
            print(json.dumps(run_case(k, width, args.repeats)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
