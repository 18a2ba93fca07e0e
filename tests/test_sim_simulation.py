"""Simulation: isolation of broken traders, refusals, activation order, episodes."""

import math
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from predmarket import Market, OutcomeSpace, Variable
from predmarket.errors import InvalidAmount, InvalidInput
from predmarket.sim import Buy, Edit, JointWorld, Recorder, Sell, Simulation, Target, World


def space():
    return OutcomeSpace([Variable("rain", ["yes", "no"]), Variable("wind", ["calm", "strong"])])


def factory():
    return Market(space(), liquidity=10.0)


def good(view):
    return Target("rain == yes", 0.7)


def raiser(view):
    raise RuntimeError("boom")


def garbage(view):
    return {"buy": "rain"}


def sleeper(view):
    time.sleep(0.5)
    return Buy("rain == yes", 1.0)


def spinner(view):
    x = 0
    while True:  # never returns on its own; the alarm must interrupt it
        x += 1


def catches_everything(view):
    try:
        while True:
            pass
    except Exception:  # noqa: BLE001 - a trader trying to swallow the interrupt
        return Buy("rain == yes", 1000.0)


def total_money(markets, names):
    return sum(m.cash(n) for m in markets.values() for n in names) + \
        sum(m.maker_cash for m in markets.values())


@pytest.mark.parametrize("bad, kind", [(raiser, "raised"), (garbage, "garbage"),
                                       (sleeper, "timeout"), (spinner, "timeout"),
                                       (catches_everything, "timeout")])
def test_broken_traders_are_isolated_recorded_and_skipped(bad, kind):
    m = factory()
    sim = Simulation(m, {"good": good, "bad": bad}, rounds=2, rng=0, time_budget=0.1,
                     max_faults=5, activation="fixed")
    result = sim.run()
    assert [f.kind for f in result.faults] == [kind, kind]
    assert all(f.trader == "bad" for f in result.faults)
    assert [r[3] for r in result.recorder.rows("faults")] == [kind, kind]
    # the good trader traded; the bad one changed nothing
    assert m.price("rain == yes") == pytest.approx(0.7)
    assert m.cash("bad") == 100.0 and m.min_asset("bad") == 100.0
    assert {e.account for e in m.ledger if e.kind == "trade"} == {"good"}
    m.check()


def test_a_trader_is_retired_after_max_faults():
    result = Simulation(factory(), {"good": good, "bad": raiser}, rounds=6, rng=0,
                        max_faults=2).run()
    kinds = [f.kind for f in result.faults]
    assert kinds == ["raised", "raised", "retired"]
    assert result.retired == {"bad"}


def test_garbage_inside_a_list_and_too_many_orders_are_garbage():
    result = Simulation(factory(), {
        "mixed": lambda v: [Buy("rain == yes", 1.0), "sell everything"],
        "flood": lambda v: [Buy("rain == yes", 0.01)] * 10,
    }, rounds=1, rng=0, max_orders=5).run()
    assert sorted((f.trader, f.kind) for f in result.faults) == [("flood", "garbage"),
                                                                ("mixed", "garbage")]
    assert result.trades == 0


def test_orders_built_with_bad_values_are_the_traders_fault():
    result = Simulation(factory(), {"nan": lambda v: Buy("rain == yes", float("nan"))},
                        rounds=1, rng=0).run()
    assert result.faults[0].kind == "raised"
    assert "InvalidAmount" in result.faults[0].message


def test_generator_traders_are_read_inside_the_guard():
    def lazy(view):
        yield Buy("rain == yes", 1.0)
        raise RuntimeError("late failure")

    result = Simulation(factory(), {"lazy": lazy}, rounds=1, rng=0).run()
    assert result.faults[0].kind == "raised" and "late failure" in result.faults[0].message
    assert result.trades == 0


def test_refused_orders_come_back_in_the_next_view():
    seen = []

    def greedy(view):
        seen.append(view.refusals)
        return [Buy("rain == yes", 1e6), Buy("snow == yes", 1.0), Buy("rain == yes", 1.0),
                Buy("rain == yes", 1.0, market="elsewhere")]

    m = factory()
    result = Simulation(m, {"greedy": greedy}, rounds=2, rng=0).run()
    assert seen[0] == ()
    errors = [r.error for r in seen[1]]
    assert errors == ["InsufficientFunds", "UnknownVariable", "InvalidInput"]
    assert seen[1][0].order == Buy("rain == yes", 1e6)
    assert "expected" in seen[1][0].reason
    assert result.trades == 2  # the affordable order went through, twice
    assert len(result.recorder.rows("refusals")) == 6
    m.check()


