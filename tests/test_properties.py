"""Hypothesis properties of ``Market`` (DESIGN.md sec. 3-4).

Scenarios (random small spaces, accounts and trade sequences) come from ``test_oracle.py``;
``Twin`` replays them on a Market and on the brute-force oracle at once, so every property
below also runs with the oracle's refusal check switched on.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from oracle import Oracle
from test_oracle import DataChooser, Twin, random_event, random_scenario, space_for

from predmarket import Market
from predmarket.errors import ImpossibleEvent, InsufficientFunds

TOL = 1e-9


def scenario(data, **kw):
    return random_scenario(DataChooser(data), **kw)


def money_total(m: Market) -> float:
    return sum(m.cash(n) for n in m.accounts) + m.maker_cash


def endowments(m: Market) -> float:
    return sum(e.cash for e in m.ledger if e.kind == "open")


# -- prices ---------------------------------------------------------------------------------


@given(st.data())
def test_prices_in_unit_interval_and_sum_to_one(data):
    scn = scenario(data, observe=False)
    twin = Twin(scn, check=False)
    m = twin.market
    for op in [None, *scn.ops]:
        if op is not None:
            twin.step(op)
        p = m.probabilities()
        assert np.all(p > 0) and np.all(p < 1), p
        assert math.isclose(p.sum(), 1.0, abs_tol=1e-12)
        for var in twin.space.names:
            marg = m.marginal(var)
            assert all(0 < v < 1 for v in marg.values()), marg
            assert math.isclose(sum(marg.values()), 1.0, abs_tol=1e-12)
        trades = [o for o in scn.ops if o[0] != "observe"]
        for spec in {o[2] for o in trades} | {o[3] for o in trades if o[3]}:
            event = twin.space.event(spec)
            if not (event.is_empty or event.is_certain):
                assert 0 < m.price(spec) < 1
                assert math.isclose(m.price(spec), p[event.mask].sum(), rel_tol=1e-9)


# -- path independence ----------------------------------------------------------------------


@given(st.data())
def test_path_independence_of_buys(data):
    """Sum of recorded trade costs = C(q_final) - C(q_0), with C(q_0) = 0."""
    scn = scenario(data, observe=False, kinds=("buy",))
    twin = Twin(scn, check=False)
    twin.run()
    m = twin.market
    costs = [-e.cash for e in m.ledger if e.kind == "trade"]
    assert all(e.details["kind"] == "buy" for e in m.ledger if e.kind == "trade")
    assert math.isclose(sum(costs), m.maker.cost(),
                        abs_tol=TOL * (1 + sum(abs(c) for c in costs)))


@given(st.data())
def test_trade_nets_are_consistent(data):
    """Every kind of trade (conditional buys, edits, targets too): the ledger's partition and
    values give the oracle's move dq, the recorded cost equals the maker's C(q') - C(q), and
    the net dq - cost on each joint outcome is b log(P'(w) / P(w))."""
    scn = scenario(data, observe=False)
    twin = Twin(scn, check=False)
    m, o, space = twin.market, twin.oracle, twin.space
    total = 0.0
    for op in scn.ops:
        p0, c0, n0 = m.probabilities(), m.maker.cost(), len(m.ledger)
        if twin.step(op) != "ok":
            assert len(m.ledger) == n0 and m.maker.cost() == c0
            continue
        entry = m.ledger[-1]
        assert entry.kind == "trade" and entry.details["kind"] == op[0]
        cover = np.zeros(space.size, int)
        dq = np.zeros(space.size)
        for part, value in zip(entry.parts, entry.values):
            mask = space.event(part).mask
            cover += mask
            dq[mask] += value
        assert np.all(cover == 1), "ledger parts must partition the space"
        q_before, q_after, cost = o.trades[op[1]][-1]
        scale = 1 + scn.b + np.abs(dq).max()
        np.testing.assert_allclose(dq, q_after - q_before, rtol=1e-9, atol=TOL * scale)
        assert math.isclose(-entry.cash, cost, rel_tol=1e-9, abs_tol=TOL * scale)
        assert math.isclose(m.maker.cost() - c0, -entry.cash, rel_tol=1e-9,
                            abs_tol=TOL * scale)
        np.testing.assert_allclose(dq + entry.cash, scn.b * np.log(m.probabilities() / p0),
                                   rtol=1e-9, atol=TOL * scale)
        total += -entry.cash
    assert math.isclose(total, m.maker.cost(), rel_tol=1e-9, abs_tol=TOL * (1 + scn.b))


# -- the maker's loss -------------------------------------------------------------------------


@pytest.mark.parametrize("latent", [False, True])
@given(data=st.data())
def test_maker_loss_bounded(latent, data):
    scn = scenario(data, latent=latent)
    twin = Twin(scn, check=False)
    twin.run()
    twin.settle()
    m, b = twin.market, scn.b
    prior = np.full(twin.space.size, 1.0) if scn.prior is None else scn.prior
    prior = (prior / prior.sum()).reshape(scn.shape)
    p_obs = prior.sum(axis=scn.latent) if latent else prior
    p_s = float(p_obs[tuple(scn.outcome[i] for i in scn.obs_axes)])
    tol = TOL * (1 + m.subsidy + sum(scn.endowments))
    loss = m.subsidy - m.maker_cash
    assert m.maker_cash >= -tol
    assert math.isclose(m.subsidy, -b * math.log(p_obs.min()), rel_tol=1e-12)
    assert loss <= -b * math.log(p_s) + tol
    if scn.prior is None:
        assert math.isclose(m.subsidy, b * math.log(p_obs.size), rel_tol=1e-12)
        assert loss <= b * math.log(twin.space.size) + tol


# -- money ----------------------------------------------------------------------------------------


@given(st.data())
def test_money_is_conserved(data):
    scn = scenario(data)
    twin = Twin(scn, check=False)
    m = twin.market
    expected = sum(scn.endowments) + m.subsidy
    tol = TOL * (1 + expected)
    assert math.isclose(money_total(m), expected, abs_tol=tol)
    for op in scn.ops:
        twin.step(op)
        m.check()
        assert math.isclose(money_total(m), expected, abs_tol=tol)
        assert math.isclose(endowments(m), sum(scn.endowments), abs_tol=tol)
    twin.settle()
    m.check()
    assert math.isclose(money_total(m), expected, abs_tol=tol)


@pytest.mark.parametrize("latent", [False, True])
@given(data=st.data())
def test_no_account_ends_below_zero(latent, data):
    """Traders attempt random trades (refused ones are skipped), whatever the others do in
    between; at settlement nobody's cash is negative."""
    scn = scenario(data, latent=latent, share_scale=8.0, cash_scale=2.0)
    twin = Twin(scn, check=False)
    m = twin.market
    twin.run()  # refused trades are skipped (Twin checks each refusal against the oracle)
    twin.settle()
    for name, cash in zip(twin.names, scn.endowments):
        assert m.cash(name) >= -TOL * (1 + cash), (name, m.cash(name))


# -- edits --------------------------------------------------------------------------------------


@given(st.data())
def test_edit_sets_conditional_and_keeps_the_rest(data):
    """Edit P(A|B) -> p: P(A|B) = p after; P(B), P(.|A&B), P(.|~A&B) and the whole joint on
    ~B are unchanged."""
    scn = scenario(data, observe=False, cash_scale=50.0)
    twin = Twin(scn, check=False)
    twin.run()
    m, space, ch = twin.market, twin.space, DataChooser(data)
    axes = list(range(len(scn.shape)))
    a_spec = random_event(ch, scn.shape, axes)
    g_spec = random_event(ch, scn.shape, axes) if ch.bool() else None
    target = ch.float(1e-3, 1 - 1e-3)
    a = space.event(a_spec).mask
    g = np.ones(space.size, bool) if g_spec is None else space.event(g_spec).mask
    assume(np.any(a & g) and np.any(~a & g))
    m.open_account("editor", 1e9)
    before = m.probabilities()
    quote = m.edit("editor", a_spec, target, given=g_spec)
    after = m.probabilities()
    assert quote.cost == 0.0
    assert math.isclose(m.price(a_spec, given=g_spec), target, rel_tol=1e-9)
    assert math.isclose(after[a & g].sum() / after[g].sum(), target, rel_tol=1e-9)
    assert math.isclose(after[g].sum(), before[g].sum(), rel_tol=1e-9, abs_tol=1e-15)
    np.testing.assert_allclose(after[~g], before[~g], rtol=1e-9, atol=1e-15)
    for part in (a & g, ~a & g):
        np.testing.assert_allclose(after[part] / after[part].sum(),
                                   before[part] / before[part].sum(), rtol=1e-9, atol=1e-15)
    m.check()


# -- numerical stability ------------------------------------------------------------------------


@pytest.mark.parametrize(("liquidity", "max_shares"), [(1e-3, 1e3), (1.0, 1e6)])
@given(data=st.data())
def test_large_magnitudes_stay_finite_and_reversible(liquidity, max_shares, data):
    """|q/b| up to 1e6: prices finite in [0, 1] summing to 1, costs finite, and selling
    every trade back (in reverse order) restores the prices and the cost function."""
    ch = DataChooser(data)
    shape = tuple(ch.int(2, 3) for _ in range(ch.int(2, 3)))
    space = space_for(shape)
    m = Market(space, liquidity)
    m.open_account("whale", 1e12)
    p0 = m.probabilities()
    axes = list(range(len(shape)))
    done, costs = [], []
    for _ in range(ch.int(1, 8)):
        a = random_event(ch, shape, axes)
        g = random_event(ch, shape, axes) if ch.bool() else None
        x = ch.float(-max_shares, max_shares)
        try:
            cost = m.buy("whale", a, x, given=g)
        except ImpossibleEvent:
            continue
        assert math.isfinite(cost)
        costs.append(cost)
        done.append((a, g, x))
        p = m.probabilities()
        assert np.all(np.isfinite(p)) and np.all((p >= 0) & (p <= 1))
        assert math.isclose(p.sum(), 1.0, abs_tol=1e-9)
        assert 0.0 <= m.price(a, given=g) <= 1.0
        assert math.isfinite(m.maker.cost())
    # Rounding is relative to the magnitudes held: the shares and the costs.
    scale = 1.0 + sum(abs(c) for c in costs) + sum(abs(x) for _a, _g, x in done)
    assert math.isclose(sum(costs), m.maker.cost(), rel_tol=1e-9, abs_tol=1e-10 * scale)
    for a, g, x in reversed(done):
        cost = m.buy("whale", a, -x, given=g)
        assert math.isfinite(cost)
        costs.append(cost)
    np.testing.assert_allclose(m.probabilities(), p0, rtol=1e-6)
    assert abs(m.maker.cost()) <= 1e-10 * scale
    assert abs(sum(costs)) <= 1e-10 * scale
    m.check()


# -- latent variables -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["edit", "target"])
@given(data=st.data())
def test_latent_only_trade_costs_nothing_and_pays_nothing(kind, data):
    """Changing only P(latent | observed) (an edit of a latent event given a complete
    observable assignment) costs 0 and pays 0, whatever is traded before and after. A target
    trade of the same kind pays back exactly its cost."""
    scn = scenario(data, latent=True)
    twin = Twin(scn, check=False)
    ch = DataChooser(data)
    split = ch.int(0, len(scn.ops))
    twin.run(scn.ops[:split])
    m, space = twin.market, twin.space
    a_spec = random_event(ch, scn.shape, [scn.latent])
    cell = {f"v{i}": f"s{ch.int(0, scn.shape[i] - 1)}" for i in scn.obs_axes}
    cell.update(m.observed)  # stay inside what has been observed
    g_spec = " & ".join(f"{k} == {v}" for k, v in cell.items())
    a, g = space.event(a_spec).mask, space.event(g_spec).mask
    assume(np.any(a & g) and np.any(~a & g))
    m.open_account("x", 5.0)
    twin.oracle.open("x", 5.0)
    p = ch.float(0.01, 0.99)
    dq, cost = getattr(twin.oracle, f"move_{kind}")(a, p, g)
    quote = getattr(m, kind)("x", a_spec, p, given=g_spec)
    twin.oracle.apply("x", dq, cost)
    if kind == "edit":
        assert quote.cost == 0.0
    assert math.isclose(m.min_asset("x"), 5.0, abs_tol=1e-9)
    np.testing.assert_allclose(m.assets("x")[~np.isnan(m.assets("x"))], 5.0, atol=1e-9)
    twin.run(scn.ops[split:])
    payouts = twin.market.settle({f"v{i}": f"s{scn.outcome[i]}" for i in scn.obs_axes})
    assert math.isclose(payouts["x"], quote.cost, abs_tol=1e-9 * (1 + abs(quote.cost)))
    assert math.isclose(m.cash("x"), 5.0, abs_tol=1e-9)
    m.check()


def test_joint_outcome_bound_is_not_a_valid_budget_with_latents():
    """With a latent variable, per-joint-outcome nets overstate what an account is sure to
    keep once others trade in between. Here X is observable, L latent, b = 1:

    1. B makes L=l1 nearly impossible given X=x1 (edit to 1e-4);
    2. A cheaply buys 4 shares of X=x1 & L=l1;
    3. B makes L=l1 nearly certain given X=x1;
    4. A sells the 4 shares back.

    Over joint outcomes A's shares cancel and both costs are tiny or negative, so the joint
    bound says A keeps more than its endowment; but trade 4 cuts P(X=x1) by about e^-4 and
    the observable payout on x1 is ~ -4 + log(...). The market must refuse trade 4."""
    space = space_for((2, 2))
    b = 1.0
    market = Market(space, b, latent=["v1"])
    oracle = Oracle((2, 2), b, latent_axes=(1,))
    endowment = 1.0
    for name, cash in (("A", endowment), ("B", 1e3)):
        market.open_account(name, cash)
        oracle.open(name, cash)
    l1, x1 = "v1 == s0", "v0 == s0"

    def mask(spec):
        return space.event(spec).mask

    def both(name, kind, spec, amount, given=None):
        g = None if given is None else mask(given)
        move = oracle.move_buy if kind == "buy" else oracle.move_edit
        dq, cost = move(mask(spec), amount, g)
        getattr(market, kind)(name, spec, amount, given=given)
        oracle.apply(name, dq, cost)

    both("B", "edit", l1, 1e-4, given=x1)
    both("A", "buy", f"{x1} & {l1}", 4.0)
    assert market.min_asset("A") == pytest.approx(oracle.min_asset("A"), abs=1e-9)
    assert oracle.min_asset("A") > 0.99
    both("B", "edit", l1, 1 - 1e-4, given=x1)

    # The last trade, priced by the oracle without making it.
    dq, cost = oracle.move_buy(mask(f"{x1} & {l1}"), -4.0)
    true_worst = oracle.min_asset("A", dq, cost)
    hypothetical = copy.deepcopy(oracle)
    hypothetical.apply("A", dq, cost)
    joint_bound = hypothetical.joint_bound("A")
    assert joint_bound >= 0.5, "a joint-outcome budget check would accept the trade"
    assert true_worst < -2.0, "yet A can end below zero"
    assert joint_bound - true_worst > 3.0 * b
    # Settling on X = x1 would indeed leave A below zero.
    hypothetical.settle(0)
    assert hypothetical.cash["A"] == pytest.approx(true_worst, abs=1e-9)

    quote = market.preview("A", f"{x1} & {l1}", shares=-4.0)
    assert quote.min_asset_after == pytest.approx(true_worst, abs=1e-9)
    assert not quote.affordable
    with pytest.raises(InsufficientFunds):
        market.sell("A", f"{x1} & {l1}", 4.0)
    assert market.min_asset("A") == pytest.approx(oracle.min_asset("A"), abs=1e-9)
    market.check()


# -- quotes of executed trades ----------------------------------------------------------------


def test_executed_quote_min_asset_is_a_lower_bound():
    """An executed trade's quote reports the running budget bound: never above the exact
    worst case, which preview() reports exactly."""
    space = space_for((2,))
    m = Market(space, 1.0)
    m.open_account("a", 10.0)
    m.edit("a", "v0 == s0", 0.8)
    quote = m.edit("a", "v0 == s0", 0.5)  # back to the start: holdings are zero again
    assert m.min_asset("a") == pytest.approx(10.0)
    assert quote.min_asset_after <= m.min_asset("a") + 1e-9
    assert m.preview("a", "v0 == s0", shares=0.0).min_asset_after == pytest.approx(10.0)


# -- latent payouts at extreme magnitudes -----------------------------------------------------


def _latent_market(cash: float) -> Market:
    space = space_for((2, 2))  # v0 latent, v1 observable
    m = Market(space, 1.0, latent=["v0"])
    m.open_account("a", cash)
    m.observe({"v1": "s0"})
    return m


def test_latent_sale_of_certain_event_pays_exactly_its_shares():
    """v1 == s0 is certain after the observation: selling x shares costs -x and pays -x,
    so min-asset and final cash stay at the endowment (exact for 700 shares)."""
    for shares in (700.0, 745.1):
        m = _latent_market(10.0)
        assert m.sell("a", "v1 == s0", shares) == pytest.approx(-shares)
        assert m.min_asset("a") == pytest.approx(10.0, abs=1e-9), shares
        assert m.settle({"v1": "s0"})["a"] == pytest.approx(-shares, abs=1e-9)
        assert m.cash("a") == pytest.approx(10.0, abs=1e-9)


def test_latent_round_trips_cannot_drain_the_maker():
    m = _latent_market(0.0)
    for _ in range(10):
        m.sell("a", "v1 == s0", 745.1)
        m.buy("a", "v1 == s0", 745.1)
    m.settle({"v1": "s0"})
    assert m.cash("a") == pytest.approx(0.0, abs=1e-9)
    assert m.maker_cash >= -1e-9  # the maker lost no more than its subsidy
    m.check()
