"""Worlds: SAT enumeration against brute force, solvers agree, limits, entailment."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from predmarket.errors import InvalidInput, InvalidObservation, SpaceTooLarge, UnknownVariable
from predmarket.logic import parse_sentence
from predmarket.logic.worlds import (
    SatSolver,
    consistent,
    entails,
    enumerate_worlds,
    find_world,
)

MARKET = ["A", "B", "C", "D", "E"]
FOREIGN = ["X", "Y"]
OPS = ["&", "|", "^", "->", "<->"]


def formulas(names):
    leaves = st.sampled_from(names)

    def extend(children):
        return st.one_of(
            children.map(lambda x: f"~{x}"),
            st.tuples(children, st.sampled_from(OPS), children).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"
            ),
        )

    return st.recursive(leaves, extend, max_leaves=5)


theory = st.lists(formulas(MARKET + FOREIGN), max_size=4)


def brute_force(atoms, theorems):
    """Every assignment of atoms + foreign atoms, kept when all theorems hold, projected."""
    parsed = [parse_sentence(t) for t in theorems]
    symbols = [sympy.Symbol(a) for a in atoms]
    foreign = sorted({s for t in parsed for s in t.free_symbols} - set(symbols), key=str)
    worlds = set()
    for bits in itertools.product([False, True], repeat=len(symbols) + len(foreign)):
        values = dict(zip(symbols + foreign, bits, strict=True))
        if all(bool(t.xreplace(values)) for t in parsed):
            worlds.add(bits[: len(symbols)])
    return worlds


def rows(world_set):
    return {tuple(bool(x) for x in r) for r in world_set.table}


@settings(max_examples=150)
@given(theory, st.integers(1, 5))
def test_sat_enumeration_matches_brute_force(theorems, k):
    atoms = MARKET[:k]
    expected = brute_force(atoms, theorems)
    if not expected:
        with pytest.raises(InvalidObservation, match="inconsistent"):
            enumerate_worlds(atoms, theorems)
        assert not consistent(theorems)
        return
    w = enumerate_worlds(atoms, theorems)
    assert len(w) == len(expected)  # no duplicates
    assert rows(w) == expected
    assert consistent(theorems)


@settings(max_examples=40)
@given(theory)
def test_solvers_agree(theorems):
    try:
        a = rows(enumerate_worlds(MARKET[:3], theorems, solver="minisat22"))
    except InvalidObservation:
        a = set()
    try:
        b = rows(enumerate_worlds(MARKET[:3], theorems, solver="sympy"))
    except InvalidObservation:
        b = set()
    try:
        c = rows(enumerate_worlds(MARKET[:3], theorems, solver="cadical153"))
    except InvalidObservation:
        c = set()
    assert a == b == c


@settings(max_examples=150)
@given(theory, formulas(MARKET + FOREIGN))
def test_entailment_matches_brute_force(theorems, sentence):
    names = sorted(set(MARKET + FOREIGN))
    worlds = brute_force(names, theorems)
    s = parse_sentence(sentence)
    symbols = [sympy.Symbol(a) for a in names]
    expected = all(bool(s.xreplace(dict(zip(symbols, w, strict=True)))) for w in worlds)
    assert entails(theorems, sentence) == expected


@settings(max_examples=100)
@given(theory, formulas(MARKET))
def test_truth_is_vectorised_evaluation(theorems, sentence):
    try:
        w = enumerate_worlds(MARKET, theorems)
    except InvalidObservation:
        return
    s = parse_sentence(sentence)
    truth = w.truth(s)
    for i in range(len(w)):
        assert bool(s.xreplace(w.assignment(i))) == bool(truth[i])


@settings(max_examples=100)
@given(st.lists(formulas(MARKET), max_size=2), st.lists(formulas(MARKET + FOREIGN), max_size=3))
def test_consistent_with_narrows_like_brute_force(base, extra):
    try:
        w = enumerate_worlds(MARKET[:4], base)
    except InvalidObservation:
        return
    mask = w.consistent_with(extra)
    allowed = brute_force(MARKET[:4], extra)
    for i in range(len(w)):
        assert bool(mask[i]) == (tuple(bool(x) for x in w.table[i]) in allowed)


def test_free_atoms_cost_no_solver_calls_and_limits_are_explicit():
    atoms = [f"a{i}" for i in range(16)]
    w = enumerate_worlds(atoms, ["a0 -> a1"])
    assert len(w) == 3 * 2**14
    with pytest.raises(SpaceTooLarge, match="max_worlds"):
        enumerate_worlds([f"a{i}" for i in range(40)], [])
    with pytest.raises(SpaceTooLarge, match="max_worlds"):
        enumerate_worlds(atoms, ["a0 | a1 | a2"], max_worlds=1000)
    # a large constrained group is counted by the solver and refused at the limit
    chain = [f"c{i} -> c{i + 1}" for i in range(30)]
    w = enumerate_worlds([f"c{i}" for i in range(31)], chain)
    assert len(w) == 32  # monotone chains: c_i true from some point on
    with pytest.raises(SpaceTooLarge):
        enumerate_worlds([f"c{i}" for i in range(31)], chain, max_worlds=31)


def test_hundreds_of_atoms_with_few_worlds():
    n = 300
    atoms = [f"p{i}" for i in range(n)]
    theorems = [f"p{i} <-> p{i + 1}" for i in range(n - 1)]
    w = enumerate_worlds(atoms, theorems)
    assert len(w) == 2
    assert set(map(tuple, w.table.astype(int).tolist())) == {(0,) * n, (1,) * n}


def test_find_world_and_solver_object():
    assert find_world(["A ^ B", "B"]) == {sympy.Symbol("A"): False, sympy.Symbol("B"): True}
    assert find_world(["A", "~A"]) is None
    s = SatSolver(["A | B"])
    s.block({sympy.Symbol("A"): True, sympy.Symbol("B"): True})
    s.add_sentence("A")
    assert s.solve({}) == {sympy.Symbol("A"): True, sympy.Symbol("B"): False}
    for name in ["auto", "sympy", "glucose4"]:
        assert SatSolver(["A"], solver=name).solve({sympy.Symbol("A"): False}) is None


def test_bad_input():
    with pytest.raises(InvalidInput):
        enumerate_worlds(["A", "A"], [])
    with pytest.raises(InvalidInput):
        enumerate_worlds(["A & B"], [])
    with pytest.raises(InvalidInput):
        enumerate_worlds(["A"], [], max_worlds=0)
    with pytest.raises(InvalidInput):
        enumerate_worlds(["A"], [], solver="nosuch")
    with pytest.raises(InvalidInput):
        enumerate_worlds(["A"], ["A &"])
    with pytest.raises(InvalidObservation):
        enumerate_worlds(["A"], ["False"])
    w = enumerate_worlds(["A"], [])
    with pytest.raises(UnknownVariable):
        w.truth("B")
    assert np.array_equal(w.truth("A | ~A"), [True, True])


def test_sympy_is_the_fallback_without_python_sat(monkeypatch):
    import sys

    from predmarket.logic.worlds import _choose_solver

    monkeypatch.setitem(sys.modules, "pysat", None)
    monkeypatch.setitem(sys.modules, "pysat.solvers", None)
    assert _choose_solver("auto") == "sympy"
    with pytest.raises(InvalidInput, match="python-sat"):
        _choose_solver("minisat22")
    w = enumerate_worlds(["A", "B", "C"], ["A ^ B", "B -> C"])
    assert rows(w) == brute_force(["A", "B", "C"], ["A ^ B", "B -> C"])
