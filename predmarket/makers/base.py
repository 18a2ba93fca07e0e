"""The protocol every market maker satisfies.

A maker holds the LMSR state :math:`q` (as log-weights :math:`q/b`) in some representation
and answers the questions a :class:`~predmarket.market.Market` asks of it. A move adds
``values[r]`` to :math:`q` on the ``r``-th part of a partition of :math:`\\Omega`; parts are
whatever the maker indexes outcomes by (a :class:`~predmarket.selection.Selection` over the
explicit joint for :class:`~predmarket.makers.joint.JointMaker`, an
:class:`~predmarket.events.Event` inside one clique for
:class:`~predmarket.makers.bayesnet.BayesNetMaker`). Pricing and committing are separate,
so that a market can check budgets between them and change nothing on refusal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from predmarket.spaces import OutcomeSpace

__all__ = ["Maker"]


@runtime_checkable
class Maker(Protocol):
    """What a market needs from its maker (both built-in makers satisfy it).

    .. math:: C(q) = b \\log \\sum_\\omega e^{q_\\omega / b}, \\qquad
              \\text{cost of a move} = C(q + \\Delta) - C(q).
    """

    space: OutcomeSpace
    liquidity: float

    def cost(self) -> float:
        """:math:`C(q)`."""
        ...

    def log_partition(self, part: Any = None) -> float:
        """:math:`\\log \\sum_{\\omega \\in E} e^{q_\\omega/b}` (whole space for None)."""
        ...

    def probability(self, part: Any, given: Any = None) -> float:
        """:math:`P(E)` or the ratio of masses :math:`P(E)/P(B)`."""
        ...

    def probabilities(self) -> np.ndarray:
        """The joint over the flat space (may refuse when it is too large)."""
        ...

    def min_log_probability(self, keep_axes: Sequence[int]) -> float:
        """A lower bound (exact for the explicit joint) on :math:`\\min_o \\log P(o)`."""
        ...

    def log_marginal(self, keep_axes: Sequence[int]) -> np.ndarray:
        """Log of the unnormalised marginal on ``keep_axes``."""
        ...

    def part_masses(self, parts: Sequence[Any]) -> Any:
        """Log masses of the parts of a partition (``.log_masses``)."""
        ...

    def plan(self, parts: Sequence[Any], values: Sequence[float], masses: Any = None) -> Any:
        """Price a move without changing anything (``.cost``)."""
        ...

    def commit(self, plan: Any) -> float:
        """Make a planned move; return its cost."""
        ...
