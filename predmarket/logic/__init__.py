"""Markets over logical sentences (DESIGN.md sec. 6-7).

Sentences are canonical sympy Boolean formulas (:mod:`~predmarket.logic.sentences`) whose
atoms may be plain propositions, computational facts (:mod:`~predmarket.logic.facts`) or
statements about the market's own prices. Deductive processes
(:mod:`~predmarket.logic.deductive`) prove them day by day; the worlds consistent with the
proofs are found with a SAT solver (:mod:`~predmarket.logic.worlds`).
"""

from predmarket.logic.deductive import (
    CombinedProcess,
    ComputationProcess,
    DeductiveProcess,
    GeneratorProcess,
    ListProcess,
    PriceAtomProcess,
    settle_price_atom,
)
from predmarket.logic.facts import FactAtom, digit_of_pi, fact, is_fact_atom, is_prime
from predmarket.logic.sentences import (
    PriceAtom,
    atoms_of,
    is_price_atom,
    negate,
    parse_sentence,
    price_atom,
    self_referential,
    sentence_to_string,
)

__all__ = [
    "CombinedProcess",
    "ComputationProcess",
    "DeductiveProcess",
    "FactAtom",
    "GeneratorProcess",
    "ListProcess",
    "PriceAtom",
    "PriceAtomProcess",
    "atoms_of",
    "digit_of_pi",
    "fact",
    "is_fact_atom",
    "is_price_atom",
    "is_prime",
    "negate",
    "parse_sentence",
    "price_atom",
    "self_referential",
    "sentence_to_string",
    "settle_price_atom",
]
