"""``sweep``: parameters x seeds -> one table (Mesa's ``batch_run``, for markets)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from predmarket.errors import InvalidInput

__all__ = ["summarize", "sweep"]


def summarize(result) -> dict[str, float]:
    """Headline numbers of a :class:`~predmarket.sim.simulation.SimulationResult`.

    ``log_score``: mean over episodes and markets of :math:`\\log P(\\text{outcome})` at
    the end of trading; ``trades``; ``faults``; ``cash_<trader>``: final cash.
    """
    rec = result.recorder
    last = {}
    for episode, day, market, score in rec.rows("scores"):
        if (episode, market) not in last or day >= last[(episode, market)][0]:
            last[(episode, market)] = (day, score)
    scores = [s for _, s in last.values()]
    out = {"log_score": sum(scores) / len(scores) if scores else math.nan,
           "trades": float(result.trades), "faults": float(len(result.faults))}
    out.update({f"cash_{name}": float(c) for name, c in result.cash.items()})
    return out


def sweep(run: Callable[..., Any], grid: Mapping[str, Iterable], *,
          seeds: int | Iterable[int] = 1, show_progress: bool = False,
          as_frame: bool = False):
    """Call ``run(**params, rng=seed)`` for every parameter combination and seed.

    Parameters
    ----------
    run : callable
        Returns a mapping of results, or a
        :class:`~predmarket.sim.simulation.SimulationResult` (summarised with
        :func:`summarize`).
    grid : mapping
        ``{parameter: values}``; the table has one row per element of the product.
    seeds : int or iterable of int
        ``n`` means seeds ``0 .. n-1``.
    show_progress : bool
        A tqdm progress bar over the runs.
    as_frame : bool
        Return a :class:`pandas.DataFrame` instead of a list of dicts.

    Examples
    --------
    >>> rows = sweep(lambda k, rng: {"square": k * k + rng}, {"k": [1, 2]}, seeds=2)
    >>> [(r["k"], r["seed"], r["square"]) for r in rows]
    [(1, 0, 1), (1, 1, 2), (2, 0, 4), (2, 1, 5)]
    """
    if not callable(run):
        raise InvalidInput(f"run must be callable, got {run!r}")
    if not isinstance(grid, Mapping):
        raise InvalidInput(f"grid must map parameter names to values, got {grid!r}")
    names = list(grid)
    values = []
    for name in names:
        vals = grid[name]
        if isinstance(vals, (str, bytes)) or not isinstance(vals, Iterable):
            raise InvalidInput(f"grid[{name!r}] must be a list of values, got {vals!r}")
        vals = list(vals)
        if not vals:
            raise InvalidInput(f"grid[{name!r}] is empty; expected at least one value")
        values.append(vals)
    if isinstance(seeds, bool):
        raise InvalidInput(f"seeds must be a count or a list of ints, got {seeds!r}")
    if isinstance(seeds, int):
        if seeds < 1:
            raise InvalidInput(f"seeds must be >= 1, got {seeds!r}")
        seeds = range(seeds)
    seeds = list(seeds)
    if not seeds or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0
                            for s in seeds):
        raise InvalidInput(f"seeds must be non-negative ints, got {seeds!r}")
    combos = list(itertools.product(*values))
    total = len(combos) * len(seeds)
    bar = None
    if show_progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc="sweep", unit="run")
    rows = []
    try:
        for combo in combos:
            params = dict(zip(names, combo))
            for seed in seeds:
                out = run(**params, rng=seed)
                if hasattr(out, "recorder") and hasattr(out, "faults"):
                    out = summarize(out)
                if not isinstance(out, Mapping):
                    raise InvalidInput(f"run returned {out!r}; expected a mapping of results "
                                       "or a SimulationResult")
                rows.append({**params, "seed": seed, **out})
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    if as_frame:
        import pandas as pd

        return pd.DataFrame(rows)
    return rows
