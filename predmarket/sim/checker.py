"""``check_trader``: validate a user-written trader before a long run (after Gymnasium's
``check_env``).

The trader trades alone, for a few turns, on private copies of the market, twice with the
same seed. The check fails, naming the problem, if the trader

- is not callable (no ``act``);
- raises;
- returns something that is not an order (``garbage``);
- places an order on an event outside the market's space or on an unknown market;
- places an order the budget rule refuses (``over budget``), unless ``allow_refusals``;
- takes longer than ``time_budget`` seconds for one turn;
- mutates what it is shown (a dict or array the view handed it, or the view itself);
- changes the market other than through its orders (it holds a reference it should not);
- is not deterministic under a seed (two runs with the same seed give different orders:
  it draws from global random state or the clock instead of ``view.rng``).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from predmarket.errors import InsufficientFunds, InvalidInput, PredmarketError
from predmarket.sim.orders import Refusal, as_orders
from predmarket.sim.protocol import require_market
from predmarket.sim.simulation import DEFAULT_MARKET, _materialise, _message, trader_function
from predmarket.sim.view import MarketView, close_gate, open_gate

__all__ = ["CheckReport", "check_trader"]

ACCOUNT = "checked_trader"


@dataclass(frozen=True)
class CheckReport:
    """What a passing check saw: turns run, orders placed, the slowest turn (seconds)."""

    turns: int
    orders: int
    slowest: float


def _fail(kind: str, detail: str):
    raise InvalidInput(f"check_trader: {kind}: {detail}")


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape \
            and bool(np.array_equal(a, b, equal_nan=True))
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001
        return False


def check_trader(trader: Any, market: Any, *, rounds: int = 5, seed: int = 0,
                 cash: float = 100.0, time_budget: float = 1.0,
                 allow_refusals: bool = False, signal: Any = None) -> CheckReport:
    """Check a trader against a market; raise :class:`~predmarket.errors.InvalidInput`
    naming the first problem found.

    Parameters
    ----------
    trader : callable or object with ``act``
    market : market or callable
        A market (deep-copied for each trial, never touched) or a factory returning a fresh
        one (or a mapping of named markets); a market that cannot be copied needs a factory.
    rounds : int
        Turns per trial.
    seed : int
        Seed of ``view.rng`` in both trials.
    cash : float
        The trader's endowment.
    time_budget : float
        Seconds one turn may take.
    allow_refusals : bool
        Accept orders the budget rule refuses.
    signal : object
        Passed as ``view.signal``.

    Returns
    -------
    CheckReport

    Examples
    --------
    >>> from predmarket import Market, OutcomeSpace, Variable
    >>> from predmarket.sim import Target
    >>> space = OutcomeSpace([Variable("rain", ["yes", "no"])])
    >>> report = check_trader(lambda view: Target("rain == yes", 0.7), Market(space, 10.0))
    >>> report.turns, report.orders
    (5, 5)
    >>> check_trader(lambda view: "buy rain", Market(space, 10.0))
    Traceback (most recent call last):
    ...
    predmarket.errors.InvalidInput: check_trader: garbage: trader returned 'buy rain' (str); expected None, an order, or a list of orders (Buy, Sell, Edit, Target)
    """
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise InvalidInput(f"rounds must be an integer >= 1, got {rounds!r}")
    trader_function(trader, "trader")
    original = None
    if callable(market) and not hasattr(market, "price"):
        factory = market
    else:
        require_market(market)
        original = market
        try:
            copies = [copy.deepcopy(market), copy.deepcopy(market)]
        except Exception as exc:  # noqa: BLE001
            raise InvalidInput(
                f"check_trader could not copy the market ({type(exc).__name__}: {exc}); pass a "
                "factory instead, e.g. lambda: Market(space, liquidity)") from None
        factory = copies.pop
        before = np.array(original.probabilities(), dtype=float, copy=True)
    try:
        pristine = copy.deepcopy(trader)
        fresh = lambda: copy.deepcopy(pristine)
    except Exception:  # noqa: BLE001 - some traders cannot be copied; reuse them
        fresh = lambda: trader
    first, slowest = _trial(fresh(), factory, rounds, seed, cash, time_budget,
                            allow_refusals, signal)
    second, _ = _trial(fresh(), factory, rounds, seed, cash, time_budget, allow_refusals,
                       signal)
    if original is not None and not _same(np.asarray(original.probabilities(), dtype=float),
                                          before):
        _fail("changes the market outside its orders",
              "the market given to check_trader changed while the trader ran; a trader may "
              "only act through the orders it returns")
    for turn, (a, b) in enumerate(zip(first, second)):
        if a != b:
            _fail("not deterministic under a seed",
                  f"turn {turn} gave {list(a)!r} in one run and {list(b)!r} in another with "
                  "the same seed; draw randomness from view.rng only")
    return CheckReport(rounds, sum(len(t) for t in first), slowest)


def _market_state(m, account) -> tuple:
    return (np.array(m.probabilities(), dtype=float, copy=True), float(m.cash(account)),
            float(m.min_asset(account)))


def _trial(trader, factory: Callable, rounds, seed, cash, budget, allow_refusals, signal):
    act = trader_function(trader, "trader")
    made = factory()
    markets = dict(made) if not hasattr(made, "price") else {DEFAULT_MARKET: made}
    for m in markets.values():
        require_market(m)
        m.open_account(ACCOUNT, cash)
    default = next(iter(markets))
    rng = np.random.default_rng(seed)
    turns, refusals, slowest = [], (), 0.0
    for day in range(rounds):
        states = {n: _market_state(m, ACCOUNT) for n, m in markets.items()}
        token = open_gate(markets, default, ACCOUNT, [], track=True)
        view = MarketView(token, name=ACCOUNT, episode=0, day=day, markets=tuple(markets),
                          rng=rng, refusals=refusals, signal=signal)
        slots = {s: object.__getattribute__(view, s) for s in MarketView.__slots__}
        start = time.perf_counter()
        try:
            result = _materialise(act(view), 10**6)
        except (Exception, SystemExit) as exc:  # noqa: BLE001
            _fail("raised", f"turn {day}: {type(exc).__name__}: {_message(exc)}")
        finally:
            gate = close_gate(token)
        elapsed = time.perf_counter() - start
        slowest = max(slowest, elapsed)
        if elapsed > budget:
            _fail("too slow", f"turn {day} took {elapsed:.3g} s; the time budget is {budget:g} s")
        for given, snapshot in gate.handed:
            if not _same(given, snapshot):
                _fail("mutates what it is shown",
                      f"turn {day}: a {type(given).__name__} the view returned was changed")
        for s, value in slots.items():
            if object.__getattribute__(view, s) is not value:
                _fail("mutates what it is shown", f"turn {day}: the view's {s!r} was replaced")
        for n, m in markets.items():
            now = _market_state(m, ACCOUNT)
            if not all(_same(a, b) for a, b in zip(now, states[n])):
                _fail("changes the market outside its orders",
                      f"turn {day}: market {n!r} changed while the trader was thinking; a "
                      "trader may only act through the orders it returns")
        try:
            orders = as_orders(result, max_orders=10**6)
        except InvalidInput as exc:
            _fail("garbage", str(exc))
        refused = []
        for order in orders:
            name = order.market or default
            if name not in markets:
                _fail("outside the space", f"turn {day}: {order!r} names market {name!r}; the "
                      f"markets are {list(markets)!r}")
            m = markets[name]
            try:
                m.price(order.event, given=order.given)
            except PredmarketError as exc:
                _fail("outside the space", f"turn {day}: {order!r}: {exc}")
            try:
                order.execute(m, ACCOUNT)
            except InsufficientFunds as exc:
                if not allow_refusals:
                    _fail("over budget", f"turn {day}: {order!r}: {exc}")
                refused.append(Refusal(order, str(exc), type(exc).__name__))
            except PredmarketError as exc:
                _fail("refused", f"turn {day}: {order!r}: {exc}")
        refusals = tuple(refused)
        turns.append(orders)
    return turns, slowest
