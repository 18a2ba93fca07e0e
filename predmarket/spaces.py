"""Discrete variables and their product, the joint outcome space.

An :class:`OutcomeSpace` over variables :math:`X_1, \\dots, X_k` with :math:`n_i` states
each is the product :math:`\\Omega = \\prod_i \\{0, \\dots, n_i - 1\\}`. Outcomes are laid out
in C order (the first variable varies slowest), so outcome
:math:`\\omega = (s_1, \\dots, s_k)` has flat index
:math:`\\sum_i s_i \\prod_{j>i} n_j`. Every explicit array over the joint in predmarket uses
this layout.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from sympy import Basic

from predmarket.errors import InvalidInput, UnknownState, UnknownVariable

__all__ = ["IDENTIFIER", "OutcomeSpace", "Variable"]

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class Variable:
    """A discrete variable with named states.

    Parameters
    ----------
    name : str
        An identifier (letters, digits, underscore; not starting with a digit), so that it
        can be written in event strings.
    states : sequence of str
        At least two distinct, non-empty state names. Non-string states (e.g. ints) are
        converted with ``str``.

    Examples
    --------
    >>> rain = Variable("rain", ["yes", "no"])
    >>> rain.index("no")
    1
    >>> rain.cardinality
    2
    """

    __slots__ = ("_index", "name", "states")

    def __init__(self, name: str, states: Sequence[Any]):
        if not isinstance(name, str) or not IDENTIFIER.match(name):
            raise InvalidInput(
                f"variable name must be an identifier such as 'rain' or 'x_1', got {name!r}"
            )
        if isinstance(states, (str, bytes)) or not isinstance(states, Iterable):
            raise InvalidInput(
                f"states of variable {name!r} must be a sequence of names, got {states!r}"
            )
        names = tuple(str(s) for s in states)
        if len(names) < 2:
            raise InvalidInput(
                f"variable {name!r} needs at least 2 states, got {len(names)}: {names!r}"
            )
        if any(s == "" for s in names):
            raise InvalidInput(f"variable {name!r} has an empty state name: {names!r}")
        if len(set(names)) != len(names):
            dupes = sorted({s for s in names if names.count(s) > 1})
            raise InvalidInput(f"variable {name!r} has duplicate states {dupes!r}")
        self.name = name
        self.states = names
        self._index = {s: i for i, s in enumerate(names)}

    @property
    def cardinality(self) -> int:
        """Number of states."""
        return len(self.states)

    def index(self, state: Any) -> int:
        """Position of ``state`` among the variable's states.

        Raises
        ------
        UnknownState
            If ``state`` is not one of the states.
        """
        try:
            return self._index[str(state)]
        except KeyError:
            raise UnknownState(
                f"variable {self.name!r} has no state {state!r}; expected one of "
                f"{list(self.states)!r}"
            ) from None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description: ``{"name": ..., "states": [...]}``."""
        return {"name": self.name, "states": list(self.states)}

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Variable)
            and self.name == other.name
            and self.states == other.states
        )

    def __hash__(self) -> int:
        return hash((self.name, self.states))

    def __repr__(self) -> str:
        return f"Variable({self.name!r}, {list(self.states)!r})"


