"""``MarketView``: what a trader sees on its turn, read-only.

A view answers price questions (marginal, joint-event and conditional), shows the trader
its own account, the day, the public trade history, the orders the market refused on its
previous turn, and the private signal the world gave it. It holds no reference to the
market: its only state is an opaque token, plain numbers and immutable records. The token
opens a gate kept by the simulation for the length of the trader's turn; when the turn
ends the gate closes and the view answers no more questions.

So a trader cannot reach the maker, the ledger or other accounts through the view's
attributes, its ``__dict__`` (it has none), closures, pickling, or
:func:`gc.get_referents`. This guards against accidents and casual misuse; it is not a
sandbox against hostile code, which in the same process can always scan the whole heap
(``gc.get_objects()``) or walk up the call stack (``sys._getframe``). Run untrusted
traders in another process; :func:`~predmarket.sim.checker.check_trader` reports a trader
that changes a market other than through its orders.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from predmarket.errors import InvalidInput, MarketClosed

__all__ = ["AccountView", "MarketView", "PublicTrade", "TurnOverrun"]

_GATES: dict[int, _Gate] = {}
_TOKENS = itertools.count(1)


@dataclass(frozen=True)
class PublicTrade:
    """One executed order as everyone sees it (anonymous).

    Attributes
    ----------
    episode, day : int
        When it happened.
    market : str
        The market's name in the simulation.
    kind : str
        ``"Buy"``, ``"Sell"``, ``"Edit"`` or ``"Target"``.
    event, given : str or None
        The event traded (and its condition), as text.
    amount : float
        Shares (signed) for Buy/Sell, the requested probability for Edit/Target.
    price_before, price_after : float
        Price of the event (given the condition) before and after the trade.
    """

    episode: int
    day: int
    market: str
    kind: str
    event: str
    given: str | None
    amount: float
    price_before: float
    price_after: float


@dataclass(frozen=True)
class AccountView:
    """A snapshot of the trader's own account in one market."""

    name: str
    cash: float
    min_asset: float


class TurnOverrun(BaseException):
    """Raised inside a trader that overran its time budget. Not an ``Exception``, so a
    trader's ``except Exception`` does not swallow it."""


class _Gate:
    """The simulation's side of a view: never handed to a trader.

    ``busy`` counts market calls in progress. A time-budget interrupt that arrives while
    the market is answering is deferred (``overrun``) and raised when the call returns, so
    a trader is never stopped half-way through market code (which may update caches).
    """

    __slots__ = ("account", "busy", "default", "handed", "history", "markets", "overrun")

    def __init__(self, markets: dict, default: str, account: str, history: list,
                 track: bool = False):
        self.markets = markets
        self.default = default
        self.account = account
        self.history = history
        self.handed: list | None = [] if track else None
        self.busy = 0
        self.overrun = False

    def interrupt(self) -> None:
        """Called by the time-budget alarm: stop the trader now, or when the market
        call in progress returns."""
        if self.busy:
            self.overrun = True
        else:
            raise TurnOverrun()

    def ask(self, market: str | None, method: str, *args, **kwargs):
        """Call a read-only market method, shielded from the time-budget interrupt."""
        target = getattr(self.market(market), method)
        self.busy += 1
        try:
            return target(*args, **kwargs)
        finally:
            self.busy -= 1
            if self.overrun and not self.busy:
                self.overrun = False
                raise TurnOverrun()

    def market(self, name: str | None):
        if name is None:
            return self.markets[self.default]
        try:
            return self.markets[name]
        except (KeyError, TypeError):
            raise InvalidInput(
                f"no market {name!r}; this simulation has {list(self.markets)!r}") from None

    def hand(self, value):
        if self.handed is not None:
            import copy

            self.handed.append((value, copy.deepcopy(value)))
        return value


def open_gate(markets: dict, default: str, account: str, history: list, *,
              track: bool = False) -> int:
    """Open a gate for one turn; return its token (simulation-side helper)."""
    token = next(_TOKENS)
    _GATES[token] = _Gate(markets, default, account, history, track)
    return token


def gate_of(token: int) -> _Gate:
    """The open gate of ``token`` (simulation-side helper)."""
    return _GATES[token]


def close_gate(token: int) -> _Gate | None:
    """Close the gate: every view holding ``token`` stops answering."""
    return _GATES.pop(token, None)


def _frozen_array(a) -> np.ndarray:
    out = np.array(a, dtype=float, copy=True)
    out.setflags(write=False)
    return out


