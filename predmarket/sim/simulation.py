"""``Simulation``: traders take turns on markets; episodes settle and reopen.

Each episode builds fresh markets with the factory, draws a world (the ground truth and
the evidence handed to traders) from the world generator, opens an account per trader,
and runs ``rounds`` rounds. In each round every trader acts once, in an order that is a
seeded choice: ``"shuffle"`` (a fresh permutation every round) or ``"fixed"`` (the order
given). With LMSR the order moves prices, so it is never left implicit. The episode ends
by observing the world's outcome and settling; with ``carry_cash`` each trader starts the
next episode with the cash it ended with (so wealth flows to the better forecasters).

Isolation. A trader's turn is guarded: if it raises (``sys.exit`` included; only
``KeyboardInterrupt`` stops the run), returns something that is not an
order, or overruns ``time_budget`` seconds, its orders are dropped and a fault is recorded;
after ``max_faults`` faults it is retired for the rest of the run. Orders the market
refuses leave the market unchanged and are reported to the trader in its next view. The
run itself never stops because of a trader, and the market only ever changes through the
orders it accepted.
"""

from __future__ import annotations

import itertools
import signal
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from predmarket.errors import InvalidAmount, InvalidInput
from predmarket.sim.orders import ORDER_TYPES, Refusal, as_orders
from predmarket.sim.protocol import require_market
from predmarket.sim.recorder import TABLES, Recorder, event_text
from predmarket.sim.view import (
    MarketView,
    PublicTrade,
    TurnOverrun,
    close_gate,
    gate_of,
    open_gate,
)
from predmarket.sim.worlds import World, as_world
from predmarket.validation import finite_number

__all__ = ["DEFAULT_MARKET", "Fault", "Simulation", "SimulationResult", "trader_function"]

DEFAULT_MARKET = "market"
ACTIVATIONS = ("shuffle", "fixed")


@dataclass(frozen=True)
class Fault:
    """A trader's turn that went wrong: ``kind`` is ``"raised"``, ``"garbage"``,
    ``"timeout"`` or ``"retired"``."""

    episode: int
    day: int
    trader: str
    kind: str
    message: str


@dataclass
class SimulationResult:
    """What :meth:`Simulation.run` returns.

    Attributes
    ----------
    recorder : Recorder
        The recorded series.
    faults : list of Fault
    payouts : list of dict
        Per episode, ``{trader: total payout over the markets}``.
    cash : dict
        Each trader's cash at the end (summed over markets).
    markets : dict
        The last episode's markets (settled if there was a world).
    retired : set of str
        Traders retired for repeated faults.
    trades : int
        Orders the markets accepted.
    """

    recorder: Recorder
    faults: list[Fault] = field(default_factory=list)
    payouts: list[dict] = field(default_factory=list)
    cash: dict = field(default_factory=dict)
    markets: dict = field(default_factory=dict)
    retired: set = field(default_factory=set)
    trades: int = 0


def trader_function(trader: Any, name: str = "trader") -> Callable:
    """The callable behind a trader: ``trader.act`` for a class, else the trader itself."""
    act = getattr(trader, "act", None)
    if callable(act):
        return act
    if callable(trader):
        return trader
    raise InvalidInput(f"trader {name!r} must be a callable trader(view) -> orders or have "
                       f"a method act(view); got {type(trader).__name__}")


def _seed_sequence(rng: Any) -> np.random.SeedSequence:
    if isinstance(rng, np.random.Generator):
        return np.random.SeedSequence(int(rng.integers(2**63)))
    if isinstance(rng, np.random.SeedSequence):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)
                       and rng >= 0):
        return np.random.SeedSequence(rng)
    raise InvalidInput(f"rng must be a numpy Generator, a non-negative int seed or None, "
                       f"got {rng!r}")


