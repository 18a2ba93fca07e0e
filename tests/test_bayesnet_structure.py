"""Structure preservation (Pennock & Xia 2011), export to pgmpy, disconnected and large
networks, min-asset by min-sum (Sun et al. 2012), and bad input for factored markets."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_junction import brute_joint, random_network

from predmarket import Market
from predmarket.errors import (
    CrossCliqueTrade,
    InvalidLiquidity,
    InvalidNetwork,
    InvalidProbability,
    UnknownVariable,
)
from predmarket.makers.network import to_pgmpy


def cpt_of(model, name: str, parents: list[str]) -> np.ndarray:
    """A pgmpy CPD as an array with axes (node, *parents in the given order)."""
    cpd = model.get_cpds(name)
    values = cpd.get_values().reshape([cpd.cardinality[0]] + list(cpd.cardinality[1:]))
    order = [0] + [1 + list(cpd.variables[1:]).index(p) for p in parents]
    return np.transpose(values, order)


def descendants(net, i: int) -> set[int]:
    graph = nx.DiGraph([(p, c) for c, ps in enumerate(net.parents) for p in ps])
    graph.add_nodes_from(range(len(net.parents)))
    return nx.descendants(graph, i) | {i}


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 10), st.floats(0.02, 0.98))
def test_family_edit_changes_one_cpt_only(seed, n, p_new):
    rng = np.random.default_rng(seed)
    net = random_network(rng, n, link=0.5)
    model = to_pgmpy(net.variables, net.parents, net.tables)
    m = Market.from_bayesian_network(model, 10.0)
    acct = m.open_account("ann", 1e3)
    names = m.space.names
    x = int(rng.integers(n))
    parents = [names[p] for p in net.parents[x]]
    config = {p: m.space.variable(p).states[int(rng.integers(m.space.variable(p).cardinality))]
              for p in parents}
    state = m.space.variable(names[x]).states[int(rng.integers(m.space.variable(names[x])
                                                              .cardinality))]
    cliques = m.maker.tree.cliques
    before = {names[v]: m.marginal(names[v]) for v in range(n)}
    given_ = " & ".join(f"{p} == {s}" for p, s in config.items()) or None
    m.edit(acct, f"{names[x]} == {state}", p_new, given=given_)
    assert m.maker.tree.cliques == cliques
    assert m.maker.dag_valid
    out = m.to_bayesian_network()
    assert set(out.edges()) == set(model.edges())
    for i, name in enumerate(names):
        ps = [names[p] for p in net.parents[i]]
        old, new = cpt_of(model, name, ps), cpt_of(out, name, ps)
        if i != x:
            np.testing.assert_allclose(new, old, rtol=1e-9, atol=1e-12)
            continue
        row = (slice(None),) + tuple(m.space.variable(p).index(config[p]) for p in ps)
        changed = np.zeros_like(old, dtype=bool)
        changed[row] = True
        np.testing.assert_allclose(new[~changed], old[~changed], rtol=1e-9, atol=1e-12)
        k = m.space.variable(name).index(state)
        edited = new[row]
        assert math.isclose(edited[k], p_new, rel_tol=1e-9)
        others = np.delete(old[row], k) * (1 - p_new) / (1 - old[row][k])
        np.testing.assert_allclose(np.delete(edited, k), others, rtol=1e-9)
    for v in set(range(n)) - descendants(net, x):
        after = m.marginal(names[v])
        assert all(math.isclose(after[s], q, rel_tol=1e-9) for s, q in before[names[v]].items())


def test_non_preserving_trade_exports_an_exact_chordal_network():
    from pgmpy.inference import VariableElimination

    net = random_network(np.random.default_rng(4), 9, link=0.5)
    m = Market.from_bayesian_network(net, 3.0)
    acct = m.open_account("ann", 100.0)
    clique = [m.space.names[v] for v in max(m.maker.tree.cliques, key=len)]
    m.buy(acct, f"{clique[0]} == s0 | {clique[-1]} == s1", 4.0)
    assert not m.maker.dag_valid
    out = m.to_bayesian_network()
    infer = VariableElimination(out)
    for name in m.space.names:
        q = infer.query([name], show_progress=False)
        for s, p in m.marginal(name).items():
            assert math.isclose(q.get_value(**{name: s}), p, rel_tol=1e-9)
    joint = m.probabilities()
    explicit = Market(m.space, 1.0, prior=joint)
    evidence = {clique[0]: "s1"}
    q = infer.query([clique[-1]], evidence=evidence, show_progress=False)
    assert math.isclose(q.get_value(**{clique[-1]: "s0"}),
                        m.price(f"{clique[-1]} == s0", given=f"{clique[0]} == s1"),
                        rel_tol=1e-9)
    assert math.isclose(explicit.price(f"{clique[0]} == s0"), m.price(f"{clique[0]} == s0"),
                        rel_tol=1e-9)


def test_pgmpy_and_bif_inputs_match_variable_elimination(tmp_path):
    from pgmpy.inference import VariableElimination
    from pgmpy.readwrite import BIFWriter

    net = random_network(np.random.default_rng(9), 8, link=0.4)
    model = to_pgmpy(net.variables, net.parents, net.tables)
    path = tmp_path / "net.bif"
    BIFWriter(model).write_bif(str(path))
    infer = VariableElimination(model)
    for source in (model, str(path)):
        m = Market.from_bayesian_network(source, 2.0)
        for name in m.space.names:
            q = infer.query([name], show_progress=False)
            for s, p in m.marginal(name).items():
                assert math.isclose(q.get_value(**{name: s}), p, rel_tol=1e-9)
        a, b = m.space.names[0], m.space.names[-1]
        q = infer.query([b], evidence={a: "s1"}, show_progress=False)
        assert math.isclose(q.get_value(**{b: "s0"}), m.price(f"{b} == s0", given=f"{a} == s1"),
                            rel_tol=1e-9)


def test_bare_structure_has_uniform_cpds():
    m = Market.from_bayesian_network([("a", "b"), ("b", "c")], 1.0, states={"d": ["x", "y", "z"]})
    assert m.marginal("c") == {"yes": 0.5, "no": 0.5}
    assert all(math.isclose(p, 1 / 3) for p in m.marginal("d").values())
    assert math.isclose(m.subsidy, math.log(24))


def test_disconnected_questions_trade_independently():
    questions = {f"q{i}": ["yes", "no"] for i in range(30)}
    m = Market.from_bayesian_network([], 5.0, states=questions)
    assert len(m.maker.tree.cliques) == 30
    acct = m.open_account("ann", 50.0)
    for i in range(0, 30, 3):
        m.edit(acct, f"q{i}", 0.1 + i / 40)
    for i in range(30):
        expected = 0.1 + i / 40 if i % 3 == 0 else 0.5
        assert math.isclose(m.price(f"q{i}"), expected, rel_tol=1e-12)
    # each edit's worst case is independent: min-asset is the sum of per-question minima
    worst = sum(min(5.0 * math.log((0.1 + i / 40) / 0.5), 5.0 * math.log((0.9 - i / 40) / 0.5))
                for i in range(0, 30, 3))
    assert math.isclose(m.min_asset(acct), 50.0 + worst, rel_tol=1e-12)
    payout = m.settle({f"q{i}": "yes" for i in range(30)})["ann"]
    assert math.isclose(payout, sum(5.0 * math.log((0.1 + i / 40) / 0.5)
                                    for i in range(0, 30, 3)), rel_tol=1e-12)


def _tree_network(n: int, seed: int):
    rng = np.random.default_rng(seed)
    edges = [(f"v{int(rng.integers(i))}", f"v{i}") for i in range(1, n)]
    return edges


def test_thousand_variable_network_builds_and_trades():
    m = Market.from_bayesian_network(_tree_network(1000, 0), 10.0)
    assert len(m.space) == 1000
    acct = m.open_account("ann", 1000.0)
    rng = np.random.default_rng(1)
    for _ in range(20):
        child = int(rng.integers(1, 1000))
        parent = m.maker.network.parents[child][0]
        p = float(rng.uniform(0.1, 0.9))
        q = m.edit(acct, f"v{child} == yes", p, given=f"v{parent} == no")
        assert math.isclose(m.price(f"v{child} == yes", given=f"v{parent} == no"), p)
        assert q.affordable
    assert m.min_asset(acct) >= 0
    m.check()
    payouts = m.settle({f"v{i}": "yes" for i in range(1000)})
    assert math.isfinite(payouts["ann"])


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_min_asset_of_fifty_edits_equals_brute_force(seed):
    """Sun et al. (2012): assets factor over cliques; min-sum gives the exact minimum."""
    rng = np.random.default_rng(seed)
    net = random_network(rng, 10, link=0.4, max_card=2)
    m = Market.from_bayesian_network(net, 1.0)
    acct = m.open_account("ann", 1e4)
    holdings = np.zeros(m.space.shape)
    for _ in range(50):
        clique = m.maker.tree.cliques[int(rng.integers(len(m.maker.tree.cliques)))]
        var = m.space.variables[int(rng.choice(clique))]
        p_old = m.price(f"{var.name} == s0")
        p_new = float(rng.uniform(0.05, 0.95))
        m.edit(acct, f"{var.name} == s0", p_new)
        up, down = math.log(p_new / p_old), math.log((1 - p_new) / (1 - p_old))
        axis = m.space.axis(var.name)
        view = [1] * holdings.ndim
        view[axis] = 2
        holdings = holdings + np.array([up, down]).reshape(view)
    assert math.isclose(m.min_asset(acct), 1e4 + holdings.min(), rel_tol=1e-12)
    # one trader, b = 1: the market's state is the prior's plus the account's holdings
    p = brute_joint(m.maker.network) * np.exp(holdings)
    np.testing.assert_allclose(m.probabilities(), (p / p.sum()).ravel(), rtol=1e-9)
    assert math.isclose(m.expected_assets(acct) - 1e4,
                        float((m.probabilities().reshape(m.space.shape) * holdings).sum()),
                        rel_tol=1e-9, abs_tol=1e-9)


# -- bad input -------------------------------------------------------------------------------

def _state(m: Market):
    return (m.ledger, {a: m.cash(a) for a in m.accounts}, {n: m.marginal(n) for n in
                                                            m.space.names},
            m.maker.tree.cliques, m.maker_cash)


def test_cpd_rows_must_sum_to_one():
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    model = DiscreteBayesianNetwork([("a", "b")])
    model.add_cpds(TabularCPD("a", 2, [[0.3], [0.6]]),
                   TabularCPD("b", 2, [[0.9, 0.2], [0.1, 0.8]], evidence=["a"],
                              evidence_card=[2]))
    with pytest.raises(InvalidNetwork, match=r"CPD of 'a'.*sum to 0\.9"):
        Market.from_bayesian_network(model, 1.0)
    model.remove_cpds(*model.get_cpds())
    model.add_cpds(TabularCPD("a", 2, [[0.3], [0.7]]),
                   TabularCPD("b", 2, [[0.9, 0.5], [0.1, 0.6]], evidence=["a"],
                              evidence_card=[2]))
    with pytest.raises(InvalidNetwork, match=r"CPD of 'b'.*\{'a': 1\}"):
        Market.from_bayesian_network(model, 1.0)
    model.remove_cpds(*model.get_cpds())
    model.add_cpds(TabularCPD("a", 2, [[0.0], [1.0]]),
                   TabularCPD("b", 2, [[0.9, 0.2], [0.1, 0.8]], evidence=["a"],
                              evidence_card=[2]))
    with pytest.raises(InvalidNetwork, match="CPD of 'a'.*<= 0"):
        Market.from_bayesian_network(model, 1.0)
    model.remove_cpds(model.get_cpds("b"))
    with pytest.raises(InvalidNetwork, match="no CPD"):
        Market.from_bayesian_network(model, 1.0)


def test_cyclic_and_malformed_structures():
    with pytest.raises(InvalidNetwork, match="cycle"):
        Market.from_bayesian_network([("a", "b"), ("b", "c"), ("c", "a")], 1.0)
    with pytest.raises(InvalidNetwork, match="pair"):
        Market.from_bayesian_network([("a", "b", "c")], 1.0)
    with pytest.raises(InvalidNetwork, match="identifier"):
        Market.from_bayesian_network([("a b", "c")], 1.0)
    with pytest.raises(InvalidNetwork, match="BIF"):
        Market.from_bayesian_network("/nonexistent/net.bif", 1.0)
    with pytest.raises(InvalidNetwork, match="expected a pgmpy"):
        Market.from_bayesian_network(42, 1.0)
    with pytest.raises(InvalidLiquidity):
        Market.from_bayesian_network([("a", "b")], 0.0)
    with pytest.raises(UnknownVariable):
        Market.from_bayesian_network([("a", "b")], 1.0, latent=["zz"])
    with pytest.raises(ValueError, match="cross_clique"):
        Market.from_bayesian_network([("a", "b")], 1.0, cross_clique="maybe")


def test_bad_trades_leave_the_market_unchanged():
    m = Market.from_bayesian_network([("a", "c"), ("b", "c"), ("d", "e")], 5.0)
    acct = m.open_account("ann", 1.0)
    m.buy(acct, "c == yes", 0.5, given="a == yes & b == no")
    before = _state(m)
    bad = [
        (UnknownVariable, lambda: m.edit(acct, "zz == yes", 0.5)),
        (UnknownVariable, lambda: m.price("zz == yes")),
        (InvalidProbability, lambda: m.edit(acct, "a == yes", float("nan"))),
        (CrossCliqueTrade, lambda: m.buy(acct, "a == yes", 1.0, given="d == yes")),
        (CrossCliqueTrade, lambda: m.edit(acct, "e == yes", 0.9, given="c == no")),
    ]
    for error, call in bad:
        with pytest.raises(error):
            call()
        assert _state(m) == before
    from predmarket.errors import InsufficientFunds

    with pytest.raises(InsufficientFunds):
        m.buy(acct, "a == yes", -40.0)
    assert _state(m) == before


def test_linked_questions_example_runs(capsys):
    import runpy
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "examples" / "linked_questions.py"
    runpy.run_path(str(path), run_name="__main__")
    out = capsys.readouterr().out
    assert "propagated" in out and "refused" in out and "settled" in out


def test_events_across_cliques_are_exact_when_bounded_else_a_clear_error():
    from predmarket.errors import SpaceTooLarge

    chain = [(f"v{i - 1}", f"v{i}") for i in range(1, 60)]
    m = Market.from_bayesian_network(chain, 1.0)
    acct = m.open_account("ann", 100.0)
    m.edit(acct, "v5 == yes", 0.8, given="v4 == yes")
    # v3 and v8 share no clique; the covering subtree spans 6 variables: exact
    joint_part = m.maker.tree.marginal_table([3, 4, 5, 6, 7, 8])
    expected = joint_part[0, :, :, :, :, 0].sum() / joint_part[0].sum()
    assert math.isclose(m.price("v8 == yes", given="v3 == yes"), expected, rel_tol=1e-12)
    with pytest.raises(SpaceTooLarge, match="too far spread"):
        m.price("v0 == yes & v59 == yes")


def test_export_after_an_observation_is_a_valid_model():
    from pgmpy.inference import VariableElimination

    m = Market.from_bayesian_network([("a", "b"), ("b", "c")], 2.0)
    acct = m.open_account("ann", 10.0)
    m.edit(acct, "c == yes", 0.8, given="b == yes")
    m.observe({"a": "no"})
    model = m.to_bayesian_network()
    assert model.check_model()
    q = VariableElimination(model).query(["c"], show_progress=False)
    assert math.isclose(q.get_value(c="yes"), m.price("c == yes"), rel_tol=1e-9)
