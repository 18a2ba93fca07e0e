"""Events: Boolean formulas over ``variable == state`` atoms, compiled once.

Grammar of event strings (loosest binding first)::

    event   := implies ( "<->" implies )*
    implies := or ( "->" implies )?            # right-associative
    or      := and ( "|" and )*
    and     := unary ( "&" unary )*
    unary   := "~" unary | "(" event ")" | atom
    atom    := NAME ( ("==" | "!=") STATE )?
    STATE   := NAME | NUMBER | "quoted" | 'quoted'

A bare ``NAME`` is allowed for a two-state variable whose states read as true/false
(``yes``/``no``, ``true``/``false``, ``1``/``0``, ``on``/``off``): ``~cold`` means
``cold == no``. Every atom becomes a sympy symbol named canonically (``rain == yes``), so
equal formulas are equal, hashable sympy expressions, and a sympy expression built from
such symbols is accepted wherever a string is.

An event compiles to its *truth table* over the variables it mentions, and from that to a
:class:`~predmarket.selection.Selection` (strided views or indices) over the joint.
"""

from __future__ import annotations

import json
import re
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy
from sympy.logic.boolalg import Boolean, BooleanFalse, BooleanTrue

from predmarket.errors import EventSyntaxError, InvalidInput
from predmarket.selection import Selection, _expand, select
from predmarket.spaces import IDENTIFIER

if TYPE_CHECKING:
    from predmarket.spaces import OutcomeSpace

__all__ = ["Event", "atom", "event_to_string", "parse_event"]

_TRUE_STATES = {"true", "yes", "1", "on", "t", "y"}
_FALSE_STATES = {"false", "no", "0", "off", "f", "n"}
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?\Z")
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<op><->|->|==|!=|[&|~()])
      | (?P<string>"(?:[^"\\]|\\.)*"|'[^']*')
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)


def _state_text(state: str) -> str:
    """How a state is written in an event string: bare if it can be, else quoted."""
    if IDENTIFIER.match(state) or _NUMBER.match(state):
        return state
    return json.dumps(state)


def atom(variable: str, state: str) -> sympy.Symbol:
    """The sympy symbol for the atom ``variable == state`` (canonical name).

    Examples
    --------
    >>> atom("rain", "yes")
    rain == yes
    >>> atom("temp", "20-25")
    temp == "20-25"
    """
    return sympy.Symbol(f"{variable} == {_state_text(str(state))}")


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    tokens, pos = [], 0
    stripped_end = len(text.rstrip())
    while pos < stripped_end:
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise EventSyntaxError(
                f"cannot read event {text!r} at position {pos} ({text[pos:pos + 10]!r}); "
                "expected a variable, a state, or one of == != & | ~ -> <-> ( )"
            )
        kind = m.lastgroup
        value = m.group(kind)
        if kind == "string":
            value = json.loads(value) if value[0] == '"' else value[1:-1]
        tokens.append((kind, value, m.start(kind)))
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, text: str, space: OutcomeSpace):
        self.text = text
        self.space = space
        self.tokens = _tokenize(text)
        self.i = 0

    def fail(self, expected: str):
        if self.i < len(self.tokens):
            _kind, value, pos = self.tokens[self.i]
            got = f"{value!r} at position {pos}"
        else:
            got = "end of input"
        raise EventSyntaxError(f"malformed event {self.text!r}: expected {expected}, got {got}")

    def peek(self, *ops: str) -> bool:
        return (
            self.i < len(self.tokens)
            and self.tokens[self.i][0] == "op"
            and self.tokens[self.i][1] in ops
        )

    def take(self) -> tuple[str, str, int]:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def parse(self) -> Boolean:
        if not self.tokens:
            raise EventSyntaxError("empty event string; expected e.g. 'rain == yes'")
        expr = self.equiv()
        if self.i != len(self.tokens):
            self.fail("an operator (& | -> <->) or end of input")
        return expr

    def equiv(self):
        left = self.implies()
        while self.peek("<->"):
            self.take()
            left = sympy.Equivalent(left, self.implies())
        return left

    def implies(self):
        left = self.disj()
        if self.peek("->"):
            self.take()
            return sympy.Implies(left, self.implies())
        return left

    def disj(self):
        terms = [self.conj()]
        while self.peek("|"):
            self.take()
            terms.append(self.conj())
        return sympy.Or(*terms) if len(terms) > 1 else terms[0]

    def conj(self):
        terms = [self.unary()]
        while self.peek("&"):
            self.take()
            terms.append(self.unary())
        return sympy.And(*terms) if len(terms) > 1 else terms[0]

    def unary(self):
        if self.peek("~"):
            self.take()
            return sympy.Not(self.unary())
        if self.peek("("):
            self.take()
            inner = self.equiv()
            if not self.peek(")"):
                self.fail("')'")
            self.take()
            return inner
        return self.atom()

    def atom(self):
        if self.i >= len(self.tokens) or self.tokens[self.i][0] != "name":
            self.fail("a variable name")
        _, name, _ = self.take()
        variable = self.space.variable(name)
        if self.peek("==", "!="):
            _, op, _ = self.take()
            if self.i >= len(self.tokens) or self.tokens[self.i][0] == "op":
                self.fail(f"a state of {name!r} after {op!r}")
            _, state, _ = self.take()
            variable.index(state)  # validates
            sym = atom(name, state)
            return sympy.Not(sym) if op == "!=" else sym
        return atom(name, _truthy_state(variable))


