"""Logical induction, part by part: features, market maker, budgeter, firm, bad input.

Each test names the property and the tolerance it is checked to. Brute force is the oracle:
all 2^m worlds for the market maker's worst case, finite differences for gradients, a
day-by-day replay of the Budgeter's definition for its budget guarantee.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from predmarket.errors import InvalidInput, PredmarketError, SpaceTooLarge
from predmarket.logic.induction import (
    AffineTrader,
    FeatureProgram,
    LogicalInductor,
    ThresholdTrader,
    TraderAccount,
    TradingContext,
    TradingFirm,
    budget_factor,
    clip,
    constant,
    dyadic_thresholds,
    fmax,
    fmin,
    indicator,
    price,
    safe_reciprocal,
    solve_prices,
    threshold_family,
    verify_prices,
    worst_case_value,
)
from predmarket.logic.induction.truth import ConsistentWorlds
from predmarket.logic.sentences import parse_sentence

SENTENCES = ["A", "B", "A & B"]

# ----------------------------------------------------------------------------- features


def feature_trees(max_leaves: int = 8):
    leaves = st.one_of(
        st.floats(-3, 3, allow_nan=False).map(constant),
        st.sampled_from(SENTENCES).map(lambda s: price(s, 2)),
        st.sampled_from(SENTENCES).map(lambda s: price(s, 1)),
    )

    def extend(children):
        return st.one_of(
            st.tuples(children, children).map(lambda ab: ab[0] + ab[1]),
            st.tuples(children, children).map(lambda ab: ab[0] * ab[1]),
            st.tuples(children, children).map(lambda ab: fmax(*ab)),
            st.tuples(children, children).map(lambda ab: fmin(*ab)),
            children.map(safe_reciprocal),
            children.map(lambda a: -a),
        )

    return st.recursive(leaves, extend, max_leaves=max_leaves)


prices_st = st.lists(st.floats(0, 1), min_size=6, max_size=6)


def lookup_from(values):
    table = {}
    for i, s in enumerate(SENTENCES):
        table[(parse_sentence(s), 1)] = values[i]
        table[(parse_sentence(s), 2)] = values[3 + i]
    return lambda sentence, day: table[(sentence, day)]


@settings(max_examples=200)
@given(feature_trees(), prices_st)
def test_feature_value_within_its_bound(f, values):
    """|alpha(P)| <= bound(alpha) for every price history in [0,1] (relative slack 1e-9)."""
    v = f.evaluate(lookup_from(values))
    assert abs(v) <= f.bound() * (1 + 1e-9) + 1e-12


def test_min_bound_is_the_larger_bound():
    """The known defect: |min(a, b)| can reach max(B_a, B_b), so that is the bound."""
    f = fmin(constant(-5.0), constant(0.5))
    assert f.evaluate(None) == -5.0
    assert f.bound() == 5.0
    assert fmin(price("A", 1), 0.25).bound() == 1.0


def test_features_are_values_not_identities():
    """Equal formulas give equal, equally hashed features (no identity hashing)."""
    a = 2 * price("A & B", 3) - fmax(price("B", 2), 0.5)
    b = 2 * price(parse_sentence("B & A"), 3) - fmax(price("B", 2), 0.5)
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert price("A -> B", 1) == price("~A | B", 1)


@settings(max_examples=100)
@given(st.lists(feature_trees(6), min_size=1, max_size=4), prices_st)
def test_compiled_program_matches_evaluation_and_finite_differences(features, values):
    """FeatureProgram values equal Feature.evaluate (1e-12); its Jacobian matches central
    differences (1e-5) wherever no kink lies within the step, inside (0, 1)."""
    today = {parse_sentence(s): i for i, s in enumerate(SENTENCES)}
    lookup = lookup_from(values)
    prog = FeatureProgram(features, day=2, today_index=today, past_price=lookup)
    p = np.array(values[3:])
    vals, J = prog.evaluate(p, jacobian=True)
    for f, v in zip(features, vals):
        assert v == pytest.approx(f.evaluate(lookup), rel=1e-12, abs=1e-12)
    h = 1e-7
    for j in range(3):
        if not 2 * h <= p[j] <= 1 - 2 * h:
            continue  # on the boundary a kink at p itself is invisible to one-sided steps
        e = np.zeros(3)
        e[j] = h
        up = prog.evaluate(np.clip(p + e, 0, 1))[0]
        down = prog.evaluate(np.clip(p - e, 0, 1))[0]
        up2 = prog.evaluate(np.clip(p + 2 * e, 0, 1))[0]
        width = min(p[j] + h, 1) - max(p[j] - h, 0)
        fd = (up - down) / width
        # on a kink the one-sided slopes differ; skip those coordinates
        smooth = np.abs((up2 - up) / h - (up - down) / width) < 1e-4 * (1 + np.abs(fd))
        assert np.allclose(J[smooth, j], fd[smooth], rtol=1e-5, atol=1e-5)


def test_program_rejects_future_and_unpriced_prices():
    today = {parse_sentence("A"): 0}
    with pytest.raises(InvalidInput, match="future"):
        FeatureProgram([price("A", 3)], day=2, today_index=today, past_price=None)
    with pytest.raises(InvalidInput, match="not priced today"):
        FeatureProgram([price("B", 2)], day=2, today_index=today, past_price=None)


def test_indicator_and_clip():
    x = price("A", 1)
    f = indicator(x, 0.5, 0.25)
    assert [f.evaluate(lambda s, d, p=p: p) for p in (0.0, 0.25, 0.375, 0.5, 1.0)] == [
        1.0,
        1.0,
        0.5,
        0.0,
        0.0,
    ]
    c = clip(3 * x - 1, -0.5, 0.5)
    assert [c.evaluate(lambda s, d, p=p: p) for p in (0.0, 1 / 3, 1.0)] == [-0.5, 0.0, 0.5]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "x", True, None])
def test_constant_rejects_bad_numbers(bad):
    with pytest.raises(InvalidInput):
        constant(bad)


# ----------------------------------------------------------------------------- market maker


@settings(max_examples=200)
@given(st.lists(st.tuples(st.floats(-5, 5), st.floats(0, 1)), min_size=1, max_size=7))
def test_worst_case_splits_per_sentence(pairs):
    """max over all 2^m worlds of sum_i q_i (W_i - p_i) equals the per-sentence formula."""
    q = np.array([a for a, _ in pairs])
    p = np.array([b for _, b in pairs])
    brute = max(float(np.dot(q, np.array(w) - p)) for w in itertools.product([0, 1], repeat=len(q)))
    assert worst_case_value(q, p) == pytest.approx(brute, rel=1e-12, abs=1e-12)


def coupled_problem(seed: int, m: int):
    """q(p) = a - K p - c * Ind-like coupling: piecewise linear, continuous."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1, 2, m)
    K = np.diag(rng.uniform(0.1, 3, m))
    C = rng.uniform(-0.3, 0.3, (m, m)) * (rng.random((m, m)) < 0.3)
    np.fill_diagonal(C, 0)

    def evaluate(p, jac):
        kink = np.clip(4 * (p - 0.5), -1, 1)
        q = a - K @ p + C @ kink
        if not jac:
            return q, None
        dk = np.where(np.abs(4 * (p - 0.5)) < 1, 4.0, 0.0)
        return q, -K + C * dk[None, :]

    return evaluate


