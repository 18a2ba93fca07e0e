"""Orders: validated on construction, normalised from what traders return."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from predmarket import Market, OutcomeSpace, Variable
from predmarket.errors import InvalidAmount, InvalidInput, InvalidProbability
from predmarket.sim import Buy, Edit, Sell, Simulation, Target, as_orders
from predmarket.traders import Arbitrageur

ANY_FLOAT = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10, 10))


@settings(max_examples=300)
@given(ANY_FLOAT)
def test_share_orders_accept_exactly_the_finite_positive_amounts(x):
    for kind in (Buy, Sell):
        if math.isfinite(x) and x > 0:
            order = kind("rain == yes", x)
            assert order.shares == float(x)
            assert order.amount == (float(x) if kind is Buy else -float(x))
        else:
            with pytest.raises(InvalidAmount):
                kind("rain == yes", x)


@settings(max_examples=300)
@given(ANY_FLOAT)
def test_probability_orders_accept_exactly_the_open_unit_interval(p):
    for kind in (Edit, Target):
        if math.isfinite(p) and 0 < p < 1:
            assert kind("rain == yes", p).probability == float(p)
        else:
            with pytest.raises(InvalidProbability):
                kind("rain == yes", p)


@pytest.mark.parametrize("event", [None, "", "   ", 3, 2.5, True, b"rain", ["rain"], ("a",)])
def test_events_must_look_like_events(event):
    with pytest.raises(InvalidInput):
        Buy(event, 1.0)
    with pytest.raises(InvalidInput):
        Target("rain == yes", 0.5, given=event if event is not None else 3)


def test_other_fields_are_validated():
    with pytest.raises(InvalidAmount):
        Buy("rain == yes", "lots")
    with pytest.raises(InvalidAmount):
        Buy("rain == yes", True)
    with pytest.raises(InvalidInput):
        Buy("rain == yes", 1.0, market="")
    with pytest.raises(InvalidInput):
        Edit("rain == yes", 0.5, market=3)


def test_mapping_events_are_copied():
    spec = {"rain": "yes"}
    order = Buy(spec, 1.0)
    spec["rain"] = "no"
    assert order.event == {"rain": "yes"}
    space = OutcomeSpace([Variable("rain", ["yes", "no"])])
    m = Market(space, 10.0)
    res = Simulation(m, {"a": lambda v: order}, rounds=1, rng=0).run()
    assert res.trades == 1 and m.price("rain == yes") > 0.5


def test_orders_are_immutable_values():
    order = Target("rain == yes", 0.5)
    with pytest.raises(AttributeError):
        order.probability = 0.9
    assert order == Target("rain == yes", 0.5) and hash(order) == hash(Target("rain == yes", 0.5))


def test_as_orders():
    b = Buy("x == 1", 1.0)
    assert as_orders(None) == () and as_orders(b) == (b,)
    assert as_orders([b, b]) == (b, b) and as_orders(iter([b])) == (b,)
    for garbage in ("buy", {"buy": 1}, 3, [b, None], [[b]], object()):
        with pytest.raises(InvalidInput, match="trader returned"):
            as_orders(garbage)
    with pytest.raises(InvalidInput, match="more than 2"):
        as_orders([b, b, b], max_orders=2)

    class Hostile:
        def __repr__(self):
            raise RuntimeError("no")

    with pytest.raises(InvalidInput, match="unprintable"):
        as_orders(Hostile())


@settings(max_examples=60, deadline=None)
@given(st.floats(0.05, 0.95), st.floats(0.05, 0.95), st.floats(1.0, 50.0),
       st.floats(1.0, 50.0), st.floats(1.0, 1000.0))
def test_arbitrage_is_riskless_for_any_prices_and_liquidities(p1, p2, b1, b2, cash):
    """After the arbitrageur trades two makers of the same question, its combined final
    cash is the same in both outcomes and never below what it started with."""
    space = OutcomeSpace([Variable("rain", ["yes", "no"])])
    north, south = Market(space, b1), Market(space, b2)
    for m, p in ((north, p1), (south, p2)):
        m.open_account("pusher", 1e6)
        m.target("pusher", "rain == yes", p)
    arb = Arbitrageur([[("north", "rain == yes"), ("south", "rain == no")]], tolerance=1e-6)
    res = Simulation({"north": north, "south": south}, {"arb": arb}, rounds=1, rng=0,
                     cash=cash).run()
    assert res.recorder.rows("refusals") == []
    combined = north.assets("arb") + south.assets("arb")
    assert combined[0] == pytest.approx(combined[1], rel=1e-9, abs=1e-9)
    assert np.all(combined >= 2 * cash - 1e-9)
    if res.trades:
        assert combined[0] > 2 * cash
        gap_before = abs(p1 - p2)
        gap_after = abs(north.price("rain == yes") - south.price("rain == yes"))
        assert gap_after < gap_before
