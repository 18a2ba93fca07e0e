"""``Market.from_bayesian_network`` against the explicit joint (``JointMaker``).

Random networks of up to 14 binary or ternary variables (some disconnected, sometimes with
latent variables), random sequences of trades by several accounts (shares, conditional
shares, edits, targets; events inside cliques, or anywhere in relink mode), observations
and a final settlement. After every step both markets must agree to 1e-9 on every price,
cost, cash, min-asset and refusal, and at the end on every settlement payout.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as label
from hypothesis import strategies as st
from test_junction import brute_joint, random_network

from predmarket import Market
from predmarket.errors import CrossCliqueTrade, ImpossibleEvent, InsufficientFunds
from predmarket.makers.network import Network

TOL = 1e-9


def close(x: float, y: float) -> bool:
    return math.isclose(x, y, rel_tol=TOL, abs_tol=TOL)


def bounded_network(seed: int, n: int, link: float) -> Network:
    """A random network whose explicit joint stays small enough to cross-check quickly."""
    rng = np.random.default_rng(seed)
    max_card = 3 if n <= 9 else 2
    return random_network(rng, n, link=link, max_card=max_card)


class Twin:
    """The same operations on a factored market and on the explicit-joint market."""

    def __init__(self, net: Network, b: float, latent, mode: str):
        self.bn = Market.from_bayesian_network(net, b, latent=latent, cross_clique=mode)
        self.jm = Market(self.bn.space, b, latent=latent, prior=brute_joint(net).ravel())
        assert close(self.bn.subsidy, self.jm.subsidy)

    def both(self, method: str, *args, **kwargs):
        """Call on both; the same result, or the same error class."""
        out = []
        for m in (self.bn, self.jm):
            try:
                out.append(("ok", getattr(m, method)(*args, **kwargs)))
            except (InsufficientFunds, ImpossibleEvent) as exc:
                out.append(("error", type(exc)))
        assert out[0][0] == out[1][0], f"{method}{args}: {out}"
        if out[0][0] == "error":
            assert out[0][1] is out[1][1]
        else:
            same_result(out[0][1], out[1][1])
        return out[0][1], out[1][1]

    def compare(self, names, accounts, events) -> None:
        for n in names:
            mb, mj = self.bn.marginal(n), self.jm.marginal(n)
            assert all(close(mb[s], mj[s]) for s in mb), (n, mb, mj)
        for e in events:
            try:
                pj = self.jm.price(e)
            except ImpossibleEvent:
                with pytest.raises(ImpossibleEvent):
                    self.bn.price(e)
                continue
            assert close(self.bn.price(e), pj), e
        for a in accounts:
            assert close(self.bn.cash(a), self.jm.cash(a))
            assert close(self.bn.min_asset(a), self.jm.min_asset(a)), a
            assert close(self.bn.expected_assets(a), self.jm.expected_assets(a))
            assert close(self.jm.expected_assets(a), joint_expected_assets(self.jm, a))
        assert close(self.bn.maker_cash, self.jm.maker_cash)


def same_result(x, y) -> None:
    """Equal trade results: costs, quotes (cost, shares, prices, min-asset, affordable),
    payouts."""
    if isinstance(x, float):
        assert close(x, y), (x, y)
    elif dataclasses.is_dataclass(x):
        for field in dataclasses.fields(x):
            u, v = getattr(x, field.name), getattr(y, field.name)
            if isinstance(u, float):
                assert close(u, v), (field.name, x, y)
            else:
                assert u == v, (field.name, x, y)
    elif isinstance(x, dict):
        assert x.keys() == y.keys() and all(close(x[k], y[k]) for k in x), (x, y)


def joint_expected_assets(m: Market, account: str) -> float:
    assets = m.assets(account)
    joint = m.probabilities().reshape(m.space.shape)
    latent_axes = tuple(m.space.axis(n) for n in m.latent)
    p_obs = joint.sum(axis=latent_axes) if latent_axes else joint
    live = np.isfinite(assets)
    return float(np.sum(p_obs[live] * assets[live]) / np.sum(p_obs[live]))


def literal(draw, space, axis: int) -> str:
    var = space.variables[axis]
    state = var.states[draw(st.integers(0, var.cardinality - 1))]
    return f"{var.name} {draw(st.sampled_from(['==', '!=']))} {state}"


def event_over(draw, space, axes) -> str:
    first = literal(draw, space, axes[0])
    if len(axes) == 1 or draw(st.booleans()):
        return first
    return f"{first} {draw(st.sampled_from(['&', '|']))} {literal(draw, space, axes[1])}"


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.data())
def test_cross_check_against_joint_maker(data):
    draw = data.draw
    n = draw(st.integers(1, 14))
    net = bounded_network(draw(st.integers(0, 2**32 - 1)), n, draw(st.sampled_from(
        [0.0, 0.3, 0.6])))
    mode = draw(st.sampled_from(["refuse", "relink"]))
    latent = []
    if n >= 3 and draw(st.booleans()):
        latent = sorted({f"x{draw(st.integers(0, n - 1))}" for _ in range(draw(st.integers(1, 2)))})
    b = draw(st.sampled_from([0.5, 2.0, 10.0]))
    twin = Twin(net, b, latent, mode)
    space = twin.bn.space
    accounts = ["ann", "bob", "cy"][: draw(st.integers(1, 3))]
    for a in accounts:
        twin.both("open_account", a, cash=draw(st.floats(0.0, 5.0)) * b)
    names = list(space.names)
    observable = [x for x in names if x not in latent]
    truth = {x: space.variable(x).states[draw(st.integers(0, space.variable(x).cardinality - 1))]
             for x in observable}
    probes = []
    for _ in range(draw(st.integers(1, 10))):
        tree = twin.bn.maker.tree
        if mode == "refuse":
            clique = tree.cliques[draw(st.integers(0, len(tree.cliques) - 1))]
        else:
            clique = tuple(range(n))
        axes = sorted(draw(st.lists(st.sampled_from(clique), min_size=1, max_size=3,
                                    unique=True)))
        event = event_over(draw, space, axes[:2])
        given_ = event_over(draw, space, axes[2:]) if len(axes) > 2 else None
        probes.append(event)
        kind = draw(st.sampled_from(["buy", "edit", "target", "observe", "preview"]))
        account = draw(st.sampled_from(accounts))
        if kind == "observe":
            var = draw(st.sampled_from(observable))
            twin.both("observe", {var: truth[var]})
            continue
        try:
            twin.jm.price(event, given=given_)
        except ImpossibleEvent:
            continue
        if kind == "preview":
            twin.both("preview", account, event, shares=draw(st.floats(-3.0, 3.0)) * b,
                      given=given_)
        elif kind == "buy":
            twin.both("buy", account, event, draw(st.floats(-3.0, 3.0)) * b, given=given_)
        else:
            twin.both(kind, account, event, draw(st.floats(0.02, 0.98)), given=given_)
        twin.compare(names, accounts, probes[-3:])
    label(f"{sum(e.kind == 'trade' for e in twin.jm.ledger)} trades, relinks "
          f"{len(twin.bn.maker.relinks)}, latent {bool(latent)}, n {n // 5 * 5}+")
    pb, pj = twin.both("settle", truth)
    for a in accounts:
        assert close(pb[a], pj[a]), (a, pb, pj)
        assert close(twin.bn.cash(a), twin.jm.cash(a))
    twin.bn.check()
    assert twin.bn.maker_cash >= -1e-9  # the maker's loss stays within the subsidy


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(4, 9), st.integers(0, 2**32 - 1))
def test_latent_bound_is_sound_and_settlement_exact(seed, n, trade_seed):
    """Beyond ``exact_latent_limit`` the budget uses a factored lower bound: never above
    the exact min-asset; settlement stays exact."""
    net = bounded_network(seed, n, 0.5)
    rng = np.random.default_rng(trade_seed)
    latent = sorted({f"x{int(i)}" for i in rng.integers(0, n, size=2)})
    bound = Market.from_bayesian_network(net, 2.0, latent=latent, exact_latent_limit=1)
    exact = Market(bound.space, 2.0, latent=latent, prior=brute_joint(net).ravel())
    assert not bound.exact_budgets
    for m in (bound, exact):
        m.open_account("a", 1e6)
        m.open_account("b", 1e6)
    for t in range(8):
        clique = bound.maker.tree.cliques[int(rng.integers(len(bound.maker.tree.cliques)))]
        var = bound.space.variables[int(rng.choice(clique))]
        event = f"{var.name} == {var.states[int(rng.integers(var.cardinality))]}"
        p = float(rng.uniform(0.05, 0.95))
        for m in (bound, exact):
            m.edit("ab"[t % 2], event, p)
        for a in "ab":
            assert bound.min_asset(a) <= exact.min_asset(a) + 1e-9
    truth = {v.name: v.states[int(rng.integers(v.cardinality))] for v in bound.space.variables
             if v.name not in latent}
    pb, pe = bound.settle(truth), exact.settle(truth)
    for a in "ab":
        assert close(pb[a], pe[a])


def test_refuse_mode_names_variables_and_nearest_clique():
    # a -> c <- b, d -> e: a and e share no clique
    m = Market.from_bayesian_network([("a", "c"), ("b", "c"), ("d", "e")], 5.0)
    acct = m.open_account("ann", 10.0)
    before = (m.ledger, m.cash(acct), m.marginal("a"), m.maker.tree.cliques)
    with pytest.raises(CrossCliqueTrade, match=r"\['a', 'e'\].*nearest clique"):
        m.edit(acct, "e == yes", 0.7, given="a == yes")
    assert (m.ledger, m.cash(acct), m.marginal("a"), m.maker.tree.cliques) == before
    # the price of a cross-clique event is still exact
    assert math.isclose(m.price("a == yes & e == yes"), 0.25, rel_tol=1e-12)


def test_relink_mode_adds_the_link_and_keeps_prices():
    m = Market.from_bayesian_network([("a", "c"), ("b", "c"), ("d", "e")], 5.0,
                                     cross_clique="relink")
    acct = m.open_account("ann", 10.0)
    m.buy(acct, "c == yes", 2.0, given="a == yes")
    marginals = {n: m.marginal(n) for n in m.space.names}
    q = m.edit(acct, "e == yes", 0.7, given="a == yes")
    assert q.price_after == 0.7 and math.isclose(m.price("e == yes", given="a == yes"), 0.7)
    assert m.maker.tree.clique_of([0, 4]) is not None
    for n in ["b", "c", "d"]:
        assert all(math.isclose(m.marginal(n)[s], p) for s, p in marginals[n].items())
    assert m.min_asset(acct) >= 0
