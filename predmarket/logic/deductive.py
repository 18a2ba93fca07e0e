"""Deductive processes: day by day, the sentences proven so far.

A deductive process (Garrabrant et al. 2016, Def. 3.4.1) is a sequence of finite sets of
sentences :math:`D_1 \\subseteq D_2 \\subseteq \\cdots`; :math:`D_n` is what has been proven by
the end of day :math:`n`. A *refutation* of :math:`\\varphi` is the proof of its canonical
negation :func:`~predmarket.logic.sentences.negate` (:math:`\\lnot\\varphi`). The worlds a
market must respect on day :math:`n` are the truth assignments that make every sentence of
:math:`D_n` true (:mod:`predmarket.logic.worlds`).

The protocol is one method::

    theorems(day: int) -> frozenset[sympy Boolean]

It is cumulative and monotone (``theorems(n) <= theorems(n + 1)``), and ``theorems(0)`` is
what is known before day 1. Days are numbered from 1, as in the paper.

Built-ins
---------
:class:`ListProcess`
    from a list of per-day lists;
:class:`GeneratorProcess`
    from an iterable of per-day batches, consumed lazily;
:class:`ComputationProcess`
    proves or refutes computational facts (:mod:`predmarket.logic.facts`) with a compute
    budget that grows with the day;
:class:`PriceAtomProcess`
    settles price atoms :math:`P_n(\\varphi) < p` once day :math:`n`'s prices are fixed, with
    an explicit tie rule;
:class:`CombinedProcess` (also ``a | b``)
    the union of several processes.

References
----------
.. [1] S. Garrabrant, T. Benson-Tilsen, A. Critch, N. Soares, J. Taylor, "Logical
   induction", arXiv:1609.03543 (2016), sec. 3.4.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, runtime_checkable

import sympy
from sympy.logic.boolalg import Boolean

from predmarket.errors import InvalidInput
from predmarket.logic.facts import FactAtom, _check_budget
from predmarket.logic.sentences import PriceAtom, negate, parse_sentence

__all__ = [
    "TIE_RULES",
    "CombinedProcess",
    "ComputationProcess",
    "DeductiveProcess",
    "GeneratorProcess",
    "ListProcess",
    "PriceAtomProcess",
    "ProcessBase",
    "as_process",
    "settle_price_atom",
]


@runtime_checkable
class DeductiveProcess(Protocol):
    """Anything with ``theorems(day) -> frozenset`` of canonical sentences, cumulative in day."""

    def theorems(self, day: int) -> frozenset: ...


def _check_day(day: Any) -> int:
    if isinstance(day, bool) or not isinstance(day, int | sympy.Integer):
        raise InvalidInput(f"day must be an integer >= 0, got {day!r}")
    if int(day) < 0:
        raise InvalidInput(f"day must be an integer >= 0, got {day!r}")
    return int(day)


def _batch(item: Any, where: str) -> list[Boolean]:
    """One day's sentences: a single sentence or an iterable of sentences."""
    if isinstance(item, str | bool | Boolean):
        return [parse_sentence(item)]
    try:
        items = list(item)
    except TypeError:
        raise InvalidInput(
            f"{where} must be a sentence or an iterable of sentences, got {item!r}"
        ) from None
    return [parse_sentence(s) for s in items]


class ProcessBase:
    """Shared behaviour: day validation, and ``|`` to combine processes."""

    def theorems(self, day: int) -> frozenset:
        raise TypeError(f"{type(self).__name__} does not define theorems(day)")

    def __or__(self, other: Any) -> CombinedProcess:
        return CombinedProcess(self, other)

    def new_theorems(self, day: int) -> frozenset:
        """Sentences proven on ``day`` itself: ``theorems(day) - theorems(day - 1)``."""
        day = _check_day(day)
        if day == 0:
            return self.theorems(0)
        return self.theorems(day) - self.theorems(day - 1)


