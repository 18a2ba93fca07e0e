"""Validation of numbers given to public entry points."""

from __future__ import annotations

import math
from typing import Any

from predmarket.errors import InvalidAmount, InvalidProbability

__all__ = ["finite_number", "open_probability", "verify"]


def finite_number(name: str, value: Any) -> float:
    """Return ``value`` as a finite float, or raise :class:`InvalidAmount` naming ``name``.

    Booleans are refused: ``True`` is an int to Python but never a meaningful amount.

    >>> finite_number("shares", 2)
    2.0
    >>> finite_number("shares", float("nan"))
    Traceback (most recent call last):
    ...
    predmarket.errors.InvalidAmount: shares must be a finite number, got nan
    """
    if isinstance(value, bool):
        raise InvalidAmount(f"{name} must be a finite number, got {value!r}")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InvalidAmount(f"{name} must be a finite number, got {value!r}") from None
    if not math.isfinite(x):
        raise InvalidAmount(f"{name} must be a finite number, got {value!r}")
    return x


def open_probability(value: Any, name: str = "probability") -> float:
    """Return ``value`` as a float in the open interval (0, 1), or raise
    :class:`InvalidProbability` naming ``name``: a market cannot be moved to a certainty.

    >>> open_probability(0.25)
    0.25
    >>> open_probability(1.0)
    Traceback (most recent call last):
    ...
    predmarket.errors.InvalidProbability: probability must lie in the open interval (0, 1), got 1.0
    """
    try:
        p = finite_number(name, value)
    except InvalidAmount as exc:
        raise InvalidProbability(str(exc)) from None
    if not 0.0 < p < 1.0:
        raise InvalidProbability(f"{name} must lie in the open interval (0, 1), got {p!r}")
    return p


def verify(condition: bool, message: str) -> None:
    """Raise ``AssertionError(message)`` unless ``condition``.

    For invariant checks (``Market.check`` and kin): unlike ``assert``, it also runs under
    ``python -O``.

    >>> verify(1 + 1 == 2, "arithmetic")
    >>> verify(False, "prices sum to 0.9, expected 1")
    Traceback (most recent call last):
    ...
    AssertionError: prices sum to 0.9, expected 1
    """
    if not condition:
        raise AssertionError(message)
