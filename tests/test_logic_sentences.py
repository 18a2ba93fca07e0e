"""Sentences: parsing, canonical form (value equality, never identity), special atoms."""

from __future__ import annotations

import itertools
import pickle

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy.logic.boolalg import truth_table

from predmarket.errors import EventSyntaxError, InvalidInput
from predmarket.logic import (
    atoms_of,
    digit_of_pi,
    is_price_atom,
    is_prime,
    negate,
    parse_sentence,
    price_atom,
    self_referential,
    sentence_to_string,
)
from predmarket.logic.facts import fact, pi_digits

A, B, C = sympy.symbols("A B C")
NAMES = ["A", "B", "C", "D"]


PY_OPS = {"&": "and", "|": "or", "^": "!=", "->": "<=", "<->": "=="}


def formulas():
    """Pairs (sentence text, the same formula as a Python expression), built side by side."""
    leaves = st.sampled_from(NAMES + ["True", "False"]).map(lambda n: (n, n))

    def extend(children):
        return st.one_of(
            children.map(lambda x: (f"~{x[0]}", f"(not {x[1]})")),
            st.tuples(children, st.sampled_from(sorted(PY_OPS)), children).map(
                lambda t: (f"({t[0][0]} {t[1]} {t[2][0]})", f"({t[0][1]} {PY_OPS[t[1]]} {t[2][1]})")
            ),
        )

    return st.recursive(leaves, extend, max_leaves=8)


def test_parse_operators_and_precedence():
    assert parse_sentence("A & ~B") == sympy.And(A, sympy.Not(B))
    assert parse_sentence("A -> B") == sympy.Or(sympy.Not(A), B)
    assert parse_sentence("A -> B -> C") == parse_sentence("A -> (B -> C)")
    assert parse_sentence("A | B & C") == sympy.Or(A, sympy.And(B, C))
    assert parse_sentence("A ^ B & C") == sympy.Xor(A, sympy.And(B, C))
    assert parse_sentence("not A and B or C") == parse_sentence("(~A & B) | C")
    assert parse_sentence("A <=> B") == parse_sentence("B <-> A")
    assert parse_sentence("True & A") == A
    assert parse_sentence(True) == sympy.true


def test_equal_formulas_are_equal_and_hash_equal():
    forms = ["A -> B", "~A | B", "B | ~A", "(B) | (~A)", "~~(~A | B)"]
    parsed = [parse_sentence(f) for f in forms]
    assert len(set(parsed)) == 1
    assert len({hash(p) for p in parsed}) == 1
    assert parse_sentence(sympy.Implies(A, B)) == parsed[0]
    assert parse_sentence(sympy.ITE(A, B, C)) == parse_sentence("(A & B) | (~A & C)")
    assert parse_sentence(sympy.Nand(A, B)) == negate("A & B")


@settings(max_examples=300)
@given(formulas())
def test_parse_preserves_truth_table(pair):
    text, python = pair
    sentence = parse_sentence(text)
    for bits in itertools.product([False, True], repeat=len(NAMES)):
        values = dict(zip(NAMES, bits, strict=True))
        subs = {sympy.Symbol(k): v for k, v in values.items()}
        assert bool(sentence.xreplace(subs)) == bool(eval(python, {}, values))


@settings(max_examples=300)
@given(formulas())
def test_string_round_trip_and_idempotence(pair):
    sentence = parse_sentence(pair[0])
    assert parse_sentence(sentence) == sentence
    assert parse_sentence(sentence_to_string(sentence)) == sentence
    assert negate(negate(sentence)) == sentence
    assert pickle.loads(pickle.dumps(sentence)) == sentence


@pytest.mark.parametrize(
    "bad", ["", "A &", "& A", "(A", "A)", "A B", "A $ B", "1A", "A -> ", "and", "~"]
)
def test_malformed_strings_raise_syntax_error(bad):
    with pytest.raises(EventSyntaxError, match="sentence"):
        parse_sentence(bad)


@pytest.mark.parametrize(
    "bad",
    [
        3,
        None,
        1.5,
        sympy.Symbol("x") + 1,
        sympy.Symbol("x") < 2,
        sympy.Symbol("a b"),
        sympy.Symbol("p", positive=True),
        sympy.Dummy("d"),
    ],
)
def test_non_sentences_raise_invalid_input(bad):
    with pytest.raises(InvalidInput):
        parse_sentence(bad)


def test_atoms_of():
    assert atoms_of("A -> (B | ~A)") == frozenset({A, B})
    a = price_atom("A & C", 2, 0.5)
    assert atoms_of(sympy.And(a, B)) == frozenset({a, B})
    assert atoms_of("True") == frozenset()


