"""The one exception hierarchy of predmarket.

Every error the library raises on purpose is a :class:`PredmarketError`. Each message says
what was wrong and what was expected. Errors raised by a trade are raised *before* anything
changes: the market, its accounts and its ledger are exactly as they were.

Input errors also derive from :class:`ValueError` so that generic code catching
``ValueError`` keeps working.
"""

from __future__ import annotations

__all__ = [
    "CrossCliqueTrade",
    "DuplicateAccount",
    "EventSyntaxError",
    "ImpossibleEvent",
    "IncompleteObservation",
    "InsufficientFunds",
    "InvalidAmount",
    "InvalidInput",
    "InvalidLiquidity",
    "InvalidNetwork",
    "InvalidObservation",
    "InvalidProbability",
    "LatentObservation",
    "MarketClosed",
    "MarketMakerFailed",
    "PredmarketError",
    "SpaceTooLarge",
    "UnknownAccount",
    "UnknownState",
    "UnknownVariable",
]


class PredmarketError(Exception):
    """Root of every error raised by predmarket."""


class InvalidInput(PredmarketError, ValueError):
    """An argument has the wrong type, shape or value."""


class InvalidAmount(InvalidInput):
    """A quantity (shares, cash) is NaN, infinite, or of the wrong sign."""


class InvalidLiquidity(InvalidInput):
    """The liquidity parameter ``b`` is not a finite positive number."""


class InvalidProbability(InvalidInput):
    """A probability is outside the open interval (0, 1)."""


class UnknownVariable(InvalidInput):
    """A variable name is not part of the outcome space."""


class UnknownState(InvalidInput):
    """A state name is not one of its variable's states."""


class EventSyntaxError(InvalidInput):
    """An event string could not be parsed."""


class ImpossibleEvent(InvalidInput):
    """An event (or a conditioning event) contains no outcome the market can still reach."""


class UnknownAccount(InvalidInput):
    """No account with this name exists in the market."""


class DuplicateAccount(InvalidInput):
    """An account with this name already exists."""


class InsufficientFunds(PredmarketError):
    """A trade would let the account end below zero in some outcome the market can settle on."""


class MarketClosed(PredmarketError):
    """The market is settled: no more trades, observations or settlements."""


class InvalidObservation(InvalidInput):
    """An observation is not an assignment of states to variables, or contradicts earlier ones."""


class IncompleteObservation(InvalidObservation):
    """A settlement leaves an observable variable without a state."""


class LatentObservation(InvalidObservation):
    """An observation tries to fix a variable declared latent (never observed)."""


class SpaceTooLarge(PredmarketError):
    """The explicit joint would exceed the configured ``max_outcomes``."""


class InvalidNetwork(InvalidInput):
    """A Bayesian network is malformed: a cycle, a missing or unnormalised CPD, a bad state."""


class CrossCliqueTrade(InvalidInput):
    """A trade's variables lie in no single clique of the junction tree (refuse mode).

    The message names the variables and the clique that shares the most of them.
    """


class MarketMakerFailed(PredmarketError):
    """The logical inductor's market maker found no prices within its tolerance.

    The message gives the best worst-case value reached and the work spent.
    """