class _CumulativeBatches(ProcessBase):
    """A process given by per-day batches ``batches[n - 1]`` = sentences proven on day n."""

    def __init__(self, initial: Iterable[Any] = ()):
        self._initial = frozenset(_batch(initial, "initial theorems"))
        self._cumulative: list[frozenset] = [self._initial]

    def _extend_to(self, day: int) -> None:
        raise TypeError(f"{type(self).__name__} does not define _extend_to")

    def _push(self, batch: list[Boolean]) -> None:
        self._cumulative.append(self._cumulative[-1] | frozenset(batch))

    def theorems(self, day: int) -> frozenset:
        day = _check_day(day)
        self._extend_to(day)
        return self._cumulative[min(day, len(self._cumulative) - 1)]


class ListProcess(_CumulativeBatches):
    """A deductive process from a list of per-day lists.

    Parameters
    ----------
    days : sequence of (sentence or sequence of sentences)
        ``days[0]`` is proven on day 1, ``days[1]`` on day 2, and so on. After the last
        list nothing new is proven.
    initial : iterable of sentences, optional
        Known before day 1 (``theorems(0)``).

    Examples
    --------
    >>> d = ListProcess([["A"], [], ["A -> B", "~C"]])
    >>> sorted(map(str, d.theorems(1))), len(d.theorems(2)), sorted(map(str, d.theorems(9)))
    (['A'], 1, ['A', 'B | ~A', '~C'])
    """

    def __init__(self, days: Sequence[Any], *, initial: Iterable[Any] = ()):
        if isinstance(days, str) or not isinstance(days, Sequence):
            raise InvalidInput(f"days must be a list of per-day lists of sentences, got {days!r}")
        super().__init__(initial)
        for n, item in enumerate(days, start=1):
            self._push(_batch(item, f"day {n}"))

    def _extend_to(self, day: int) -> None:
        return None


class GeneratorProcess(_CumulativeBatches):
    """A deductive process from an iterable (e.g. a generator) of per-day batches.

    Item ``k`` (from 0) is proven on day ``k + 1``: a sentence, or an iterable of sentences
    (empty for a day without proofs). Items are drawn lazily, only as far as the latest day
    asked for, and remembered, so asking again is free and the answer never changes.

    Examples
    --------
    >>> def proofs():
    ...     n = 0
    ...     while True:
    ...         n += 1
    ...         yield f"A{n}"
    >>> d = GeneratorProcess(proofs())
    >>> sorted(map(str, d.theorems(3)))
    ['A1', 'A2', 'A3']
    """

    def __init__(self, batches: Iterable[Any], *, initial: Iterable[Any] = ()):
        try:
            self._iterator = iter(batches)
        except TypeError:
            raise InvalidInput(f"batches must be iterable, got {batches!r}") from None
        super().__init__(initial)
        self._exhausted = False

    def _extend_to(self, day: int) -> None:
        while not self._exhausted and len(self._cumulative) <= day:
            try:
                item = next(self._iterator)
            except StopIteration:
                self._exhausted = True
                return
            self._push(_batch(item, f"day {len(self._cumulative)}"))


