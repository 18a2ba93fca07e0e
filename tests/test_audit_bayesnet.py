"""Audit of the Bayesian-network market: refused trades and previews in relink mode change
nothing (prices, accounts, ledger, compiled tree), bad construction input, and the latent
budget bound against the explicit joint."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_junction import brute_joint, random_network

from predmarket import Market
from predmarket.errors import ImpossibleEvent, InsufficientFunds, InvalidNetwork


def snapshot(m: Market):
    """Everything a refused trade must leave as it was."""
    tree = m.maker.tree
    return (m.ledger, {a: m.cash(a) for a in m.accounts},
            {a: m.min_asset(a) for a in m.accounts},
            {n: m.marginal(n) for n in m.space.names}, m.maker_cash,
            tree.structure, len(m.maker.relinks), list(m.maker.links), m.maker.dag_valid)


def linked_market(cash: float) -> Market:
    # a -> c <- b and d -> e: a and d share no clique
    m = Market.from_bayesian_network([("a", "c"), ("b", "c"), ("d", "e")], 5.0,
                                     cross_clique="relink")
    acct = m.open_account("ann", cash)
    m.buy(acct, "c == yes", 0.5, given="a == yes & b == no")
    return m


def test_refused_relink_trades_and_previews_leave_the_tree_unchanged():
    m = linked_market(1.0)
    before = snapshot(m)
    calls = [
        (InsufficientFunds, lambda: m.buy("ann", "a == yes", -40.0, given="e == yes")),
        (InsufficientFunds, lambda: m.sell("ann", "a == yes", 40.0, given="e == yes")),
        (InsufficientFunds, lambda: m.target("ann", "d == yes", 0.001, given="a == yes")),
        (ImpossibleEvent, lambda: m.edit("ann", "e == yes | e == no", 0.3, given="a == yes")),
        (None, lambda: m.preview("ann", "a == yes", shares=1.0, given="d == yes")),
        (None, lambda: m.quote("ann", "e == no", probability=0.2, given="b == yes")),
    ]
    for error, call in calls:
        if error is None:
            call()
        else:
            with pytest.raises(error):
                call()
        assert snapshot(m) == before


def test_trading_after_an_undone_relink_matches_the_explicit_joint():
    """An account's clique tables carried into a relinked tree that was then undone are
    restored: later trades, min-asset and settlement agree with the explicit maker."""
    bn = linked_market(3.0)
    net = bn.maker.network
    jm = Market(bn.space, 5.0, prior=brute_joint(net).ravel())
    jm.open_account("ann", 3.0)
    jm.buy("ann", "c == yes", 0.5, given="a == yes & b == no")
    for m in (bn, jm):
        with pytest.raises(InsufficientFunds):
            m.buy("ann", "a == yes", -40.0, given="e == yes")
    for m in (bn, jm):
        m.edit("ann", "e == yes", 0.6, given="d == no")
        m.edit("ann", "e == yes", 0.55, given="a == yes")
    assert len(bn.maker.relinks) == 1
    assert math.isclose(bn.min_asset("ann"), jm.min_asset("ann"), rel_tol=1e-12)
    truth = {"a": "yes", "b": "no", "c": "yes", "d": "no", "e": "yes"}
    assert math.isclose(bn.settle(truth)["ann"], jm.settle(truth)["ann"], rel_tol=1e-12,
                        abs_tol=1e-12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.integers(3, 8))
def test_relink_mode_refusals_change_nothing(seed, n):
    rng = np.random.default_rng(seed)
    net = random_network(rng, n, link=0.2, max_card=2)
    m = Market.from_bayesian_network(net, 1.0, cross_clique="relink")
    for a in ("ann", "bob"):
        m.open_account(a, float(rng.uniform(0.0, 1.0)))
    names = m.space.names
    for _ in range(12):
        x, y = rng.choice(n, size=2, replace=n < 2)
        event, given_ = f"{names[x]} == s0", (f"{names[y]} == s1" if x != y else None)
        account = "ann" if rng.random() < 0.5 else "bob"
        shares = float(rng.uniform(-4.0, 4.0))
        before = snapshot(m)
        m.preview(account, event, shares=shares, given=given_)
        assert snapshot(m) == before
        try:
            m.buy(account, event, shares, given=given_)
        except InsufficientFunds:
            assert snapshot(m) == before
    m.check()


def test_states_must_be_a_mapping():
    with pytest.raises(InvalidNetwork, match="states"):
        Market.from_bayesian_network([("a", "b")], 1.0, states=["a", "b"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.integers(3, 8), st.integers(0, 2**32 - 1))
def test_latent_bound_accepts_only_what_the_exact_rule_accepts(seed, n, trade_seed):
    """With the factored latent bound, every trade it accepts (buys, conditional buys,
    targets, edits, by accounts with little cash) is one the explicit joint's exact rule
    accepts, and the bound never exceeds the exact min-asset."""
    rng = np.random.default_rng(trade_seed)
    net = random_network(np.random.default_rng(seed), n, link=0.5, max_card=2)
    latent = sorted({f"x{int(i)}" for i in rng.integers(0, n, size=2)})
    bound = Market.from_bayesian_network(net, 1.0, latent=latent, exact_latent_limit=1)
    exact = Market(bound.space, 1.0, latent=latent, prior=brute_joint(net).ravel())
    assert not bound.exact_budgets
    for m in (bound, exact):
        m.open_account("a", 1.5)
        m.open_account("b", 0.5)
    accepted = 0
    for t in range(10):
        clique = bound.maker.tree.cliques[int(rng.integers(len(bound.maker.tree.cliques)))]
        x, y = (int(v) for v in rng.choice(clique, size=2)) if len(clique) > 1 else (
            int(clique[0]), int(clique[0]))
        event = f"x{x} == s{int(rng.integers(2))}"
        given_ = f"x{y} == s{int(rng.integers(2))}" if y != x else None
        account = "ab"[t % 2]
        kind = ["buy", "edit", "target"][int(rng.integers(3))]
        amount = float(rng.uniform(-3.0, 3.0)) if kind == "buy" else float(
            rng.uniform(0.03, 0.97))
        if kind == "buy":
            q = exact.preview(account, event, shares=amount, given=given_)
        else:
            cond = exact.price(event, given=given_)
            q = exact.preview(account, event, probability=amount, given=given_)
            if kind == "edit":
                # an edit pays the same net as the target but costs nothing now
                q = type(q)(0.0, q.shares, q.price_before, q.price_after,
                            q.min_asset_after, q.min_asset_after >= -1e-9)
            assert 0 < cond < 1
        try:
            getattr(bound, kind)(account, event, amount, given=given_)
        except InsufficientFunds:
            continue
        assert q.affordable, (kind, event, given_, amount)
        getattr(exact, kind)(account, event, amount, given=given_)
        accepted += 1
        for a in "ab":
            assert bound.min_asset(a) <= exact.min_asset(a) + 1e-9
            assert exact.min_asset(a) >= -1e-9
            assert bound.expected_assets(a) <= exact.expected_assets(a) + 1e-9
    truth = {v.name: v.states[int(rng.integers(v.cardinality))]
             for v in bound.space.variables if v.name not in latent}
    pb, pe = bound.settle(truth), exact.settle(truth)
    for a in "ab":
        assert math.isclose(pb[a], pe[a], rel_tol=1e-9, abs_tol=1e-9)
    bound.check()
    assert bound.maker_cash >= -1e-9  # the maker loses at most the subsidy


def test_cpd_rows_within_tolerance_are_normalised():
    """Rows summing to 1 within the accepted rounding are renormalised, so the market's
    prior is the model's distribution (not reweighted by the rows' sums)."""
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    model = DiscreteBayesianNetwork([("a", "b")])
    model.add_cpds(TabularCPD("a", 2, [[0.3], [0.7]]),
                   TabularCPD("b", 2, [[0.9 + 4e-7, 0.2 - 4e-7], [0.1 + 4e-7, 0.8 - 4e-7]],
                              evidence=["a"], evidence_card=[2]))
    m = Market.from_bayesian_network(model, 1.0)
    a_first = m.space.variable("a").states[0]
    assert math.isclose(m.price(f"a == {a_first}"), 0.3, rel_tol=1e-12)
    net = m.maker.network
    for i, table in enumerate(net.tables):
        sums = table.sum(axis=net.family(i).index(i))
        np.testing.assert_allclose(sums, 1.0, rtol=1e-14)


def exported_joint(model, names) -> np.ndarray:
    """The joint of a pgmpy model over ``names`` (C order), by multiplying its CPDs."""
    from pgmpy.factors.discrete import TabularCPD  # noqa: F401 (pgmpy loaded lazily)

    factors = [cpd.to_factor() for cpd in model.get_cpds()]
    joint = factors[0]
    for f in factors[1:]:
        joint = joint.product(f, inplace=False)
    return joint.values.transpose([joint.variables.index(n) for n in names]).ravel()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.integers(2, 7), st.integers(0, 2**32 - 1))
def test_export_is_exact_whether_or_not_the_dag_is_kept(seed, n, trade_seed):
    """After any sequence of in-clique trades (family edits, edits given part of the
    parents, buys of unions), the exported pgmpy model's joint is the market's joint, with
    the original DAG exactly while ``dag_valid`` holds."""
    rng = np.random.default_rng(trade_seed)
    net = random_network(np.random.default_rng(seed), n, link=0.6, max_card=3)
    m = Market.from_bayesian_network(net, 2.0)
    m.open_account("a", 1e6)
    names = m.space.names
    for _ in range(4):
        clique = m.maker.tree.cliques[int(rng.integers(len(m.maker.tree.cliques)))]
        picks = [int(v) for v in rng.choice(clique, size=min(2, len(clique)), replace=False)]
        event = f"{names[picks[0]]} == s0"
        given_ = f"{names[picks[1]]} == s1" if len(picks) > 1 and rng.random() < 0.7 else None
        if rng.random() < 0.6:
            m.edit("a", event, float(rng.uniform(0.05, 0.95)), given=given_)
        else:
            m.buy("a", event if given_ is None else f"{event} | {given_}",
                  float(rng.uniform(-2, 2)))
        model = m.to_bayesian_network()
        if m.maker.dag_valid:
            assert set(model.edges()) == {(names[p], names[c]) for c, ps in
                                          enumerate(net.parents) for p in ps}
        np.testing.assert_allclose(exported_joint(model, names), m.probabilities(),
                                   rtol=1e-9, atol=1e-13)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(3, 8), st.integers(0, 2**32 - 1))
def test_min_log_probability_is_exact_or_a_lower_bound(seed, n, keep_seed):
    """The maker's floor on :math:`\\min_o \\log P(o)` (the subsidy with latent variables):
    exact on every variable and on a small marginal; when the marginal is too large to
    build, :math:`\\log|H| + \\min_\\omega \\log P(\\omega)`, never above the true minimum."""
    from predmarket.errors import SpaceTooLarge
    from predmarket.makers import BayesNetMaker

    net = random_network(np.random.default_rng(seed), n, link=0.5, max_card=3)
    maker = BayesNetMaker(net, 1.0)
    joint = brute_joint(net)
    rng = np.random.default_rng(keep_seed)
    keep = sorted(int(v) for v in rng.choice(n, size=int(rng.integers(1, n)), replace=False))
    true_min = float(np.log(joint.sum(axis=tuple(a for a in range(n) if a not in keep)).min()))
    assert math.isclose(maker.min_log_probability(range(n)), float(np.log(joint.min())),
                        rel_tol=1e-9, abs_tol=1e-9)
    assert math.isclose(maker.min_log_probability(keep), true_min, rel_tol=1e-9, abs_tol=1e-9)

    def too_large(*args, **kwargs):
        raise SpaceTooLarge("marginal too large")

    maker.tree.marginal_table = too_large
    floor = maker.min_log_probability(keep)
    hidden = [a for a in range(n) if a not in keep]
    expected = float(np.log(joint.min())) + sum(math.log(joint.shape[a]) for a in hidden)
    assert math.isclose(floor, expected, rel_tol=1e-9, abs_tol=1e-9)
    assert floor <= true_min + 1e-12


def test_linked_questions_example_moves_only_descendants(capsys):
    """The example's edits are structure preserving: every question it reports as moved
    by an edit is a descendant of the edited question (ancestors stay put)."""
    import runpy
    from pathlib import Path

    import networkx as nx

    path = Path(__file__).resolve().parent.parent / "examples" / "linked_questions.py"
    example = runpy.run_path(str(path), run_name="linked_questions")
    example["main"]()
    out = capsys.readouterr().out
    graph = nx.DiGraph([(p, q) for q, (ps, _b, _e) in example["QUESTIONS"].items() for p in ps])
    blocks = [b for b in out.split("\n== ") if "(traded)" in b]
    assert len(blocks) == 3
    for block in blocks:
        rows = [line.split() for line in block.splitlines()[1:] if line.strip()]
        traded = [r[0] for r in rows if r[-1] == "(traded)"]
        moved = [r[0] for r in rows if r[-1] == "(propagated)"]
        assert len(traded) == 1 and moved
        assert set(moved) <= nx.descendants(graph, traded[0]), (traded, moved)


def test_states_apply_to_every_bare_structure_and_only_there(tmp_path):
    from pgmpy.models import DiscreteBayesianNetwork
    from pgmpy.readwrite import BIFWriter

    from predmarket.makers.network import to_pgmpy

    bare = DiscreteBayesianNetwork([("a", "b")])
    m = Market.from_bayesian_network(bare, 1.0, states={"a": ["lo", "mid", "hi"]})
    assert m.space.variable("a").states == ("lo", "mid", "hi")
    assert m.space.variable("b").states == ("yes", "no")
    assert all(math.isclose(p, 1 / 3) for p in m.marginal("a").values())
    net = random_network(np.random.default_rng(0), 3, link=0.5)
    model = to_pgmpy(net.variables, net.parents, net.tables)
    path = tmp_path / "net.bif"
    BIFWriter(model).write(str(path))
    for source in (model, str(path), net):
        with pytest.raises(InvalidNetwork, match="states"):
            Market.from_bayesian_network(source, 1.0, states={"x0": ["p", "q"]})


def test_a_network_given_directly_is_validated_like_a_pgmpy_model():
    from predmarket.makers.network import Network

    net = random_network(np.random.default_rng(2), 3, link=1.0, max_card=2)

    def with_table(i, table):
        tables = list(net.tables)
        tables[i] = table
        return Network(net.variables, net.parents, tuple(tables))

    t = net.tables[1]
    bad = {
        "sum to": with_table(1, t * 1.1),
        "<= 0": with_table(1, np.where(np.arange(t.size).reshape(t.shape) == 0, 0.0, t)),
        "NaN": with_table(1, np.full(t.shape, np.nan)),
        "shape": with_table(1, t.ravel()),
        "parent": Network(net.variables, (net.parents[0], (5,), net.parents[2]), net.tables),
        "cycle": Network(net.variables, ((2,), net.parents[1], net.parents[2]),
                         (net.tables[2].transpose(), net.tables[1], net.tables[2])),
    }
    for message, network in bad.items():
        with pytest.raises(InvalidNetwork, match=message):
            Market.from_bayesian_network(network, 1.0)
    Market.from_bayesian_network(net, 1.0)


def test_compiled_tree_and_prices_do_not_depend_on_the_hash_seed():
    """Node names are strings: the variable order, cliques and prices must not follow
    Python's per-process string hashing."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    script = (
        "import sys; sys.path.insert(0, 'tests')\n"
        "import runpy\n"
        "from predmarket import Market\n"
        "ex = runpy.run_path('examples/linked_questions.py', run_name='x')\n"
        "m = Market.from_bayesian_network(ex['build_model'](), 10.0, cross_clique='relink')\n"
        "a = m.open_account('a', 100.0)\n"
        "m.edit(a, 'nasdaq_record == yes', 0.3, given='el_nino == yes')\n"
        "print(m.space.names, m.maker.tree.cliques, m.maker.tree.structure.edges,\n"
        "      [round(m.price(f'{q} == yes'), 12) for q in m.space.names],\n"
        "      round(m.min_asset(a), 10))\n")
    outs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(root)}
        run = subprocess.run([sys.executable, "-c", script], cwd=root, env=env,
                             capture_output=True, text=True, check=True)
        outs.add(run.stdout)
    assert len(outs) == 1


