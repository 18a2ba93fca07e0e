"""Market makers: the state behind a market's prices."""

from predmarket.makers.joint import DEFAULT_MAX_OUTCOMES, JointMaker, MovePlan

__all__ = ["JointMaker", "MovePlan", "DEFAULT_MAX_OUTCOMES"]
