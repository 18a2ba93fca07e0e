"""Trader parameters are validated with the shared validator, and a refused likelihood
leaves a budgeted trader's compute count unchanged."""

from __future__ import annotations

import math

import numpy as np
import pytest

from predmarket import OutcomeSpace, Variable
from predmarket.errors import InvalidAmount, InvalidInput
from predmarket.traders import (
    BayesianTrader,
    ConstantBelief,
    JointBelief,
    MomentumTrader,
    NoiseTrader,
    SamplingTrader,
)

SPACE = OutcomeSpace([Variable("x", ["0", "1"])])
NOT_NUMBERS = [None, "abc", [0.5], True, math.nan, math.inf]


@pytest.mark.parametrize("value", NOT_NUMBERS)
def test_numbers_must_be_finite_numbers(value):
    belief = JointBelief(SPACE, [0.5, 0.5])
    for make, word in [
        (lambda: BayesianTrader(belief, fraction=value), "fraction"),
        (lambda: BayesianTrader(belief, tolerance=value), "tolerance"),
        (lambda: ConstantBelief("x == 1", 0.7, fraction=value), "fraction"),
        (lambda: NoiseTrader(["x == 1"], size=value), "size"),
        (lambda: MomentumTrader(["x == 1"], strength=value), "strength"),
        (lambda: SamplingTrader(belief, None, 5, prior_weight=value), "prior_weight"),
    ]:
        with pytest.raises(InvalidAmount, match=word):
            make()


@pytest.mark.parametrize("tolerance", [-0.1, 1.0, 2.0])
def test_tolerance_must_lie_in_the_unit_interval(tolerance):
    with pytest.raises(InvalidAmount, match="tolerance"):
        BayesianTrader(JointBelief(SPACE, [0.5, 0.5]), tolerance=tolerance)


def test_a_refused_likelihood_spends_no_compute():
    trader = SamplingTrader(JointBelief(SPACE, [0.5, 0.5]), lambda s: [1.0, -1.0], 7)
    with pytest.raises(InvalidInput, match="likelihood"):
        trader.estimate(None, np.random.default_rng(0))
    assert trader.compute == 0
    good = SamplingTrader(JointBelief(SPACE, [0.5, 0.5]), lambda s: [0.2, 0.8], 7)
    good.estimate(None, np.random.default_rng(0))
    assert good.compute == 7


@pytest.mark.parametrize("value", NOT_NUMBERS + [-1e-3])
def test_arbitrageur_tolerance_is_a_non_negative_number(value):
    from predmarket.traders import Arbitrageur

    with pytest.raises(InvalidAmount, match="tolerance"):
        Arbitrageur([[("a", "x == 1"), ("b", "x == 0")]], tolerance=value)