@pytest.mark.parametrize("mode", ["refuse", "relink"])
def test_bad_values_and_closed_markets_change_nothing(mode):
    from predmarket.errors import PredmarketError

    m = Market.from_bayesian_network([("a", "c"), ("b", "c"), ("d", "e")], 5.0,
                                     cross_clique=mode, latent=["b"])
    m.open_account("ann", 2.0)
    m.edit("ann", "c == yes", 0.6, given="a == yes")
    m.observe({"d": "no"})
    nan, inf = float("nan"), float("inf")
    calls = [
        lambda: m.buy("ann", "a == yes", nan, given="e == yes"),
        lambda: m.buy("ann", "a == yes", inf),
        lambda: m.sell("ann", "a == yes", -inf, given="e == yes"),
        lambda: m.edit("ann", "e == yes", inf, given="a == yes"),
        lambda: m.target("ann", "e == yes", 0.0, given="a == yes"),
        lambda: m.preview("ann", "a == yes", shares=nan, given="e == yes"),
        lambda: m.buy("ann", "zz == yes", 1.0),
        lambda: m.buy("ann", "a == maybe", 1.0, given="e == yes"),
        lambda: m.buy("ann", "a == yes", 1.0, given="d == yes"),  # ruled out by observation
        lambda: m.buy("ann", "a == yes & a == no", 1.0),
        lambda: m.buy("nobody", "a == yes", 1.0, given="e == yes"),
        lambda: m.observe({"b": "yes"}),  # latent
        lambda: m.observe({"d": "yes"}),  # contradicts
        lambda: m.settle({"a": "yes"}),  # incomplete
        lambda: m.open_account("bob", nan),
    ]
    before = snapshot(m)
    for call in calls:
        with pytest.raises(PredmarketError):
            call()
        assert snapshot(m) == before
    m.settle({"a": "yes", "c": "no", "d": "no", "e": "yes"})
    after = snapshot(m)
    for call in [lambda: m.buy("ann", "a == yes", 1.0, given="e == yes"),
                 lambda: m.edit("ann", "c == yes", 0.5),
                 lambda: m.preview("ann", "a == yes", shares=1.0, given="e == yes"),
                 lambda: m.observe({"a": "yes"}),
                 lambda: m.settle({"a": "yes", "c": "no", "d": "no", "e": "yes"})]:
        with pytest.raises(PredmarketError, match="settled"):
            call()
        assert snapshot(m) == after


