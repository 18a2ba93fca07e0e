"""WorldsMarket against an independent brute-force LMSR over worlds, plus coherence, money
conservation, the loss bound, settlement by DESIGN.md sec. 4, and bad input."""

from __future__ import annotations

import contextlib
import itertools
import math

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from predmarket import Market, OutcomeSpace, Variable
from predmarket.errors import (
    DuplicateAccount,
    ImpossibleEvent,
    IncompleteObservation,
    InsufficientFunds,
    InvalidAmount,
    InvalidInput,
    InvalidObservation,
    InvalidProbability,
    LatentObservation,
    MarketClosed,
    SpaceTooLarge,
    UnknownAccount,
    UnknownVariable,
)
from predmarket.logic import ListProcess, parse_sentence
from predmarket.logic.worlds_market import WorldsMarket
from predmarket.scoring import lmsr_cost

ATOMS = ["A", "B", "C", "D"]
OPS = ["&", "|", "^", "->", "<->"]


def formulas(names=ATOMS, leaves=4):
    def extend(children):
        return st.one_of(
            children.map(lambda x: f"~{x}"),
            st.tuples(children, st.sampled_from(OPS), children).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"
            ),
        )

    return st.recursive(st.sampled_from(names), extend, max_leaves=leaves)


class Oracle:
    """LMSR over an explicit list of worlds, with truth by sympy substitution."""

    def __init__(self, worlds: list[dict], b: float):
        self.worlds = worlds
        self.b = b
        self.q = np.zeros(len(worlds))
        self.alive = np.ones(len(worlds), dtype=bool)
        self.cash: dict[str, float] = {}
        self.holdings: dict[str, np.ndarray] = {}

    def truth(self, sentence) -> np.ndarray:
        s = parse_sentence(sentence)
        return np.array([bool(s.xreplace(w)) for w in self.worlds])

    def cost_fn(self, q):
        return float(lmsr_cost(np.where(self.alive, q, -1e300)[self.alive], self.b))

    def price(self, sentence, given=None):
        w = np.exp((self.q - self.q[self.alive].max()) / self.b) * self.alive
        a = self.truth(sentence)
        if given is None:
            return w[a].sum() / w.sum()
        g = self.truth(given)
        return w[a & g].sum() / w[g].sum()

    def shares_delta(self, sentence, x, given=None):
        a = self.truth(sentence)
        if given is None:
            delta = np.where(a, x, 0.0)
            return delta, self.cost_fn(self.q + delta) - self.cost_fn(self.q)
        g = self.truth(given)
        p = self.price(sentence, given)
        c = self.b * math.log(1 - p + p * math.exp(x / self.b))
        delta = np.where(a & g, x, np.where(g, 0.0, c))
        assert math.isclose(
            self.cost_fn(self.q + delta) - self.cost_fn(self.q), c, rel_tol=1e-9, abs_tol=1e-9
        )
        return delta, c

    def worst_after(self, name, delta, cost):
        return self.cash[name] - cost + float((self.holdings[name] + delta)[self.alive].min())

    def commit(self, name, delta, cost):
        self.q = self.q + delta
        self.cash[name] -= cost
        self.holdings[name] = self.holdings[name] + np.where(self.alive, delta, 0.0)


def snapshot(m: WorldsMarket):
    return (
        len(m.ledger),
        m.maker_cash,
        tuple(m.cash(a) for a in m.accounts),
        m.probabilities().tolist(),
    )


@st.composite
def scenarios(draw):
    theorems = draw(st.lists(formulas(leaves=3), max_size=2))
    b = draw(st.sampled_from([0.5, 1.0, 10.0]))
    truth = draw(st.tuples(*[st.booleans()] * len(ATOMS)))
    world = dict(zip([sympy.Symbol(a) for a in ATOMS], truth, strict=True))
    theorems = [t for t in theorems if bool(parse_sentence(t).xreplace(world))]
    ops = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["buy", "sell", "target", "edit", "observe"]),
                st.sampled_from(["alice", "bob"]),
                formulas(),
                st.one_of(st.none(), formulas(leaves=2)),
                st.floats(-30, 30),
                st.floats(0.02, 0.98),
            ),
            max_size=10,
        )
    )
    return theorems, b, world, ops


