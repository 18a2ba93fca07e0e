"""Sponsors, budgets and routing liquidity to subsidiary markets (DESIGN.md sec. 5).

* :class:`Sponsor` funds markets within a budget (worst-case losses
  :math:`\\sum_i b_i \\log N_i \\le B`), holds traders' wallets, hides a funded market's
  prices from everyone but its funder if asked, and records every flow in a
  :class:`SubsidyLedger`.
* :class:`SubsidyRouter` splits a budget between a root market and subsidiary markets with
  one of the :data:`POLICIES` (root-only, uniform, price-gradient, value of information).
* :mod:`predmarket.subsidy.signals` simulates traders who buy costly signals when it pays,
  to measure what routing buys and what free riding costs.
"""

from predmarket.subsidy.ledger import Flow, SubsidyLedger
from predmarket.subsidy.router import (
    POLICIES,
    Allocation,
    RoutingProblem,
    SubsidyRouter,
    route_price_gradient,
    route_root_only,
    route_uniform,
    route_value_of_information,
    value_of_information,
)
from predmarket.subsidy.sponsor import Sponsor

__all__ = [
    "POLICIES",
    "Allocation",
    "Flow",
    "RoutingProblem",
    "Sponsor",
    "SubsidyLedger",
    "SubsidyRouter",
    "route_price_gradient",
    "route_root_only",
    "route_uniform",
    "route_value_of_information",
    "value_of_information",
]
