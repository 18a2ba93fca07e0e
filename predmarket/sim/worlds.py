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
    """Draw the outcome by ancestral sampling of a pgmpy Bayesian network.

    Each variable, in topological order, is drawn from its CPD's column for the states
    already drawn for its parents (the tables are read once, at construction).

    Parameters
    ----------
    model : pgmpy DiscreteBayesianNetwork
        Its variables and state names must match the market's (states are compared as
        text).
    variables : sequence of str, optional
        Which sampled variables form the outcome (default: all; leave latent ones out).
    signals : callable, optional
        ``signals(full_sample, rng) -> {trader name: evidence}``, given every variable.
    """

    def __init__(self, model, variables=None, *, signals: Callable | None = None):
        import networkx as nx

        model.check_model()
        self.model = model
        nodes = list(model.nodes())
        self.variables = tuple(variables) if variables is not None else tuple(nodes)
        unknown = [v for v in self.variables if v not in nodes]
        if unknown:
            raise InvalidInput(f"variables {unknown!r} are not in the network {sorted(nodes)!r}")
        self._plan = []
        for node in nx.topological_sort(model):
            cpd = model.get_cpds(node)
            parents = list(cpd.variables[1:])
            table = np.asarray(cpd.get_values(), dtype=float)  # (states, parent combos)
            cards = [len(cpd.state_names[v]) for v in parents]
            states = [str(x) for x in cpd.state_names[node]]
            index = {v: {str(x): i for i, x in enumerate(cpd.state_names[v])} for v in parents}
            self._plan.append((node, parents, cards, index, states,
                               table / table.sum(axis=0, keepdims=True)))
        self._signals = signals

    def sample(self, rng: np.random.Generator) -> dict[str, str]:
        """One joint draw of every variable of the network."""
        drawn: dict[str, str] = {}
        for node, parents, cards, index, states, table in self._plan:
            column = int(np.ravel_multi_index(
                tuple(index[v][drawn[v]] for v in parents), cards)) if parents else 0
            drawn[node] = states[int(rng.choice(len(states), p=table[:, column]))]
        return drawn

    def __call__(self, rng: np.random.Generator) -> World:
        full = self.sample(rng)
        signals = self._signals(full, rng) if self._signals else {}
        return World({v: full[v] for v in self.variables}, signals)