@pytest.mark.parametrize("shares", [800.0, -800.0])
def test_a_trade_that_would_underflow_a_clique_weight_is_refused_not_zeroed(shares):
    """A move of more than ~745 b between outcomes of one clique would round their weight
    to 0, silently making a possible event impossible; the factored maker refuses it with
    a clear error and changes nothing (prices stay strictly between 0 and 1)."""
    from predmarket.errors import InvalidAmount

    m = Market.from_bayesian_network([("a", "b")], 1.0)
    m.open_account("x", 1e4)
    before = snapshot(m)
    with pytest.raises(InvalidAmount, match="underflow"):
        m.buy("x", "b == yes", shares, given="a == yes")
    assert snapshot(m) == before
    m.buy("x", "b == yes", 400.0, given="a == yes")
    with pytest.raises(InvalidAmount, match="underflow"):
        m.buy("x", "b == yes", 400.0, given="a == yes")
    assert 0.0 < m.price("b == no", given="a == yes") < 1.0
    m.edit("x", "b == no", 0.5, given="a == yes")
    assert math.isclose(m.price("b == no", given="a == yes"), 0.5)


def test_junction_tree_refuses_negative_or_nan_factors_and_keeps_its_state():
    from predmarket.errors import InvalidInput
    from predmarket.junction import JunctionTree, compile_structure

    jt = JunctionTree([2, 2], compile_structure(2, [(0,), (0, 1)]))
    jt.multiply(0, np.array([[1.0, 3.0], [2.0, 1.0]]))
    before = jt.marginal(0).copy(), jt.log_partition()
    for factor in (np.array([[1.0, -1.0], [1.0, 1.0]]), np.array([[1.0, np.nan], [1.0, 1.0]]),
                   np.array([[1.0, np.inf], [1.0, 1.0]])):
        with pytest.raises(InvalidInput, match="clique 0"):
            jt.multiply(0, factor)
        with pytest.raises(InvalidInput, match="clique 0"):
            jt.set_potential(0, factor)
        np.testing.assert_array_equal(jt.marginal(0), before[0])
        assert jt.log_partition() == before[1]