class Simulation:
    """Run trader-programs on one or more markets.

    Parameters
    ----------
    market : market, mapping of markets, or callable
        A market (one episode only), a mapping ``{name: market}``, or a factory
        ``() -> market or mapping`` called once per episode (needed for several episodes).
        Markets are used only through :mod:`predmarket.sim.protocol`.
    traders : mapping or sequence
        ``{name: trader}``, or a sequence of traders named by their ``name`` attribute or
        ``trader_<i>``. A trader is a callable ``trader(view) -> orders`` or has
        ``act(view)``.
    cash : float or mapping
        Each trader's initial cash in each market (or ``{name: cash}``).
    rounds, episodes : int
        Rounds of trading per episode; episodes (a fresh market each).
    world : callable, optional
        ``world(rng) -> World`` or a mapping outcome; drawn once per episode. Without a
        world the markets are left open (nothing to settle on), and with ``carry_cash``
        the next episode starts from cash alone: open positions are not carried.
    activation : {"shuffle", "fixed"}
        Trader order in each round: a seeded random permutation, or the order given.
    rng : numpy.random.Generator or int, optional
        Seeds the activation order, the worlds and each trader's own generator
        (``view.rng``) through independent streams.
    time_budget : float, optional
        Seconds a trader's turn may take. Overrunning is a fault (on the main thread of a
        POSIX system the turn is interrupted; elsewhere it is measured after the fact).
    max_faults : int
        Faults after which a trader is retired.
    max_orders : int
        Orders accepted from one turn; more is garbage.
    carry_cash : bool
        Start each episode with the cash of the previous one's end.
    recorder : Recorder, optional
        What to record (accounts and log scores by default).
    record_every : {"round", "episode"}
        Record after every round, or only at the start and end of each episode.
    show_progress : bool
        Show a tqdm progress bar over episodes x rounds.

    Examples
    --------
    >>> from predmarket import Market, OutcomeSpace, Variable
    >>> from predmarket.sim import Target
    >>> space = OutcomeSpace([Variable("rain", ["yes", "no"])])
    >>> def forecaster(view):
    ...     return Target("rain == yes", 0.8)
    >>> def crasher(view):
    ...     raise RuntimeError("bug")
    >>> sim = Simulation(lambda: Market(space, liquidity=10.0),
    ...                  {"forecaster": forecaster, "crasher": crasher},
    ...                  rounds=3, episodes=2, world=lambda rng: {"rain": "yes"}, rng=0)
    >>> result = sim.run()
    >>> round(result.cash["forecaster"] - 100, 3)   # twice b log(0.8 / 0.5)
    9.4
    >>> [(f.kind, f.trader) for f in result.faults]
    [('raised', 'crasher'), ('raised', 'crasher'), ('raised', 'crasher'), ('retired', 'crasher')]
    """

    def __init__(self, market, traders, *, cash: float | Mapping = 100.0, rounds: int = 10,
                 episodes: int = 1, world: Callable | None = None, activation: str = "shuffle",
                 rng: Any = None, time_budget: float | None = None, max_faults: int = 3,
                 max_orders: int = 64, carry_cash: bool = True, recorder: Recorder | None = None,
                 record_every: str = "round", show_progress: bool = False):
        self.rounds = _count("rounds", rounds, minimum=1)
        self.episodes = _count("episodes", episodes, minimum=1)
        self.max_faults = _count("max_faults", max_faults, minimum=1)
        self.max_orders = _count("max_orders", max_orders, minimum=1)
        if activation not in ACTIVATIONS:
            raise InvalidInput(f"activation must be one of {ACTIVATIONS!r}, got {activation!r}")
        self.activation = activation
        if record_every not in ("round", "episode"):
            raise InvalidInput(f"record_every must be 'round' or 'episode', got {record_every!r}")
        self.record_every = record_every
        if time_budget is not None:
            budget = _positive("time_budget", time_budget)
            time_budget = budget
        self.time_budget = time_budget
        if callable(market) and not hasattr(market, "price"):
            self._factory = market
        else:
            if self.episodes > 1:
                raise InvalidInput(
                    "several episodes need a fresh market each: pass a factory "
                    "(a callable returning the market) instead of a market")
            made = market
            self._factory = lambda: made
        if world is not None and not callable(world):
            raise InvalidInput(f"world must be a callable world(rng) -> World, got {world!r}")
        self.world = world
        self.traders = _named_traders(traders)
        self._acts = {name: trader_function(t, name) for name, t in self.traders.items()}
        self.cash = _cash_table(cash, self.traders)
        self.carry_cash = bool(carry_cash)
        self.recorder = recorder if recorder is not None else Recorder()
        if not isinstance(self.recorder, Recorder):
            raise InvalidInput(f"recorder must be a Recorder, got {recorder!r}")
        self.show_progress = bool(show_progress)
        self._ran = False
        seeds = _seed_sequence(rng).spawn(3)
        self._order_rng = np.random.default_rng(seeds[0])
        self._world_rng = np.random.default_rng(seeds[1])
        self._trader_rngs = {name: np.random.default_rng(s)
                             for name, s in zip(self.traders, seeds[2].spawn(len(self.traders)))}

    # -- running -------------------------------------------------------------------------
    def run(self) -> SimulationResult:
        """Run every episode; return the recorder, faults, payouts and final cash.

        A simulation runs once: its random streams, its traders and its recorder carry the
        state of the run, so a second run would neither repeat the first nor record
        separately from it. Build a new :class:`Simulation` (with a fresh recorder) instead.

        Raises
        ------
        InvalidInput
            If this simulation has already run, or its recorder already holds rows.
        """
        if self._ran:
            raise InvalidInput("this Simulation has already run; build a new one (its random "
                               "streams, traders and recorder hold the first run's state)")
        rec = self.recorder
        filled = [t for t in TABLES if rec.rows(t)]
        if filled:
            raise InvalidInput(f"the recorder already holds rows in {filled!r}; pass a fresh "
                               "Recorder to each simulation")
        self._ran = True
        rec.meta.update({"traders": list(self.traders), "rounds": self.rounds,
                         "episodes": self.episodes, "activation": self.activation})
        result = SimulationResult(rec)
        names = list(self.traders)
        fault_count = dict.fromkeys(names, 0)
        refusals: dict[str, tuple] = dict.fromkeys(names, ())
        history: list[PublicTrade] = []
        balances: dict[tuple[str, str], float] = {}
        past: list = []
        bar = _progress(self.episodes * self.rounds, self.show_progress)
        try:
            for episode in range(self.episodes):
                markets = self._markets()
                default = next(iter(markets))
                world = as_world(self.world(self._world_rng)) if self.world else None
                observations = _observations(world, markets) if world else None
                for mname, m in markets.items():
                    for name in names:
                        m.open_account(name, balances.get((name, mname), self.cash[name]))
                if episode == 0:
                    rec.attach(markets, default)
                    rec.meta["markets"] = list(markets)
                rec.record(episode, 0, markets, default, names, observations)
                market_names = tuple(markets)
                for day in range(self.rounds):
                    order = self._order(names)
                    for name in order:
                        if name in result.retired:
                            continue
                        view_info = {
                            "name": name, "episode": episode, "day": day,
                            "markets": market_names, "rng": self._trader_rngs[name],
                            "refusals": refusals[name],
                            "signal": world.signals.get(name) if world else None,
                            "public": _private_copy(world.public) if world else None,
                            "past_outcomes": tuple(past)}
                        orders, fault = self._turn(name, markets, default, history, view_info)
                        if fault is not None:
                            self._fault(result, rec, fault_count, episode, day, name, *fault)
                            refusals[name] = ()
                            continue
                        refusals[name], done = self._execute(
                            name, orders, markets, default, history, episode, day)
                        result.trades += done
                    if self.record_every == "round" or day == self.rounds - 1:
                        rec.record(episode, day + 1, markets, default, names, observations)
                    bar.update(1)
                if world is not None:
                    rec.outcomes(episode, markets, default, observations)
                    paid = dict.fromkeys(names, 0.0)
                    for mname, m in markets.items():
                        payouts = m.settle(observations[mname])
                        for name in names:
                            cash = float(m.cash(name))
                            paid[name] += float(payouts.get(name, 0.0))
                            rec.add("settlements", (episode, name, mname,
                                                    float(payouts.get(name, 0.0)), cash))
                    result.payouts.append(paid)
                    past.append(MappingProxyType(dict(world.outcome)))
                for mname, m in markets.items():
                    for name in names:
                        if self.carry_cash:
                            balances[(name, mname)] = float(m.cash(name))
                result.markets = markets
        finally:
            bar.close()
        result.cash = {name: sum(float(m.cash(name)) for m in result.markets.values())
                       for name in names}
        return result

    # -- pieces ------------------------------------------------------------------------
    def _markets(self) -> dict:
        made = self._factory()
        markets = dict(made) if isinstance(made, Mapping) else {DEFAULT_MARKET: made}
        if not markets:
            raise InvalidInput("the market factory returned no market")
        for mname, m in markets.items():
            if not isinstance(mname, str) or not mname:
                raise InvalidInput(f"market names must be non-empty strings, got {mname!r}")
            require_market(m, f"market {mname!r}")
            if m.settled:
                raise InvalidInput(f"market {mname!r} is already settled; the factory must "
                                   "return a fresh market")
        return markets

    def _order(self, names: list[str]) -> list[str]:
        if self.activation == "fixed":
            return names
        return [names[i] for i in self._order_rng.permutation(len(names))]

    def _turn(self, name, markets, default, history, view_info):
        """Run one trader's act() under guard; return (orders, None) or (None, fault)."""
        token = open_gate(markets, default, name, history)
        view = MarketView(token, **view_info)
        start = time.perf_counter()
        try:
            with self._alarm(gate_of(token)):
                result = self._acts[name](view)
                result = _materialise(result, self.max_orders)
        except TurnOverrun:
            return None, ("timeout", f"turn overran its time budget of {self.time_budget:g} s")
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - isolating arbitrary trader code
            return None, ("raised", f"{type(exc).__name__}: {_message(exc)}")
        finally:
            close_gate(token)
        elapsed = time.perf_counter() - start
        if self.time_budget is not None and elapsed > self.time_budget:
            return None, ("timeout", (f"turn took {elapsed:.3g} s, over its time budget of "
                                      f"{self.time_budget:g} s"))
        try:
            return as_orders(result, max_orders=self.max_orders), None
        except InvalidInput as exc:
            return None, ("garbage", str(exc))

    @contextmanager
    def _alarm(self, gate):
        budget = self.time_budget
        if budget is None or not hasattr(signal, "setitimer") \
                or threading.current_thread() is not threading.main_thread():
            yield
            return

        armed = [True]

        def overrun(signum, frame):
            if armed[0]:  # an alarm delivered after the turn ended interrupts nothing
                gate.interrupt()

        previous = signal.signal(signal.SIGALRM, overrun)
        signal.setitimer(signal.ITIMER_REAL, budget)
        try:
            yield
        finally:
            armed[0] = False  # first, so that the disarming below cannot be interrupted
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

    def _fault(self, result, rec, fault_count, episode, day, name, kind, message):
        fault = Fault(episode, day, name, kind, message)
        result.faults.append(fault)
        rec.add("faults", (episode, day, name, kind, message))
        fault_count[name] += 1
        if fault_count[name] >= self.max_faults:
            result.retired.add(name)
            retire = Fault(episode, day, name, "retired",
                           f"retired after {fault_count[name]} faults")
            result.faults.append(retire)
            rec.add("faults", (episode, day, name, "retired", retire.message))

    def _execute(self, name, orders, markets, default, history, episode, day):
        refused, done = [], 0
        rec = self.recorder
        for order in orders:
            mname = order.market or default
            m = markets.get(mname)
            try:
                if m is None:
                    raise InvalidInput(f"no market {mname!r}; this simulation has "
                                       f"{list(markets)!r}")
                before = float(m.price(order.event, given=order.given))
                cost, after = order.execute(m, name)
                if after is None:
                    after = float(m.price(order.event, given=order.given))
            except Exception as exc:  # noqa: BLE001 - the market refused; nothing changed
                refusal = Refusal(order, _message(exc), type(exc).__name__)
                refused.append(refusal)
                rec.add("refusals", (episode, day, name, mname, repr(order),
                                     refusal.error, refusal.reason))
                continue
            kind = type(order).__name__
            event, given = event_text(order.event), \
                None if order.given is None else event_text(order.given)
            history.append(PublicTrade(episode, day, mname, kind, event, given,
                                       float(order.amount), before, float(after)))
            rec.add("trades", (episode, day, name, mname, kind, event, given,
                               float(order.amount), float(cost), before, float(after)))
            done += 1
        return tuple(refused), done


