"""Traders that hold a belief and trade toward it, sized by Kelly.

:class:`BayesianTrader` holds a joint distribution (or a pgmpy network) and, each turn,
brings the market's price of each of its questions :math:`P(A \\mid B)` to the Kelly price
(:func:`~predmarket.traders.kelly.kelly_price`) for its belief. Its worst-case final cash
is split evenly over the questions it trades in a turn, so the whole turn stays within its
budget: the worst case of bringing :math:`P(A\\mid B)` from :math:`\\pi` to :math:`\\pi'` is
losing :math:`c = b\\log\\frac{1-\\pi}{1-\\pi'}` (on :math:`\\neg A \\wedge B`), which Kelly
keeps below the wealth it was given.

:class:`ConstantBelief` is the one-question special case with a fixed probability.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from predmarket.errors import InvalidAmount, InvalidInput
from predmarket.sim.orders import Target
from predmarket.traders.beliefs import JointBelief, chain_questions, marginal_questions
from predmarket.traders.kelly import kelly_price
from predmarket.validation import finite_number, open_probability

__all__ = ["BayesianTrader", "ConstantBelief", "kelly_orders"]


def _fraction(value: Any) -> float:
    f = finite_number("fraction", value)
    if not 0.0 < f <= 1.0:
        raise InvalidAmount(f"fraction must be a number in (0, 1], got {value!r}")
    return f


def _tolerance(value: Any) -> float:
    t = finite_number("tolerance", value)
    if not 0.0 <= t < 1.0:
        raise InvalidAmount(f"tolerance must be a number in [0, 1), got {value!r}")
    return t


def _questions(questions: Any) -> list[tuple[Any, Any]]:
    out = []
    for q in questions:
        if isinstance(q, tuple):
            if len(q) != 2:
                raise InvalidInput(f"a question is an event or a pair (event, given), got {q!r}")
            out.append((q[0], q[1]))
        else:
            out.append((q, None))
    if not out:
        raise InvalidInput("a trader needs at least one question to trade on")
    return out


def kelly_orders(view, beliefs: Sequence[tuple[Any, Any, float]], *, fraction: float = 1.0,
                 tolerance: float = 1e-4, market: str | None = None) -> list[Target]:
    """Target orders bringing each ``(event, given)`` toward ``belief`` by Kelly.

    The trader's worst-case final cash times ``fraction`` is split evenly over the
    questions whose price differs from the belief by more than ``tolerance``.
    """
    wealth = view.min_asset(market=market) * fraction
    if wealth <= 0:
        return []
    b = view.liquidity(market=market)
    todo = []
    for event, given, belief in beliefs:
        price = view.price(event, given, market=market)
        if abs(price - belief) > tolerance and 0.0 < price < 1.0:
            todo.append((event, given, belief, price))
    orders = []
    share = wealth / max(len(todo), 1)
    for event, given, belief, price in todo:
        goal = kelly_price(belief, price, share, b)
        if abs(goal - price) > 1e-9 and 0.0 < goal < 1.0:
            orders.append(Target(event, goal, given=given, market=market))
    return orders


class BayesianTrader:
    """Holds a joint belief and trades every question toward it (Kelly-sized).

    Parameters
    ----------
    belief : JointBelief, pgmpy network, or callable
        A :class:`~predmarket.traders.beliefs.JointBelief`; a pgmpy
        ``DiscreteBayesianNetwork`` (then ``space`` is required); or a callable
        ``belief(view) -> JointBelief`` for a trader whose belief depends on its private
        signal (it is called once per episode).
    questions : sequence, "chain" or "marginals"
        Events or ``(event, given)`` pairs. ``"chain"`` (default when the space is small)
        is the chain-rule decomposition, which determines the whole joint.
    fraction : float
        Fractional Kelly: the share of the worst-case cash put at risk per turn.
    space : OutcomeSpace, optional
        Needed with a pgmpy network.

    Examples
    --------
    >>> from predmarket import Market, OutcomeSpace, Variable
    >>> from predmarket.sim import Simulation
    >>> space = OutcomeSpace([Variable("rain", ["yes", "no"])])
    >>> trader = BayesianTrader(JointBelief(space, [0.8, 0.2]), fraction=1.0)
    >>> res = Simulation(lambda: Market(space, 1.0), {"bayes": trader}, cash=1e6,
    ...                  rounds=3, rng=0).run()
    >>> round(res.markets["market"].price("rain == yes"), 4)
    0.8
    """

    def __init__(self, belief: Any, questions: Any = None, *, fraction: float = 1.0,
                 space=None, tolerance: float = 1e-4, market: str | None = None,
                 name: str | None = None):
        if hasattr(belief, "get_cpds"):
            if space is None:
                raise InvalidInput("a pgmpy belief needs the outcome space: pass space=")
            belief = JointBelief.from_pgmpy(belief, space)
        if not (isinstance(belief, JointBelief) or callable(belief)):
            raise InvalidInput(f"belief must be a JointBelief, a pgmpy network or a callable, "
                               f"got {belief!r}")
        self.belief = belief
        self.space = belief.space if isinstance(belief, JointBelief) else space
        if questions is None:
            if self.space is None:
                raise InvalidInput("pass questions= (or space=) for a callable belief")
            questions = chain_questions(self.space) if self.space.size <= 256 \
                else marginal_questions(self.space)
        elif questions == "chain":
            questions = chain_questions(self.space)
        elif questions == "marginals":
            questions = marginal_questions(self.space)
        self.questions = _questions(questions)
        self.fraction = _fraction(fraction)
        self.tolerance = _tolerance(tolerance)
        self.market = market
        if name is not None:
            self.name = name
        self._episode_belief: tuple[int, JointBelief] | None = None

    def current_belief(self, view) -> JointBelief:
        """The belief for this episode (a callable belief is asked once per episode)."""
        if isinstance(self.belief, JointBelief):
            return self.belief
        if self._episode_belief is None or self._episode_belief[0] != view.episode:
            self._episode_belief = (view.episode, self.belief(view))
        return self._episode_belief[1]

    def act(self, view) -> list[Target]:
        belief = self.current_belief(view)
        beliefs = []
        for event, given in self.questions:
            p = belief.probability(event, given)
            beliefs.append((event, given, min(max(p, 1e-6), 1 - 1e-6)))
        return kelly_orders(view, beliefs, fraction=self.fraction, tolerance=self.tolerance,
                            market=self.market)


class ConstantBelief:
    """Always believes ``P(event | given) = probability`` and trades toward it by Kelly.

    >>> ConstantBelief("rain == yes", 0.9).probability
    0.9
    """

    def __init__(self, event: Any, probability: float, *, given: Any = None,
                 fraction: float = 1.0, market: str | None = None, name: str | None = None):
        self.event, self.given = event, given
        self.probability = open_probability(probability)
        self.fraction = _fraction(fraction)
        self.market = market
        if name is not None:
            self.name = name

    def act(self, view) -> list[Target]:
        return kelly_orders(view, [(self.event, self.given, self.probability)],
                            fraction=self.fraction, market=self.market)
