"""Figures of a simulation's history: price paths with the truth, a calibration
(reliability) diagram, and wealth over time. Saved as PNG.

matplotlib (the ``plot`` extra) is imported inside each function, never at
``import predmarket``. Every function takes a :class:`~predmarket.sim.Recorder` or the path
of a history database written by :meth:`~predmarket.sim.Recorder.save`, returns the
:class:`matplotlib.figure.Figure`, and writes a PNG when ``path`` is given.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from predmarket.errors import InvalidInput

__all__ = ["calibration", "calibration_table", "price_paths", "save_figures", "wealth"]


def _history(history: Any):
    from predmarket.sim.recorder import Recorder

    if isinstance(history, Recorder):
        return history
    if isinstance(history, (str, Path)):
        return Recorder.load(history)
    raise InvalidInput(f"history must be a Recorder or the path of a saved history, got "
                       f"{history!r}")


def _figure(width: float = 7.0, height: float = 4.0):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _finish(fig, path):
    if path is not None:
        path = Path(path)
        if path.suffix.lower() != ".png":
            raise InvalidInput(f"figures are saved as PNG; got the path {str(path)!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format="png")
    return fig


def price_paths(history: Any, events=None, *, episode: int = 0, path=None):
    """Prices of the recorded events through one episode, with each event's truth marked
    (a filled circle at 1 if it happened, hollow at 0 if not) after the last round."""
    rec = _history(history)
    rows = [r for r in rec.rows("prices") if r[0] == episode]
    labels = list(dict.fromkeys(r[2] for r in rows))
    if events is not None:
        wanted = [e if isinstance(e, str) else str(e) for e in events]
        unknown = [e for e in wanted if e not in labels]
        if unknown:
            raise InvalidInput(f"events {unknown!r} were not recorded; recorded: {labels!r}")
        labels = wanted
    if not labels:
        raise InvalidInput(f"no prices recorded for episode {episode}; record events with "
                           "Recorder(events=[...])")
    truth = {r[1]: r[3] for r in rec.rows("outcomes") if r[0] == episode}
    fig = _figure()
    ax = fig.add_subplot()
    for i, label in enumerate(labels):
        series = sorted((r[1], r[3]) for r in rows if r[2] == label)
        days = [d for d, _ in series]
        color = f"C{i % 10}"
        ax.plot(days, [p for _, p in series], marker=".", color=color, label=label)
        if label in truth and not math.isnan(truth[label]):
            t = truth[label]
            ax.plot([days[-1] + 0.3 + 0.12 * i], [t], marker="o", markersize=9, color=color,
                    markerfacecolor=color if t >= 0.5 else "white", linestyle="none")
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("round")
    ax.set_ylabel("price")
    ax.set_title(f"Price paths, episode {episode} (circles: truth, filled = happened)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="best")
    return _finish(fig, path)


def calibration_table(history: Any, *, bins: int = 10) -> list[tuple[float, float, float,
                                                                         float, int]]:
    """Rows ``(low, high, mean price, frequency, count)`` over equal-width price bins,
    from each recorded event's last price and its truth (events the observation left
    open are skipped).

    >>> from predmarket.sim import Recorder
    >>> rec = Recorder()
    >>> for row in [(0, "e", 0.2, 0.0), (1, "e", 0.25, 1.0), (2, "e", 0.9, 1.0)]:
    ...     rec.add("outcomes", row)
    >>> calibration_table(rec, bins=2)
    [(0.0, 0.5, 0.225, 0.5, 2), (0.5, 1.0, 0.9, 1.0, 1)]
    """
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise InvalidInput(f"bins must be an integer >= 1, got {bins!r}")
    rec = _history(history)
    pairs = np.array([(p, t) for _, _, p, t in rec.rows("outcomes") if t in (0.0, 1.0)],
                     dtype=float).reshape(-1, 2)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, pairs[:, 0], side="right") - 1, 0, bins - 1)
    table = []
    for k in range(bins):
        sel = which == k
        n = int(sel.sum())
        if n:
            table.append((float(edges[k]), float(edges[k + 1]), float(pairs[sel, 0].mean()),
                          float(pairs[sel, 1].mean()), n))
    return table


def calibration(history: Any, *, bins: int = 10, path=None):
    """Reliability diagram: how often events happened against the price they closed at."""
    table = calibration_table(history, bins=bins)
    if not table:
        raise InvalidInput("no resolved events recorded: run a simulation with a world and "
                           "Recorder(events=[...])")
    fig = _figure(5.0, 5.0)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    x = [r[2] for r in table]
    y = [r[3] for r in table]
    n = np.array([r[4] for r in table], dtype=float)
    ax.plot(x, y, color="C0", marker="none")
    ax.scatter(x, y, s=30 + 170 * n / n.max(), color="C0", zorder=3,
               label="market (area ~ count)")
    for r in table:
        ax.annotate(str(r[4]), (r[2], r[3]), textcoords="offset points", xytext=(6, -10),
                    fontsize="x-small")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("closing price")
    ax.set_ylabel("observed frequency")
    ax.set_title(f"Calibration ({int(n.sum())} event outcomes)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
    return _finish(fig, path)


def wealth(history: Any, *, path=None):
    """Each trader's wealth (cash plus holdings marked to market, summed over markets)
    through the run; episodes are separated by dotted lines."""
    rec = _history(history)
    rows = rec.rows("accounts")
    if not rows:
        raise InvalidInput("no account series recorded (Recorder(accounts=True))")
    days = max(r[1] for r in rows) + 1
    totals: dict[str, dict[int, float]] = {}
    for episode, day, trader, _market, cash, _worst, value in rows:
        t = episode * days + day
        v = cash if value is None or math.isnan(value) else value
        totals.setdefault(trader, {})
        totals[trader][t] = totals[trader].get(t, 0.0) + v
    fig = _figure()
    ax = fig.add_subplot()
    for i, (trader, series) in enumerate(totals.items()):
        ts = sorted(series)
        ax.plot(ts, [series[t] for t in ts], color=f"C{i % 10}", label=trader)
    episodes = max(r[0] for r in rows) + 1
    for e in range(1, episodes):
        ax.axvline(e * days - 0.5, color="grey", linestyle=":", linewidth=0.8)
    ax.set_xlabel("time (rounds, episodes back to back)")
    ax.set_ylabel("wealth")
    ax.set_title("Wealth over time")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="best")
    return _finish(fig, path)


def save_figures(history: Any, directory, *, episode: int = 0) -> list[Path]:
    """Write ``prices.png``, ``calibration.png`` and ``wealth.png`` (those the history
    has data for) into ``directory``; return their paths."""
    rec = _history(history)
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    if rec.rows("prices"):
        price_paths(rec, episode=episode, path=out / "prices.png")
        written.append(out / "prices.png")
    if calibration_table(rec):
        calibration(rec, path=out / "calibration.png")
        written.append(out / "calibration.png")
    if rec.rows("accounts"):
        wealth(rec, path=out / "wealth.png")
        written.append(out / "wealth.png")
    return written
