"""World generators: ground truth drawn from a generative model."""

import numpy as np
import pytest

from predmarket import Market, OutcomeSpace, Variable
from predmarket.errors import InvalidInput
from predmarket.sim import JointWorld, PgmpyWorld, Simulation, World
from predmarket.sim.worlds import as_world
from predmarket.traders import JointBelief


def network():
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    net = DiscreteBayesianNetwork([("rain", "wind"), ("rain", "cold"), ("wind", "cold")])
    net.add_cpds(
        TabularCPD("rain", 2, [[0.3], [0.7]], state_names={"rain": ["yes", "no"]}),
        TabularCPD("wind", 2, [[0.2, 0.9], [0.8, 0.1]], evidence=["rain"], evidence_card=[2],
                   state_names={"wind": ["calm", "strong"], "rain": ["yes", "no"]}),
        TabularCPD("cold", 2, [[0.1, 0.5, 0.6, 0.95], [0.9, 0.5, 0.4, 0.05]],
                   evidence=["rain", "wind"], evidence_card=[2, 2],
                   state_names={"cold": ["yes", "no"], "rain": ["yes", "no"],
                                "wind": ["calm", "strong"]}))
    return net


def frequencies(draw, space, n, seed):
    rng = np.random.default_rng(seed)
    counts = np.zeros(space.size)
    for _ in range(n):
        counts[space.index_of(dict(draw(rng).outcome))] += 1
    return counts / n


def test_pgmpy_world_samples_the_networks_joint():
    space = OutcomeSpace([Variable("rain", ["yes", "no"]), Variable("wind", ["calm", "strong"]),
                          Variable("cold", ["yes", "no"])])
    exact = JointBelief.from_pgmpy(network(), space).p
    n = 5_000
    freq = frequencies(PgmpyWorld(network()), space, n, seed=0)
    # each cell within 5 standard errors of its exact probability
    assert np.all(np.abs(freq - exact) <= 5 * np.sqrt(exact * (1 - exact) / n))


def test_pgmpy_world_can_hide_variables_and_give_signals():
    world = PgmpyWorld(network(), variables=["rain", "cold"],
                       signals=lambda full, rng: {"spy": full["wind"]})
    w = world(np.random.default_rng(1))
    assert set(w.outcome) == {"rain", "cold"} and w.signals["spy"] in ("calm", "strong")
    with pytest.raises(InvalidInput, match="not in the network"):
        PgmpyWorld(network(), variables=["snow"])


def test_joint_world_samples_its_distribution():
    space = OutcomeSpace([Variable("a", ["0", "1"]), Variable("b", ["x", "y", "z"])])
    p = np.array([0.05, 0.1, 0.15, 0.2, 0.25, 0.25])
    n = 5_000
    freq = frequencies(JointWorld(space, p), space, n, seed=2)
    assert np.all(np.abs(freq - p) <= 5 * np.sqrt(p * (1 - p) / n))


@pytest.mark.parametrize("p", [[0.5, 0.6], [0.5], [np.nan, 1.0], [-0.5, 1.5]])
def test_joint_world_validation(p):
    space = OutcomeSpace([Variable("a", ["0", "1"])])
    with pytest.raises(InvalidInput):
        JointWorld(space, p)


def test_world_validation():
    for outcome in ({}, None, "rain"):
        with pytest.raises(InvalidInput):
            World(outcome)
    with pytest.raises(InvalidInput):
        World({"a": "0"}, signals=["x"])
    assert as_world({"a": "0"}).outcome == {"a": "0"}
    with pytest.raises(InvalidInput, match="World or a mapping"):
        as_world(3)
    w = World({"a": "0"})
    with pytest.raises(TypeError):
        w.outcome["a"] = "1"


def test_a_world_generator_returning_garbage_stops_the_run():
    space = OutcomeSpace([Variable("a", ["0", "1"])])
    with pytest.raises(InvalidInput, match="world generator"):
        Simulation(lambda: Market(space, 1.0), {"t": lambda v: None},
                   world=lambda rng: 42).run()