@settings(max_examples=60)
@given(st.integers(0, 10_000), st.integers(1, 12))
def test_market_maker_solution_is_verified(seed, m):
    """solve_prices returns prices in [0,1]^m whose worst case is <= tolerance (1e-10)."""
    ev = coupled_problem(seed, m)
    res = solve_prices(ev, np.full(m, 0.5), tolerance=1e-10)
    assert verify_prices(ev(res.prices, False)[0], res.prices, 1e-10)
    assert res.worst_case <= 1e-10


def test_market_maker_on_flat_steps_uses_the_bracket():
    """q_i(p) = r_i - p_i on a step: a flat-then-steep trade that stalls plain Newton."""
    r = np.array([0.2, 0.7, 0.95])

    def ev(p, jac):
        q = np.where(p < r, 1e-6, 0.0) + np.clip(20 * (r - p), -1, 0)
        return q, (np.diag(np.where((p > r) & (p < r + 0.05), -20.0, 0.0)) if jac else None)

    res = solve_prices(ev, np.zeros(3), tolerance=1e-12, components=np.arange(3))
    assert verify_prices(res.trade, res.prices, 1e-12)
    assert np.allclose(res.prices, r, atol=1e-9)


def test_verifier_rejects_wrong_prices():
    """The verifier can fail: a price away from the fixed point is refused."""
    ev = coupled_problem(3, 4)
    res = solve_prices(ev, np.full(4, 0.5), tolerance=1e-10)
    moved = res.prices.copy()
    i = int(np.argmax(np.abs(ev(res.prices, True)[1]).sum(axis=1)))
    moved[i] = 1.0 - moved[i] if abs(moved[i] - 0.5) > 0.1 else moved[i] + 0.3
    assert not verify_prices(ev(moved, False)[0], moved, 1e-10)
    assert not verify_prices(np.array([1.0]), np.array([1.5]), 1.0)
    assert not verify_prices(np.array([np.nan]), np.array([0.5]), 1.0)


