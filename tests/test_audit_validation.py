"""Numbers given to the latent tools and the subsidy layer go through the shared
``finite_number`` validator: anything that is not a finite number is refused with a
predmarket error naming the argument, and nothing changes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from predmarket import Market, OutcomeSpace, Variable
from predmarket.errors import InvalidAmount, InvalidInput
from predmarket.latent import geometric_mixture
from predmarket.subsidy import Sponsor, SubsidyRouter, value_of_information

NOT_NUMBERS = [None, "abc", [1.0], True, math.nan, math.inf]


def beliefs() -> Market:
    space = OutcomeSpace([Variable("x", ["0", "1"]), Variable("y", ["0", "1"])])
    return Market(space, 1.0, prior=[0.4, 0.1, 0.1, 0.4])


@pytest.mark.parametrize("value", NOT_NUMBERS)
def test_router_numbers_are_finite_numbers(value):
    with pytest.raises(InvalidAmount, match="budget"):
        SubsidyRouter("uniform").route(beliefs(), "x", ["y"], value)
    with pytest.raises(InvalidAmount, match="root_share"):
        SubsidyRouter("uniform", root_share=value)
    if value is not None:  # None means the market's own liquidity
        with pytest.raises(InvalidAmount, match="liquidity"):
            value_of_information(beliefs(), "x", "y", liquidity=value)


@pytest.mark.parametrize("value", NOT_NUMBERS)
def test_sponsor_amounts_are_finite_numbers(value):
    with pytest.raises(InvalidAmount, match="budget"):
        Sponsor(value)
    sponsor = Sponsor(1.0)
    sponsor.open_wallet("ann", 2.0)
    sponsor.fund("m", Market(OutcomeSpace([Variable("x", ["0", "1"])]), 0.5))
    before = (len(sponsor.ledger), sponsor.wallet("ann"), sponsor.committed)
    with pytest.raises(InvalidAmount, match="cash"):
        sponsor.open_wallet("bob", value)
    with pytest.raises(InvalidAmount, match="cash"):
        sponsor.join("ann", "m", value)
    assert (len(sponsor.ledger), sponsor.wallet("ann"), sponsor.committed) == before
    sponsor.check()


@pytest.mark.parametrize("value", NOT_NUMBERS + [-0.1, 1.5])
def test_geometric_mixture_weight_is_a_number_in_the_unit_interval(value):
    with pytest.raises(InvalidInput, match="weight"):
        geometric_mixture([0.5, 0.5], [0.9, 0.1], value)


def test_valid_numbers_still_work():
    assert SubsidyRouter("uniform", root_share=np.float64(0.25)).root_share == 0.25
    assert math.isclose(value_of_information(beliefs(), "x", "y", liquidity=2),
                        2 * value_of_information(beliefs(), "x", "y", liquidity=1))
    assert geometric_mixture([0.5, 0.5], [0.9, 0.1], 1).tolist() == pytest.approx([0.9, 0.1])


def test_sponsor_check_runs_under_python_optimise():
    """Sponsor.check() must verify even when ``assert`` statements are stripped (-O)."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    code = (
        "from predmarket import Market, OutcomeSpace, Variable\n"
        "from predmarket.subsidy import Sponsor\n"
        "s = Sponsor(2.0)\n"
        "m = s.fund('root', Market(OutcomeSpace([Variable('x', ['0', '1'])]), 1.0))\n"
        "m.open_account('stranger', 5.0)\n"  # money that never entered the ledger
        "m.target('stranger', 'x == 1', 0.9)\n"
        "try:\n"
        "    s.check()\n"
        "except AssertionError as exc:\n"
        "    print('caught', exc)\n")
    out = subprocess.run([sys.executable, "-O", "-c", code], capture_output=True, text=True,
                         cwd=root, env={"PYTHONPATH": str(root), "PATH": ""}, timeout=120,
                         check=True)
    assert "caught market 'root' holds" in out.stdout


@pytest.mark.parametrize("kwargs, word", [
    ({"n_classes": True}, "n_classes"),
    ({"n_classes": 0}, "n_classes"),
    ({"n_starts": 1.5}, "n_starts"),
    ({"max_iter": False}, "max_iter"),
    ({"tol": math.nan}, "tol"),
    ({"tol": -1.0}, "tol"),
    ({"tol": "small"}, "tol"),
])
def test_fit_latent_class_arguments(kwargs, word):
    from predmarket.latent import fit_latent_class

    observed = np.full((2, 2, 2), 1 / 8)
    with pytest.raises(InvalidInput, match=word):
        fit_latent_class(observed, **{"n_classes": 2, "rng": 0, **kwargs})