class OutcomeSpace:
    """The product of discrete variables: the joint outcome space :math:`\\Omega`.

    Parameters
    ----------
    variables : sequence of Variable
        Distinct names. Their order fixes the layout of every joint array.

    Examples
    --------
    >>> space = OutcomeSpace([Variable("rain", ["yes", "no"]),
    ...                       Variable("wind", ["calm", "strong"])])
    >>> space.size, space.shape
    (4, (2, 2))
    >>> space.outcome(1)
    {'rain': 'yes', 'wind': 'strong'}
    >>> space.index_of({"rain": "no", "wind": "calm"})
    2
    """

    def __init__(self, variables: Sequence[Variable]):
        if isinstance(variables, Variable):
            variables = [variables]
        variables = tuple(variables)
        if not variables:
            raise InvalidInput("an outcome space needs at least one variable, got none")
        for v in variables:
            if not isinstance(v, Variable):
                raise InvalidInput(f"expected Variable objects, got {type(v).__name__}: {v!r}")
        names = [v.name for v in variables]
        if len(set(names)) != len(names):
            dupes = sorted({n for n in names if names.count(n) > 1})
            raise InvalidInput(f"duplicate variable names {dupes!r} in outcome space")
        self.variables: tuple[Variable, ...] = variables
        self._axis = {v.name: i for i, v in enumerate(variables)}
        self.shape: tuple[int, ...] = tuple(v.cardinality for v in variables)
        self.size: int = math.prod(self.shape)
        self._events: dict[Any, Any] = {}

    # -- lookup -----------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        """Variable names in layout order."""
        return tuple(v.name for v in self.variables)

    def axis(self, name: str) -> int:
        """Axis (position) of the variable called ``name``."""
        try:
            return self._axis[name]
        except (KeyError, TypeError):
            raise UnknownVariable(
                f"unknown variable {name!r}; the space has {list(self.names)!r}"
            ) from None

    def variable(self, name: str) -> Variable:
        """The :class:`Variable` called ``name``."""
        return self.variables[self.axis(name)]

    def __getitem__(self, name: str) -> Variable:
        return self.variable(name)

    def __len__(self) -> int:
        return len(self.variables)

    def __iter__(self) -> Iterator[Variable]:
        return iter(self.variables)

    # -- outcomes ---------------------------------------------------------------------
    def assignment(self, outcome: Mapping[str, Any]) -> dict[str, int]:
        """Validate a (possibly partial) assignment ``{name: state}`` into state indices."""
        if not isinstance(outcome, Mapping):
            raise InvalidInput(f"expected a mapping {{variable: state}}, got {outcome!r}")
        return {name: self.variable(name).index(state) for name, state in outcome.items()}

    def index_of(self, outcome: Mapping[str, Any]) -> int:
        """Flat index of a complete outcome ``{name: state}``."""
        idx = self.assignment(outcome)
        missing = [n for n in self.names if n not in idx]
        if missing:
            raise InvalidInput(f"outcome {dict(outcome)!r} gives no state for {missing!r}")
        return int(np.ravel_multi_index(tuple(idx[n] for n in self.names), self.shape))

    def outcome(self, index: int) -> dict[str, str]:
        """The outcome ``{name: state}`` at flat ``index``."""
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise InvalidInput(f"outcome index must be an integer, got {index!r}")
        if not 0 <= index < self.size:
            raise InvalidInput(f"outcome index {index} outside [0, {self.size})")
        states = np.unravel_index(int(index), self.shape)
        return {v.name: v.states[int(s)] for v, s in zip(self.variables, states)}

    def __contains__(self, outcome: object) -> bool:
        if not isinstance(outcome, Mapping) or set(outcome) != set(self.names):
            return False
        return all(str(outcome[v.name]) in v.states for v in self.variables)

    def sample(self, rng: np.random.Generator | int | None = None, probabilities=None) -> dict:
        """Draw one outcome, uniformly or from ``probabilities`` over the joint.

        Parameters
        ----------
        rng : numpy.random.Generator or int or None
            Source of randomness (a seed is turned into ``numpy.random.default_rng(seed)``).
        probabilities : array_like, optional
            A distribution over the flat joint (length :attr:`size`).
        """
        gen = np.random.default_rng(rng)
        if probabilities is None:
            return self.outcome(int(gen.integers(self.size)))
        try:
            p = np.asarray(probabilities, dtype=float).ravel()
        except (TypeError, ValueError):
            raise InvalidInput(
                f"probabilities must be {self.size} numbers, got {probabilities!r}") from None
        if p.shape != (self.size,) or not np.all(np.isfinite(p)) or np.any(p < 0) \
                or p.sum() <= 0:
            raise InvalidInput(
                f"probabilities must be {self.size} finite non-negative numbers with a "
                f"positive sum, got shape {p.shape}"
            )
        return self.outcome(int(gen.choice(self.size, p=p / p.sum())))

    # -- events -----------------------------------------------------------------------
    def event(self, spec: Any):
        """Compile an event (string, sympy expression, mapping or :class:`Event`).

        Compiled events are cached per space, so writing the same event twice compiles
        it once.
        """
        from predmarket.events import Event

        if isinstance(spec, Event):
            if spec.space is not self and spec.space != self:
                raise InvalidInput("event belongs to a different outcome space")
            return spec
        key = spec if isinstance(spec, (str, Basic)) else None
        if key is not None:
            cached = self._events.get(key)
            if cached is not None:
                return cached
        event = Event(self, spec)
        cached = self._events.setdefault(event.expr, event)
        if key is not None:
            self._events[key] = cached
        if len(self._events) > 4096:  # bound the cache; compiled events hold selections
            self._events.clear()
        return cached

    # -- serialisation ----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description of the space."""
        return {"variables": [v.to_dict() for v in self.variables]}

    def to_json(self) -> str:
        """The space as a JSON string (see :meth:`from_json`)."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OutcomeSpace:
        """Rebuild a space from :meth:`to_dict` output."""
        try:
            return cls([Variable(v["name"], v["states"]) for v in data["variables"]])
        except (KeyError, TypeError) as exc:
            raise InvalidInput(
                f"expected {{'variables': [{{'name': ..., 'states': [...]}}, ...]}}, got {data!r}"
            ) from exc

    @classmethod
    def from_json(cls, text: str) -> OutcomeSpace:
        """Rebuild a space from :meth:`to_json` output."""
        try:
            data = json.loads(text)
        except (TypeError, json.JSONDecodeError) as exc:
            raise InvalidInput(f"not valid JSON for an outcome space: {exc}") from exc
        return cls.from_dict(data)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OutcomeSpace) and self.variables == other.variables

    def __hash__(self) -> int:
        return hash(self.variables)

    def __repr__(self) -> str:
        return f"OutcomeSpace({list(self.variables)!r})"