@settings(max_examples=120)
@given(scenarios())
def test_against_brute_force_lmsr(scenario):
    theorems, b, world, ops = scenario
    m = WorldsMarket(ATOMS, liquidity=b, theorems=theorems)
    worlds = [m.worlds.assignment(i) for i in range(len(m.worlds))]
    assert len({tuple(w.values()) for w in worlds}) == len(worlds)
    oracle = Oracle(worlds, b)
    n0 = len(worlds)
    for name, cash in (("alice", 20.0), ("bob", 5.0)):
        m.open_account(name, cash)
        oracle.cash[name] = cash
        oracle.holdings[name] = np.zeros(n0)
    for kind, name, sentence, cond, x, p in ops:
        if kind == "observe":
            proof = sentence if bool(parse_sentence(sentence).xreplace(world)) else f"~{sentence}"
            m.observe(proof)
            oracle.alive &= oracle.truth(proof)
            continue
        cond_mask = None if cond is None else oracle.truth(cond) & oracle.alive
        if not (oracle.truth(sentence) & oracle.alive).any():
            with pytest.raises(ImpossibleEvent, match="refuted"):
                m.buy(name, sentence, 1.0, given=cond)
            continue
        if cond_mask is not None and not cond_mask.any():
            with pytest.raises(ImpossibleEvent):
                m.buy(name, sentence, 1.0, given=cond)
            continue
        base = oracle.price(sentence, cond)
        inside = oracle.alive if cond_mask is None else cond_mask
        a_mask = oracle.truth(sentence)
        certain = not (a_mask & inside).any() or (a_mask | ~inside).all()
        if kind in ("target", "edit") and certain:
            before = snapshot(m)
            with pytest.raises(ImpossibleEvent):
                getattr(m, kind)(name, sentence, p, given=cond)
            assert snapshot(m) == before
            continue
        if kind == "edit":
            a = oracle.truth(sentence)
            g = np.ones_like(a) if cond is None else oracle.truth(cond)
            delta = np.where(
                a & g,
                b * math.log(p / base),
                np.where(g, b * math.log((1 - p) / (1 - base)), 0.0),
            )
            cost = 0.0
            assert math.isclose(
                oracle.cost_fn(oracle.q + delta), oracle.cost_fn(oracle.q), abs_tol=1e-8
            )
        else:
            shares = (
                x
                if kind == "buy"
                else -x
                if kind == "sell"
                else b * (math.log(p / (1 - p)) - math.log(base / (1 - base)))
            )
            delta, cost = oracle.shares_delta(sentence, shares, cond)
        ok = oracle.worst_after(name, delta, cost) >= -1e-9 * (1 + 20)
        before = snapshot(m)
        if not ok:
            with pytest.raises(InsufficientFunds):
                if kind in ("target", "edit"):
                    getattr(m, kind)(name, sentence, p, given=cond)
                else:
                    getattr(m, kind)(name, sentence, x, given=cond)
            assert snapshot(m) == before
            continue
        if kind in ("target", "edit"):
            quote = getattr(m, kind)(name, sentence, p, given=cond)
            got_cost = quote.cost
            assert math.isclose(m.price(sentence, given=cond), p, abs_tol=1e-9)
        else:
            got_cost = getattr(m, kind)(name, sentence, x, given=cond)
        assert math.isclose(got_cost, cost, rel_tol=1e-7, abs_tol=1e-7)
        oracle.commit(name, delta, cost)
        for s in (sentence, "A", "B & ~C"):
            assert math.isclose(m.prices([s])[parse_sentence(s)], oracle.price(s), abs_tol=1e-9)
        for acct in ("alice", "bob"):
            assert math.isclose(m.min_asset(acct), oracle.worst_after(acct, 0.0, 0.0), abs_tol=1e-7)
        m.check()
    payouts = m.settle([a if v else ~a for a, v in world.items()])
    i = next(i for i, w in enumerate(worlds) if w == world)
    for acct in ("alice", "bob"):
        assert math.isclose(payouts[acct], oracle.holdings[acct][i], rel_tol=1e-7, abs_tol=1e-7)
        assert m.cash(acct) >= -1e-7
    m.check()
    loss = m.subsidy - m.maker_cash
    assert loss <= b * math.log(n0) + 1e-7
    assert math.isclose(m.subsidy, b * math.log(n0))