def test_activation_order_is_seeded():
    def order_of(rng, activation):
        log = []
        def logger(name):
            return lambda view: log.append(name)

        traders = {n: logger(n) for n in "abcde"}
        Simulation(factory(), traders, rounds=5, rng=rng, activation=activation).run()
        return log

    assert order_of(1, "shuffle") == order_of(1, "shuffle")
    assert order_of(1, "shuffle") != order_of(2, "shuffle")
    assert order_of(1, "fixed") == list("abcde") * 5
    rounds = [order_of(3, "shuffle")[i:i + 5] for i in range(0, 25, 5)]
    assert all(sorted(r) == list("abcde") for r in rounds)
    assert len({tuple(r) for r in rounds}) > 1


def test_episodes_settle_and_reopen_with_fresh_markets():
    made = []

    def fresh():
        made.append(factory())
        return made[-1]

    truth = iter([{"rain": "yes", "wind": "calm"}, {"rain": "no", "wind": "calm"},
                  {"rain": "yes", "wind": "strong"}])
    outcomes_seen = []

    def bettor(view):
        outcomes_seen.append(view.past_outcomes)
        return Target("rain == yes", 0.8)

    result = Simulation(fresh, {"bettor": bettor}, rounds=2, episodes=3,
                        world=lambda rng: next(truth), rng=0).run()
    assert len(made) == 3 and all(m.settled for m in made)
    assert len(result.payouts) == 3
    # cash carries over: each episode starts where the last ended
    settle = result.recorder.rows("settlements")
    starts = [r for r in result.recorder.rows("accounts") if r[1] == 0]
    assert starts[1][4] == pytest.approx(settle[0][4])
    assert starts[2][4] == pytest.approx(settle[1][4])
    assert result.cash["bettor"] == pytest.approx(settle[2][4])
    assert [len(o) for o in outcomes_seen] == [0, 0, 1, 1, 2, 2]
    assert dict(outcomes_seen[-1][1]) == {"rain": "no", "wind": "calm"}
    # payout: moving P(rain) 0.5 -> 0.8 pays b log(0.8/0.5) on rain, b log(0.2/0.5) on dry
    expected = [10 * math.log(0.8 / 0.5), 10 * math.log(0.2 / 0.5), 10 * math.log(0.8 / 0.5)]
    net = [r[4] for r in settle]
    assert np.diff([100.0] + net) == pytest.approx(expected)


def test_several_episodes_need_a_factory():
    with pytest.raises(InvalidInput, match="factory"):
        Simulation(factory(), {"a": good}, episodes=2)


@pytest.mark.parametrize("kwargs, error", [
    ({"rounds": 0}, InvalidInput), ({"episodes": 1.5}, InvalidInput),
    ({"activation": "random"}, InvalidInput), ({"time_budget": -1}, InvalidAmount),
    ({"time_budget": float("nan")}, InvalidAmount), ({"cash": -1}, InvalidAmount),
    ({"cash": {"a": 1.0, "zed": 2.0}}, InvalidInput), ({"rng": "seed"}, InvalidInput),
    ({"recorder": object()}, InvalidInput), ({"world": 3}, InvalidInput),
    ({"record_every": "turn"}, InvalidInput)])
def test_bad_arguments_are_refused(kwargs, error):
    with pytest.raises(error):
        Simulation(factory, {"a": good}, **kwargs)


def test_traders_must_be_callable_and_named():
    with pytest.raises(InvalidInput, match="callable"):
        Simulation(factory, {"a": 42})
    with pytest.raises(InvalidInput, match="at least one"):
        Simulation(factory, {})
    sim = Simulation(factory, [good, good])
    assert list(sim.traders) == ["trader_0", "trader_1"]


def test_runs_are_reproducible_under_a_seed():
    def noisy(view):
        x = float(view.rng.normal())
        return Buy("rain == yes", abs(x) + 0.1) if x > 0 else Sell("wind == calm", 0.5)

    def run(seed):
        truth = JointWorld(space(), [0.4, 0.1, 0.3, 0.2])
        res = Simulation(factory, {"a": noisy, "b": noisy, "c": good}, rounds=5, episodes=3,
                         world=truth, rng=seed, recorder=Recorder(["rain == yes"])).run()
        return res.recorder.rows("prices"), res.recorder.rows("settlements")

    assert run(7) == run(7)
    assert run(7) != run(8)


