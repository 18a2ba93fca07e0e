"""Markets over logical sentences (DESIGN.md sec. 6-7).

Sentences are canonical sympy Boolean formulas (:mod:`~predmarket.logic.sentences`) whose
atoms may be plain propositions, computational facts (:mod:`~predmarket.logic.facts`) or
statements about the market's own prices. Deductive processes
(:mod:`~predmarket.logic.deductive`) prove them day by day; the worlds consistent with the
proofs are found with a SAT solver (:mod:`~predmarket.logic.worlds`). A
:class:`~predmarket.logic.worlds_market.WorldsMarket` is an LMSR over those worlds, and
:mod:`~predmarket.logic.selfref` prices sentences about the market's own prices. A
:class:`~predmarket.logic.induction.LogicalInductor` (Garrabrant et al. 2016) prices them day
by day from a firm of trader-programs.
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
from predmarket.logic.induction import LogicalInductor, TradingFirm, threshold_family
from predmarket.logic.selfref import GodelianAsset, PriceHistory, close_day
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
from predmarket.logic.worlds import WorldSet, consistent, entails, enumerate_worlds, find_world
from predmarket.logic.worlds_market import WorldsMarket

__all__ = [
    "CombinedProcess",
    "ComputationProcess",
    "DeductiveProcess",
    "FactAtom",
    "GeneratorProcess",
    "GodelianAsset",
    "ListProcess",
    "LogicalInductor",
    "PriceAtom",
    "PriceAtomProcess",
    "PriceHistory",
    "TradingFirm",
    "WorldSet",
    "WorldsMarket",
    "atoms_of",
    "close_day",
    "consistent",
    "digit_of_pi",
    "entails",
    "enumerate_worlds",
    "fact",
    "find_world",
    "is_fact_atom",
    "is_price_atom",
    "is_prime",
    "negate",
    "parse_sentence",
    "price_atom",
    "self_referential",
    "sentence_to_string",
    "settle_price_atom",
    "threshold_family",
]
