"""The router refuses initial prices that do not describe the routed markets, instead of
computing their worst-case losses from the wrong numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from predmarket import Market, OutcomeSpace, Variable
from predmarket.errors import InvalidInput
from predmarket.subsidy import POLICIES, SubsidyRouter
from predmarket.subsidy.router import RoutingProblem, route_price_gradient


def beliefs() -> Market:
    space = OutcomeSpace([Variable("x", ["0", "1"]), Variable("y", ["a", "b", "c"])])
    return Market(space, 1.0, prior=[0.2, 0.1, 0.2, 0.1, 0.3, 0.1])


@pytest.mark.parametrize("priors, word", [
    ({"x": [0.2, 0.3, 0.5]}, "2 positive numbers"),      # three prices for a binary market
    ({"y": [0.5, 0.5]}, "3 positive numbers"),
    ({"x": [[0.5, 0.5]]}, "one per state"),
    ({"x": [math.nan, 0.5]}, "positive"),
    ({"x": [0.0, 1.0]}, "positive"),
    ({"z": [0.5, 0.5]}, "not among the routed markets"),
    ([0.5, 0.5], "priors must map"),
])
def test_priors_must_match_the_routed_markets(priors, word):
    with pytest.raises(InvalidInput, match=word):
        SubsidyRouter("uniform").route(beliefs(), "x", ["y"], 1.0, priors=priors)


def test_given_priors_set_the_worst_case_loss():
    alloc = SubsidyRouter("uniform").route(beliefs(), "x", ["y"], 2.0,
                                           priors={"y": [0.5, 0.25, 0.25]})
    assert math.isclose(alloc.loss_per_liquidity["y"], math.log(4))
    assert math.isclose(alloc.loss_per_liquidity["x"], math.log(2))  # the beliefs' marginal
    assert sum(alloc.worst_case_loss.values()) <= 2.0


@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_a_decided_variable_needs_priors(policy):
    """After observing y == a the beliefs give y's other states price 0: no market can start
    there, so the router asks for priors rather than failing inside math.log."""
    m = beliefs()
    m.observe({"y": "a"})
    with pytest.raises(InvalidInput, match="'y'.*priors="):
        SubsidyRouter(policy).route(m, "x", ["y"], 1.0)
    alloc = SubsidyRouter(policy).route(m, "x", ["y"], 1.0,
                                        priors={"y": [1 / 3, 1 / 3, 1 / 3]})
    assert sum(alloc.worst_case_loss.values()) <= 1.0
    assert all(np.isfinite(list(alloc.liquidity.values())))


def test_price_gradient_ignores_impossible_states():
    """A state of y with probability 0 has no conditional; the gradient is the one over the
    remaining states (here y is then independent of x, so it scores 0)."""
    joint = np.array([[0.25, 0.25, 0.0], [0.25, 0.25, 0.0]])
    problem = RoutingProblem(joint, ("x", "y"), "x", ("y",), 0.5)
    assert route_price_gradient(problem).tolist() == [1.0, 0.0]