@settings(max_examples=150)
@given(
    st.lists(st.tuples(formulas(), st.floats(-20, 20)), max_size=6),
    formulas(),
    formulas(),
    st.lists(formulas(leaves=2), max_size=2),
)
def test_prices_are_coherent(trades, phi, psi, theorems):
    try:
        m = WorldsMarket(ATOMS, liquidity=3.0, theorems=theorems)
    except InvalidObservation:
        return
    m.open_account("t", 1e9)
    for s, x in trades:
        with contextlib.suppress(ImpossibleEvent):  # a refuted sentence cannot be traded
            m.buy("t", s, x)

    def P(text):
        return m.prices([text])[parse_sentence(text)]

    assert math.isclose(P(phi) + P(f"~{phi}"), 1.0, abs_tol=1e-12)
    assert P(f"{phi} & {psi}") <= P(phi) + 1e-12
    assert math.isclose(P(f"{phi} | {psi}"), P(phi) + P(psi) - P(f"{phi} & {psi}"), abs_tol=1e-9)
    assert math.isclose(P(f"{phi} -> {psi}"), P(f"~{phi} | {psi}"), abs_tol=1e-12)
    assert P(f"{phi} | ~{phi}") == 1.0 and P(f"{phi} & ~{phi}") == 0.0
    for t in theorems:
        assert math.isclose(P(t), 1.0, abs_tol=1e-12)
    assert 0.0 <= P(phi) <= 1.0


def test_matches_core_market_without_theorems():
    space = OutcomeSpace([Variable(a, ["no", "yes"]) for a in ["A", "B", "C"]])
    core = Market(space, liquidity=7.0)
    wm = WorldsMarket(atoms=["A", "B", "C"], liquidity=7.0)
    for m in (core, wm):
        m.open_account("x", 100.0)
    pairs = [
        ("A & ~B", "A == yes & B == no", 4.0),
        ("C | B", "C == yes | B == yes", -3.0),
        ("A", "A == yes", 10.0),
    ]
    for s, e, x in pairs:
        assert math.isclose(wm.buy("x", s, x), core.buy("x", e, x), rel_tol=1e-12)
    q1 = wm.target("x", "B", 0.3, given="A")
    q2 = core.target("x", "B == yes", 0.3, given="A == yes")
    assert math.isclose(q1.cost, q2.cost, rel_tol=1e-10)
    assert math.isclose(wm.min_asset("x"), core.min_asset("x"), rel_tol=1e-10)
    assert math.isclose(wm.subsidy, core.subsidy)
    assert math.isclose(
        wm.settle("A & B & ~C")["x"], core.settle("A == yes & B == yes & C == no")["x"]
    )


def test_proofs_narrow_and_settle_a_single_world():
    process = ListProcess([["A -> B"], ["A"], ["~C"]])
    m = WorldsMarket(["A", "B", "C"], liquidity=2.0, theorems=process)
    assert m.n_worlds == 8
    acct = m.open_account("a", 10.0)
    m.buy(acct, "A & ~B", 3.0)
    assert m.observe_process(process, 1) == [parse_sentence("A -> B")]
    assert m.n_worlds == 6 and m.prices(["A & ~B"])[parse_sentence("A & ~B")] == 0.0
    with pytest.raises(ImpossibleEvent, match="refuted"):
        m.price("A & ~B")
    with pytest.raises(ImpossibleEvent):
        m.buy(acct, "A & ~B", 1.0)
    m.observe_process(process, 2)
    assert m.price("B") == 1.0
    with pytest.raises(IncompleteObservation, match="C"):
        m.settle()
    before = m.min_asset(acct)
    payouts = m.settle("~C")
    assert payouts["a"] == 0.0  # the bet on A & ~B lost
    assert math.isclose(m.cash(acct), before)
    with pytest.raises(MarketClosed):
        m.buy(acct, "A", 1.0)
    with pytest.raises(MarketClosed):
        m.observe("B")


