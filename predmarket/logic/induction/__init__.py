"""Logical induction (Garrabrant et al. 2016): traders, budgeter, trading firm, market maker.

* :mod:`~predmarket.logic.induction.features` -- expressible features of prices;
* :mod:`~predmarket.logic.induction.traders` -- feature-valued traders and generic families;
* :mod:`~predmarket.logic.induction.budgeter` -- the Budgeter;
* :mod:`~predmarket.logic.induction.firm` -- the TradingFirm;
* :mod:`~predmarket.logic.induction.market_maker` -- the MarketMaker step and its verifier;
* :mod:`~predmarket.logic.induction.inductor` -- the day loop, :class:`LogicalInductor`.

References
----------
.. [1] S. Garrabrant, T. Benson-Tilsen, A. Critch, N. Soares, J. Taylor, "Logical
   induction", arXiv:1609.03543 v5 (2016).
"""

from predmarket.logic.induction.budgeter import TraderAccount, budget_factor
from predmarket.logic.induction.features import (
    Feature,
    FeatureProgram,
    clip,
    constant,
    fmax,
    fmin,
    indicator,
    price,
    safe_reciprocal,
)
from predmarket.logic.induction.firm import TradingFirm
from predmarket.logic.induction.inductor import LogicalInductor
from predmarket.logic.induction.market_maker import (
    MarketMakerResult,
    solve_prices,
    verify_prices,
    worst_case_value,
)
from predmarket.logic.induction.traders import (
    AffineTrader,
    ClippedLinearTrader,
    FunctionTrader,
    ThresholdTrader,
    Trader,
    TradingContext,
    affine_family,
    dyadic_thresholds,
    threshold_family,
)

__all__ = [
    "AffineTrader",
    "ClippedLinearTrader",
    "Feature",
    "FeatureProgram",
    "FunctionTrader",
    "LogicalInductor",
    "MarketMakerResult",
    "ThresholdTrader",
    "Trader",
    "TraderAccount",
    "TradingContext",
    "TradingFirm",
    "affine_family",
    "budget_factor",
    "clip",
    "constant",
    "dyadic_thresholds",
    "fmax",
    "fmin",
    "indicator",
    "price",
    "safe_reciprocal",
    "solve_prices",
    "threshold_family",
    "verify_prices",
    "worst_case_value",
]