def test_signals_reach_only_their_trader():
    seen = {}

    def world(rng):
        return World({"rain": "yes", "wind": "calm"}, signals={"a": "secret"}, public="news")

    def probe(view):
        seen[view.name] = (view.signal, view.public)

    Simulation(factory, {"a": probe, "b": probe}, rounds=1, world=world, rng=0).run()
    assert seen == {"a": ("secret", "news"), "b": (None, "news")}


def test_several_markets_with_per_market_outcomes():
    rain = OutcomeSpace([Variable("rain", ["yes", "no"])])

    def markets():
        return {"joint": factory(), "rain": Market(rain, liquidity=5.0)}

    world = lambda rng: {"joint": {"rain": "yes", "wind": "calm"},
                         "rain": {"rain": "yes"}}
    res = Simulation(markets, {"a": lambda v: [Target("rain == yes", 0.7, market="rain"),
                                               Edit("rain == yes", 0.6)]},
                     rounds=1, world=world, rng=0,
                     recorder=Recorder([("rain", "rain == yes"), "rain == yes"])).run()
    assert res.trades == 2
    assert [r[2] for r in res.recorder.rows("outcomes")] == pytest.approx([0.7, 0.6])
    assert res.payouts[0]["a"] > 0


def test_progress_bar(capsys):
    Simulation(factory, {"a": good}, rounds=3, episodes=2, rng=0, show_progress=True).run()
    err = capsys.readouterr().err
    assert "6/6" in err


ORDERS = st.one_of(
    st.builds(Buy, st.sampled_from(["rain == yes", "wind == calm", "rain == no | wind == calm"]),
              st.floats(0.01, 500.0)),
    st.builds(Sell, st.sampled_from(["rain == yes", "wind == strong"]), st.floats(0.01, 500.0)),
    st.builds(Target, st.sampled_from(["rain == yes", "wind == calm"]),
              st.floats(0.001, 0.999), given=st.sampled_from([None, "rain == yes"])),
    st.builds(Edit, st.sampled_from(["rain == yes", "wind == calm"]), st.floats(0.001, 0.999)))
BEHAVIOURS = st.one_of(st.lists(ORDERS, max_size=4), st.just("raise"), st.just("garbage"))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(BEHAVIOURS, min_size=1, max_size=4), min_size=1, max_size=4),
       st.integers(0, 2**16))
def test_any_mix_of_traders_keeps_money_conserved_and_budgets_safe(scripts, seed):
    """Whatever traders do (trade, overspend, raise, return garbage), the run completes,
    money is conserved and no account can end below zero."""
    def scripted(script):
        turns = iter(script * 10)

        def trader(view):
            what = next(turns)
            if what == "raise":
                raise ValueError("scripted failure")
            if what == "garbage":
                return 3.14
            return what
        return trader

    names = [f"t{i}" for i in range(len(scripts))]
    world = JointWorld(space(), [0.25] * 4)
    res = Simulation(factory, {n: scripted(s) for n, s in zip(names, scripts)}, rounds=3,
                     episodes=2, world=world, rng=seed, max_faults=100).run()
    for m in res.markets.values():
        m.check()
    assert all(c >= -1e-7 for c in res.cash.values())
    # every episode: what traders gained is what the maker lost
    for episode, paid in enumerate(res.payouts):
        assert math.isfinite(sum(paid.values()))
    endowment = 100.0 * len(names)
    settled_cash = sum(res.cash.values())
    maker_loss = sum(r[4] for r in res.recorder.rows("settlements") if r[0] == 1) - sum(
        r[4] for r in res.recorder.rows("accounts") if r[0] == 1 and r[1] == 0)
    assert settled_cash - sum(r[4] for r in res.recorder.rows("accounts")
                              if r[0] == 1 and r[1] == 0) == pytest.approx(maker_loss)
    assert maker_loss <= 10 * math.log(4) + 1e-7
    assert settled_cash <= endowment + 2 * 10 * math.log(4) + 1e-6


class SlowReadMarket:
    """A market whose price query takes 0.3 s and counts the queries that finished."""

    def __init__(self):
        self.inner = factory()
        self.finished = 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def price(self, event, given=None):
        time.sleep(0.3)
        self.finished += 1
        return self.inner.price(event, given=given)


def test_a_timeout_never_stops_a_trader_inside_market_code():
    market = SlowReadMarket()
    res = Simulation(market, {"reader": lambda v: Target("rain == yes", v.price("rain == yes"))},
                     rounds=1, rng=0, time_budget=0.05).run()
    assert [f.kind for f in res.faults] == ["timeout"]
    assert market.finished == 1  # the market call ran to its end, then the turn stopped
    assert res.trades == 0
    market.inner.check()
