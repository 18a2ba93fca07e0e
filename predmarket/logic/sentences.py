"""Sentences: canonical sympy Boolean formulas over named atoms.

A *sentence* is a :class:`sympy.logic.boolalg.Boolean` whose atoms are sympy symbols. Three
kinds of atom exist:

* plain propositions, :class:`sympy.Symbol` named by an identifier (``A``, ``twin_primes``);
* computational facts (:mod:`predmarket.logic.facts`), whose truth a program settles;
* price atoms (:func:`price_atom`), meaning ":math:`P_n(\\varphi) < p`", the market's own
  price of a sentence :math:`\\varphi` on day :math:`n` lies below a threshold :math:`p`
  (DESIGN.md sec. 7). A price atom may refer to itself (:func:`self_referential`), which
  is how the Gödelian sentence :math:`\\chi_n := \\text{“}P_n(\\chi_n) < p\\text{”}` is
  written.

Grammar of sentence strings (loosest binding first)::

    sentence := implies ( ("<->" | "<=>") implies )*      # left-associative pairs
    implies  := or ( ("->" | "=>") implies )?              # right-associative
    or       := xor ( ("|" | "or") xor )*
    xor      := and ( ("^" | "xor") and )*
    and      := unary ( ("&" | "and") unary )*
    unary    := ("~" | "!" | "not") unary | "(" sentence ")" | atom | "True" | "False"
    atom     := NAME ( ("==" | "!=") STATE )?
    STATE    := true | false | yes | no | 1 | 0 | on | off        # maybe quoted

``NAME == yes`` is ``NAME`` and ``NAME == no`` is ``~NAME``: an atom reads as a two-state
variable, as in :mod:`predmarket.events`, so an observation written for a
:class:`~predmarket.market.Market` over true/false variables is a sentence too.

**Canonical form.** Every sentence is rewritten once, when it enters the library:
implications become disjunctions (:math:`a \\to b \\mapsto \\lnot a \\lor b`), ``ITE``,
``Nand``, ``Nor`` and ``Xnor`` are expanded, and sympy's ``And``/``Or``/``Xor``/
``Equivalent`` store their arguments flattened, de-duplicated and sorted. So ``"A -> B"``,
``"~A | B"`` and ``"B | ~A"`` are the *same* sympy object up to ``==`` and ``hash``: sentences
are compared by value, never by identity. Sentences that are only logically equivalent
(``"A & (A | B)"`` versus ``"A"``) stay distinct sentences, as in Garrabrant et al. (2016),
where sentences are strings; the worlds (:mod:`predmarket.logic.worlds`) give them equal
truth values in every world.

References
----------
.. [1] S. Garrabrant, T. Benson-Tilsen, A. Critch, N. Soares, J. Taylor, "Logical
   induction", arXiv:1609.03543 (2016), sec. 3.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Mapping
from typing import Any

import sympy
from sympy.logic.boolalg import (
    ITE,
    And,
    Boolean,
    BooleanFalse,
    BooleanTrue,
    Equivalent,
    Implies,
    Nand,
    Nor,
    Not,
    Or,
    Xnor,
    Xor,
)

from predmarket.errors import EventSyntaxError, InvalidInput

__all__ = [
    "PriceAtom",
    "atoms_of",
    "is_price_atom",
    "negate",
    "parse_sentence",
    "price_atom",
    "self_referential",
    "sentence_to_string",
]

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_KEYWORDS = {"and", "or", "not", "xor", "True", "False"}
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<op><->|<=>|->|=>|==|!=|[&|^~!()])
      | (?P<string>"[^"]*"|'[^']*')
      | (?P<number>\d+)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)
_TRUE_STATES = {"true", "yes", "1", "on", "t", "y"}
_FALSE_STATES = {"false", "no", "0", "off", "f", "n"}


class PriceAtom(sympy.Symbol):
    """The atom ":math:`P_n(\\varphi) < p`": the market's price of ``sentence`` on day ``day``
    is strictly below ``threshold``.

    Build it with :func:`price_atom` or :func:`self_referential`. Two price atoms are equal
    exactly when their sentence, day and threshold are equal.

    Its truth is settled once day ``day``'s prices are fixed, by
    :class:`~predmarket.logic.deductive.PriceAtomProcess`. **Tie rule:** the inequality is
    strict, so a price *equal* to the threshold makes the atom false (unless a process is
    told otherwise, explicitly).

    Attributes
    ----------
    sentence : sympy Boolean
        The sentence whose price is read; for a self-referential atom, the atom itself.
    day : int
        The day :math:`n \\ge 1` whose price is read.
    threshold : float
        The threshold :math:`p \\in (0, 1)`.
    """

    __slots__ = ("_sentence", "day", "threshold")

    def __new__(cls, name: str, sentence: Boolean | None, day: int, threshold: float):
        obj = sympy.Symbol.__xnew__(cls, name)
        obj._sentence = sentence
        obj.day = day
        obj.threshold = threshold
        return obj

    def __getnewargs_ex__(self):
        return ((self.name, self._sentence, self.day, self.threshold), {})

    def _hashable_content(self):
        return (self.name, self._sentence, self.day, self.threshold)

    @property
    def sentence(self) -> Boolean:
        return self if self._sentence is None else self._sentence

    @property
    def self_referential(self) -> bool:
        """True when the atom reads its own price."""
        return self._sentence is None


def _check_day(day: Any) -> int:
    if isinstance(day, bool) or not isinstance(day, int | sympy.Integer):
        raise InvalidInput(f"day must be an integer >= 1, got {day!r}")
    if int(day) < 1:
        raise InvalidInput(f"day must be an integer >= 1 (days are numbered from 1), got {day!r}")
    return int(day)


def _check_threshold(threshold: Any) -> float:
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        raise InvalidInput(f"threshold must be a number in (0, 1), got {threshold!r}") from None
    if not math.isfinite(value) or not 0.0 < value < 1.0:
        raise InvalidInput(f"threshold must be a finite number in (0, 1), got {threshold!r}")
    return value


def price_atom(sentence: Any, day: int, threshold: float) -> PriceAtom:
    """The atom ":math:`P_{day}(\\text{sentence}) < \\text{threshold}`".

    Parameters
    ----------
    sentence : str or sympy Boolean
        The sentence whose price is read (parsed with :func:`parse_sentence`).
    day : int
        Day :math:`n \\ge 1`.
    threshold : float
        :math:`p \\in (0, 1)`.

    Examples
    --------
    >>> a = price_atom("A & B", 3, 0.4)
    >>> a
    P3(A & B) < 0.4
    >>> a.day, a.threshold, a.sentence
    (3, 0.4, A & B)
    >>> a == price_atom("B & A", 3, 0.4)
    True
    """
    phi = parse_sentence(sentence)
    day = _check_day(day)
    p = _check_threshold(threshold)
    return PriceAtom(f"P{day}({sentence_to_string(phi)}) < {p!r}", phi, day, p)


def self_referential(name: str, day: int, threshold: float) -> PriceAtom:
    """The self-referential atom :math:`\\chi_n := \\text{“}P_n(\\chi_n) < p\\text{”}`.

    Its ``sentence`` is itself, so it is true iff its own day-``day`` price is below
    ``threshold`` (DESIGN.md sec. 7). No price is then right:
    :math:`\\min_q |\\mathbf 1[q < p] - q| = \\min(p, 1 - p)`.

    Examples
    --------
    >>> chi = self_referential("chi_5", 5, 0.4)
    >>> chi.sentence is chi, chi.day, chi.threshold, chi.self_referential
    (True, 5, 0.4, True)
    """
    if not isinstance(name, str) or not IDENTIFIER.match(name) or name in _KEYWORDS:
        raise InvalidInput(f"a self-referential atom needs an identifier name, got {name!r}")
    return PriceAtom(name, None, _check_day(day), _check_threshold(threshold))


def is_price_atom(atom: Any) -> bool:
    """True for atoms built by :func:`price_atom` or :func:`self_referential`."""
    return isinstance(atom, PriceAtom)


# ----------------------------------------------------------------------------- parsing


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    tokens, pos = [], 0
    end = len(text.rstrip())
    while pos < end:
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise EventSyntaxError(
                f"cannot parse sentence {text!r}: unexpected character {text[pos:].lstrip()[:1]!r}"
                f" at position {pos}; expected a name, ~, &, |, ^, ->, <->, or parentheses"
            )
        kind = match.lastgroup
        tokens.append((kind, match.group(kind), match.start(kind)))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str, atoms: Mapping[str, sympy.Symbol]):
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0
        self.atoms = atoms

    def error(self, expected: str):
        if self.i < len(self.tokens):
            _, value, pos = self.tokens[self.i]
            found = f"{value!r} at position {pos}"
        else:
            found = "the end of the text"
        return EventSyntaxError(
            f"cannot parse sentence {self.text!r}: expected {expected}, found {found}"
        )

    def peek(self, *values: str) -> bool:
        if self.i < len(self.tokens):
            _, value, _ = self.tokens[self.i]
            return value in values
        return False

    def take(self, *values: str) -> bool:
        if self.peek(*values):
            self.i += 1
            return True
        return False

    def parse(self):
        if not self.tokens:
            raise EventSyntaxError(
                "cannot parse an empty sentence; expected a formula such as 'A & ~B'"
            )
        expr = self.equivalence()
        if self.i != len(self.tokens):
            raise self.error("an operator or the end of the sentence")
        return expr

    def equivalence(self):
        expr = self.implication()
        while self.take("<->", "<=>"):
            expr = Equivalent(expr, self.implication())
        return expr

    def implication(self):
        expr = self.disjunction()
        if self.take("->", "=>"):
            return Implies(expr, self.implication())
        return expr

    def disjunction(self):
        args = [self.exclusive()]
        while self.take("|", "or"):
            args.append(self.exclusive())
        return Or(*args) if len(args) > 1 else args[0]

    def exclusive(self):
        expr = self.conjunction()
        while self.take("^", "xor"):
            expr = Xor(expr, self.conjunction())
        return expr

    def conjunction(self):
        args = [self.unary()]
        while self.take("&", "and"):
            args.append(self.unary())
        return And(*args) if len(args) > 1 else args[0]

    def unary(self):
        if self.take("~", "!", "not"):
            return Not(self.unary())
        if self.take("("):
            expr = self.equivalence()
            if not self.take(")"):
                raise self.error("')'")
            return expr
        if self.i < len(self.tokens) and self.tokens[self.i][0] == "name":
            name = self.tokens[self.i][1]
            if name in {"and", "or", "xor", "not"}:
                raise self.error("a name, 'True', 'False', '~' or '('")
            self.i += 1
            if name == "True":
                return sympy.true
            if name == "False":
                return sympy.false
            atom = self.atoms.get(name, sympy.Symbol(name))
            if self.peek("==", "!="):
                negated = self.tokens[self.i][1] == "!="
                self.i += 1
                truth = self.state()
                return Not(atom) if truth == negated else atom
            return atom
        raise self.error("a name, 'True', 'False', '~' or '('")

    def state(self) -> bool:
        """A truth state after ``==``/``!=``: true/false, yes/no, 1/0, on/off (maybe quoted)."""
        if self.i < len(self.tokens) and self.tokens[self.i][0] in ("name", "string", "number"):
            kind, value, _ = self.tokens[self.i]
            text = value[1:-1] if kind == "string" else value
            if text.strip().lower() in _TRUE_STATES | _FALSE_STATES:
                self.i += 1
                return text.strip().lower() in _TRUE_STATES
        raise self.error("a truth state (true/false, yes/no, 1/0, on/off)")


def _check_atom(symbol: sympy.Symbol) -> None:
    if isinstance(symbol, PriceAtom):
        return
    from predmarket.logic.facts import FactAtom

    if isinstance(symbol, FactAtom):
        return
    if type(symbol) is not sympy.Symbol or symbol.assumptions0 not in ({}, {"commutative": True}):
        raise InvalidInput(
            f"sentence atoms must be plain sympy Symbols without assumptions, price atoms or "
            f"computational facts; got {symbol!r} of type {type(symbol).__name__}"
        )
    if not IDENTIFIER.match(symbol.name) or symbol.name in _KEYWORDS:
        raise InvalidInput(
            f"atom name {symbol.name!r} is not an identifier (letters, digits, '_', not "
            f"starting with a digit, and not a keyword)"
        )


def _canonical(expr: Any) -> Boolean:
    if isinstance(expr, bool):
        return sympy.true if expr else sympy.false
    if isinstance(expr, BooleanTrue | BooleanFalse):
        return expr
    if isinstance(expr, sympy.Symbol):
        _check_atom(expr)
        return expr
    if isinstance(expr, Not):
        return Not(_canonical(expr.args[0]))
    if isinstance(expr, And):
        return And(*(_canonical(a) for a in expr.args))
    if isinstance(expr, Or):
        return Or(*(_canonical(a) for a in expr.args))
    if isinstance(expr, Implies):
        a, b = expr.args
        return Or(Not(_canonical(a)), _canonical(b))
    if isinstance(expr, Equivalent):
        return Equivalent(*(_canonical(a) for a in expr.args))
    if isinstance(expr, Xnor):
        return Not(Xor(*(_canonical(a) for a in expr.args)))
    if isinstance(expr, Xor):
        return Xor(*(_canonical(a) for a in expr.args))
    if isinstance(expr, Nand):
        return Not(And(*(_canonical(a) for a in expr.args)))
    if isinstance(expr, Nor):
        return Not(Or(*(_canonical(a) for a in expr.args)))
    if isinstance(expr, ITE):
        c, a, b = (_canonical(x) for x in expr.args)
        return Or(And(c, a), And(Not(c), b))
    raise InvalidInput(
        f"a sentence must be a Boolean formula over atoms (And, Or, Not, Implies, Equivalent, "
        f"Xor, ...); got {expr!r} of type {type(expr).__name__}"
    )


def parse_sentence(sentence: Any, *, atoms: Mapping[str, sympy.Symbol] | None = None) -> Boolean:
    """Parse a string (or take a sympy Boolean) and return its canonical form.

    Parameters
    ----------
    sentence : str, bool or sympy Boolean
        ``"A & ~B"``, ``"A -> B"``, ``"(A <-> B) ^ C"``, or an expression built from sympy
        symbols, price atoms and computational facts.
    atoms : mapping of str to Symbol, optional
        Names that stand for special atoms in a string, e.g. ``{"chi": chi}`` for a
        self-referential atom or a computational fact. Other names become plain symbols.

    Returns
    -------
    sympy Boolean
        The canonical sentence (see the module docstring): equal formulas compare and hash
        equal.

    Raises
    ------
    EventSyntaxError
        The string is not a well-formed sentence.
    InvalidInput
        The object is not a Boolean formula, or an atom is not an allowed atom.

    Examples
    --------
    >>> parse_sentence("A -> B")
    B | ~A
    >>> parse_sentence("A -> B") == parse_sentence("~A | B") == parse_sentence("B | ~A")
    True
    >>> parse_sentence("~~A & (B <-> A)") == parse_sentence("A & (A <-> B)")
    True
    """
    if not atoms and isinstance(sentence, str | Boolean):
        return _parse_cached(sentence)
    return _parse(sentence, atoms)


@functools.lru_cache(maxsize=100_000)
def _parse_cached(sentence: str | Boolean) -> Boolean:
    # Sentences are immutable values: the same text or formula always gives the same result.
    return _parse(sentence, None)


def _parse(sentence: Any, atoms: Mapping[str, sympy.Symbol] | None) -> Boolean:
    mapping = dict(atoms or {})
    for name, symbol in mapping.items():
        if not isinstance(name, str) or not isinstance(symbol, sympy.Symbol):
            raise InvalidInput(f"atoms must map names to sympy Symbols, got {name!r}: {symbol!r}")
        _check_atom(symbol)
    if isinstance(sentence, str):
        expr = _Parser(sentence, mapping).parse()
    elif isinstance(sentence, bool | Boolean):
        expr = sentence
    else:
        raise InvalidInput(
            f"a sentence must be a string or a sympy Boolean, got {sentence!r} "
            f"of type {type(sentence).__name__}"
        )
    result = _canonical(expr)
    _check_unique_names(result)
    return result


def _check_unique_names(sentence: Boolean) -> None:
    seen: dict[str, sympy.Symbol] = {}
    for symbol in sentence.free_symbols:
        other = seen.setdefault(symbol.name, symbol)
        if other != symbol:
            raise InvalidInput(
                f"two different atoms share the name {symbol.name!r} in {sentence}: "
                f"{type(other).__name__} and {type(symbol).__name__}"
            )


def atoms_of(sentence: Any) -> frozenset:
    """The atoms (sympy symbols) a sentence mentions.

    A price atom is one atom: the sentence it reads is *not* expanded into its atoms.

    Examples
    --------
    >>> sorted(map(str, atoms_of("A -> (B | ~A)")))
    ['A', 'B']
    """
    return frozenset(parse_sentence(sentence).free_symbols)


def negate(sentence: Any) -> Boolean:
    """The canonical negation :math:`\\lnot\\varphi` (double negations cancel).

    Examples
    --------
    >>> negate("~A")
    A
    >>> negate("A & B") == parse_sentence("~(B & A)")
    True
    """
    return _canonical(Not(parse_sentence(sentence)))


def sentence_to_string(sentence: Any) -> str:
    """A string that :func:`parse_sentence` reads back to the same sentence (for plain atoms).

    Examples
    --------
    >>> sentence_to_string(parse_sentence("A -> B"))
    'B | ~A'
    """
    expr = parse_sentence(sentence) if not isinstance(sentence, Boolean) else sentence
    return _to_string(expr)


def _to_string(expr: Boolean) -> str:
    if isinstance(expr, BooleanTrue):
        return "True"
    if isinstance(expr, BooleanFalse):
        return "False"
    if isinstance(expr, sympy.Symbol):
        return expr.name
    if isinstance(expr, Not):
        inner = expr.args[0]
        text = _to_string(inner)
        return f"~{text}" if isinstance(inner, sympy.Symbol) else f"~({text})"
    ops = {And: " & ", Or: " | ", Xor: " ^ ", Equivalent: " <-> "}
    for kind, op in ops.items():
        if isinstance(expr, kind):
            parts = []
            for arg in sorted(expr.args, key=_print_key):
                text = _to_string(arg)
                parts.append(text if isinstance(arg, sympy.Symbol | Not) else f"({text})")
            if kind is Equivalent and len(parts) > 2:
                # Equivalent(a, b, c) means all equal: a chain of pairs says the same thing.
                return " & ".join(f"({x} <-> {y})" for x, y in itertools.pairwise(parts))
            return op.join(parts)
    raise InvalidInput(f"not a canonical sentence: {expr!r}")


def _print_key(expr: Boolean):
    # Atoms first, then negations, then compound formulas; ties broken by sympy's order.
    rank = 0 if isinstance(expr, sympy.Symbol) else 1 if isinstance(expr, Not) else 2
    return (rank, sympy.default_sort_key(expr))