class ComputationProcess(ProcessBase):
    """Proves or refutes computational facts with a compute budget that grows each day.

    On day :math:`n` every fact still open is run with budget :math:`B(n)`; a fact whose
    program answers is added as the fact (if true) or its negation (if false), for good.

    Parameters
    ----------
    facts : iterable of FactAtom
        The facts to settle (:func:`~predmarket.logic.facts.digit_of_pi`, ...).
    budget_schedule : callable or sequence, optional
        :math:`B(n)` for day :math:`n \\ge 1`: a function of the day, or a sequence whose
        entry ``n - 1`` is day ``n``'s budget (the last entry repeats). Budgets are
        non-negative integers. Default :math:`B(n) = 2^n`. Day 0 has budget 0.

    Examples
    --------
    >>> from predmarket.logic.facts import digit_of_pi, is_prime
    >>> d = ComputationProcess([digit_of_pi(4, 5), is_prime(91)], lambda n: 2 * n)
    >>> sorted(map(str, d.theorems(1))), sorted(map(str, d.theorems(2)))
    ([], ['pi_digit_4_is_5', '~is_prime_91'])
    """

    def __init__(self, facts: Iterable[FactAtom], budget_schedule: Any = None):
        self._facts = tuple(dict.fromkeys(facts))
        for f in self._facts:
            if not isinstance(f, FactAtom):
                raise InvalidInput(f"ComputationProcess proves computational facts; got {f!r}")
        if budget_schedule is None:
            self._schedule: Callable[[int], int] = lambda n: 2**n
        elif callable(budget_schedule):
            self._schedule = budget_schedule
        elif isinstance(budget_schedule, Sequence) and len(budget_schedule) > 0:
            budgets = [_check_budget(b) for b in budget_schedule]
            self._schedule = lambda n: budgets[min(n, len(budgets)) - 1]
        else:
            raise InvalidInput(
                "budget_schedule must be a function of the day or a non-empty sequence of "
                f"budgets, got {budget_schedule!r}"
            )
        self._cumulative: list[frozenset] = [frozenset()]
        self._settled_on: dict[FactAtom, int] = {}

    def budget(self, day: int) -> int:
        """The compute budget :math:`B(n)` of day ``day`` (0 on day 0)."""
        day = _check_day(day)
        return 0 if day == 0 else _check_budget(self._schedule(day))

    def settled_on(self, fact: FactAtom) -> int | None:
        """The day a fact was settled, or ``None`` if it is still open on the latest day run."""
        return self._settled_on.get(fact)

    def theorems(self, day: int) -> frozenset:
        day = _check_day(day)
        while len(self._cumulative) <= day:
            n = len(self._cumulative)
            budget = self.budget(n)
            proven = set()
            for f in self._facts:
                if f in self._settled_on:
                    continue
                truth = f.decide(budget)
                if truth is not None:
                    self._settled_on[f] = n
                    proven.add(f if truth else negate(f))
            self._cumulative.append(self._cumulative[-1] | frozenset(proven))
        return self._cumulative[day]


TIE_RULES = ("false_at_equality", "true_at_equality")


def settle_price_atom(
    atom: PriceAtom, price: float, *, tie_rule: str = "false_at_equality"
) -> bool:
    """The truth of :math:`P_n(\\varphi) < p` given the price :math:`P_n(\\varphi)`.

    With the default tie rule ``"false_at_equality"`` the inequality is strict: a price equal
    to the threshold makes the atom false. ``"true_at_equality"`` reads it as
    :math:`P_n(\\varphi) \\le p`. Prices are compared as floats, exactly.

    Examples
    --------
    >>> from predmarket.logic.sentences import price_atom
    >>> a = price_atom("A", 1, 0.4)
    >>> settle_price_atom(a, 0.39), settle_price_atom(a, 0.4), settle_price_atom(a, 0.41)
    (True, False, False)
    >>> settle_price_atom(a, 0.4, tie_rule="true_at_equality")
    True
    """
    if not isinstance(atom, PriceAtom):
        raise InvalidInput(f"expected a price atom, got {atom!r}")
    if tie_rule not in TIE_RULES:
        raise InvalidInput(f"tie_rule must be one of {TIE_RULES}, got {tie_rule!r}")
    try:
        value = float(price)
    except (TypeError, ValueError):
        raise InvalidInput(
            f"the price of {atom.sentence} on day {atom.day} must be a number, got {price!r}"
        ) from None
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise InvalidInput(
            f"the price of {atom.sentence} on day {atom.day} must be a finite number in [0, 1], "
            f"got {price!r}"
        )
    if value == atom.threshold:
        return tie_rule == "true_at_equality"
    return value < atom.threshold