def test_market_maker_bad_input():
    ev = coupled_problem(0, 2)
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(InvalidInput):
            solve_prices(ev, np.full(2, 0.5), tolerance=bad)
    with pytest.raises(InvalidInput):
        solve_prices(ev, np.full(2, 0.5), tolerance=1e-9, scale=np.array([1.0, 0.0]))


def test_market_maker_reports_failure():
    """An evaluation that is not continuous (a jump over zero) has no fixed point."""

    def ev(p, jac):
        q = np.where(p < 0.5, 1.0, -1.0)
        return q, (np.zeros((1, 1)) if jac else None)

    with pytest.raises(PredmarketError, match="no prices within tolerance"):
        solve_prices(ev, np.array([0.2]), tolerance=1e-12, max_sweeps=3)


# ----------------------------------------------------------------------------- budgeter


@settings(max_examples=200)
@given(
    st.lists(st.floats(-3, 3), min_size=1, max_size=3),
    st.lists(st.floats(0, 1), min_size=3, max_size=3),
    st.floats(0.1, 5),
    st.integers(0, 100),
)
def test_budget_factor_matches_definition(q, p, budget, seed):
    """The factor is inf over worlds of 1/max(1, -W(T)/(b + W(past))) (brute force, 1e-12)."""
    m = len(q)
    rng = np.random.default_rng(seed)
    patterns = np.array(list(itertools.product([False, True], repeat=m)))
    past = rng.uniform(-0.99 * budget, 3, len(patterns))
    got = budget_factor(q, p[:m], patterns, past, budget)
    want = min(
        1 / max(1.0, -sum(qi * (w - pi) for qi, w, pi in zip(q, row, p)) / (budget + v))
        for row, v in zip(patterns, past)
    )
    assert got == pytest.approx(want, rel=1e-12)


@settings(max_examples=100)
@given(st.integers(0, 10_000), st.sampled_from([0.5, 1.0, 2.0]))
def test_budgeted_trader_never_loses_more_than_its_budget(seed, budget):
    """Lemma 5.2.2: W(sum_i B^b_i) >= -b in every plausible world, every day (slack 1e-9)."""
    rng = np.random.default_rng(seed)
    A, B = sympy.symbols("A B")
    sentences = [A, B, A & B]
    worlds = np.array([[a, b, a and b] for a in (False, True) for b in (False, True)])
    raw = TraderAccount()
    budgeted = TraderAccount()
    dead = False
    for _ in range(30):
        p = rng.uniform(0, 1, 3)
        q = rng.uniform(-2, 2, 3)
        past = [raw.value(dict(zip(sentences, w))) for w in worlds]
        if dead:
            factor = 0.0
        else:
            factor = budget_factor(q, p, worlds, past, budget)
        budgeted.record(dict(zip(sentences, factor * q)), dict(zip(sentences, p)))
        raw.record(dict(zip(sentences, q)), dict(zip(sentences, p)))
        assert all(budgeted.value(dict(zip(sentences, w))) >= -budget - 1e-9 for w in worlds)
        # the raw trader's lowest plausible value decides the next day (Def. 5.2.1)
        dead = dead or min(raw.value(dict(zip(sentences, w))) for w in worlds) <= -budget


def test_account_settles_into_cash():
    A = sympy.Symbol("A")
    acc = TraderAccount()
    acc.record({A: -2.0}, {A: 0.75})
    assert acc.cash == 1.5
    acc.settle({A: False})
    assert acc.shares == {} and acc.cash == 1.5


# ----------------------------------------------------------------------------- worlds


def test_consistent_worlds_against_brute_force():
    A, B, C = sympy.symbols("A B C")
    w = ConsistentWorlds()
    w.add_theorems([A | B, ~C | A])
    got = {tuple(r) for r in w.table([A, B, C]).astype(int).tolist()}
    want = {(a, b, c) for a in (0, 1) for b in (0, 1) for c in (0, 1) if (a or b) and (not c or a)}
    assert got == want
    w.add_theorems([~A])
    assert {tuple(r) for r in w.table([A, B, C]).astype(int).tolist()} == {(0, 1, 0)}
    with pytest.raises(InvalidInput, match="inconsistent"):
        w.add_theorems([A])