class MarketView:
    """The read-only view a trader receives on its turn.

    Attributes
    ----------
    name : str
        The trader's account name.
    episode, day : int
        The episode (a fresh market each) and the trading round within it, from 0.
    markets : tuple of str
        Names of the markets in the simulation (most simulations have one).
    rng : numpy.random.Generator
        The trader's own random generator, seeded by the simulation: a trader that draws
        only from it is reproducible.
    refusals : tuple of Refusal
        Orders of the trader's previous turn that the market refused, with the reason.
    signal : object
        The private evidence the world gave this trader this episode (None if none).
    public : object
        Evidence the world gave everyone (None if none).
    past_outcomes : tuple
        The outcomes of earlier episodes.

    Examples
    --------
    >>> from predmarket import Market, OutcomeSpace, Variable
    >>> from predmarket.sim import Simulation, Buy
    >>> space = OutcomeSpace([Variable("rain", ["yes", "no"])])
    >>> seen = []
    >>> def trader(view):
    ...     seen.append(round(view.price("rain == yes"), 3))
    ...     return Buy("rain == yes", 1.0)
    >>> sim = Simulation(lambda: Market(space, liquidity=5.0), {"t": trader}, rounds=2, rng=0)
    >>> _ = sim.run()
    >>> seen
    [0.5, 0.55]
    """

    __slots__ = ("_token", "day", "episode", "markets", "name", "past_outcomes", "public",
                 "refusals", "rng", "signal")

    def __init__(self, token: int, *, name: str, episode: int, day: int,
                 markets: tuple[str, ...], rng: np.random.Generator, refusals: tuple = (),
                 signal: Any = None, public: Any = None, past_outcomes: tuple = ()):
        setter = object.__setattr__
        setter(self, "_token", token)
        setter(self, "name", name)
        setter(self, "episode", episode)
        setter(self, "day", day)
        setter(self, "markets", markets)
        setter(self, "rng", rng)
        setter(self, "refusals", refusals)
        setter(self, "signal", signal)
        setter(self, "public", public)
        setter(self, "past_outcomes", past_outcomes)

    def __setattr__(self, key, value):
        raise AttributeError(f"MarketView is read-only; cannot set {key!r}")

    def __delattr__(self, key):
        raise AttributeError(f"MarketView is read-only; cannot delete {key!r}")

    def __reduce__(self):
        raise TypeError("a MarketView cannot be pickled or copied")

    def __copy__(self):
        raise TypeError("a MarketView cannot be copied")

    def __deepcopy__(self, memo):
        raise TypeError("a MarketView cannot be copied")

    def _gate(self) -> _Gate:
        gate = _GATES.get(object.__getattribute__(self, "_token"))
        if gate is None:
            raise MarketClosed("this view expired when the trader's turn ended; "
                               "read prices from the view of the current turn")
        return gate

    # -- prices ------------------------------------------------------------------------
    def price(self, event: Any, given: Any = None, *, market: str | None = None) -> float:
        """Price of ``event`` (conditional on ``given`` if set), as in
        :meth:`predmarket.market.Market.price`."""
        return float(self._gate().ask(market, "price", event, given=given))

    def marginal(self, variable: str, *, market: str | None = None) -> dict[str, float]:
        """Prices of every state of ``variable`` (a fresh dict)."""
        gate = self._gate()
        return gate.hand(dict(gate.ask(market, "marginal", variable)))

    def probabilities(self, *, market: str | None = None) -> np.ndarray:
        """The market's joint prices over its flat outcome space (a read-only copy)."""
        gate = self._gate()
        return gate.hand(_frozen_array(gate.ask(market, "probabilities")))

    def liquidity(self, *, market: str | None = None) -> float:
        """The market's liquidity :math:`b`."""
        return float(self._gate().market(market).liquidity)  # an attribute: nothing to shield

    def quote(self, event: Any, *, shares: float | None = None,
              probability: float | None = None, given: Any = None,
              market: str | None = None):
        """What a trade of this trader's would do, without making it (a
        :class:`~predmarket.ledger.Quote`)."""
        gate = self._gate()
        return gate.ask(market, "preview", gate.account, event, shares=shares,
                        probability=probability, given=given)

    # -- own account -------------------------------------------------------------------
    def cash(self, *, market: str | None = None) -> float:
        """The trader's cash now."""
        gate = self._gate()
        return float(gate.ask(market, "cash", gate.account))

    def min_asset(self, *, market: str | None = None) -> float:
        """The trader's worst-case final cash over the outcomes still possible: its budget."""
        gate = self._gate()
        return float(gate.ask(market, "min_asset", gate.account))

    def assets(self, *, market: str | None = None) -> np.ndarray:
        """The trader's final cash for every observable outcome (a read-only copy)."""
        gate = self._gate()
        return gate.hand(_frozen_array(gate.ask(market, "assets", gate.account)))

    def account(self, *, market: str | None = None) -> AccountView:
        """A snapshot of the trader's own account."""
        gate = self._gate()
        return AccountView(gate.account, float(gate.ask(market, "cash", gate.account)),
                           float(gate.ask(market, "min_asset", gate.account)))

    # -- public history ----------------------------------------------------------------
    @property
    def history(self) -> tuple[PublicTrade, ...]:
        """Every trade executed so far in the simulation, oldest first (anonymous)."""
        return tuple(self._gate().history)

    def __repr__(self) -> str:
        return (f"MarketView(name={self.name!r}, episode={self.episode}, day={self.day}, "
                f"markets={self.markets!r})")

    def __dir__(self):
        return sorted({*object.__dir__(self)} - {"_gate", "_token"})
