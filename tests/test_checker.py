"""check_trader catches each kind of broken trader, and passes the built-in ones."""

import gc
import time

import numpy as np
import pytest

from predmarket import Market, OutcomeSpace, Variable
from predmarket.errors import InvalidInput
from predmarket.sim import Buy, Edit, Sell, Target, check_trader
from predmarket.traders import (
    Arbitrageur,
    BayesianTrader,
    ConstantBelief,
    JointBelief,
    MomentumTrader,
    NoiseTrader,
    SamplingTrader,
)


def space():
    return OutcomeSpace([Variable("rain", ["yes", "no"]), Variable("wind", ["calm", "strong"])])


def factory():
    return Market(space(), liquidity=10.0)


def fails(trader, kind, market=None, **kw):
    with pytest.raises(InvalidInput, match=f"check_trader: {kind}"):
        check_trader(trader, market if market is not None else factory, **kw)


def test_a_good_trader_passes():
    report = check_trader(lambda v: Target("rain == yes", 0.6), factory)
    assert report.turns == 5 and report.orders == 5 and report.slowest >= 0


def test_not_callable():
    with pytest.raises(InvalidInput, match="callable"):
        check_trader(42, factory)


def test_raises():
    def broken(view):
        return Buy("rain == yes", 1.0 / (view.day - view.day))

    fails(broken, "raised")


def test_returns_garbage():
    fails(lambda v: [Buy("rain == yes", 1.0), ("sell", "wind")], "garbage")
    fails(lambda v: 7, "garbage")


def test_order_outside_the_space():
    fails(lambda v: Buy("snow == yes", 1.0), "outside the space")
    fails(lambda v: Edit("rain == maybe", 0.5), "outside the space")
    fails(lambda v: Buy("rain == yes", 1.0, market="other"), "outside the space")


def test_over_budget():
    fails(lambda v: Buy("rain == yes", 500.0), "over budget")
    fails(lambda v: Sell("rain == yes", 500.0), "over budget")
    # an ever-larger bet: affordable at first, refused later
    fails(lambda v: Buy("wind == calm", 30.0 * (v.day + 1)), "over budget")
    check_trader(lambda v: Buy("rain == yes", 500.0), factory, allow_refusals=True)


def test_other_refusals():
    fails(lambda v: Edit("rain == yes", 0.5, given="rain == yes"), "refused")


def test_too_slow():
    def slow(view):
        time.sleep(0.05)

    fails(slow, "too slow", time_budget=0.01)


def test_mutates_a_dict_it_was_shown():
    def vandal(view):
        prices = view.marginal("rain")
        prices["yes"] = 0.99
        return Target("rain == yes", prices["yes"])

    fails(vandal, "mutates what it is shown")


def test_mutates_an_array_it_was_shown():
    def vandal(view):
        p = view.probabilities()
        p.setflags(write=True)
        p[0] += 0.1

    fails(vandal, "mutates what it is shown")


def test_mutates_the_view():
    def vandal(view):
        object.__setattr__(view, "day", 99)

    fails(vandal, "mutates what it is shown")


def test_trades_behind_the_views_back_via_gc():
    def sneaky(view):
        for obj in gc.get_objects():
            if isinstance(obj, Market) and not obj.settled and "checked_trader" in obj.accounts:
                obj.buy("checked_trader", "rain == yes", 1.0)

    fails(sneaky, "changes the market outside its orders")


def test_trades_through_the_call_stack():
    import sys

    def climber(view):
        frame = sys._getframe(1)
        while frame is not None:
            for value in list(frame.f_locals.values()):
                if isinstance(value, dict):
                    for m in list(value.values()):
                        if isinstance(m, Market) and "checked_trader" in m.accounts:
                            m.buy("checked_trader", "wind == calm", 2.0)
                            return
            frame = frame.f_back
        return

    fails(climber, "changes the market outside its orders")


def test_trades_on_a_market_it_holds():
    market = factory()

    def insider(view):
        if "insider" not in market.accounts:
            market.open_account("insider", 100.0)
        market.buy("insider", "rain == yes", 1.0)

    fails(insider, "changes the market outside its orders", market=market)


def test_not_deterministic_under_a_seed():
    def global_random(view):
        return Buy("rain == yes", float(np.random.default_rng().uniform(0.1, 1.0)))

    fails(global_random, "not deterministic")

    clock = iter(range(100))

    def stateful_across_copies(view):  # shares a counter between independent runs
        return Buy("rain == yes", 0.1 + next(clock) * 0.01)

    fails(stateful_across_copies, "not deterministic")


def test_seeded_randomness_is_deterministic():
    check_trader(lambda v: Buy("rain == yes", float(v.rng.uniform(0.1, 1.0))), factory)


def test_check_does_not_touch_the_given_market():
    market = factory()
    check_trader(lambda v: Target("rain == yes", 0.9), market)
    assert market.price("rain == yes") == pytest.approx(0.5)
    assert market.accounts == ()


def test_a_market_with_a_history_is_copied_and_left_untouched():
    market = factory()
    market.open_account("a", 1.0)
    check_trader(lambda v: Target("rain == yes", 0.9), market)
    assert market.price("rain == yes") == pytest.approx(0.5)
    assert market.accounts == ("a",)


def test_a_market_that_cannot_be_copied_needs_a_factory():
    class Uncopyable(Market):
        def __deepcopy__(self, memo):
            raise TypeError("holds a live resource")

    with pytest.raises(InvalidInput, match="factory"):
        check_trader(lambda v: None, Uncopyable(space(), liquidity=10.0))


def test_bad_arguments():
    with pytest.raises(InvalidInput):
        check_trader(lambda v: None, factory, rounds=0)
    with pytest.raises(InvalidInput, match="lacks"):
        check_trader(lambda v: None, object())


@pytest.mark.parametrize("make", [
    lambda s: BayesianTrader(JointBelief(s, [0.1, 0.2, 0.3, 0.4]), fraction=0.5),
    lambda s: ConstantBelief("rain == yes", 0.9),
    lambda s: NoiseTrader(["rain == yes", "wind == calm"]),
    lambda s: MomentumTrader(["rain == yes"]),
    lambda s: SamplingTrader(JointBelief(s, [0.1, 0.2, 0.3, 0.4]), None, k=20),
])
def test_builtin_traders_pass(make):
    check_trader(make(space()), factory)


def test_arbitrageur_passes_on_linked_markets():
    s = OutcomeSpace([Variable("rain", ["yes", "no"])])

    def markets():
        a, b = Market(s, 10.0), Market(s, 10.0)
        a.open_account("p", 100.0)
        a.target("p", "rain == yes", 0.8)
        return {"a": a, "b": b}

    report = check_trader(Arbitrageur([[("a", "rain == yes"), ("b", "rain == no")]]), markets)
    assert report.orders == 2
