"""Deductive processes: cumulative, monotone, canonical refutations, explicit tie rule."""

from __future__ import annotations

import math

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from predmarket.errors import InvalidInput
from predmarket.logic import (
    CombinedProcess,
    ComputationProcess,
    DeductiveProcess,
    GeneratorProcess,
    ListProcess,
    PriceAtomProcess,
    digit_of_pi,
    is_prime,
    negate,
    parse_sentence,
    price_atom,
    self_referential,
    settle_price_atom,
)
from predmarket.logic.facts import pi_digits

NAMES = ["A", "B", "C", "D", "E"]
literal = st.tuples(st.sampled_from(NAMES), st.booleans()).map(
    lambda t: t[0] if t[1] else f"~{t[0]}"
)
schedules = st.lists(st.lists(literal, max_size=3), max_size=6)


@settings(max_examples=200)
@given(schedules, st.integers(0, 10))
def test_list_process_is_cumulative_union(days, day):
    d = ListProcess(days)
    expected = frozenset(parse_sentence(s) for batch in days[:day] for s in batch)
    assert d.theorems(day) == expected
    assert d.theorems(day) <= d.theorems(day + 1)
    assert d.new_theorems(day + 1) == d.theorems(day + 1) - d.theorems(day)
    assert isinstance(d, DeductiveProcess)


@settings(max_examples=200)
@given(schedules)
def test_generator_process_matches_list_process(days):
    consumed = []

    def gen():
        for batch in days:
            consumed.append(batch)
            yield batch

    g = GeneratorProcess(gen())
    assert g.theorems(2) == ListProcess(days).theorems(2)
    assert len(consumed) == min(2, len(days))  # lazy
    for day in range(len(days) + 3):
        assert g.theorems(day) == ListProcess(days).theorems(day)


def test_initial_theorems_and_single_sentences():
    d = ListProcess(["A", ["B", "C -> A"]], initial=["D"])
    assert d.theorems(0) == {parse_sentence("D")}
    assert d.theorems(1) == {parse_sentence("D"), parse_sentence("A")}
    assert parse_sentence("~C | A") in d.theorems(2)


def test_refutation_is_canonical_negation():
    d = ListProcess([["~(A & B)"], ["~~C"]])
    assert negate("B & A") in d.theorems(1)
    assert parse_sentence("C") in d.theorems(2)


def test_list_process_validation():
    for bad in ["A", 3, [[3]], [["A &"]], [[None]]]:
        with pytest.raises(InvalidInput):
            ListProcess(bad)
    d = ListProcess([["A"]])
    for bad_day in [-1, 1.0, "1", True]:
        with pytest.raises(InvalidInput):
            d.theorems(bad_day)


def test_computation_process_grows_with_budget():
    digit = int(pi_digits(50)[49])
    facts = [
        digit_of_pi(50, digit),
        digit_of_pi(50, (digit + 1) % 10),
        is_prime(1_000_003),
        is_prime(1_000_001),
    ]
    d = ComputationProcess(facts, lambda n: 10 * n)
    # day 1: budget 10. 1_000_001 = 101 * 9901 needs 35 trial divisors
    assert d.theorems(1) == frozenset()
    assert d.theorems(4) == {negate(is_prime(1_000_001))}
    assert d.theorems(5) == {negate(is_prime(1_000_001)), facts[0], negate(facts[1])}
    assert d.settled_on(facts[0]) == 5
    # sqrt(1_000_003)/3 ~ 334 divisors
    assert is_prime(1_000_003) not in d.theorems(30)
    assert is_prime(1_000_003) in d.theorems(40)
    assert d.settled_on(is_prime(1_000_003)) in range(31, 41)


def test_computation_process_schedules():
    d = ComputationProcess([is_prime(91)], [1, 2, 4])
    assert [d.budget(n) for n in range(5)] == [0, 1, 2, 4, 4]
    assert d.theorems(3) == {negate(is_prime(91))}
    assert ComputationProcess([is_prime(7)]).budget(3) == 8
    with pytest.raises(InvalidInput):
        ComputationProcess([parse_sentence("A")])
    with pytest.raises(InvalidInput):
        ComputationProcess([is_prime(7)], [])
    with pytest.raises(InvalidInput):
        ComputationProcess([is_prime(7)], [1, -1])
    with pytest.raises(InvalidInput):
        ComputationProcess([is_prime(7)], lambda n: -1).theorems(1)


def test_tie_rule_is_explicit():
    a = price_atom("A", 2, 0.4)
    assert settle_price_atom(a, 0.4) is False
    assert settle_price_atom(a, 0.4, tie_rule="true_at_equality") is True
    assert settle_price_atom(a, math.nextafter(0.4, 0.0)) is True
    assert settle_price_atom(a, math.nextafter(0.4, 1.0)) is False
    for bad in [float("nan"), -0.1, 1.1, "x", None]:
        with pytest.raises(InvalidInput):
            settle_price_atom(a, bad)
    with pytest.raises(InvalidInput):
        settle_price_atom(a, 0.3, tie_rule="round")


def test_price_atom_process_reads_once_with_delay():
    chi = self_referential("chi", 2, 0.4)
    other = price_atom("A & B", 1, 0.7)
    prices = {(2, chi): 0.1, (1, parse_sentence("A & B")): 0.7}
    calls = []

    def lookup(day, sentence):
        calls.append((day, sentence))
        return prices[(day, sentence)]

    d = PriceAtomProcess(lookup, atoms=[chi, other])
    assert d.theorems(1) == frozenset()
    assert d.theorems(2) == {negate(other)}  # 0.7 is not < 0.7
    assert d.theorems(3) == {negate(other), chi}
    prices[(2, chi)] = 0.9  # a later change cannot un-prove a settled atom
    assert d.theorems(5) == {negate(other), chi}
    assert len(calls) == 2
    same_day = PriceAtomProcess(lookup, atoms=[other], delay=0)
    assert same_day.theorems(1) == {negate(other)}


def test_price_atom_process_missing_price_is_an_error():
    d = PriceAtomProcess(lambda day, s: None, atoms=[price_atom("A", 1, 0.5)])
    assert d.theorems(1) == frozenset()
    with pytest.raises(InvalidInput, match="no price"):
        d.theorems(2)
    with pytest.raises(InvalidInput):
        PriceAtomProcess(lambda d, s: 0.5, atoms=[sympy.Symbol("A")])
    with pytest.raises(InvalidInput):
        PriceAtomProcess(lambda d, s: 0.5, tie_rule="nearest")
    with pytest.raises(InvalidInput):
        PriceAtomProcess(5)


def test_combined_process_is_union():
    a = ListProcess([["A"], []])
    b = GeneratorProcess([[], ["B"]])
    c = ComputationProcess([is_prime(4)], [10])
    combined = a | b | c
    assert isinstance(combined, CombinedProcess) and len(combined.processes) == 3
    assert combined.theorems(2) == {parse_sentence("A"), parse_sentence("B"), negate(is_prime(4))}
    assert CombinedProcess([["X"]]).theorems(1) == {parse_sentence("X")}
    with pytest.raises(InvalidInput):
        CombinedProcess(42)

    class BadProcess:
        def theorems(self, day):
            return {parse_sentence("A")}

    with pytest.raises(InvalidInput, match="frozenset"):
        CombinedProcess(BadProcess()).theorems(1)
