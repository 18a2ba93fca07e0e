"""Validation of numbers given to public entry points."""

from __future__ import annotations

import math
from typing import Any

from predmarket.errors import InvalidAmount

__all__ = ["finite_number", "verify"]


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