def _truthy_state(variable) -> str:
    lowered = [s.lower() for s in variable.states]
    if (
        len(lowered) == 2
        and sum(s in _TRUE_STATES for s in lowered) == 1
        and sum(s in _FALSE_STATES for s in lowered) == 1
    ):
        return variable.states[0] if lowered[0] in _TRUE_STATES else variable.states[1]
    raise EventSyntaxError(
        f"bare variable {variable.name!r} is only allowed for a yes/no variable; write "
        f"'{variable.name} == <state>' with a state in {list(variable.states)!r}"
    )


def parse_event(text: str, space: OutcomeSpace) -> Boolean:
    """Parse an event string into a canonical sympy Boolean expression.

    Raises
    ------
    EventSyntaxError
        The string does not follow the grammar (the message gives the position).
    UnknownVariable, UnknownState
        An atom names a variable or state that the space does not have.
    """
    if not isinstance(text, str):
        raise InvalidInput(f"expected an event string, got {type(text).__name__}")
    return _Parser(text, space).parse()


def _canonical(expr: Any, space: OutcomeSpace) -> Boolean:
    """Validate a sympy expression and rename its atoms canonically."""
    if isinstance(expr, bool):
        return sympy.true if expr else sympy.false
    if not isinstance(expr, Boolean):
        raise InvalidInput(
            f"an event must be a string, a mapping, an Event or a sympy Boolean; got "
            f"{type(expr).__name__}: {expr!r}"
        )
    mapping = {}
    for sym in expr.free_symbols:
        if not isinstance(sym, sympy.Symbol):
            raise InvalidInput(f"event atom {sym!r} is not a symbol")
        parsed = parse_event(sym.name, space)
        if not isinstance(parsed, sympy.Symbol):
            raise EventSyntaxError(
                f"symbol {sym.name!r} must name one atom such as 'rain == yes', got {parsed}"
            )
        if parsed != sym:
            mapping[sym] = parsed
    return expr.xreplace(mapping) if mapping else expr