def test_worlds_beyond_the_table_limit_use_the_sat_solver():
    """Over more open atoms than max_atoms, patterns come from SAT with blocking clauses and
    equal the brute-force patterns; more sentences than max_atoms are refused."""
    X = sympy.symbols("X0:10")
    w = ConsistentWorlds(max_atoms=4)
    w.add_theorems([X[0] | X[1], ~X[9]])
    sents = [sympy.Or(*X[:5]) & X[5], sympy.Xor(*X[3:9]), X[0] & ~X[1] & X[9]]
    got = {tuple(r) for r in w.table(sents).astype(int).tolist()}
    want = set()
    for bits in itertools.product([False, True], repeat=10):
        env = dict(zip(X, bits))
        if (env[X[0]] or env[X[1]]) and not env[X[9]]:
            want.add(tuple(int(bool(s.subs(env))) for s in sents))
    assert got == want
    with pytest.raises(SpaceTooLarge, match="max_atoms=4"):
        w.table([X[i] | X[i + 1] for i in range(5)])


# ----------------------------------------------------------------------------- traders, firm


def test_dyadic_grid_and_family():
    grid = dyadic_thresholds(4)
    assert len(grid) == 15 and len({r for r, _ in grid}) == 15
    assert all(0 < r < 1 for r, _ in grid)
    fam = threshold_family("A", 3)
    assert len(fam) == 14 and [t.level for t in fam[:2]] == [1, 1]
    assert TradingFirm(fam, weights="level").weight(13) == 2.0**-3
    assert TradingFirm(fam).weight(13) == 2.0**-14


@pytest.mark.parametrize(
    "build",
    [
        lambda: ThresholdTrader("A", 1.5, 1, width=0.1),
        lambda: ThresholdTrader("A", 0.5, 0, width=0.1),
        lambda: ThresholdTrader("A", 0.5, 1, width=0.0),
        lambda: ThresholdTrader("A & (", 0.5, 1, width=0.1).trade(
            TradingContext(1, frozenset(), (), None)
        ),
        lambda: AffineTrader(["A"], [1, 2], 0.5, 1, width=0.1),
        lambda: AffineTrader(["A"], [1], 0.5, 1, width=0.1, size=float("nan")),
        lambda: ThresholdTrader("A", 0.5, 1, width=0.1, size=-1.0),
        lambda: TradingFirm([], budgets=[]),
        lambda: TradingFirm([], budgets=[1, -1]),
        lambda: TradingFirm([], budgets=[1, 1]),
        lambda: TradingFirm(threshold_family("A", 1), weights=[1.0]),
        lambda: TradingFirm(threshold_family("A", 1), weights="random"),
        lambda: TradingFirm(["not a trader"]),
        lambda: dyadic_thresholds(0),
        lambda: LogicalInductor([], initial_price=1.5),
        lambda: LogicalInductor([], tolerance_floor=0.0),
        lambda: LogicalInductor([], sentences=["A &"]),
        lambda: LogicalInductor([]).run(-1),
    ],
)
def test_bad_input_is_refused(build):
    with pytest.raises(InvalidInput):
        build()


def test_missing_prices_raise_instead_of_defaulting_to_zero():
    li = LogicalInductor(threshold_family("A", 1), sentences=["A"])
    li.run(2)
    with pytest.raises(InvalidInput, match="not priced"):
        li.price("B", 1)
    with pytest.raises(InvalidInput, match="no prices for day"):
        li.price("A", 3)
    assert 0.0 <= li.price("A", 2) <= 1.0


def test_equal_sentences_are_one_market():
    """'A & B' and 'B & A' are one priced sentence, traded by both traders."""
    firm = TradingFirm(
        [
            ThresholdTrader("A & B", 0.75, 1, width=0.25),
            ThresholdTrader("B & A", 0.25, -1, width=0.25),
        ]
    )
    li = LogicalInductor(firm, sentences=["B & A"])
    li.step()
    assert len(li.sentences_of_day[0]) == 1
    assert li.price("A & B") == li.price("B & A")