def test_price_atoms_compare_by_value():
    a = price_atom("A & B", 3, 0.4)
    assert is_price_atom(a) and not is_price_atom(A)
    assert a == price_atom("B & A", 3, 0.4) and hash(a) == hash(price_atom("B & A", 3, 0.4))
    assert a != price_atom("A & B", 4, 0.4)
    assert a != price_atom("A & B", 3, 0.7)
    assert a != sympy.Symbol(a.name)
    assert (a.sentence, a.day, a.threshold) == (sympy.And(A, B), 3, 0.4)
    assert pickle.loads(pickle.dumps(a)) == a
    assert negate(a) == sympy.Not(a)


def test_self_referential_atom_reads_itself():
    chi = self_referential("chi", 7, 0.7)
    assert chi.sentence is chi and chi.self_referential
    assert chi == self_referential("chi", 7, 0.7)
    assert chi != self_referential("chi", 8, 0.7)
    s = parse_sentence("chi -> A", atoms={"chi": chi})
    assert chi in atoms_of(s)
    with pytest.raises(InvalidInput, match="share the name"):
        parse_sentence(sympy.And(chi, self_referential("chi", 8, 0.7)))


@pytest.mark.parametrize(
    "args",
    [
        ("A", 0, 0.4),
        ("A", 1.5, 0.4),
        ("A", 2, 0.0),
        ("A", 2, 1.0),
        ("A", 2, float("nan")),
        ("A", 2, "x"),
        ("A &", 1, 0.4),
        ("A", True, 0.4),
    ],
)
def test_price_atom_validation(args):
    with pytest.raises(InvalidInput):
        price_atom(*args)


def test_self_referential_validation():
    for bad in ["", "1x", "a b", "and", 3]:
        with pytest.raises(InvalidInput):
            self_referential(bad, 1, 0.5)


def test_pi_digits_against_known_value():
    known = "14159265358979323846264338327950288419716939937510582097494459230781640628620899"
    assert pi_digits(len(known)) == known
    assert str(sympy.pi.evalf(1010))[2:1002] == pi_digits(1000)
    # beyond Python's 4300-digit limit of str(int)
    assert str(sympy.pi.evalf(6020))[2:6002] == pi_digits(6000)
    assert pi_digits(7) == "1415926"


def test_digit_of_pi_respects_budget():
    f = digit_of_pi(100, int(pi_digits(100)[99]))
    assert f.decide(99) is None
    assert f.decide(100) is True
    assert digit_of_pi(100, (int(pi_digits(100)[99]) + 1) % 10).decide(10**4) is False
    with pytest.raises(InvalidInput):
        digit_of_pi(0, 1)
    with pytest.raises(InvalidInput):
        digit_of_pi(3, 10)
    with pytest.raises(InvalidInput):
        f.decide(-1)


@settings(max_examples=200)
@given(st.integers(0, 5000), st.integers(0, 200))
def test_is_prime_agrees_with_sympy_when_it_answers(n, budget):
    answer = is_prime(n).decide(budget)
    if answer is not None:
        assert answer == sympy.isprime(n)
    assert is_prime(n).decide(10**4) == sympy.isprime(n)
    bigger = is_prime(n).decide(budget + 50)
    if answer is not None:
        assert bigger == answer


def test_large_prime_needs_large_budget():
    p = 1_000_000_007
    assert is_prime(p).decide(1000) is None
    assert is_prime(p).decide(20_000) is True
    assert is_prime(p * 3).decide(5) is False
    assert is_prime(5) == is_prime(5) and is_prime(5) != is_prime(7)


def test_custom_fact():
    f = fact("goldbach_100", lambda b: None if b < 10 else True)
    assert f.decide(9) is None and f.decide(10) is True
    bad = fact("bad", lambda b: 3)
    with pytest.raises(InvalidInput, match="must return"):
        bad.decide(1)
    with pytest.raises(InvalidInput):
        fact("ok", 5)


def test_truth_table_helper_sanity():
    # sympy's truth table of a canonical sentence matches the brute-force count of models
    s = parse_sentence("A ^ B ^ C")
    models = sum(1 for _, v in truth_table(s, [A, B, C]) if v)
    assert models == 4


def test_atoms_as_two_state_variables():
    assert parse_sentence('A == "True" & B == yes & C != 0') == parse_sentence("A & B & C")
    assert parse_sentence("A == no | B != on") == parse_sentence("~A | ~B")
    for bad in ["A == maybe", "A ==", "A == (B)", "A != 2"]:
        with pytest.raises(EventSyntaxError):
            parse_sentence(bad)
