"""The junction tree against brute force and pgmpy.

Random networks (some disconnected, some with isolated nodes) are compiled; every marginal,
the partition function, marginals over variable sets spanning several cliques, incremental
re-propagation after local changes, and min-sum over additive clique tables are compared
with the explicit joint.

``random_network`` is shared with the ``test_bayesnet*`` files.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from predmarket.errors import InvalidInput, SpaceTooLarge
from predmarket.junction import JunctionTree, compile_structure
from predmarket.makers.network import Network
from predmarket.spaces import Variable


def random_network(rng: np.random.Generator, n: int, *, max_parents: int = 3,
                   link: float = 0.35, max_card: int = 3) -> Network:
    """A random DAG over ``n`` variables (parents among earlier ones) with positive CPTs."""
    variables, parents, tables = [], [], []
    for i in range(n):
        card = int(rng.integers(2, max_card + 1))
        variables.append(Variable(f"x{i}", [f"s{k}" for k in range(card)]))
        pool = [j for j in range(i) if rng.random() < link]
        rng.shuffle(pool)
        ps = tuple(sorted(pool[:max_parents]))
        parents.append(ps)
    for i in range(n):
        fam = sorted((i, *parents[i]))
        shape = tuple(variables[k].cardinality for k in fam)
        t = rng.uniform(0.05, 1.0, size=shape)
        t /= t.sum(axis=fam.index(i), keepdims=True)
        tables.append(t)
    return Network(tuple(variables), tuple(parents), tuple(tables))


def brute_joint(net: Network) -> np.ndarray:
    """The explicit joint (C order over the variables), by multiplying every CPT."""
    shape = tuple(v.cardinality for v in net.variables)
    joint = np.ones(shape)
    for i in range(len(shape)):
        fam = net.family(i)
        view = [1] * len(shape)
        for a, k in zip(fam, net.tables[i].shape):
            view[a] = k
        joint = joint * net.tables[i].reshape(view)
    return joint


def tree_of(net: Network, heuristic: str = "min_degree") -> JunctionTree:
    cards = [v.cardinality for v in net.variables]
    fams = [net.family(i) for i in range(len(cards))]
    jt = JunctionTree(cards, compile_structure(len(cards), fams, heuristic=heuristic))
    for i, fam in enumerate(fams):
        c = jt.clique_of(fam)
        jt.multiply(c, jt.expand(c, fam, net.tables[i]))
    return jt


def sum_except(joint: np.ndarray, keep) -> np.ndarray:
    return joint.sum(axis=tuple(a for a in range(joint.ndim) if a not in keep))



def multiply_random_clique(jt: JunctionTree, joint: np.ndarray, rng) -> np.ndarray:
    """Multiply a random clique of ``jt`` by a random positive factor; return the brute-force
    joint multiplied by the same factor."""
    c = int(rng.integers(len(jt.cliques)))
    factor = rng.uniform(0.1, 5.0, size=jt.shapes[c])
    jt.multiply(c, factor)
    view = [1] * joint.ndim
    for a, k in zip(jt.cliques[c], factor.shape):
        view[a] = k
    return joint * factor.reshape(view)

networks = st.builds(
    lambda seed, n, link: random_network(np.random.default_rng(seed), n, link=link),
    st.integers(0, 2**32 - 1), st.integers(1, 9), st.sampled_from([0.0, 0.2, 0.5, 0.9]))


def _is_junction_tree(jt: JunctionTree) -> bool:
    for v in range(len(jt.cards)):
        holders = [i for i, c in enumerate(jt.cliques) if v in c]
        # running intersection: the cliques holding v form a connected subtree
        inside = set(holders)
        seen, stack = {holders[0]}, [holders[0]]
        while stack:
            u = stack.pop()
            for w in jt.neighbors[u]:
                if w in inside and w not in seen:
                    seen.add(w)
                    stack.append(w)
        if seen != inside:
            return False
    return True


@settings(max_examples=60)
@given(networks, st.sampled_from(["min_degree", "min_fill"]))
def test_structure_is_a_junction_tree_covering_every_family(net, heuristic):
    jt = tree_of(net, heuristic)
    assert _is_junction_tree(jt)
    assert len(jt.structure.edges) == len(jt.cliques) - 1
    for i in range(len(net.variables)):
        assert jt.clique_of(net.family(i)) is not None
    for a, b in itertools.permutations(jt.cliques, 2):
        assert not set(a) < set(b), "cliques must be maximal"


@settings(max_examples=60)
@given(networks)
def test_marginals_and_partition_match_brute_force(net):
    jt = tree_of(net)
    joint = brute_joint(net)
    assert math.isclose(jt.log_partition(), math.log(joint.sum()), abs_tol=1e-12)
    for v in range(joint.ndim):
        np.testing.assert_allclose(jt.marginal(v), sum_except(joint, [v]), atol=1e-12)
    for c, vars_ in enumerate(jt.cliques):
        beta, _ = jt.belief(c)
        np.testing.assert_allclose(beta, sum_except(joint, vars_), atol=1e-12)


@settings(max_examples=40)
@given(networks, st.integers(0, 2**32 - 1))
def test_marginal_tables_across_cliques(net, seed):
    jt = tree_of(net)
    joint = brute_joint(net)
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, min(4, joint.ndim) + 1))
    vars_ = sorted(rng.choice(joint.ndim, size=k, replace=False).tolist())
    np.testing.assert_allclose(jt.marginal_table(vars_), sum_except(joint, vars_), atol=1e-12)


@settings(max_examples=40)
@given(networks, st.integers(0, 2**32 - 1))
def test_incremental_propagation_equals_full_calibration(net, seed):
    rng = np.random.default_rng(seed)
    jt = tree_of(net)
    joint = brute_joint(net)
    for _ in range(int(rng.integers(1, 6))):
        joint = multiply_random_clique(jt, joint, rng)
        # ask for one random clique (lazy path) before the others
        probe = int(rng.integers(len(jt.cliques)))
        np.testing.assert_allclose(jt.belief(probe)[0],
                                   sum_except(joint, jt.cliques[probe]) / joint.sum(),
                                   atol=1e-12)
    assert math.isclose(jt.log_partition(), math.log(joint.sum()), rel_tol=1e-12)
    for v, m in enumerate(jt.marginals()):
        np.testing.assert_allclose(m, sum_except(joint, [v]) / joint.sum(), atol=1e-12)


@settings(max_examples=60)
@given(networks, st.integers(0, 2**32 - 1))
def test_min_sum_equals_brute_force_minimum(net, seed):
    rng = np.random.default_rng(seed)
    jt = tree_of(net)
    shape = tuple(jt.cards)
    total = np.zeros(shape)
    tables = {}
    for c in rng.choice(len(jt.cliques), size=min(3, len(jt.cliques)), replace=False):
        t = rng.normal(size=jt.shapes[c])
        tables[int(c)] = t
        view = [1] * len(shape)
        for a, k in zip(jt.cliques[c], t.shape):
            view[a] = k
        total = total + t.reshape(view)
    assert math.isclose(jt.min_sum(tables), float(total.min()), abs_tol=1e-12)
    v = int(rng.integers(len(shape)))
    s = int(rng.integers(shape[v]))
    restricted = np.take(total, s, axis=v)
    assert math.isclose(jt.min_sum(tables, {v: s}), float(restricted.min()), abs_tol=1e-12)
    probs = brute_joint(net) / brute_joint(net).sum()
    assert math.isclose(jt.expectation(tables), float((probs * total).sum()), abs_tol=1e-12)


def test_matches_pgmpy_variable_elimination():
    from pgmpy.inference import VariableElimination

    from predmarket.makers.network import to_pgmpy

    net = random_network(np.random.default_rng(7), 12, link=0.4)
    model = to_pgmpy(net.variables, net.parents, net.tables)
    infer = VariableElimination(model)
    jt = tree_of(net)
    for v, var in enumerate(net.variables):
        q = infer.query([var.name], show_progress=False)
        order = [q.state_names[var.name].index(s) for s in var.states]
        np.testing.assert_allclose(jt.marginal(v), q.values[order], atol=1e-12)


def test_disconnected_network_where_pgmpy_fails():
    from predmarket.makers.network import to_pgmpy

    net = random_network(np.random.default_rng(3), 6, link=0.0)
    model = to_pgmpy(net.variables, net.parents, net.tables)
    with pytest.raises(ValueError, match="sepset"):  # pgmpy fails on unlinked nodes
        model.to_junction_tree()
    jt = tree_of(net)
    assert len(jt.cliques) == 6 and len(jt.structure.edges) == 5
    for v in range(6):
        np.testing.assert_allclose(jt.marginal(v), net.tables[v], atol=1e-14)


def test_bad_input():
    with pytest.raises(InvalidInput, match="heuristic"):
        compile_structure(2, [(0, 1)], heuristic="greedy")
    with pytest.raises(InvalidInput, match="outside"):
        compile_structure(2, [(0, 5)])
    net = random_network(np.random.default_rng(1), 8, link=0.0)
    jt = tree_of(net)
    with pytest.raises(SpaceTooLarge):
        jt.marginal_table(list(range(8)), limit=10)
    with pytest.raises(InvalidInput, match="positive"):
        jt.multiply(0, np.zeros(jt.shapes[0]))


def test_both_makers_satisfy_the_protocol():
    from predmarket import OutcomeSpace, Variable
    from predmarket.makers import BayesNetMaker, JointMaker
    from predmarket.makers.base import Maker

    space = OutcomeSpace([Variable("a", ["yes", "no"])])
    assert isinstance(JointMaker(space, 1.0), Maker)
    assert isinstance(BayesNetMaker([("a", "b")], 1.0), Maker)


@settings(max_examples=30)
@given(st.integers(0, 2**32 - 1), st.integers(5, 11))
def test_hub_cliques_divide_out_messages_exactly(seed, k):
    """A star network makes one clique per leaf around a hub variable, so cliques with many
    neighbours send by division (and fall back to einsum where a message has zeros)."""
    rng = np.random.default_rng(seed)
    variables = tuple(Variable(f"x{i}", ["a", "b", "c"][: 2 + (i % 2)]) for i in range(k + 1))
    parents = ((),) + tuple((0,) for _ in range(k))
    tables = []
    for i in range(k + 1):
        fam = sorted((i, *parents[i]))
        t = rng.uniform(0.05, 1.0, size=tuple(variables[a].cardinality for a in fam))
        t /= t.sum(axis=fam.index(i), keepdims=True)
        tables.append(t)
    net = Network(variables, parents, tables)
    jt = tree_of(net)
    assert max(len(nb) for nb in jt.neighbors) >= 4  # some sender has >= 3 other inputs
    joint = brute_joint(net)
    for step in range(4):
        c = int(rng.integers(len(jt.cliques)))
        factor = rng.uniform(0.1, 5.0, size=jt.shapes[c])
        if step == 2:  # evidence: a zero slice in one clique
            factor[tuple([0] + [slice(None)] * (factor.ndim - 1))] = 0.0
        jt.multiply(c, factor)
        view = [1] * joint.ndim
        for a, n in zip(jt.cliques[c], factor.shape):
            view[a] = n
        joint = joint * factor.reshape(view)
        for v, m in enumerate(jt.marginals()):
            np.testing.assert_allclose(m, sum_except(joint, [v]) / joint.sum(), atol=1e-12)
    assert math.isclose(jt.log_partition(), math.log(joint.sum()), rel_tol=1e-12)


@settings(max_examples=40)
@given(networks, st.integers(0, 2**32 - 1))
def test_pruned_refresh_matches_brute_force_after_each_change(net, seed):
    """After every local change, the incremental (pruned) refresh gives the brute-force
    marginals and log-partition: branches it skips really are unchanged."""
    rng = np.random.default_rng(seed)
    jt, joint = tree_of(net), brute_joint(net)
    for _ in range(int(rng.integers(1, 12))):
        joint = multiply_random_clique(jt, joint, rng)
        for v, m in enumerate(jt.marginals()):
            np.testing.assert_allclose(m, sum_except(joint, [v]) / joint.sum(), atol=1e-12)
        assert math.isclose(jt.log_partition(), math.log(joint.sum()), rel_tol=1e-11,
                            abs_tol=1e-11)
