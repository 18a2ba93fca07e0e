"""Market makers: the state behind a market's prices."""

from predmarket.makers.base import Maker
from predmarket.makers.bayesnet import BayesNetMaker
from predmarket.makers.joint import DEFAULT_MAX_OUTCOMES, JointMaker, MovePlan

__all__ = ["DEFAULT_MAX_OUTCOMES", "BayesNetMaker", "JointMaker", "Maker", "MovePlan"]