def event_to_string(expr: Boolean) -> str:
    """Write a canonical event expression back in the event-string syntax."""

    def go(e, parent: int) -> str:
        if isinstance(e, sympy.Symbol):
            return e.name
        if isinstance(e, BooleanTrue):
            return _TAUTOLOGY
        if isinstance(e, BooleanFalse):
            return _CONTRADICTION
        if isinstance(e, sympy.Xor):  # no xor in the grammar: a ^ b is ~(a <-> b)
            first, *rest = e.args
            return go(sympy.Not(sympy.Equivalent(first, sympy.Xor(*rest), evaluate=False),
                                evaluate=False), parent)
        if isinstance(e, sympy.Equivalent) and len(e.args) > 2:  # all equal, pairwise
            pairs = [sympy.Equivalent(a, b, evaluate=False) for a, b in zip(e.args, e.args[1:])]
            return go(sympy.And(*pairs, evaluate=False), parent)
        if isinstance(e, sympy.Not):
            if isinstance(e.args[0], sympy.Symbol):
                return e.args[0].name.replace(" == ", " != ", 1)
            return "~" + go(e.args[0], 5)
        ops = {sympy.And: (" & ", 4), sympy.Or: (" | ", 3), sympy.Implies: (" -> ", 2),
               sympy.Equivalent: (" <-> ", 1)}
        for cls, (sep, prec) in ops.items():
            if isinstance(e, cls):
                args = sorted(e.args, key=sympy.default_sort_key) if cls in (
                    sympy.And, sympy.Or, sympy.Equivalent) else e.args
                text = sep.join(go(a, prec + (cls is sympy.Implies)) for a in args)
                return f"({text})" if prec <= parent else text
        raise InvalidInput(f"unsupported connective in event: {type(e).__name__}")

    return go(expr, 0)


# A tautology and a contradiction have no variables to write, so they get fixed spellings.
_TAUTOLOGY = "(__true__)"
_CONTRADICTION = "(__false__)"


