"""Self-reference (DESIGN.md sec. 7): the Gödelian LMSR asset and price atoms in a
WorldsMarket. Tie rule: a price equal to the threshold makes "P < p" false. Instant: the
closing price, read after the last trade (rounded to 12 decimals), before settlement."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from predmarket.errors import ImpossibleEvent, InvalidInput, MarketClosed
from predmarket.logic import negate, parse_sentence, price_atom, self_referential
from predmarket.logic.selfref import (
    GodelianAsset,
    PriceHistory,
    close_day,
    closing_error,
    last_trader_profit,
    last_trader_target,
    maker_loss_bound,
    min_closing_error,
    read_price,
)
from predmarket.logic.worlds_market import WorldsMarket

MARGIN = 1e-9


def test_no_closing_price_is_correct_at_04():
    grid = np.linspace(0.0, 1.0, 200_001)  # contains 0.4 exactly
    assert 0.4 in grid
    errors = np.array([closing_error(q, 0.4) for q in grid])
    assert errors.min() == 0.4  # min_p |1[p < 0.4] - p| = 0.4, attained at p = 0.4
    assert grid[errors.argmin()] == 0.4
    assert closing_error(math.nextafter(0.4, 0.0), 0.4) > 0.6  # just below: chi true, error ~0.6
    assert min_closing_error(0.4) == 0.4


@settings(max_examples=25)
@given(st.floats(0.01, 0.99))
def test_infimum_of_closing_error_is_min_p_one_minus_p(p):
    grid = np.unique(np.r_[np.linspace(0.0, 1.0, 2_001), p, math.nextafter(p, 0.0)])
    errors = np.array([closing_error(q, p) for q in grid])
    assert errors.min() >= min_closing_error(p) - 1e-12
    assert errors.min() <= min_closing_error(p) + 1e-12  # approached at q -> p from below or at p


def opening(asset, trades):
    """The crowd's trades before the last trader; shares in units of b, so the opening
    price stays where floats resolve both it and 1 - it (logit within +-12)."""
    asset.open_account("crowd", 1e6)
    b = asset.market.liquidity
    for kind, value in trades:
        if kind == "target":
            asset.target("crowd", value)
        else:
            asset.buy("crowd", value * b)


trades_strategy = st.lists(
    st.one_of(
        st.tuples(st.just("target"), st.floats(0.02, 0.98)),
        st.tuples(st.just("buy"), st.floats(-2, 2)),
    ),
    max_size=3,
)


@settings(max_examples=60)
@given(trades_strategy, st.sampled_from([0.4, 0.7, 0.25]), st.sampled_from([0.5, 1.0, 4.0]))
def test_last_trader_drives_the_price_to_the_threshold(trades, p, b):
    asset = GodelianAsset(p, liquidity=b)
    opening(asset, trades)
    q0 = asset.price()
    if abs(q0 - p) < 2 * MARGIN:
        return
    last = asset.open_account("last", 1e6)
    target = last_trader_target(q0, p, margin=MARGIN)
    asset.target(last, target)
    closing = asset.close()
    assert abs(closing - p) <= 2 * MARGIN
    asset.settle()
    profit = asset.cash(last) - 1e6
    assert math.isclose(profit, last_trader_profit(q0, closing, p, b), rel_tol=1e-6, abs_tol=1e-9)
    # brute force over closing prices: none pays the last trader more (beyond the margin)
    grid = np.linspace(0.001, 0.999, 999)
    best_on_grid = max(last_trader_profit(q0, q, p, b) for q in grid)
    assert profit >= best_on_grid - b * MARGIN / min(p, 1 - p) - 1e-9
    assert profit > 0


@pytest.mark.parametrize("close_at", [0.1, 0.3, 0.4, 0.5, 0.9])
def test_profit_formula_matches_replayed_markets(close_at):
    b, p = 2.0, 0.4
    asset = GodelianAsset(p, liquidity=b)
    opening(asset, [("target", 0.65)])
    last = asset.open_account("last", 100.0)
    asset.target(last, close_at)
    assert asset.close() == close_at
    asset.settle()
    assert asset.truth == (close_at < p)
    assert math.isclose(
        asset.cash(last) - 100.0, last_trader_profit(0.65, close_at, p, b), rel_tol=1e-9
    )


@settings(max_examples=50)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c"]),
            st.sampled_from(["buy", "target", "edit"]),
            st.floats(-20, 20),
            st.floats(0.001, 0.999),
        ),
        max_size=8,
    ),
    st.sampled_from([0.4, 0.7]),
    st.sampled_from([0.5, 3.0]),
    st.one_of(st.none(), st.floats(0.001, 0.999)),
)
def test_maker_loss_is_at_most_b_log_2_against_an_adversary(moves, p, b, final):
    asset = GodelianAsset(p, liquidity=b)
    for name in "abc":
        asset.open_account(name, 1e4)
    for name, kind, x, q in moves:
        if kind == "buy":
            asset.buy(name, x)
        elif kind == "target":
            asset.target(name, q)
        else:
            asset.edit(name, q)
    if final is not None:
        asset.target("a", final)
    closing = asset.close()
    exact = asset.market.price(asset.atom)  # the unrounded closing price
    asset.settle()
    asset.market.check()
    loss = asset.maker_loss
    assert loss <= b * math.log(2) + 1e-9
    assert loss <= asset.loss_bound + 1e-9
    assert abs(exact - closing) <= 5e-13
    outcome_price = exact if asset.truth else 1 - exact
    assert math.isclose(loss, b * math.log(outcome_price / 0.5), rel_tol=1e-7, abs_tol=1e-9)


@pytest.mark.parametrize("p", [0.4, 0.7])
def test_an_adversary_reaches_the_loss_bound_and_no_further(p):
    b = 1.0
    asset = GodelianAsset(p, liquidity=b)
    adversary = asset.open_account("adversary", 100.0)
    # the best the adversary can do: close where the outcome's price is largest
    best = p if 1 - p >= p else p - MARGIN
    asset.target(adversary, best)
    asset.close()
    asset.settle()
    assert math.isclose(asset.maker_loss, maker_loss_bound(p, b), abs_tol=1e-8)
    assert maker_loss_bound(p, b) < b * math.log(2)


def test_tie_rule_and_instant_are_pinned():
    asset = GodelianAsset(0.4, liquidity=1.0)
    a = asset.open_account("a", 10.0)
    asset.target(a, 0.4)
    assert asset.close() == 0.4
    with pytest.raises(MarketClosed):
        asset.buy(a, 1.0)
    with pytest.raises(MarketClosed):
        asset.close()
    asset.settle()
    assert asset.truth is False  # 0.4 < 0.4 is false
    inclusive = GodelianAsset(0.4, liquidity=1.0, tie_rule="true_at_equality")
    inclusive.target(inclusive.open_account("a", 10.0), 0.4)
    inclusive.close()
    inclusive.settle()
    assert inclusive.truth is True
    unclosed = GodelianAsset(0.4, liquidity=1.0)
    with pytest.raises(MarketClosed, match="close"):
        unclosed.settle()
    assert read_price(0.39999999999999997) == 0.4
    assert read_price(0.39999999999999997, None) != 0.4


def test_bad_input():
    for bad in [0.0, 1.0, float("nan"), "x"]:
        with pytest.raises(InvalidInput):
            GodelianAsset(bad, liquidity=1.0)
    with pytest.raises(InvalidInput):
        GodelianAsset(0.4, liquidity=0.0)
    with pytest.raises(InvalidInput):
        GodelianAsset(0.4, liquidity=1.0, tie_rule="coin")
    with pytest.raises(InvalidInput):
        GodelianAsset(0.4, liquidity=1.0, decimals=40)
    with pytest.raises(InvalidInput):
        closing_error(1.5, 0.4)
    with pytest.raises(InvalidInput):
        last_trader_target(0.5, 0.4, margin=0.5)
    h = PriceHistory()
    with pytest.raises(InvalidInput, match="no closing price"):
        h.lookup(1, "A")
    h.record(1, "A", 0.3)
    with pytest.raises(InvalidInput, match="read once"):
        h.record(1, "A", 0.5)
    with pytest.raises(InvalidInput):
        h.record(0, "A", 0.5)


def test_price_atoms_in_a_worlds_market_settle_at_the_close():
    below = price_atom("A", 1, 0.5)  # "P_1(A) < 0.5"
    chi = self_referential("chi", 1, 0.4)
    m = WorldsMarket(["A"], atoms=[below, chi], liquidity=2.0)
    m.open_account("x", 50.0)
    m.target("x", "A", 0.7)
    m.target("x", chi, 0.4)
    m.buy("x", below, 3.0)  # a bet that P_1(A) < 0.5: it will lose
    history = PriceHistory()
    proofs = close_day(m, 1, history)
    assert set(proofs) == {negate(below), negate(chi)}
    assert history.lookup(1, "A") == 0.7 and history.lookup(1, chi) == 0.4
    assert m.prices([below, chi]) == {below: 0.0, chi: 0.0}
    with pytest.raises(ImpossibleEvent):
        m.price(chi)
    assert math.isclose(m.price("A"), 0.7)  # settling the price atoms moved nothing else
    # the same verdicts through a deductive process reading the same history
    process = history.process([below, chi])
    assert process.theorems(2) == {negate(below), negate(chi)}
    m.check()
    m.settle("A")
    m.check()
    assert parse_sentence("A") in m.observed


@settings(max_examples=30)
@given(st.lists(st.floats(0.01, 0.99), min_size=4, max_size=4), st.sampled_from([0.4, 0.7]))
def test_a_day_by_day_sequence_of_godel_sentences(opening_prices, p):
    """chi_n := "P_n(chi_n) < p" for n = 1..4 in one WorldsMarket (16 worlds). Each day the
    crowd opens chi_n at some price, a last trader closes it at the threshold, and the day is
    closed: every chi_n settles false (price = p, tie rule), and the maker's loss stays within
    b log 16 overall and b log(2 max(p, 1 - p)) per sentence."""
    b = 1.0
    chis = [self_referential(f"chi{n}", n, p) for n in range(1, 5)]
    m = WorldsMarket(chis, liquidity=b)
    m.open_account("crowd", 1e4)
    m.open_account("last", 1e4)
    history = PriceHistory()
    for n, (chi, q) in enumerate(zip(chis, opening_prices, strict=True), start=1):
        m.target("crowd", chi, q)
        m.target("last", chi, p)  # the last trade of the day
        proofs = close_day(m, n, history)
        assert proofs == [negate(chi)]
        assert history.lookup(n, chi) == p
    m.settle()  # every atom is settled: one world is left
    m.check()
    loss = m.subsidy - m.maker_cash
    assert loss <= b * math.log(16) + 1e-9
    assert loss <= 4 * maker_loss_bound(p, b) + 1e-9