def test_runs_are_deterministic():
    """Two runs from separately built (equal) inputs give identical prices."""

    def run():
        fam = threshold_family("A", 3) + threshold_family("A | B", 3)
        li = LogicalInductor(
            TradingFirm(fam, weights="level"), sentences=["A", "A | B"], deductive=[[], [], ["B"]]
        )
        li.run(12)
        return [sorted((str(k), v) for k, v in d.items()) for d in li.prices]

    assert run() == run()


def test_inconsistent_deduction_is_an_error():
    li = LogicalInductor(threshold_family("A", 1), sentences=["A"], deductive=[["A"], ["~A"]])
    li.step()
    with pytest.raises(InvalidInput, match="inconsistent"):
        li.step()


def test_tolerance_is_two_to_the_minus_n_early():
    li = LogicalInductor(threshold_family("A", 2), sentences=["A"])
    li.run(5)
    assert [li.tolerance(n) for n in range(1, 6)] == [2.0**-n for n in range(1, 6)]
    assert li.verify()
    assert math.isclose(li.results[0].tolerance, 0.5)


def test_past_trades_are_valued_at_their_own_days_prices():
    """A trader's cash is -sum_n q_n P_n (each day's own price), not today's price (1e-12)."""
    from predmarket.logic.induction import ClippedLinearTrader

    pusher = ClippedLinearTrader("A", lambda ctx: 0.8)
    puller = ClippedLinearTrader("A", lambda ctx: 0.3 if ctx.day <= 3 else None)
    li = LogicalInductor(TradingFirm([pusher, puller], weights=[1.0, 0.5]), sentences=["A"])
    li.run(8)
    A = parse_sentence("A")
    prices = li.price_path("A")
    assert np.ptp(prices) > 0.01  # the price moved, so the valuation day matters
    q = np.clip(0.8 - prices, -1, 1)
    acc = li.firm.accounts[0]
    assert acc.cash == pytest.approx(-float(np.dot(q, prices)), abs=1e-12)
    assert acc.shares[A] == pytest.approx(float(q.sum()), abs=1e-12)
    assert li.verify()


def test_prices_do_not_depend_on_trader_order():
    """The same traders with the same weights, listed in reverse, give the same prices
    (1e-9): nothing depends on object identity or creation order."""

    def run(reverse: bool):
        fam = threshold_family("A", 3) + threshold_family("A & B", 3)
        weights = [2.0**-t.level for t in fam]
        pairs = list(zip(fam, weights))
        if reverse:
            pairs.reverse()
        firm = TradingFirm([t for t, _ in pairs], weights=[w for _, w in pairs])
        li = LogicalInductor(firm, sentences=["A", "A & B"], deductive=[[], [], ["B"]])
        li.run(15)
        assert li.verify()
        return np.array([[li.price(s, n) for s in ("A", "A & B")] for n in range(1, 16)])

    assert np.allclose(run(False), run(True), rtol=0, atol=1e-9)


POOL = ["A", "B", "C", "A & B", "A | C", "~B", "A ^ C", "B -> C"]


@settings(max_examples=15)
@given(
    st.lists(st.sampled_from(POOL), min_size=1, max_size=5, unique=True),
    st.lists(
        st.tuples(st.sampled_from(POOL), st.floats(0.05, 0.95), st.sampled_from([1, -1])),
        min_size=1,
        max_size=8,
    ),
    st.lists(st.tuples(st.integers(1, 15), st.sampled_from(["A", "~B", "C", "~C"])), max_size=3),
    st.integers(0, 3),
)
def test_every_day_passes_the_market_maker_check(listed, specs, proofs, n_affine):
    """Random sentences, traders and proofs: every day's prices are in [0,1] and pass the
    MarketMaker condition at that day's tolerance."""
    traders = [ThresholdTrader(s, r, side, width=0.1) for s, r, side in specs]
    for i in range(n_affine):
        traders.append(AffineTrader([POOL[i], POOL[i + 3]], [1.0, -1.0], 0.0, 1, width=0.2))
    days: list[list[str]] = [[] for _ in range(16)]
    seen: set[str] = set()
    for day, lit in proofs:
        atom = lit.lstrip("~")
        if atom not in seen:  # keep the proofs consistent
            seen.add(atom)
            days[day].append(lit)
    li = LogicalInductor(TradingFirm(traders), sentences=listed, deductive=days)
    li.run(16)
    assert li.verify()
    for r in li.results:
        assert np.all((r.prices >= 0) & (r.prices <= 1))
