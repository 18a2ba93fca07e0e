"""Canonical sentences, memoised: the day loop meets the same sentences every day."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from predmarket.logic.sentences import parse_sentence

__all__ = ["canonical"]


@lru_cache(maxsize=200_000)
def _cached(sentence: Any):
    return parse_sentence(sentence)


def canonical(sentence: Any):
    """:func:`~predmarket.logic.sentences.parse_sentence`, cached for hashable input.

    >>> canonical("B & A") == canonical("A & B")
    True
    """
    try:
        return _cached(sentence)
    except TypeError:
        return parse_sentence(sentence)