class Event:
    """A set of joint outcomes, given as a Boolean formula over ``variable == state`` atoms.

    Build events with :meth:`OutcomeSpace.event` (which caches them) or pass strings
    directly to :class:`~predmarket.market.Market` methods.

    Parameters
    ----------
    space : OutcomeSpace
    spec : str, sympy Boolean, mapping or bool
        ``"rain == yes & ~cold"``, ``atom("rain", "yes") & ~atom("cold", "yes")``,
        ``{"rain": "yes"}`` (a conjunction), or ``True`` for the whole space.

    Examples
    --------
    >>> from predmarket import Variable, OutcomeSpace
    >>> space = OutcomeSpace([Variable("rain", ["yes", "no"]), Variable("cold", ["yes", "no"])])
    >>> e = space.event("rain == yes -> ~cold")
    >>> e.size, str(e)
    (3, 'rain == yes -> cold != yes')
    """

    def __init__(self, space: OutcomeSpace, spec: Any):
        self.space = space
        self._combinations: dict[tuple, Event] = {}
        if isinstance(spec, str):
            if spec.strip() == _TAUTOLOGY:
                expr = sympy.true
            elif spec.strip() == _CONTRADICTION:
                expr = sympy.false
            else:
                expr = parse_event(spec, space)
        elif isinstance(spec, dict):
            expr = sympy.And(*[atom(n, space.variable(n).states[space.variable(n).index(s)])
                               for n, s in spec.items()])
        else:
            expr = _canonical(spec, space)
        self.expr: Boolean = expr
        self.axes: tuple[int, ...] = tuple(sorted(
            {space.axis(_atom_parts(s)[0]) for s in self.expr.free_symbols}))
        self.table: np.ndarray = self._truth_table()
        self.table.setflags(write=False)
        self.size: int = int(self.table.sum()) * (
            space.size // int(np.prod(self.table.shape, dtype=np.int64)))

    def _truth_table(self) -> np.ndarray:
        sub_shape = tuple(self.space.shape[a] for a in self.axes)
        position = {a: i for i, a in enumerate(self.axes)}

        def atom_table(sym) -> np.ndarray:
            name, state = _atom_parts(sym)
            var = self.space.variable(name)
            axis = position[self.space.axis(name)]
            shape = [1] * len(sub_shape)
            shape[axis] = var.cardinality
            return (np.arange(var.cardinality) == var.index(state)).reshape(shape)

        def go(e) -> np.ndarray:
            if isinstance(e, sympy.Symbol):
                return atom_table(e)
            if isinstance(e, BooleanTrue):
                return np.ones((1,) * len(sub_shape), dtype=bool)
            if isinstance(e, BooleanFalse):
                return np.zeros((1,) * len(sub_shape), dtype=bool)
            args = [go(a) for a in e.args]
            if isinstance(e, sympy.Not):
                return ~args[0]
            if isinstance(e, sympy.And):
                return np.logical_and.reduce(np.broadcast_arrays(*args))
            if isinstance(e, sympy.Or):
                return np.logical_or.reduce(np.broadcast_arrays(*args))
            if isinstance(e, sympy.Implies):
                return ~args[0] | args[1]
            if isinstance(e, sympy.Equivalent):
                same = [a == args[0] for a in args[1:]]
                return np.logical_and.reduce(np.broadcast_arrays(*same)) if same else \
                    np.ones((1,) * len(sub_shape), dtype=bool)
            if isinstance(e, sympy.Xor):
                return np.logical_xor.reduce(np.broadcast_arrays(*args))
            raise InvalidInput(f"unsupported connective in event: {type(e).__name__}")

        return np.ascontiguousarray(np.broadcast_to(go(self.expr), sub_shape))

    # -- derived sets ---------------------------------------------------------------------
    @cached_property
    def selection(self) -> Selection:
        """Fast view of the event's outcomes over any array laid out like the joint."""
        return select(self.table, self.axes, self.space.shape)

    @cached_property
    def mask(self) -> np.ndarray:
        """Boolean mask over the flat joint (allocated on first use)."""
        full = np.broadcast_to(_expand(self.table, self.axes, self.space.shape),
                               self.space.shape)
        out = np.ascontiguousarray(full).ravel()
        out.setflags(write=False)
        return out

    @property
    def variables(self) -> tuple[str, ...]:
        """Names of the variables the event depends on."""
        return tuple(self.space.variables[a].name for a in self.axes)

    @property
    def is_empty(self) -> bool:
        """True when no outcome satisfies the event."""
        return self.size == 0

    @property
    def is_certain(self) -> bool:
        """True when every outcome satisfies the event."""
        return self.size == self.space.size

    def contains(self, outcome) -> bool:
        """Whether the complete outcome ``{name: state}`` lies in the event."""
        idx = self.space.assignment(outcome)
        return bool(self.table[tuple(idx[self.space.variables[a].name] for a in self.axes)])

    # -- algebra --------------------------------------------------------------------------
    def _derived(self, op: str, other: Event | None) -> Event:
        key = (op, None if other is None else other.expr)
        found = self._combinations.get(key)
        if found is None:
            if op == "not":
                expr = sympy.Not(self.expr)
            else:
                expr = (sympy.And if op == "and" else sympy.Or)(self.expr, other.expr)
            found = self._combinations[key] = self.space.event(expr)
        return found

    def __and__(self, other: Any) -> Event:
        return self._derived("and", self.space.event(other))

    def __or__(self, other: Any) -> Event:
        return self._derived("or", self.space.event(other))

    def __invert__(self) -> Event:
        return self._derived("not", None)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Event) and self.space == other.space and (
            self.expr == other.expr or (self.axes == other.axes
                                        and np.array_equal(self.table, other.table)))

    def __hash__(self) -> int:
        return hash((self.axes, self.table.tobytes()))

    # -- text and JSON --------------------------------------------------------------------
    @cached_property
    def text(self) -> str:
        """The event in event-string syntax (parses back to an equal event)."""
        return event_to_string(self.expr)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Event({str(self)!r})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: the space and the event string."""
        return {"space": self.space.to_dict(), "event": str(self)}

    def to_json(self) -> str:
        """The event (with its space) as a JSON string."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str, space: OutcomeSpace | None = None) -> Event:
        """Rebuild an event from :meth:`to_json` output (on ``space`` if given)."""
        from predmarket.spaces import OutcomeSpace

        try:
            data = json.loads(text)
            event_text = data["event"]
            own_space = OutcomeSpace.from_dict(data["space"])
        except (TypeError, KeyError, json.JSONDecodeError) as exc:
            raise InvalidInput(f"not valid JSON for an event: {exc}") from exc
        if space is not None and space != own_space:
            raise InvalidInput("the JSON event was written for a different outcome space")
        return (space or own_space).event(event_text)


def _atom_parts(sym: sympy.Symbol) -> tuple[str, str]:
    name, _, state = sym.name.partition(" == ")
    if state[:1] == '"':
        state = json.loads(state)
    return name, state
