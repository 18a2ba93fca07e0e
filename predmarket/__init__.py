"""predmarket: combinatorial and latent-variable prediction markets.

Trader-programs bet, through an LMSR market maker, on events over joint outcome spaces,
on latent variables that never resolve, and on logical sentences.
"""

from predmarket.errors import PredmarketError
from predmarket.events import Event, atom
from predmarket.ledger import Account, LedgerEntry, Quote
from predmarket.makers import BayesNetMaker, JointMaker
from predmarket.market import BayesNetMarket, Market
from predmarket.spaces import OutcomeSpace, Variable

__version__ = "0.1.0"

__all__ = [
    "Account",
    "BayesNetMaker",
    "BayesNetMarket",
    "Event",
    "JointMaker",
    "LedgerEntry",
    "Market",
    "OutcomeSpace",
    "PredmarketError",
    "Quote",
    "Variable",
    "atom",
]