class PriceAtomProcess(ProcessBase):
    """Settles price atoms :math:`P_n(\\varphi) < p` once day :math:`n`'s prices are fixed.

    An atom about day :math:`n` is settled on day :math:`n + \\text{delay}` (default: the
    next day, since day :math:`n`'s prices are computed *from* the theorems of day
    :math:`n`), by reading ``price_lookup(n, sentence)`` once and applying the tie rule
    (:func:`settle_price_atom`). The verdict is then stored for good: later changes to the
    lookup cannot un-prove it.

    Parameters
    ----------
    price_lookup : callable
        ``price_lookup(day, sentence) -> float``: the market's fixed price of ``sentence``
        on ``day``. It must answer for every atom due; a missing price (``None``) is an
        error, never a default.
    atoms : iterable of PriceAtom, optional
        Atoms to settle; more can be added with :meth:`add`.
    tie_rule : {"false_at_equality", "true_at_equality"}
        What a price exactly equal to the threshold means (default: the atom is false).
    delay : int
        Days between the day whose price is read and the day the verdict is proven (>= 0).

    Examples
    --------
    >>> from predmarket.logic.sentences import self_referential
    >>> chi = self_referential("chi1", 1, 0.4)
    >>> prices = {(1, chi): 0.4}
    >>> d = PriceAtomProcess(lambda day, s: prices[(day, s)], atoms=[chi])
    >>> d.theorems(1), d.theorems(2)
    (frozenset(), frozenset({~chi1}))
    """

    def __init__(
        self,
        price_lookup: Callable[[int, Boolean], float],
        *,
        atoms: Iterable[PriceAtom] = (),
        tie_rule: str = "false_at_equality",
        delay: int = 1,
    ):
        if not callable(price_lookup):
            raise InvalidInput(
                f"price_lookup must be callable (day, sentence) -> price, got {price_lookup!r}"
            )
        if tie_rule not in TIE_RULES:
            raise InvalidInput(f"tie_rule must be one of {TIE_RULES}, got {tie_rule!r}")
        self.delay = _check_day(delay)
        self.tie_rule = tie_rule
        self._lookup = price_lookup
        self._atoms: dict[PriceAtom, None] = {}
        self._verdicts: dict[PriceAtom, Boolean] = {}
        for a in atoms:
            self.add(a)

    @property
    def atoms(self) -> tuple[PriceAtom, ...]:
        return tuple(self._atoms)

    def add(self, atom: PriceAtom) -> None:
        """Register another price atom to settle."""
        if not isinstance(atom, PriceAtom):
            raise InvalidInput(f"PriceAtomProcess settles price atoms; got {atom!r}")
        self._atoms.setdefault(atom, None)

    def keep_only(self, atoms: Iterable[PriceAtom]) -> None:
        """Forget registered atoms not in ``atoms`` (undo :meth:`add` after a failed day)."""
        keep = set(atoms)
        self._atoms = {a: None for a in self._atoms if a in keep}

    def theorems(self, day: int) -> frozenset:
        day = _check_day(day)
        out = []
        for a in self._atoms:
            if a.day + self.delay > day:
                continue
            if a not in self._verdicts:
                price = self._lookup(a.day, a.sentence)
                if price is None:
                    raise InvalidInput(
                        f"price_lookup gave no price of {a.sentence} on day {a.day}, needed to "
                        f"settle {a} on day {day}; day {a.day}'s prices must be fixed by then"
                    )
                truth = settle_price_atom(a, price, tie_rule=self.tie_rule)
                self._verdicts[a] = a if truth else negate(a)
            out.append(self._verdicts[a])
        return frozenset(out)


class CombinedProcess(ProcessBase):
    """The union of several deductive processes: :math:`D_n = \\bigcup_i D^{(i)}_n`.

    Examples
    --------
    >>> d = ListProcess([["A"]]) | ListProcess([[], ["B"]])
    >>> sorted(map(str, d.theorems(2)))
    ['A', 'B']
    """

    def __init__(self, *processes: Any):
        flat = []
        for p in processes:
            p = as_process(p)
            flat.extend(p.processes if isinstance(p, CombinedProcess) else [p])
        self.processes = tuple(flat)

    def theorems(self, day: int) -> frozenset:
        day = _check_day(day)
        out: frozenset = frozenset()
        for p in self.processes:
            got = p.theorems(day)
            if not isinstance(got, frozenset):
                raise InvalidInput(
                    f"{type(p).__name__}.theorems({day}) must return a frozenset of sentences, "
                    f"got {type(got).__name__}"
                )
            out |= got
        return out


def as_process(process: Any) -> DeductiveProcess:
    """Accept a deductive process, or a list of per-day lists (made a :class:`ListProcess`)."""
    if isinstance(process, DeductiveProcess):
        return process
    if isinstance(process, Sequence) and not isinstance(process, str):
        return ListProcess(process)
    raise InvalidInput(
        f"expected a deductive process (an object with theorems(day)) or a list of per-day "
        f"lists of sentences, got {process!r}"
    )
