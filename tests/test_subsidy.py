"""Sponsors, routing, trader-funded markets, visibility and the subsidy ledger
(DESIGN.md sec. 5)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from predmarket import Market, OutcomeSpace, Variable
from predmarket.errors import (
    DuplicateAccount,
    ImpossibleEvent,
    InsufficientFunds,
    InvalidAmount,
    InvalidInput,
    MarketClosed,
    UnknownAccount,
    UnknownVariable,
)
from predmarket.subsidy import (
    POLICIES,
    Sponsor,
    SubsidyRouter,
    route_price_gradient,
    route_value_of_information,
    value_of_information,
)
from predmarket.subsidy.router import RoutingProblem
from predmarket.subsidy.signals import random_instance, run_funded_signal, run_routing

_SPACES: dict = {}


def space(*cards: int) -> OutcomeSpace:
    if cards not in _SPACES:
        _SPACES[cards] = OutcomeSpace(
            [Variable(f"v{i}", [f"s{j}" for j in range(n)]) for i, n in enumerate(cards)])
    return _SPACES[cards]


def brute_mi(pair: np.ndarray) -> float:
    px, py = pair.sum(1), pair.sum(0)
    return sum(pair[i, j] * math.log(pair[i, j] / (px[i] * py[j]))
               for i in range(pair.shape[0]) for j in range(pair.shape[1]) if pair[i, j] > 0)


# -- the sponsor's budget -------------------------------------------------------------------
@settings(max_examples=60)
@given(st.data())
def test_sponsor_never_commits_or_loses_more_than_its_budget(data):
    """Random funding requests (some refused) for markets on either maker, adversarial traders with extreme trades
    interleaved across markets, a trader funding a market itself, then every market
    closed: committed <= B, realised loss <= committed, every maker solvent, money
    conserved at every step."""
    draw = data.draw
    budget = draw(st.floats(0.1, 20.0))
    sponsor = Sponsor(budget)
    for a in ("ann", "bob", "cat"):
        sponsor.open_wallet(a, draw(st.floats(0.0, 30.0)))
    for k in range(draw(st.integers(1, 5))):
        cards = tuple(draw(st.lists(st.integers(2, 4), min_size=1, max_size=2)))
        b = draw(st.floats(0.01, 10.0))
        prior = None
        if draw(st.booleans()):
            prior = np.random.default_rng(k).dirichlet(np.ones(int(np.prod(cards))))
        funder = draw(st.sampled_from([None, None, "ann"]))
        if prior is None and draw(st.booleans()):  # the Bayesian-network maker
            sp = space(*cards)
            edges = [("v0", "v1")] if len(cards) == 2 else []
            market = Market.from_bayesian_network(
                edges, b, states={v.name: list(v.states) for v in sp})
        else:
            market = Market(space(*cards), b, prior=prior)
        before = (sponsor.committed, sponsor.wallet("ann"), len(sponsor.ledger))
        try:
            sponsor.fund(f"m{k}", market, funder=funder)
        except InsufficientFunds:
            assert before == (sponsor.committed, sponsor.wallet("ann"), len(sponsor.ledger))
            if funder is None:
                assert before[0] + market.subsidy > budget
            else:
                assert before[1] < market.subsidy
        assert sponsor.committed <= budget
        sponsor.check()
    names = list(sponsor.markets)
    for a in ("ann", "bob", "cat"):
        for name in names:
            cash = min(sponsor.wallet(a), draw(st.floats(0.0, 5.0)))
            sponsor.join(a, name, cash)
    for _ in range(draw(st.integers(0, 15))):
        name = draw(st.sampled_from(names)) if names else None
        if name is None:
            break
        m = sponsor.markets[name]
        var = m.space.variable(draw(st.sampled_from(m.space.names)))
        event = f"{var.name} == {draw(st.sampled_from(var.states))}"
        who = draw(st.sampled_from(["ann", "bob", "cat"]))
        try:
            if draw(st.booleans()):
                m.target(who, event, draw(st.sampled_from([1e-6, 0.5, 1 - 1e-6])))
            else:
                m.buy(who, event, draw(st.floats(-50, 50)))
        except (InsufficientFunds, ImpossibleEvent):
            pass
        sponsor.check()
    for name in names:
        m = sponsor.markets[name]
        outcome = {v.name: draw(st.sampled_from(v.states)) for v in m.space}
        sponsor.close(name, outcome)
        assert m.maker_cash >= -1e-9 * (1 + m.subsidy)
        sponsor.check()
    assert sponsor.realised_loss <= sponsor.committed + 1e-9 * (1 + budget)
    assert sponsor.committed <= budget
    assert sponsor.cash >= budget - sponsor.committed - 1e-9 * (1 + budget)


@settings(max_examples=100)
@given(st.data())
def test_every_policy_routes_within_the_budget(data):
    draw = data.draw
    n = draw(st.integers(1, 4))
    cards = (2,) + tuple(draw(st.integers(2, 3)) for _ in range(n))
    sp = space(*cards)
    seed = draw(st.integers(0, 2**32 - 1))
    joint = np.random.default_rng(seed).dirichlet(np.full(sp.size, 0.5)) + 1e-9
    beliefs = Market(sp, 1.0, prior=joint / joint.sum())
    budget = draw(st.floats(0.0, 100.0))
    policy = draw(st.sampled_from(sorted(POLICIES)))
    rho = draw(st.floats(0.01, 1.0))
    alloc = SubsidyRouter(policy, root_share=rho).route(
        beliefs, "v0", [f"v{i}" for i in range(1, n + 1)], budget)
    assert sum(alloc.worst_case_loss.values()) <= budget
    assert math.isclose(sum(alloc.weights.values()), 1.0, rel_tol=1e-12)
    assert all(w >= 0 for w in alloc.weights.values())
    sponsor = Sponsor(budget)
    factories = {name: (lambda b, name=name: Market(
        OutcomeSpace([sp.variable(name)]), b,
        prior=beliefs.probabilities().reshape(sp.shape).sum(
            axis=tuple(a for a in range(len(cards)) if a != sp.axis(name)))))
        for name in alloc.names}
    if budget > 0:
        funded = sponsor.fund_allocation(alloc, factories)
        for name, m in funded.items():
            assert math.isclose(m.subsidy, alloc.worst_case_loss[name], rel_tol=1e-9)
    assert sponsor.committed <= budget
    sponsor.check()


# -- policies against closed forms ----------------------------------------------------------
def informative_joint():
    """x; y1 a rare but decisive signal; y2 a frequent moderate one; y3 noise."""
    px = np.array([0.5, 0.5])
    y1 = np.array([[1.0, 0.0], [0.96, 0.04]])  # P(y1 | x): y1 = 1 only when x = 1
    y1 = y1 + 1e-9
    y1 /= y1.sum(1, keepdims=True)
    y2 = np.array([[0.75, 0.25], [0.25, 0.75]])
    y3 = np.array([[0.5, 0.5], [0.5, 0.5]])
    return np.einsum("x,xa,xb,xc->xabc", px, y1, y2, y3)


def test_value_of_information_weights_are_mutual_information():
    joint = informative_joint()
    sp = space(2, 2, 2, 2)
    beliefs = Market(sp, 1.0, prior=joint.ravel())
    alloc = SubsidyRouter("value-of-information", root_share=0.4).route(
        beliefs, "v0", ["v1", "v2", "v3"], 5.0)
    mi = [brute_mi(joint.sum(axis=tuple(a for a in (1, 2, 3) if a != k)).reshape(2, 2))
          for k in (1, 2, 3)]
    assert math.isclose(alloc.weights["v0"], 0.4)
    for k, name in enumerate(["v1", "v2", "v3"]):
        assert math.isclose(alloc.weights[name], 0.6 * mi[k] / sum(mi), rel_tol=1e-9,
                            abs_tol=1e-12)
    assert alloc.weights["v3"] < 1e-12  # pure noise gets nothing
    for name in alloc.names:
        assert math.isclose(alloc.liquidity[name] * alloc.loss_per_liquidity[name],
                            alloc.weights[name] * 5.0, rel_tol=1e-9, abs_tol=1e-12)


def test_price_gradient_misweights_a_rare_decisive_signal():
    """y1 moves P(x) from 0.5 to 1 but happens 2% of the time: the raw gradient ranks it
    above y2, mutual information (its actual value to the root) below."""
    joint = informative_joint()
    problem = RoutingProblem(joint, ("v0", "v1", "v2", "v3"), "v0", ("v1", "v2", "v3"), 0.5)
    grad = route_price_gradient(problem)
    voi = route_value_of_information(problem)
    assert grad[1] > grad[2]
    assert voi[1] < voi[2]


def test_root_only_and_uniform():
    problem = RoutingProblem(informative_joint(), ("v0", "v1", "v2", "v3"), "v0",
                             ("v1", "v2", "v3"), 0.25)
    assert POLICIES["root-only"](problem).tolist() == [1.0, 0.0, 0.0, 0.0]
    assert np.allclose(POLICIES["uniform"](problem), [0.25, 0.25, 0.25, 0.25])


def test_value_of_information_is_the_informed_traders_expected_profit():
    """b I(X;Y) against brute force: a trader told y moves the market on X to P(X | y);
    its expected net over y is b I(X;Y)."""
    pair = np.array([[0.3, 0.1, 0.05], [0.05, 0.2, 0.3]])  # P(x, y)
    sp = space(2, 3)
    beliefs = Market(sp, 1.0, prior=pair.ravel())
    b = 4.0
    expected = 0.0
    for y in range(3):
        m = Market(space(2), b, prior=pair.sum(1))
        m.open_account("t", 100.0)
        m.target("t", "v0 == s1", pair[1, y] / pair[:, y].sum())
        for x in range(2):
            expected += pair[x, y] * (m.assets("t")[x] - 100.0)
    assert math.isclose(value_of_information(beliefs, "v0", "v1", liquidity=b), expected,
                        rel_tol=1e-9)
    assert math.isclose(expected, b * brute_mi(pair), rel_tol=1e-9)


# -- trader-funded markets, visibility, free riding, the ledger -----------------------------
def two_markets(hidden: bool):
    sponsor = Sponsor(3.0)
    sponsor.fund("root", Market(space(2), 2.0))
    for a in ("funder", "rider", "spec"):
        sponsor.open_wallet(a, 10.0)
    sponsor.fund("sig", Market(OutcomeSpace([Variable("y", ["0", "1"])]), 1.0),
                 funder="funder", hidden_until="root" if hidden else None)
    return sponsor


def test_trader_funds_a_market_and_the_ledger_shows_every_flow():
    sponsor = two_markets(hidden=False)
    assert math.isclose(sponsor.wallet("funder"), 10.0 - math.log(2))
    assert math.isclose(sponsor.committed, 2.0 * math.log(2))  # the trader's grant is not
    acct = sponsor.join("spec", "sig", 5.0)
    sponsor.markets["sig"].target(acct, "y == 1", 0.99)
    r = sponsor.join("rider", "root", 5.0)
    sponsor.markets["root"].target(r, "v0 == s1", 0.8)
    sponsor.check()
    sponsor.close("sig", {"y": "1"})
    sponsor.close("root", {"v0": "s1"})
    sponsor.check()
    kinds = [f.kind for f in sponsor.ledger.flows]
    assert set(kinds) == {"budget", "endow", "grant", "deposit", "payout", "refund"}
    refund = next(f for f in sponsor.ledger.flows if f.kind == "refund" and f.market == "sig")
    assert refund.target == "wallet:funder"
    # the funder lost exactly what the specialist's trade cost the maker
    assert math.isclose(sponsor.wallet("funder") - 10.0, -math.log(0.99 / 0.5), rel_tol=1e-9)
    assert math.isclose(sponsor.wallet("spec") - 10.0, math.log(0.99 / 0.5), rel_tol=1e-9)
    assert sum(sponsor.ledger.balances().values()) == pytest.approx(0.0, abs=1e-12)
    assert "refund" in sponsor.ledger.table()


def test_check_detects_money_moved_outside_the_ledger():
    sponsor = two_markets(hidden=False)
    m = sponsor.markets["root"]
    m.open_account("stranger", 5.0)  # not through join: its money never entered the ledger
    m.target("stranger", "v0 == s1", 0.9)
    with pytest.raises(AssertionError, match="root"):
        sponsor.check()


def test_hidden_prices_are_seen_only_by_the_funder_until_the_root_closes():
    sponsor = two_markets(hidden=True)
    acct = sponsor.join("spec", "sig", 5.0)
    sponsor.markets["sig"].target(acct, "y == 1", 0.9)
    assert sponsor.prices("funder", "sig", "y")["1"] == pytest.approx(0.9)
    for viewer in ("rider", "spec", "anyone"):
        assert not sponsor.visible(viewer, "sig")
        with pytest.raises(InvalidInput, match="funder"):
            sponsor.prices(viewer, "sig", "y")
    sponsor.close("root", {"v0": "s0"})
    assert sponsor.prices("rider", "sig", "y")["1"] == pytest.approx(0.9)


def test_free_riding_is_measured_and_hiding_prices_limits_it():
    """Same instances, public vs hidden: riders profit only when the prices are public,
    the funder funds more often and the root ends better informed when they are hidden."""
    out = {h: [run_funded_signal(random_instance(np.random.default_rng(s), 1), budget=1.0,
                                 hidden=h, rng=s) for s in range(150)] for h in (False, True)}
    riders = {h: sum(o.riders_net for o in out[h]) for h in out}
    funded = {h: sum(o.funded for o in out[h]) for h in out}
    loss = {h: np.mean([o.log_loss for o in out[h]]) for h in out}
    assert riders[True] == 0.0
    assert funded[True] > funded[False] > 0
    assert loss[True] < loss[False]
    public_funded = [o for o in out[False] if o.funded]
    assert sum(o.riders_net for o in public_funded) != 0.0  # riders do trade on it


def test_routing_run_conserves_money_and_respects_the_budget():
    seen = set()
    for seed in range(12):
        inst = random_instance(np.random.default_rng(seed), 5)
        prior_x = inst.prior if inst.x == 1 else 1 - inst.prior
        for policy in POLICIES:
            out = run_routing(inst, SubsidyRouter(policy), 1.0)  # calls Sponsor.check()
            assert out.sponsor_loss <= 1.0
            seen.add(bool(out.acquired.any()))
            if not out.acquired.any():
                assert math.isclose(out.log_loss, -math.log(prior_x), rel_tol=1e-12)
    assert seen == {True, False}
    expensive = random_instance(np.random.default_rng(0), 4, cost_range=(2.0, 3.0))
    assert not run_routing(expensive, SubsidyRouter("root-only"), 1.0).acquired.any()


# -- bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize("budget", [math.nan, math.inf, -1.0, "x", True])
def test_sponsor_rejects_bad_budgets(budget):
    with pytest.raises(InvalidAmount, match="budget"):
        Sponsor(budget)


def test_sponsor_bad_input_leaves_state_unchanged():
    sponsor = two_markets(hidden=False)
    state = (sponsor.committed, len(sponsor.ledger), sponsor.wallet("funder"))
    used = Market(space(2), 1.0)
    used.open_account("x", 1.0)
    cases = [
        (lambda: sponsor.fund("root", Market(space(2), 0.1)), InvalidInput, "already"),
        (lambda: sponsor.fund("fresh", used), InvalidInput, "fresh"),
        (lambda: sponsor.fund("big", Market(space(2), 100.0)), InsufficientFunds, "budget"),
        (lambda: sponsor.fund("rich", Market(space(2), 100.0), funder="funder"),
         InsufficientFunds, "funder"),
        (lambda: sponsor.fund("x", Market(space(2), 0.1), funder="nobody"), UnknownAccount,
         "nobody"),
        (lambda: sponsor.fund("x", Market(space(2), 0.1), hidden_until="nope"), InvalidInput,
         "nope"),
        (lambda: sponsor.fund("a:b", Market(space(2), 0.1)), InvalidInput, "name"),
        (lambda: sponsor.fund("x", "not a market"), InvalidInput, "Market"),
        (lambda: sponsor.join("funder", "root", 1e6), InsufficientFunds, "deposit"),
        (lambda: sponsor.join("funder", "nope", 1.0), InvalidInput, "nope"),
        (lambda: sponsor.join("funder", "root", math.nan), InvalidAmount, "cash"),
        (lambda: sponsor.open_wallet("funder", 1.0), DuplicateAccount, "funder"),
        (lambda: sponsor.open_wallet("w", -1.0), InvalidAmount, "cash"),
        (lambda: sponsor.wallet("ghost"), UnknownAccount, "ghost"),
        (lambda: sponsor.prices("funder", "ghost", "y"), InvalidInput, "ghost"),
    ]
    for action, error, word in cases:
        with pytest.raises(error, match=word):
            action()
        assert state == (sponsor.committed, len(sponsor.ledger), sponsor.wallet("funder"))
    sponsor.close("root", {"v0": "s0"})
    with pytest.raises(MarketClosed, match="root"):
        sponsor.close("root", {"v0": "s0"})


def test_router_rejects_bad_input():
    sp = space(2, 2, 2)
    beliefs = Market(sp, 1.0)
    with pytest.raises(InvalidInput, match="policy"):
        SubsidyRouter("best")
    with pytest.raises(InvalidInput, match="root_share"):
        SubsidyRouter("uniform", root_share=0.0)
    with pytest.raises(InvalidInput, match="root_share"):
        SubsidyRouter("uniform", root_share=math.nan)
    router = SubsidyRouter("uniform")
    with pytest.raises(UnknownVariable, match="nope"):
        router.route(beliefs, "v0", ["nope"], 1.0)
    with pytest.raises(InvalidInput, match="distinct"):
        router.route(beliefs, "v0", ["v0", "v1"], 1.0)
    with pytest.raises(InvalidAmount, match="budget"):
        router.route(beliefs, "v0", ["v1"], -1.0)
    with pytest.raises(InvalidAmount, match="budget"):
        router.route(beliefs, "v0", ["v1"], math.inf)
    with pytest.raises(InvalidInput, match="weights"):
        SubsidyRouter(lambda p: np.array([0.5, 0.6, 0.0])).route(beliefs, "v0", ["v1", "v2"],
                                                                  1.0)
    with pytest.raises(UnknownVariable, match="zz"):
        value_of_information(beliefs, "v0", "zz")
    with pytest.raises(InvalidAmount, match="liquidity"):
        value_of_information(beliefs, "v0", "v1", liquidity=-1.0)