def test_latent_atoms_settle_by_log_score():
    # L is never observed: a trade on L alone changes only P(L | observed) and pays 0
    m = WorldsMarket(["A", "L"], liquidity=5.0, latent=["L"], theorems=["L -> A"])
    assert len(m.worlds) == 3 and len(m.outcomes()) == 2
    assert math.isclose(m.subsidy, -5.0 * math.log(1 / 3))
    m.open_account("x", 10.0)
    m.open_account("y", 10.0)
    q = m.edit("x", "L", 0.9, given="A")
    assert q.cost == 0.0
    assert math.isclose(m.min_asset("x"), 10.0, abs_tol=1e-9)
    m.buy("y", "A", 2.0)
    with pytest.raises(LatentObservation):
        m.observe("L")
    with pytest.raises(LatentObservation):
        m.settle("A & L")
    payouts = m.settle("A")
    assert math.isclose(payouts["x"], 0.0, abs_tol=1e-9)
    assert math.isclose(payouts["y"], 2.0)
    m.check()


def test_latent_payout_is_log_score_of_observation():
    m = WorldsMarket(["A", "L"], liquidity=2.0, latent=["L"])
    m.open_account("x", 10.0)
    p_a = m.price("A")
    cost = m.buy("x", "A & L", 3.0)
    p_a_after = m.price("A")
    payouts = m.settle("A")
    net = payouts["x"] - cost
    assert math.isclose(net, 2.0 * math.log(p_a_after / p_a), rel_tol=1e-9)


def test_budget_refusal_leaves_state_unchanged():
    m = WorldsMarket(["A", "B"], liquidity=10.0)
    m.open_account("poor", 1.0)
    before = snapshot(m)
    with pytest.raises(InsufficientFunds, match="poor"):
        m.buy("poor", "A", 100.0)
    assert snapshot(m) == before
    q = m.preview("poor", "A", shares=100.0)
    assert not q.affordable and q.min_asset_after < 0
    assert m.quote("poor", "A", shares=1.0) > 0


def test_bad_input_names_the_problem():
    with pytest.raises(InvalidInput):
        WorldsMarket([], liquidity=1.0)
    for bad_b in [0, -1, float("nan"), float("inf"), "x"]:
        with pytest.raises(InvalidInput):
            WorldsMarket(["A"], liquidity=bad_b)
    with pytest.raises(InvalidObservation):
        WorldsMarket(["A"], liquidity=1.0, theorems=["A", "~A"])
    with pytest.raises(SpaceTooLarge):
        WorldsMarket([f"a{i}" for i in range(20)], liquidity=1.0)
    with pytest.raises(UnknownVariable):
        WorldsMarket(["A"], liquidity=1.0, latent=["Z"])
    with pytest.raises(InvalidInput):
        WorldsMarket(["A"], liquidity=1.0, latent=["A"])
    m = WorldsMarket(["A", "B"], liquidity=1.0)
    m.open_account("x", 5.0)
    with pytest.raises(DuplicateAccount):
        m.open_account("x", 1.0)
    for cash in [-1.0, float("nan"), "a", True]:
        with pytest.raises(InvalidAmount):
            m.open_account("y", cash)
    with pytest.raises(UnknownAccount):
        m.buy("nobody", "A", 1.0)
    with pytest.raises(UnknownVariable, match="Z"):
        m.price("A & Z")
    with pytest.raises(InvalidInput):
        m.price("A &")
    for shares in [float("nan"), float("inf"), "one", None, True]:
        with pytest.raises(InvalidAmount):
            m.buy("x", "A", shares)
    for p in [0.0, 1.0, -0.5, float("nan")]:
        with pytest.raises(InvalidProbability):
            m.target("x", "A", p)
    with pytest.raises(ImpossibleEvent):
        m.price("A", given="B & ~B")
    with pytest.raises(ImpossibleEvent):
        m.target("x", "A | ~A", 0.5)
    with pytest.raises(InvalidObservation):
        m.observe(42)
    m.observe("A")
    with pytest.raises(InvalidObservation):
        m.observe("~A")
    with pytest.raises(InvalidInput):
        m.preview("x", "B")
    assert len([e for e in m.ledger if e.kind == "trade"]) == 0
    m.close()
    with pytest.raises(MarketClosed):
        m.buy("x", "B", 1.0)
    m.settle("B")
    m.check()


def test_duck_types_market_public_api():
    wanted = [
        "open_account",
        "cash",
        "min_asset",
        "assets",
        "price",
        "marginal",
        "probabilities",
        "buy",
        "sell",
        "edit",
        "target",
        "quote",
        "preview",
        "observe",
        "settle",
        "check",
        "ledger",
        "accounts",
        "liquidity",
        "observed",
        "settled",
        "maker_cash",
        "subsidy",
    ]
    m = WorldsMarket(["A", "B"], liquidity=1.0)
    for name in wanted:
        assert hasattr(m, name), name
    m.open_account("x", 3.0)
    m.sell("x", "A", 1.0)
    assert set(m.marginal("A")) == {"True", "False"}
    assert m.assets("x").shape == (4,)
    assert [e.kind for e in m.ledger] == ["open", "trade"]
    assert m.ledger[1].parts == ("A", "~A")


