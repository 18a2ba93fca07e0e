"""World generators: the ground truth of an episode, drawn from a generative model.

A world generator is any callable ``world(rng) -> World`` (a bare mapping is read as a
world with that outcome and no signals). The simulation draws one world per episode,
before trading starts; traders see only the signals the world hands them, and the market
settles on :attr:`World.outcome` at the end of the episode.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from predmarket.errors import InvalidInput

__all__ = ["JointWorld", "PgmpyWorld", "World", "as_world"]


@dataclass(frozen=True)
class World:
    """One episode's ground truth and the evidence handed out about it.

    Attributes
    ----------
    outcome : mapping
        ``{variable: state}`` for every observable variable, the market's settlement.
        With several markets, a mapping ``{market name: observation}`` is allowed too.
    signals : mapping
        Private evidence, ``{trader name: anything}``.
    public : object
        Evidence every trader sees.
    """

    outcome: Mapping[str, Any]
    signals: Mapping[str, Any] = field(default_factory=dict)
    public: Any = None

    def __post_init__(self):
        if not isinstance(self.outcome, Mapping) or not self.outcome:
            raise InvalidInput(
                f"a world's outcome must be a non-empty mapping {{variable: state}}, "
                f"got {self.outcome!r}")
        if not isinstance(self.signals, Mapping):
            raise InvalidInput(f"signals must map trader names to evidence, got "
                               f"{self.signals!r}")
        object.__setattr__(self, "outcome", MappingProxyType(dict(self.outcome)))
        object.__setattr__(self, "signals", MappingProxyType(dict(self.signals)))


def as_world(value: Any) -> World:
    """Read what a world generator returned as a :class:`World`."""
    if isinstance(value, World):
        return value
    if isinstance(value, Mapping):
        return World(value)
    raise InvalidInput(
        f"a world generator must return a World or a mapping {{variable: state}}, got "
        f"{value!r}")


class JointWorld:
    """Draw the outcome from an explicit joint distribution over an outcome space.

    Parameters
    ----------
    space : OutcomeSpace
    probabilities : array_like
        The true distribution over the flat joint (C order, as everywhere in predmarket).
    signals : callable, optional
        ``signals(outcome, rng) -> {trader name: evidence}``.
    public : callable, optional
        ``public(outcome, rng) -> evidence`` for everyone.

    Examples
    --------
    >>> from predmarket import OutcomeSpace, Variable
    >>> space = OutcomeSpace([Variable("rain", ["yes", "no"])])
    >>> world = JointWorld(space, [0.9, 0.1])
    >>> dict(world(np.random.default_rng(0)).outcome)
    {'rain': 'yes'}
    """

    def __init__(self, space, probabilities, *, signals: Callable | None = None,
                 public: Callable | None = None):
        p = np.asarray(probabilities, dtype=float).ravel()
        if p.shape != (space.size,) or not np.all(np.isfinite(p)) or np.any(p < 0) \
                or not np.isclose(p.sum(), 1.0):
            raise InvalidInput(
                f"probabilities must be {space.size} non-negative numbers summing to 1, "
                f"got shape {p.shape} and sum {p.sum() if p.size else 0!r}")
        self.space = space
        self.probabilities = p / p.sum()
        self.probabilities.setflags(write=False)
        self._signals = signals
        self._public = public

    def __call__(self, rng: np.random.Generator) -> World:
        outcome = self.space.sample(rng, self.probabilities)
        signals = self._signals(outcome, rng) if self._signals else {}
        public = self._public(outcome, rng) if self._public else None
        return World(outcome, signals, public)


class PgmpyWorld:
    """Draw the outcome by forward sampling a pgmpy Bayesian network.

    Parameters
    ----------
    model : pgmpy DiscreteBayesianNetwork
        Its variables and state names must match the market's (states are compared as
        text).
    variables : sequence of str, optional
        Which sampled variables form the outcome (default: all).
    """

    def __init__(self, model, variables=None, *, signals: Callable | None = None):
        model.check_model()
        self.model = model
        self.variables = tuple(variables) if variables is not None else tuple(model.nodes())
        unknown = [v for v in self.variables if v not in model.nodes()]
        if unknown:
            raise InvalidInput(f"variables {unknown!r} are not in the network "
                               f"{sorted(model.nodes())!r}")
        self._signals = signals

    def __call__(self, rng: np.random.Generator) -> World:
        from pgmpy.sampling import BayesianModelSampling

        seed = int(rng.integers(2**31 - 1))
        row = BayesianModelSampling(self.model).forward_sample(
            size=1, seed=seed, show_progress=False).iloc[0]
        outcome = {v: str(row[v]) for v in self.variables}
        signals = self._signals(outcome, rng) if self._signals else {}
        return World(outcome, signals)
