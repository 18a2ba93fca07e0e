"""Orders: the small value objects a trader returns.

A trader's turn produces zero or more orders. Each is validated when it is built (finite
amounts, probabilities inside (0, 1), an event given as text, a mapping or an event
object) and executed by the simulation through the market's public API. An order the market
refuses (budget, impossible event, unknown variable, ...) leaves the market unchanged and
comes back to the trader as a :class:`Refusal` in its next view.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Union

from predmarket.errors import InvalidAmount, InvalidInput
from predmarket.validation import finite_number, open_probability

__all__ = ["Buy", "Edit", "Order", "Refusal", "Sell", "Target", "as_orders"]


def _event_spec(role: str, spec: Any, *, optional: bool = False) -> Any:
    if spec is None and optional:
        return None
    if isinstance(spec, Mapping):
        return dict(spec)  # a private copy: the caller may keep mutating theirs
    if isinstance(spec, str):
        if not spec.strip():
            raise InvalidInput(f"{role} must be a non-empty event, got {spec!r}")
        return spec
    if isinstance(spec, (bool, int, float, complex)) or spec is None or isinstance(
            spec, (bytes, list, tuple, set)):
        raise InvalidInput(
            f"{role} must be an event (text like 'rain == yes', a mapping or an Event), "
            f"got {spec!r}")
    return spec  # an Event or a sympy Boolean: the market validates it


def _market_name(value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or not value):
        raise InvalidInput(f"market must be a market name or None, got {value!r}")
    return value


@dataclass(frozen=True)
class Buy:
    """Buy ``shares`` (> 0) of ``event``, conditional on ``given`` if set.

    Each share pays 1 if the event happens; conditional shares are refunded when ``given``
    fails (see :meth:`predmarket.market.Market.buy`).

    Examples
    --------
    >>> Buy("rain == yes", 2.0)
    Buy(event='rain == yes', shares=2.0, given=None, market=None)
    """

    event: Any
    shares: float
    given: Any = None
    market: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "event", _event_spec("event", self.event))
        object.__setattr__(self, "given", _event_spec("given", self.given, optional=True))
        shares = finite_number("shares", self.shares)
        if shares <= 0:
            raise InvalidAmount(f"{type(self).__name__} needs shares > 0, got {shares!r}")
        object.__setattr__(self, "shares", shares)
        object.__setattr__(self, "market", _market_name(self.market))

    @property
    def amount(self) -> float:
        """The signed number of shares bought (negative for a sale)."""
        return self.shares

    def execute(self, market: Any, account: str) -> tuple[float, float | None]:
        """Make the trade; return ``(cost, price_after or None)``."""
        return market.buy(account, self.event, self.shares, given=self.given), None


@dataclass(frozen=True)
class Sell(Buy):
    """Sell ``shares`` (> 0) of ``event``: buy ``-shares``.

    Examples
    --------
    >>> Sell("rain == yes", 1.5).amount
    -1.5
    """

    @property
    def amount(self) -> float:
        return -self.shares

    def execute(self, market: Any, account: str) -> tuple[float, float | None]:
        return market.sell(account, self.event, self.shares, given=self.given), None


@dataclass(frozen=True)
class Edit:
    """Hanson's edit: set :math:`P(A \\mid B)` to ``probability`` (cost 0 now).

    Examples
    --------
    >>> Edit("rain == yes", 0.7, given="wind == strong").probability
    0.7
    """

    event: Any
    probability: float
    given: Any = None
    market: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "event", _event_spec("event", self.event))
        object.__setattr__(self, "given", _event_spec("given", self.given, optional=True))
        object.__setattr__(self, "probability", open_probability(self.probability))
        object.__setattr__(self, "market", _market_name(self.market))

    @property
    def amount(self) -> float:
        return self.probability

    def execute(self, market: Any, account: str) -> tuple[float, float | None]:
        quote = market.edit(account, self.event, self.probability, given=self.given)
        return quote.cost, quote.price_after


@dataclass(frozen=True)
class Target(Edit):
    """Bring :math:`P(A \\mid B)` to ``probability`` by buying or selling shares.

    Examples
    --------
    >>> Target("rain == yes", 0.25).probability
    0.25
    """

    def execute(self, market: Any, account: str) -> tuple[float, float | None]:
        quote = market.target(account, self.event, self.probability, given=self.given)
        return quote.cost, quote.price_after


Order = Union[Buy, Sell, Edit, Target]  # noqa: UP007 - a runtime alias on Python 3.10
ORDER_TYPES = (Buy, Edit)  # Sell and Target subclass these


@dataclass(frozen=True)
class Refusal:
    """An order the market refused, reported back to the trader in its next view.

    Attributes
    ----------
    order : Order
        The refused order.
    reason : str
        The market's message (what was wrong and what was expected).
    error : str
        The name of the exception class, e.g. ``"InsufficientFunds"``.
    """

    order: Any
    reason: str
    error: str


def as_orders(result: Any, *, max_orders: int = 64) -> tuple:
    """Normalise what a trader returned into a tuple of orders.

    ``None`` means no order, a single order is wrapped, and any other iterable is read
    (at most ``max_orders`` items). Anything else is garbage.

    Raises
    ------
    InvalidInput
        If the result, or an item of it, is not an order, or there are too many.

    Examples
    --------
    >>> as_orders(None)
    ()
    >>> as_orders(Buy("x == 1", 1.0))
    (Buy(event='x == 1', shares=1.0, given=None, market=None),)
    >>> as_orders([1, 2])
    Traceback (most recent call last):
    ...
    predmarket.errors.InvalidInput: trader returned 1 (int) as order 0; expected Buy, Sell, Edit or Target
    """
    if result is None:
        return ()
    if isinstance(result, ORDER_TYPES):
        return (result,)
    if isinstance(result, (str, bytes, Mapping)) or not isinstance(result, Iterable):
        raise InvalidInput(
            f"trader returned {_short(result)} ({type(result).__name__}); expected None, an "
            "order, or a list of orders (Buy, Sell, Edit, Target)")
    orders = []
    for i, item in enumerate(result):
        if i >= max_orders:
            raise InvalidInput(f"trader returned more than {max_orders} orders in one turn")
        if not isinstance(item, ORDER_TYPES):
            raise InvalidInput(
                f"trader returned {_short(item)} ({type(item).__name__}) as order {i}; "
                "expected Buy, Sell, Edit or Target")
        orders.append(item)
    return tuple(orders)


def _short(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a hostile __repr__ must not escape
        text = f"<unprintable {type(value).__name__}>"
    return text if len(text) <= 80 else text[:77] + "..."