def test_many_worlds_and_extreme_quantities_are_stable():
    atoms = [f"a{i}" for i in range(14)]
    m = WorldsMarket(atoms, liquidity=0.01, theorems=["a0 -> a1"])
    m.open_account("x", 1e12)
    for _ in range(5):
        m.buy("x", "a0 | a5", 1e6)
        m.sell("x", "a3", 1e6)
    p = m.price("a0 | a5")
    assert 0.0 <= p <= 1.0 and math.isfinite(p)
    assert math.isclose(m.price("a0 | a5") + m.price("~(a0 | a5)"), 1.0)
    m.check(tolerance=1e-6)


def test_all_price_calls_see_every_world():
    # an identity check of prices against the explicit world distribution
    m = WorldsMarket(["A", "B", "C"], liquidity=1.5, theorems=["A ^ B"])
    m.open_account("x", 50.0)
    m.buy("x", "A & C", 2.0)
    m.edit("x", "C", 0.2, given="B")
    probs = m.probabilities()
    for text in ["A", "C", "A -> C", "B & C"]:
        mask = np.array(
            [
                bool(parse_sentence(text).xreplace(m.worlds.assignment(i)))
                for i in range(len(m.worlds))
            ]
        )
        assert math.isclose(m.price(text), probs[mask].sum(), abs_tol=1e-12)
    assert len(list(itertools.chain(m.outcomes()))) == 4


def test_mapping_observations_and_two_state_atoms():
    m = WorldsMarket(["A", "B", "C"], liquidity=1.0)
    m.open_account("x", 10.0)
    m.buy("x", "A == yes & B != true", 2.0)
    assert math.isclose(m.price('A == "True"'), m.price("A"))
    m.observe({"A": True, "B": "no"})
    assert m.observed == (parse_sentence("A"), parse_sentence("~B"))
    with pytest.raises(InvalidObservation):
        m.observe({"C": "maybe"})
    with pytest.raises(UnknownVariable):
        m.observe({"Z": True})
    payouts = m.settle({"C": 0})
    assert math.isclose(payouts["x"], 2.0)


@settings(max_examples=100)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["x", "y"]), formulas(["A", "B", "L"], leaves=3), st.floats(-10, 10)
        ),
        max_size=8,
    ),
    st.booleans(),
    st.booleans(),
)
def test_latent_markets_conserve_money_and_bound_loss(trades, a, b_truth):
    m = WorldsMarket(atoms=["A", "B", "L"], liquidity=2.0, latent=["L"], theorems=["L -> (A | B)"])
    for name in ("x", "y"):
        m.open_account(name, 5.0)
    for name, sentence, x in trades:
        before = snapshot(m)
        try:
            m.buy(name, sentence, x)
        except (InsufficientFunds, ImpossibleEvent):
            assert snapshot(m) == before
        m.check()
    m.settle({"A": a, "B": b_truth})
    m.check()
    for name in ("x", "y"):
        assert m.cash(name) >= -1e-9
    assert m.subsidy - m.maker_cash <= m.subsidy + 1e-9


def test_deepcopy_gives_an_independent_market():
    import copy

    m = WorldsMarket(["A", "B"], liquidity=1.0, theorems=["A | B"])
    m.open_account("x", 5.0)
    twin = copy.deepcopy(m)
    twin.buy("x", "A", 2.0)
    assert m.price("A") != twin.price("A")
    assert len(m.ledger) == 1 and len(twin.ledger) == 2
    assert m.cash("x") == 5.0 and twin.cash("x") < 5.0
    m.check()
    twin.check()


def test_marginal_of_a_settled_atom():
    m = WorldsMarket(["A", "B"], liquidity=1.0)
    m.observe("~A")
    assert m.marginal("A") == {"True": 0.0, "False": 1.0}
    assert math.isclose(m.marginal("B")["True"], 0.5)
    with pytest.raises(UnknownVariable):
        m.marginal("Z")
