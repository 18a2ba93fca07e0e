"""Market makers: the state behind a market's prices."""

from predmarket.makers.joint import DEFAULT_MAX_OUTCOMES, JointMaker, MovePlan

__all__ = ["DEFAULT_MAX_OUTCOMES", "JointMaker", "MovePlan"]
