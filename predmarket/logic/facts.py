"""Computational facts: atoms whose truth a program settles, given enough compute.

A :class:`FactAtom` is a sympy symbol that also carries a *decision procedure*: a function
``decide(budget) -> True | False | None`` that runs for at most ``budget`` abstract steps and
returns ``None`` when that was not enough. Its truth is a mathematical fact that is fixed in
advance but unknown until computed, which is exactly the situation logical induction is
about: the market can price "the 10^6-th digit of pi is 7" long before it has the compute to
check it (Garrabrant et al. 2016, sec. 1).

Built-in facts, with their step counts:

* :func:`digit_of_pi` — "the n-th decimal digit of :math:`\\pi` after the point is d"; costs
  n steps (one per digit computed; the digits come from Machin's formula
  :math:`\\pi = 16\\arctan\\frac15 - 4\\arctan\\frac1{239}` in exact integer arithmetic).
* :func:`is_prime` — "n is prime", by trial division by 2, 3 and :math:`6k \\pm 1`; costs
  one step per trial divisor, so a number with a small factor is settled quickly and a
  large prime needs about :math:`\\sqrt{n}/3` steps.
* :func:`fact` — any user program with the same ``decide(budget)`` contract.

:class:`~predmarket.logic.deductive.ComputationProcess` proves these facts with a budget that
grows day by day.

References
----------
.. [1] S. Garrabrant, T. Benson-Tilsen, A. Critch, N. Soares, J. Taylor, "Logical
   induction", arXiv:1609.03543 (2016).
.. [2] J. Machin (1706), the arctangent formula for :math:`\\pi`; see J. M. Borwein and
   P. B. Borwein, *Pi and the AGM*, Wiley, 1987, ch. 11.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sympy

from predmarket.errors import InvalidInput

__all__ = ["FactAtom", "digit_of_pi", "fact", "is_fact_atom", "is_prime", "pi_digits"]

Decider = Callable[[int], "bool | None"]


class FactAtom(sympy.Symbol):
    """An atom whose truth a program decides within a compute budget.

    Two facts are equal when their ``kind`` and ``params`` are equal (for :func:`fact`, the
    name is the parameter: the name identifies the fact).

    Attributes
    ----------
    kind : str
        ``"digit_of_pi"``, ``"is_prime"`` or ``"custom"``.
    params : tuple
        The fact's parameters, e.g. ``(n, d)`` for a digit of pi.
    """

    __slots__ = ("_decide", "kind", "params")

    def __new__(cls, name: str, kind: str, params: tuple, decide: Decider):
        obj = sympy.Symbol.__xnew__(cls, name)
        obj.kind = kind
        obj.params = params
        obj._decide = decide
        return obj

    def __getnewargs_ex__(self):
        return ((self.name, self.kind, self.params, self._decide), {})

    def _hashable_content(self):
        return (self.name, self.kind, self.params)

    def decide(self, budget: int) -> bool | None:
        """Run the fact's program for at most ``budget`` steps.

        Returns
        -------
        bool or None
            The fact's truth, or ``None`` if ``budget`` steps were not enough.
        """
        budget = _check_budget(budget)
        result = self._decide(budget)
        if result is not None and not isinstance(result, bool):
            raise InvalidInput(
                f"the program of fact {self.name} must return True, False or None, got {result!r}"
            )
        return result


def is_fact_atom(atom: Any) -> bool:
    """True for atoms built by :func:`digit_of_pi`, :func:`is_prime` or :func:`fact`."""
    return isinstance(atom, FactAtom)


def _check_budget(budget: Any) -> int:
    if isinstance(budget, bool) or not isinstance(budget, int):
        raise InvalidInput(f"a compute budget must be a non-negative integer, got {budget!r}")
    if budget < 0:
        raise InvalidInput(f"a compute budget must be a non-negative integer, got {budget}")
    return budget


def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{name} must be an integer >= {low}, got {value!r}")
    if value < low:
        raise InvalidInput(f"{name} must be an integer >= {low}, got {value}")
    return value


_pi_memo = ["1415926535"]  # the longest run of digits computed so far (a memo)


def pi_digits(count: int) -> str:
    """The first ``count`` decimal digits of :math:`\\pi` after the point.

    Machin's formula in fixed-point integer arithmetic with ten guard digits:

    .. math:: \\pi = 16 \\arctan\\tfrac15 - 4 \\arctan\\tfrac1{239},\\qquad
              \\arctan\\tfrac1x = \\sum_{k\\ge0} \\frac{(-1)^k}{(2k+1)\\,x^{2k+1}}

    The longest result is remembered, so asking for fewer digits later is a slice.

    Examples
    --------
    >>> pi_digits(10)
    '1415926535'
    """
    count = _check_int("count", count, 0)
    if count <= len(_pi_memo[0]):
        return _pi_memo[0][:count]
    unity = 10 ** (count + 10)

    def arctan_inverse(x: int) -> int:
        total = term = unity // x
        x2, k, sign = x * x, 1, -1
        while term:
            term //= x2
            total += sign * (term // (2 * k + 1))
            sign, k = -sign, k + 1
        return total

    pi_fixed = 4 * (4 * arctan_inverse(5) - arctan_inverse(239))
    digits = _decimal(pi_fixed - 3 * unity, count + 10)[:count]
    _pi_memo[0] = digits
    return digits


def _decimal(n: int, width: int) -> str:
    """``n >= 0`` as exactly ``width`` decimal digits (zero-padded), by splitting in halves:
    Python refuses ``str`` of integers beyond a few thousand digits."""
    if width <= 1000:
        return str(n).zfill(width)
    low_width = width // 2
    high, low = divmod(n, 10**low_width)
    return _decimal(high, width - low_width) + _decimal(low, low_width)


def digit_of_pi(n: int, d: int) -> FactAtom:
    """The fact "the n-th decimal digit of :math:`\\pi` after the point is d" (n >= 1).

    Deciding it costs ``n`` steps.

    Examples
    --------
    >>> f = digit_of_pi(5, 9)     # pi = 3.14159...
    >>> f, f.decide(4), f.decide(5)
    (pi_digit_5_is_9, None, True)
    >>> digit_of_pi(5, 8).decide(100)
    False
    """
    n = _check_int("n", n, 1)
    d = _check_int("d", d, 0)
    if d > 9:
        raise InvalidInput(f"a decimal digit must be in 0..9, got {d}")

    def decide(budget: int) -> bool | None:
        if budget < n:
            return None
        return pi_digits(n)[n - 1] == str(d)

    return FactAtom(f"pi_digit_{n}_is_{d}", "digit_of_pi", (n, d), decide)


def _trial_division(n: int, budget: int) -> bool | None:
    steps = 0
    for divisor in (2, 3):
        steps += 1
        if steps > budget:
            return None
        if divisor * divisor > n:
            return n >= 2
        if n % divisor == 0:
            return n == divisor
    k = 5
    while k * k <= n:
        for divisor in (k, k + 2):
            steps += 1
            if steps > budget:
                return None
            if n % divisor == 0:
                return False
        k += 6
    return True


def is_prime(n: int) -> FactAtom:
    """The fact "n is prime" (n >= 0), decided by counted trial division.

    Examples
    --------
    >>> is_prime(97).decide(10)
    True
    >>> p = is_prime(1_000_003)
    >>> p.decide(10) is None, p.decide(1000)
    (True, True)
    >>> is_prime(1_000_001).decide(100)       # 101 * 9901
    False
    """
    n = _check_int("n", n, 0)
    return FactAtom(f"is_prime_{n}", "is_prime", (n,), lambda budget: _trial_division(n, budget))


def fact(name: str, decide: Decider) -> FactAtom:
    """A computational fact decided by a user program.

    Parameters
    ----------
    name : str
        An identifier; it identifies the fact (two facts with one name are one fact).
    decide : callable
        ``decide(budget: int) -> bool | None``: the truth within ``budget`` steps, or
        ``None`` when the budget is not enough. It must be deterministic, and once it
        answers for a budget it must give the same answer for every larger budget.

    Examples
    --------
    >>> f = fact("sum_1_to_100_is_5050", lambda b: None if b < 100 else sum(range(101)) == 5050)
    >>> f.decide(99) is None, f.decide(100)
    (True, True)
    """
    from predmarket.logic.sentences import _KEYWORDS, IDENTIFIER

    if not isinstance(name, str) or not IDENTIFIER.match(name) or name in _KEYWORDS:
        raise InvalidInput(f"a fact needs an identifier name, got {name!r}")
    if not callable(decide):
        raise InvalidInput(f"decide must be callable decide(budget) -> bool | None, got {decide!r}")
    return FactAtom(name, "custom", (name,), decide)
