"""Trader-programs and their simulation: views, orders, the simulation loop, recording,
sweeps and the trader checker.

A trader is a callable ``trader(view) -> orders`` (or an object with ``act(view)``); it
sees a read-only :class:`MarketView` and answers with :class:`Buy`, :class:`Sell`,
:class:`Edit` and :class:`Target` orders.
"""

from predmarket.sim.checker import check_trader
from predmarket.sim.orders import Buy, Edit, Order, Refusal, Sell, Target, as_orders
from predmarket.sim.protocol import MarketLike
from predmarket.sim.recorder import Recorder
from predmarket.sim.simulation import Fault, Simulation, SimulationResult
from predmarket.sim.sweep import sweep
from predmarket.sim.view import AccountView, MarketView, PublicTrade
from predmarket.sim.worlds import JointWorld, PgmpyWorld, World

__all__ = [
    "AccountView",
    "Buy",
    "Edit",
    "Fault",
    "JointWorld",
    "MarketLike",
    "MarketView",
    "Order",
    "PgmpyWorld",
    "PublicTrade",
    "Recorder",
    "Refusal",
    "Sell",
    "Simulation",
    "SimulationResult",
    "Target",
    "World",
    "as_orders",
    "check_trader",
    "sweep",
]
