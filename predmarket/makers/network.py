"""Discrete Bayesian networks as plain arrays, read from pgmpy, BIF files or edge lists.

A :class:`Network` lists its variables (names and states, in layout order), the parents of
each, and each conditional probability table as an array over the node's *family* (the node
and its parents) with axes in increasing variable order, so that

.. math:: P(\\omega) = \\prod_X P(x \\mid \\mathrm{pa}_X).

pgmpy is imported only inside the functions that read or write pgmpy models.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from predmarket.errors import InvalidNetwork, PredmarketError
from predmarket.spaces import Variable

__all__ = ["DEFAULT_STATES", "Network", "read_network", "validate_network"]

#: States of a variable given only by structure.
DEFAULT_STATES = ("yes", "no")
_ROW_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Network:
    """Variables, parents (as variable indices) and family tables of a Bayesian network."""

    variables: tuple[Variable, ...]
    parents: tuple[tuple[int, ...], ...]
    tables: tuple[np.ndarray, ...]  # tables[i] over sorted((i, *parents[i]))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variables)

    def family(self, i: int) -> tuple[int, ...]:
        """Sorted variable indices of node ``i`` and its parents."""
        return tuple(sorted((i, *self.parents[i])))


def _check_acyclic(names: Sequence[str], edges: Sequence[tuple[str, str]]) -> None:
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(names)
    graph.add_edges_from(edges)
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return
    raise InvalidNetwork(f"the network has a cycle {[u for u, _v in cycle] + [cycle[0][0]]!r};"
                         " expected a directed acyclic graph")


def _validated_variable(name: Any, states: Sequence[Any]) -> Variable:
    try:
        return Variable(name, states)
    except PredmarketError as exc:
        raise InvalidNetwork(f"node {name!r}: {exc}") from None


def read_network(model: Any, *, states: Mapping[str, Sequence[Any]] | None = None) -> Network:
    """Read a pgmpy model, a BIF file path, or a bare structure.

    Parameters
    ----------
    model : pgmpy DiscreteBayesianNetwork, str or os.PathLike, or sequence of edges
        A pgmpy model with CPDs (a model without CPDs gets uniform ones); the path of a
        BIF file; or edges ``[(parent, child), ...]`` with uniform CPDs.
    states : mapping, optional
        For a bare structure (edges, or a pgmpy model without CPDs): the states of each
        node (default ``("yes", "no")``). Nodes named here but in no edge are unlinked
        questions. Refused for a model whose CPDs define the states.

    Raises
    ------
    InvalidNetwork
        A cycle, a CPD whose rows do not sum to 1 (within 1e-6; rows within it are
        renormalised) or with a non-positive entry, a CPD missing, or names that are not
        identifiers.

    Examples
    --------
    >>> net = read_network([("rain", "wet")], states={"sun": ["up", "down"]})
    >>> net.names, net.parents
    (('rain', 'wet', 'sun'), ((), (0,), ()))
    >>> net.tables[1].shape
    (2, 2)
    """
    if states is not None and not isinstance(states, Mapping):
        raise InvalidNetwork(f"states must map node names to their states, got "
                             f"{type(states).__name__}")
    pgmpy_model = hasattr(model, "get_cpds") and hasattr(model, "nodes")
    if states is not None and (isinstance(model, (str, os.PathLike)) or (
            pgmpy_model and model.get_cpds())):
        raise InvalidNetwork("states= applies only to a bare structure (edges, or a pgmpy "
                             "model without CPDs); this model's CPDs define its states")
    if isinstance(model, (str, os.PathLike)):
        return _from_bif(os.fspath(model))
    if pgmpy_model:
        return _from_pgmpy(model, states or {})
    if isinstance(model, Sequence) or states is not None:
        return _from_edges(model if model is not None else [], states or {})
    raise InvalidNetwork(
        f"expected a pgmpy DiscreteBayesianNetwork, a BIF path or a list of (parent, child) "
        f"edges; got {type(model).__name__}")


def validate_network(net: Network) -> Network:
    """Check a :class:`Network` built by hand as :func:`read_network` checks a pgmpy model
    (parents, acyclicity, table shapes, positive finite rows summing to 1), and return it
    with rows renormalised.

    Raises
    ------
    InvalidNetwork
        Naming the node and what was wrong.
    """
    n = len(net.variables)
    if len(net.parents) != n or len(net.tables) != n:
        raise InvalidNetwork(f"a Network needs one parent tuple and one table per variable; "
                             f"got {n} variables, {len(net.parents)} parent tuples and "
                             f"{len(net.tables)} tables")
    names = [v.name for v in net.variables]
    for i, ps in enumerate(net.parents):
        bad = [p for p in ps if not (isinstance(p, (int, np.integer)) and 0 <= p < n)
               or p == i]
        if bad or len(set(ps)) != len(ps):
            raise InvalidNetwork(f"node {names[i]!r} has parent indices {list(ps)!r}; expected "
                                 f"distinct indices of other variables in 0..{n - 1}")
    if not _is_acyclic(net.parents):  # networkx only to name the cycle
        _check_acyclic(names, [(names[p], names[i]) for i, ps in enumerate(net.parents)
                               for p in ps])
    tables = []
    for i, table in enumerate(net.tables):
        fam = net.family(i)
        shape = tuple(net.variables[k].cardinality for k in fam)
        values = np.asarray(table, dtype=float)
        if values.shape != shape:
            raise InvalidNetwork(f"table of {names[i]!r} has shape {values.shape}; expected "
                                 f"{shape} over its family {[names[k] for k in fam]!r}")
        node_axis = fam.index(i)
        sums = values.sum(axis=node_axis, keepdims=True)
        if not (values.min() > 0 and np.isfinite(sums).all()
                and np.abs(sums - 1.0).max() <= _ROW_TOLERANCE):  # checked again to name it
            _check_rows(names[i], np.moveaxis(values, node_axis, 0),
                        [names[k] for k in fam if k != i])
        tables.append(values / sums)
    return Network(net.variables, tuple(tuple(sorted(int(p) for p in ps))
                                        for ps in net.parents), tuple(tables))


def _is_acyclic(parents: Sequence[Sequence[int]]) -> bool:
    """Whether the parent lists form a DAG (Kahn's algorithm)."""
    children: list[list[int]] = [[] for _ in parents]
    waiting = [len(ps) for ps in parents]
    for i, ps in enumerate(parents):
        for p in ps:
            children[p].append(i)
    ready = [i for i, k in enumerate(waiting) if k == 0]
    done = 0
    while ready:
        u = ready.pop()
        done += 1
        for c in children[u]:
            waiting[c] -= 1
            if waiting[c] == 0:
                ready.append(c)
    return done == len(parents)


def _from_edges(edges: Sequence[Any], states: Mapping[str, Sequence[Any]]) -> Network:
    pairs = []
    for e in edges:
        if not (isinstance(e, Sequence) and not isinstance(e, str) and len(e) == 2):
            raise InvalidNetwork(f"an edge is a (parent, child) pair, got {e!r}")
        pairs.append((e[0], e[1]))
    names: list[str] = []
    for u, v in pairs:
        for n in (u, v):
            if n not in names:
                names.append(n)
    for n in states:
        if n not in names:
            names.append(n)
    _check_acyclic(names, pairs)
    variables = tuple(_validated_variable(n, states.get(n, DEFAULT_STATES)) for n in names)
    index = {n: i for i, n in enumerate(names)}
    parents = [[] for _ in names]
    for u, v in pairs:
        if index[u] not in parents[index[v]]:
            parents[index[v]].append(index[u])
    tables = []
    for i, v in enumerate(variables):
        fam = sorted([i, *parents[i]])
        shape = tuple(variables[k].cardinality for k in fam)
        tables.append(np.full(shape, 1.0 / v.cardinality))
    return Network(variables, tuple(tuple(sorted(p)) for p in parents), tuple(tables))


def _from_bif(path: str) -> Network:
    if not os.path.exists(path):
        raise InvalidNetwork(f"no BIF file at {path!r}")
    from pgmpy.readwrite import BIFReader

    try:
        model = BIFReader(path).get_model()
    except Exception as exc:  # noqa: BLE001 (pgmpy raises many types on malformed files)
        raise InvalidNetwork(f"could not read BIF file {path!r}: {exc}") from None
    return _from_pgmpy(model)


def _from_pgmpy(model: Any, states: Mapping[str, Sequence[Any]] | None = None) -> Network:
    names = list(model.nodes())
    _check_acyclic(names, list(model.edges()))
    cpds = {cpd.variable: cpd for cpd in model.get_cpds()}
    if not cpds:  # structure only: uniform CPDs
        states = states or {}
        return _from_edges(list(model.edges()), {
            **{n: states.get(n, DEFAULT_STATES) for n in names},
            **{n: s for n, s in states.items() if n not in names}})
    missing = [n for n in names if n not in cpds]
    if missing:
        raise InvalidNetwork(f"node(s) {missing!r} have no CPD; expected one per node")
    variables = []
    for n in names:
        cpd = cpds[n]
        variables.append(_validated_variable(n, cpd.state_names.get(n, range(cpd.cardinality[0]))
                                             if cpd.state_names else range(cpd.cardinality[0])))
    index = {n: i for i, n in enumerate(names)}
    parents, tables = [], []
    for i, n in enumerate(names):
        cpd = cpds[n]
        evidence = list(cpd.variables[1:])
        expected = set(model.get_parents(n))
        if set(evidence) != expected:
            raise InvalidNetwork(f"CPD of {n!r} is conditioned on {evidence!r}, but the node's "
                                 f"parents are {sorted(expected)!r}")
        for e in evidence:
            want = variables[index[e]].states
            got = tuple(str(s) for s in cpd.state_names.get(e, range(len(want)))) \
                if cpd.state_names else want
            if got != want:
                raise InvalidNetwork(f"CPD of {n!r} names the states of {e!r} {list(got)!r}; "
                                     f"its own CPD has {list(want)!r}")
        values = np.asarray(cpd.values, dtype=float)  # axes: node, *evidence
        _check_rows(n, values, evidence)
        # rows within the tolerance are renormalised: the prior is exactly the model's
        values = values / values.sum(axis=0, keepdims=True)
        axes = [i] + [index[e] for e in evidence]
        order = np.argsort(axes)
        tables.append(np.ascontiguousarray(np.transpose(values, order)))
        parents.append(tuple(sorted(index[e] for e in evidence)))
    return Network(tuple(variables), tuple(parents), tuple(tables))


def _check_rows(name: str, values: np.ndarray, evidence: Sequence[str]) -> None:
    if not np.all(np.isfinite(values)):
        raise InvalidNetwork(f"CPD of {name!r} has a NaN or infinite entry")
    if np.any(values <= 0):
        raise InvalidNetwork(
            f"CPD of {name!r} has an entry <= 0; market prices must lie strictly between 0 "
            "and 1, so every conditional probability must be positive")
    sums = values.reshape(values.shape[0], -1).sum(axis=0)
    bad = np.flatnonzero(np.abs(sums - 1.0) > _ROW_TOLERANCE)
    if bad.size:
        k = int(bad[0])
        where = np.unravel_index(k, values.shape[1:]) if evidence else ()
        config = dict(zip(evidence, (int(x) for x in where)))
        raise InvalidNetwork(
            f"CPD of {name!r}: probabilities given {config or 'no parents'} sum to "
            f"{float(sums[k]):.6g}; expected every row to sum to 1")


def to_pgmpy(variables: Sequence[Variable], parents: Sequence[Sequence[int]],
             tables: Sequence[np.ndarray]) -> Any:
    """Build a pgmpy ``DiscreteBayesianNetwork`` from family tables (see :class:`Network`).

    ``tables[i]`` is the joint (or conditional) table over the sorted family of ``i``; it is
    normalised over node ``i`` here.
    """
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    names = [v.name for v in variables]
    model = DiscreteBayesianNetwork()
    model.add_nodes_from(names)
    model.add_edges_from((names[p], names[i]) for i, ps in enumerate(parents) for p in ps)
    cpds = []
    for i, ps in enumerate(parents):
        fam = sorted([i, *ps])
        table = np.asarray(tables[i], dtype=float)
        order = [fam.index(i)] + [fam.index(p) for p in ps]
        t = np.transpose(table, order)
        card = variables[i].cardinality
        sums = t.sum(axis=0, keepdims=True)
        # parent configurations ruled out by observations get a uniform row (never used)
        t = np.where(sums > 0, t / np.where(sums > 0, sums, 1.0), 1.0 / card)
        cpds.append(TabularCPD(
            names[i], card, t.reshape(card, -1),
            evidence=[names[p] for p in ps] or None,
            evidence_card=[variables[p].cardinality for p in ps] or None,
            state_names={names[k]: list(variables[k].states) for k in [i, *ps]}))
    model.add_cpds(*cpds)
    return model


def uniform_log_size(variables: Sequence[Variable], axes: Sequence[int]) -> float:
    """:math:`\\log \\prod_{i \\in \\text{axes}} n_i`."""
    return float(sum(math.log(variables[a].cardinality) for a in axes))