# -- helpers -----------------------------------------------------------------------------
def _materialise(result: Any, max_orders: int) -> Any:
    """Read a lazy iterable (e.g. a generator) now, inside the guarded turn."""
    if result is None or isinstance(result, (ORDER_TYPES, list, tuple, str, bytes, Mapping)):
        return result
    if isinstance(result, Iterable):
        return tuple(itertools.islice(result, max_orders + 1))
    return result


def _private_copy(evidence: Any) -> Any:
    """A trader's own copy of evidence every trader sees, so that one trader changing what
    it was handed cannot change what the others see."""
    if evidence is None or isinstance(evidence, (str, bytes, int, float, bool, tuple)):
        return evidence
    import copy

    return copy.deepcopy(evidence)


def _message(exc: BaseException) -> str:
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001
        text = "<unprintable>"
    return text if len(text) <= 500 else text[:497] + "..."


def _observations(world: World, markets: Mapping[str, Any]) -> dict:
    outcome = world.outcome
    if set(outcome) == set(markets) and all(isinstance(v, Mapping) for v in outcome.values()):
        return {m: dict(outcome[m]) for m in markets}
    return {m: dict(outcome) for m in markets}


def _named_traders(traders: Any) -> dict:
    if isinstance(traders, Mapping):
        named = dict(traders)
    elif isinstance(traders, Iterable) and not isinstance(traders, (str, bytes)):
        named = {}
        for i, t in enumerate(traders):
            name = getattr(t, "name", None)
            name = name if isinstance(name, str) and name else f"trader_{i}"
            if name in named:
                name = f"{name}_{i}"
            named[name] = t
    else:
        raise InvalidInput(f"traders must be a mapping {{name: trader}} or a list, got "
                           f"{traders!r}")
    if not named:
        raise InvalidInput("a simulation needs at least one trader")
    for name in named:
        if not isinstance(name, str) or not name:
            raise InvalidInput(f"trader names must be non-empty strings, got {name!r}")
    return named


def _cash_table(cash: Any, traders: Mapping) -> dict:
    if isinstance(cash, Mapping):
        unknown = [n for n in cash if n not in traders]
        missing = [n for n in traders if n not in cash]
        if unknown or missing:
            raise InvalidInput(f"cash must give every trader an amount: unknown {unknown!r}, "
                               f"missing {missing!r}")
        table = {n: _nonnegative(f"cash of {n!r}", cash[n]) for n in traders}
    else:
        amount = _nonnegative("cash", cash)
        table = dict.fromkeys(traders, amount)
    return table


def _nonnegative(name: str, value: Any) -> float:
    x = finite_number(name, value)
    if x < 0:
        raise InvalidAmount(f"{name} must be >= 0, got {x!r}")
    return x


def _positive(name: str, value: Any) -> float:
    x = finite_number(name, value)
    if x <= 0:
        raise InvalidAmount(f"{name} must be > 0, got {x!r}")
    return x


def _count(name: str, value: Any, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InvalidInput(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, show: bool):
    if not show:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="simulating", unit="round")
