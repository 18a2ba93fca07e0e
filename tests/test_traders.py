"""Built-in traders: Kelly sizing, Bayesian, constant, noise, momentum, arbitrageur,
sampling (bounded rationality)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from predmarket import Market, OutcomeSpace, Variable
from predmarket.errors import InvalidAmount, InvalidInput, InvalidLiquidity, InvalidProbability
from predmarket.sim import JointWorld, Simulation, World, check_trader
from predmarket.traders import (
    Arbitrageur,
    BayesianTrader,
    ConstantBelief,
    JointBelief,
    MomentumTrader,
    NoiseTrader,
    SamplingTrader,
    chain_questions,
    kelly_price,
    marginal_questions,
)


def space3():
    return OutcomeSpace([Variable("a", ["0", "1"]), Variable("t", ["lo", "mid", "hi"]),
                         Variable("c", ["no", "yes"])])


def expected_log(p, pi, q, w, b):
    """E log wealth after moving the price pi -> q with belief p and wealth w."""
    x = b * (math.log(q / (1 - q)) - math.log(pi / (1 - pi)))
    c = b * math.log((1 - pi) / (1 - q))
    up, down = w - c + x, w - c
    if up <= 0 or down <= 0:
        return -math.inf
    return p * math.log(up) + (1 - p) * math.log(down)


@settings(max_examples=200, deadline=None)
@given(st.floats(0.02, 0.98), st.floats(0.02, 0.98), st.floats(0.01, 1000.0),
       st.floats(0.1, 100.0))
def test_kelly_price_maximises_expected_log_wealth(p, pi, w, b):
    q = kelly_price(p, pi, w, b)
    assert min(p, pi) - 1e-12 <= q <= max(p, pi) + 1e-12
    if p > pi:
        grid = np.linspace(pi, p, 4001)[1:-1]
        best = max(expected_log(p, pi, g, w, b) for g in grid)
        assert expected_log(p, pi, q, w, b) >= best - 1e-9
    elif p < pi:  # by symmetry: the complement's price
        grid = np.linspace(1 - pi, 1 - p, 4001)[1:-1]
        best = max(expected_log(1 - p, 1 - pi, g, w, b) for g in grid)
        assert expected_log(1 - p, 1 - pi, 1 - q, w, b) >= best - 1e-9


def test_kelly_limits_and_validation():
    assert kelly_price(0.9, 0.5, 1e12, 1.0) == pytest.approx(0.9, abs=1e-9)
    assert kelly_price(0.9, 0.5, 0.0, 1.0) == 0.5
    assert kelly_price(0.5, 0.5, 10.0, 1.0) == 0.5
    # poorer traders move the price less
    moves = [kelly_price(0.9, 0.5, w, 10.0) for w in (0.1, 1.0, 10.0, 100.0)]
    assert moves == sorted(moves)
    for args, error in [((1.0, 0.5, 1.0, 1.0), InvalidProbability),
                        ((0.5, float("nan"), 1.0, 1.0), InvalidProbability),
                        ((0.5, 0.4, float("inf"), 1.0), InvalidAmount),
                        ((0.5, 0.4, 1.0, 0.0), InvalidLiquidity)]:
        with pytest.raises(error):
            kelly_price(*args)


def random_joint(rng, n):
    p = rng.dirichlet(np.ones(n))
    return 0.9 * p + 0.1 / n


def test_rich_bayesian_trader_brings_the_whole_joint_to_its_belief():
    space = space3()
    belief = random_joint(np.random.default_rng(1), space.size)
    trader = BayesianTrader(JointBelief(space, belief))
    res = Simulation(lambda: Market(space, 1.0), {"b": trader}, cash=1e9, rounds=1,
                     rng=0).run()
    assert res.markets["market"].probabilities() == pytest.approx(belief, abs=1e-6)


def test_chain_and_marginal_questions():
    space = space3()
    qs = chain_questions(space)
    assert len(qs) == 1 + 2 * 2 + 6 * 1
    assert ('t == "mid"', 'a == "1" & t != "lo"') in qs
    assert marginal_questions(space) == [('a == "0"', None), ('t == "lo"', None),
                                        ('t == "mid"', 't != "lo"'), ('c == "no"', None)]
    big = OutcomeSpace([Variable(f"x{i}", ["0", "1"]) for i in range(10)])
    with pytest.raises(InvalidInput, match="more than"):
        chain_questions(big)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**16), st.floats(0.5, 50.0), st.floats(0.1, 1.0))
def test_kelly_sized_traders_are_never_refused(seed, cash, fraction):
    space = space3()
    rng = np.random.default_rng(seed)
    traders = {f"b{i}": BayesianTrader(JointBelief(space, random_joint(rng, space.size)),
                                       fraction=fraction) for i in range(3)}
    traders["c"] = ConstantBelief("a == 1", 0.95, given="c == yes", fraction=fraction)
    traders["n"] = NoiseTrader(["a == 1", "t == hi", "c == yes"], size=3.0)
    traders["m"] = MomentumTrader(["a == 1", "t == lo"], strength=2.0)
    world = JointWorld(space, random_joint(rng, space.size))
    res = Simulation(lambda: Market(space, 5.0), traders, cash=cash, rounds=4, episodes=2,
                     world=world, rng=seed).run()
    assert res.recorder.rows("refusals") == []
    assert res.faults == []
    res.markets["market"].check()


def test_bayesian_trader_with_a_pgmpy_network():
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    space = OutcomeSpace([Variable("rain", ["yes", "no"]), Variable("wind", ["calm", "strong"])])
    net = DiscreteBayesianNetwork([("rain", "wind")])
    net.add_cpds(
        TabularCPD("rain", 2, [[0.3], [0.7]], state_names={"rain": ["yes", "no"]}),
        TabularCPD("wind", 2, [[0.2, 0.9], [0.8, 0.1]], evidence=["rain"], evidence_card=[2],
                   state_names={"wind": ["calm", "strong"], "rain": ["yes", "no"]}))
    belief = JointBelief.from_pgmpy(net, space)
    by_hand = [0.3 * 0.2, 0.3 * 0.8, 0.7 * 0.9, 0.7 * 0.1]
    assert belief.p == pytest.approx(by_hand)
    trader = BayesianTrader(net, space=space)
    res = Simulation(lambda: Market(space, 1.0), {"b": trader}, cash=1e9, rounds=1,
                     rng=0).run()
    assert res.markets["market"].probabilities() == pytest.approx(by_hand, abs=1e-6)
    with pytest.raises(InvalidInput, match="space"):
        BayesianTrader(net)


def test_bayesian_trader_with_a_signal_dependent_belief():
    space = OutcomeSpace([Variable("x", ["0", "1"])])

    def belief(view):
        return JointBelief(space, [0.2, 0.8] if view.signal == "up" else [0.8, 0.2])

    def world(rng):
        return World({"x": "1"}, signals={"t": "up"})

    trader = BayesianTrader(belief, space=space)
    res = Simulation(lambda: Market(space, 1.0), {"t": trader}, cash=1e9, rounds=1,
                     world=world, rng=0).run()
    assert res.recorder.rows("trades")[0][-1] == pytest.approx(0.2)  # P(x == 0) -> 0.2


def test_noise_trader_is_seeded_and_bounded():
    space = space3()
    trader = NoiseTrader(["a == 1"], size=1000.0, fraction=0.05)
    report = check_trader(trader, lambda: Market(space, 10.0), rounds=8)
    assert report.orders == 8
    with pytest.raises(InvalidAmount):
        NoiseTrader(["a == 1"], size=-1)
    with pytest.raises(InvalidInput):
        NoiseTrader([])


def test_momentum_trader_follows_the_last_move():
    space = OutcomeSpace([Variable("x", ["0", "1"])])
    pushes = iter([0.6, 0.7, 0.5])

    def pusher(view):
        from predmarket.sim import Target
        return Target("x == 1", next(pushes))

    res = Simulation(lambda: Market(space, 10.0),
                     {"push": pusher, "mom": MomentumTrader("x == 1", strength=1.0)},
                     rounds=3, rng=0, activation="fixed", cash=1000.0).run()
    mom = [r for r in res.recorder.rows("trades") if r[2] == "mom"]
    assert [r[4] for r in mom] == ["Buy", "Sell"]  # up after 0.5 -> 0.6; down after -> 0.5


def pushed_apart(liquidities, prices, *, cash):
    """Two markets on ``rain`` (north, south) whose price of ``rain == yes`` an account
    with ``cash`` in each has pushed to ``prices``."""
    space = OutcomeSpace([Variable("rain", ["yes", "no"])])
    markets = [Market(space, b) for b in liquidities]
    for m, p in zip(markets, prices):
        m.open_account("pusher", cash)
        m.target("pusher", "rain == yes", p)
    return markets


def test_arbitrageur_earns_a_riskless_profit_between_two_makers():
    north, south = pushed_apart((10.0, 20.0), (0.8, 0.3), cash=1000.0)
    arb = Arbitrageur([[("north", "rain == yes"), ("south", "rain == no")]])
    res = Simulation({"north": north, "south": south}, {"arb": arb}, rounds=2, rng=0,
                     cash=100.0).run()
    assert res.trades == 2  # one turn trades both legs, the second finds nothing to do
    # coherent afterwards: the same question has the same price in both markets
    assert north.price("rain == yes") == pytest.approx(south.price("rain == yes"), abs=1e-9)
    combined = north.assets("arb") + south.assets("arb")
    assert np.all(combined > 200.0)  # profit in every outcome
    assert combined[0] == pytest.approx(combined[1])  # and exactly riskless


def test_arbitrageur_respects_each_accounts_budget():
    north, south = pushed_apart((100.0, 100.0), (0.9, 0.1), cash=1e5)
    res = Simulation({"north": north, "south": south},
                     {"arb": Arbitrageur([[("north", "rain == no"), ("south", "rain == yes")]])},
                     rounds=5, rng=0, cash=1.0).run()
    assert res.recorder.rows("refusals") == [] and res.trades > 0
    assert north.min_asset("arb") >= -1e-9 and south.min_asset("arb") >= -1e-9


def test_arbitrageur_validation():
    with pytest.raises(InvalidInput):
        Arbitrageur([])
    with pytest.raises(InvalidInput):
        Arbitrageur([["rain == yes"]])
    with pytest.raises(InvalidInput):
        Arbitrageur([[("a", "b", "c"), "x"]])


def estimate_errors(seed, make_trader, efforts):
    """Per effort (samples or steps): the trader built by ``make_trader(prior, likelihood,
    effort)`` on a random prior over ``space3()``, and its mean absolute error over 20
    seeded estimates against the exact posterior."""
    space = space3()
    rng = np.random.default_rng(seed)
    prior = JointBelief(space, random_joint(rng, space.size))
    lik = rng.uniform(0.05, 1.0, space.size)
    exact = prior.posterior(lik)
    out = []
    for effort in efforts:
        trader = make_trader(prior, lambda s: lik, effort)
        est = [trader.estimate(None, np.random.default_rng(s)) for s in range(20)]
        truth = [exact.probability(e, g) for e, g in trader.questions]
        out.append((trader, float(np.mean([np.abs(np.subtract(e, truth)).mean() for e in est]))))
    return out


def test_sampling_trader_estimates_converge_to_the_exact_posterior():
    efforts = (10, 100, 10_000)
    runs = estimate_errors(3, lambda prior, lik, k: SamplingTrader(prior, lik, k=k), efforts)
    for (trader, _), k in zip(runs, efforts):
        assert trader.compute == 20 * k
    errors = [error for _, error in runs]
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 0.01


def test_sampling_trader_spends_its_budget_once_per_episode():
    space = OutcomeSpace([Variable("x", ["0", "1"])])
    trader = SamplingTrader(JointBelief(space, [0.3, 0.7]), None, k=50)
    Simulation(lambda: Market(space, 1.0), {"s": trader}, rounds=4, episodes=3,
               world=lambda r: {"x": "1"}, rng=0).run()
    assert trader.compute == 150
    for bad in ({"k": 0}, {"k": 2.5}, {"likelihood": 3}, {"prior_weight": -1.0}):
        kwargs = {"likelihood": None, "k": 5, **bad}
        with pytest.raises(InvalidInput):
            SamplingTrader(JointBelief(space, [0.5, 0.5]), **kwargs)


def test_belief_validation():
    space = OutcomeSpace([Variable("x", ["0", "1"])])
    with pytest.raises(InvalidInput):
        JointBelief(space, [0.5, 0.6])
    with pytest.raises(InvalidInput):
        JointBelief(space, [1.0])
    with pytest.raises(InvalidInput):
        BayesianTrader(42)
    with pytest.raises(InvalidAmount):
        ConstantBelief("x == 1", 0.5, fraction=2.0)
    with pytest.raises(InvalidProbability):
        ConstantBelief("x == 1", 1.0)


def test_gibbs_trader_converges_to_the_exact_posterior_with_more_steps():
    from predmarket.traders import GibbsTrader

    efforts = (6, 60, 6000)
    runs = estimate_errors(5, lambda prior, lik, n: GibbsTrader(prior, lik, steps=n), efforts)
    for (trader, _), steps in zip(runs, efforts):
        assert trader.compute == 20 * steps and trader.steps == steps
    errors = [error for _, error in runs]
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 0.02


def test_gibbs_trader_checks_and_trades():
    from predmarket.traders import GibbsTrader

    space = OutcomeSpace([Variable("x", ["0", "1"]), Variable("y", ["0", "1"])])
    trader = GibbsTrader(JointBelief(space, [0.4, 0.1, 0.1, 0.4]), None, steps=50)
    check_trader(trader, lambda: Market(space, 5.0))
    zero = GibbsTrader(JointBelief(space, [0.5, 0.5, 0.0, 0.0]), lambda s: [0, 0, 1, 1], steps=5)
    with pytest.raises(InvalidInput, match="probability 0"):
        zero.estimate(None, np.random.default_rng(0))
