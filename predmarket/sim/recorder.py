"""``Recorder``: the series a simulation leaves behind, in memory and in SQLite.

Tables (long format, one row per observation; ``day`` runs from 0, the state before any
trade, to ``rounds``, the state just before settlement):

=============  ===========================================================================
``prices``     episode, day, event, price
``accounts``   episode, day, trader, market, cash, min_asset, wealth
``scores``     episode, day, market, log_score
``trades``     episode, day, trader, market, kind, event, given, amount, cost,
               price_before, price_after
``refusals``   episode, day, trader, market, order, error, reason
``faults``     episode, day, trader, kind, message
``outcomes``   episode, event, price, truth
``settlements`` episode, trader, market, payout, cash
=============  ===========================================================================

``wealth`` marks holdings to market, :math:`\\text{cash} + \\sum_o P(o)\\,h(o)` with
:math:`h(o)` what settlement would pay on observable outcome :math:`o` (NaN when the
market's ``assets`` and ``probabilities`` are not over the same outcomes, e.g. with
latent variables). ``log_score`` is :math:`\\log P(\\text{observed outcome})` under the
market's prices at that moment: the quantity a market maximises in expectation when its
prices are the truth. ``outcomes`` pairs each recorded event's last price with its truth
(1 or 0; the price after observing, for events the observation leaves open), which is what
a calibration diagram needs.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Mapping
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np

from predmarket.errors import ImpossibleEvent, InvalidInput, PredmarketError

__all__ = ["TABLES", "Recorder", "event_text", "outcome_event"]

TABLES: dict[str, tuple[str, ...]] = {
    "prices": ("episode", "day", "event", "price"),
    "accounts": ("episode", "day", "trader", "market", "cash", "min_asset", "wealth"),
    "scores": ("episode", "day", "market", "log_score"),
    "trades": ("episode", "day", "trader", "market", "kind", "event", "given", "amount",
               "cost", "price_before", "price_after"),
    "refusals": ("episode", "day", "trader", "market", "order", "error", "reason"),
    "faults": ("episode", "day", "trader", "kind", "message"),
    "outcomes": ("episode", "event", "price", "truth"),
    "settlements": ("episode", "trader", "market", "payout", "cash"),
}
_TEXT_COLUMNS = {"event", "trader", "market", "kind", "given", "order", "error", "reason",
                 "message"}


def event_text(spec: Any) -> str:
    """An event written as text (mappings become conjunctions).

    >>> event_text({"rain": "yes", "wind": "calm"})
    'rain == "yes" & wind == "calm"'
    """
    if isinstance(spec, Mapping):
        return outcome_event(spec)
    return str(spec)


def outcome_event(outcome: Mapping[str, Any]) -> str:
    """The event ``v1 == s1 & v2 == s2 & ...`` of an observation (states quoted)."""
    return " & ".join(f"{name} == {json.dumps(str(state))}" for name, state in outcome.items())


class Recorder:
    """Collects a simulation's series (Mesa's ``DataCollector``, for markets).

    Parameters
    ----------
    events : sequence, optional
        Events whose prices to record: an event (text, mapping or Event) for the default
        market, or a pair ``(market name, event)``. Checked against the market when the
        simulation starts: an event the market cannot price is an error.
    accounts : bool
        Record every account's cash, worst case and wealth.

    Examples
    --------
    >>> from predmarket import Market, OutcomeSpace, Variable
    >>> from predmarket.sim import Simulation, Target
    >>> space = OutcomeSpace([Variable("rain", ["yes", "no"])])
    >>> rec = Recorder(["rain == yes"])
    >>> sim = Simulation(lambda: Market(space, 10.0), {"a": lambda v: Target("rain == yes", 0.8)},
    ...                  rounds=2, world=lambda rng: {"rain": "yes"}, recorder=rec, rng=0)
    >>> _ = sim.run()
    >>> [round(r[3], 2) for r in rec.rows("prices")]
    [0.5, 0.8, 0.8]
    >>> [(ep, event, round(price, 2), truth) for ep, event, price, truth in rec.rows("outcomes")]
    [(0, 'rain == yes', 0.8, 1.0)]
    """

    def __init__(self, events=(), *, accounts: bool = True):
        if isinstance(events, (str, Mapping)):
            events = [events]
        self.events: list[tuple[str | None, Any, str]] = []
        for item in events:
            if isinstance(item, tuple):
                if len(item) != 2 or not isinstance(item[0], str):
                    raise InvalidInput(
                        f"recorded event {item!r} must be an event or a pair (market name, "
                        "event)")
                market, spec = item
                label = f"{market}:{event_text(spec)}"
            else:
                market, spec = None, item
                label = event_text(spec)
            self.events.append((market, spec, label))
        self.record_accounts = bool(accounts)
        self.meta: dict[str, Any] = {}
        self._rows: dict[str, list[tuple]] = {name: [] for name in TABLES}

    # -- access --------------------------------------------------------------------------
    def rows(self, table: str) -> list[tuple]:
        """The rows of one table (tuples in the order of :data:`TABLES`)."""
        self._check_table(table)
        return self._rows[table]

    def columns(self, table: str) -> tuple[str, ...]:
        self._check_table(table)
        return TABLES[table]

    def to_dataframe(self, table: str = "prices"):
        """One table as a :class:`pandas.DataFrame` (pandas is imported here)."""
        self._check_table(table)
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - pandas is installed in CI
            raise ImportError("Recorder.to_dataframe needs pandas: pip install pandas") from exc
        return pd.DataFrame(self._rows[table], columns=list(TABLES[table]))

    @staticmethod
    def _check_table(table: str) -> None:
        if table not in TABLES:
            raise InvalidInput(f"unknown table {table!r}; expected one of {list(TABLES)!r}")

    # -- persistence ---------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write every table and the metadata to a SQLite database (replacing it)."""
        path = Path(path)
        if path.exists():
            path.unlink()
        db = sqlite3.connect(path)
        with closing(db), db:
            db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
            db.executemany("INSERT INTO meta VALUES (?, ?)",
                           [(k, json.dumps(v)) for k, v in self.meta.items()])
            db.execute("CREATE TABLE recorded_events (position INTEGER, market TEXT, "
                       "label TEXT)")
            db.executemany("INSERT INTO recorded_events VALUES (?, ?, ?)",
                           [(i, m, label) for i, (m, _, label) in enumerate(self.events)])
            for name, cols in TABLES.items():
                decl = ", ".join(f'"{c}" {"TEXT" if c in _TEXT_COLUMNS else "REAL"}'
                                 for c in cols)
                db.execute(f"CREATE TABLE {name} ({decl})")
                marks = ", ".join("?" for _ in cols)
                db.executemany(f"INSERT INTO {name} VALUES ({marks})", self._rows[name])
        return path

    @classmethod
    def load(cls, path: str | Path) -> Recorder:
        """Read a history written by :meth:`save`."""
        path = Path(path)
        if not path.is_file():
            raise InvalidInput(f"no history database at {str(path)!r}")
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            with closing(db):
                rec = cls()
                rec.meta = {k: json.loads(v) for k, v in db.execute("SELECT key, value FROM meta")}
                rec.events = [(m, label.split(":", 1)[1] if m else label, label) for m, label in
                              db.execute("SELECT market, label FROM recorded_events "
                                         "ORDER BY position")]
                for name, cols in TABLES.items():
                    rec._rows[name] = [
                        tuple(_restore(c, v) for c, v in zip(cols, row))
                        for row in db.execute("SELECT " + ", ".join(f'"{c}"' for c in cols) + f" FROM {name}")]
        except sqlite3.DatabaseError as exc:
            raise InvalidInput(f"{str(path)!r} is not a predmarket history: {exc}") from None
        return rec

    # -- called by the simulation ----------------------------------------------------------
    def attach(self, markets: Mapping[str, Any], default: str) -> None:
        """Check that every recorded event can be priced by its market."""
        for market, spec, label in self.events:
            name = default if market is None else market
            if name not in markets:
                raise InvalidInput(f"recorded event {label!r} names market {name!r}; the "
                                   f"simulation has {list(markets)!r}")
            try:
                markets[name].price(spec)
            except PredmarketError as exc:
                raise InvalidInput(f"recorded event {label!r} cannot be priced: {exc}") from None

    def record(self, episode: int, day: int, markets: Mapping[str, Any], default: str,
               traders, observations: Mapping[str, Any] | None) -> None:
        """Record prices, accounts and log scores at one moment."""
        prices = self._rows["prices"]
        for market, spec, label in self.events:
            prices.append((episode, day, label, _safe_price(
                markets[default if market is None else market], spec)))
        if self.record_accounts:
            rows = self._rows["accounts"]
            for mname, m in markets.items():
                probs = None
                for trader in traders:
                    cash = float(m.cash(trader))
                    if m.settled:
                        rows.append((episode, day, trader, mname, cash, cash, cash))
                        continue
                    if probs is None:
                        probs = np.asarray(m.probabilities(), dtype=float).ravel()
                    # final cash per outcome, nan where ruled out: its minimum is min_asset
                    assets = np.asarray(m.assets(trader), dtype=float).ravel()
                    possible = ~np.isnan(assets)
                    worst = float(assets[possible].min())
                    wealth = float(probs[possible].dot(assets[possible])) \
                        if assets.size == probs.size else math.nan
                    rows.append((episode, day, trader, mname, cash, worst, wealth))
        if observations:
            scores = self._rows["scores"]
            for mname, obs in observations.items():
                if not markets[mname].settled:
                    p = _safe_price(markets[mname], outcome_event(obs))
                    scores.append((episode, day, mname, math.log(p) if p > 0 else -math.inf))

    def outcomes(self, episode: int, markets: Mapping[str, Any], default: str,
                 observations: Mapping[str, Any]) -> None:
        """Reveal each market's outcome and record every recorded event's truth.

        Called before settlement: observes the outcome (through ``observe``), so an
        event's price becomes its truth, 0 when the observation rules it out.
        """
        last = {}
        for market, spec, label in self.events:
            last[label] = _safe_price(markets[default if market is None else market], spec)
        for mname, obs in observations.items():
            markets[mname].observe(obs)
        for market, spec, label in self.events:
            m = markets[default if market is None else market]
            try:
                truth = float(m.price(spec))
            except ImpossibleEvent:
                truth = 0.0
            self._rows["outcomes"].append((episode, label, last[label], truth))

    def add(self, table: str, row: tuple) -> None:
        self._rows[table].append(row)


def _safe_price(market: Any, spec: Any) -> float:
    try:
        return float(market.price(spec))
    except ImpossibleEvent:
        return 0.0


def _restore(column: str, value: Any) -> Any:
    if column in ("episode", "day") and value is not None:
        return int(value)
    if value is None and column not in _TEXT_COLUMNS:
        return math.nan
    return value
