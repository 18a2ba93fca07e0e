"""Built-in trader-programs.

Each is an object with ``act(view) -> orders`` (see :mod:`predmarket.sim`): Bayesian and
constant-belief traders sized by Kelly, noise and momentum traders, an arbitrageur across
linked markets, and a bounded-rationality trader with an explicit compute budget.
"""

from predmarket.traders.arbitrageur import Arbitrageur
from predmarket.traders.bayesian import BayesianTrader, ConstantBelief, kelly_orders
from predmarket.traders.beliefs import JointBelief, chain_questions, marginal_questions
from predmarket.traders.bounded import GibbsTrader, SamplingTrader
from predmarket.traders.kelly import kelly_price
from predmarket.traders.simple import MomentumTrader, NoiseTrader

__all__ = [
    "Arbitrageur",
    "BayesianTrader",
    "ConstantBelief",
    "GibbsTrader",
    "JointBelief",
    "MomentumTrader",
    "NoiseTrader",
    "SamplingTrader",
    "chain_questions",
    "kelly_orders",
    "kelly_price",
    "marginal_questions",
]
