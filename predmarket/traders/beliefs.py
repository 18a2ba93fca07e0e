"""Beliefs a trader holds: an explicit joint over an outcome space, or a pgmpy network."""

from __future__ import annotations

from typing import Any

import numpy as np

from predmarket.errors import ImpossibleEvent, InvalidInput

__all__ = ["JointBelief", "chain_questions", "marginal_questions"]


class JointBelief:
    """A probability distribution over the flat joint of an outcome space.

    Parameters
    ----------
    space : OutcomeSpace
    probabilities : array_like
        Non-negative, summing to 1 (C order, as everywhere in predmarket).

    Examples
    --------
    >>> from predmarket import OutcomeSpace, Variable
    >>> space = OutcomeSpace([Variable("a", ["0", "1"]), Variable("b", ["0", "1"])])
    >>> belief = JointBelief(space, [0.1, 0.2, 0.3, 0.4])
    >>> round(belief.probability("a == 1"), 3), round(belief.probability("b == 1", "a == 1"), 3)
    (0.7, 0.571)
    """

    def __init__(self, space, probabilities):
        p = np.asarray(probabilities, dtype=float).ravel()
        if p.shape != (space.size,) or not np.all(np.isfinite(p)) or np.any(p < 0) \
                or not np.isclose(p.sum(), 1.0, atol=1e-9):
            raise InvalidInput(
                f"a joint belief needs {space.size} non-negative probabilities summing to 1, "
                f"got shape {p.shape}")
        self.space = space
        self.p = p / p.sum()
        self.p.setflags(write=False)

    def probability(self, event: Any, given: Any = None) -> float:
        """:math:`P(A)` or :math:`P(A \\mid B)` under the belief."""
        a = self.space.event(event).mask
        if given is None:
            return float(self.p[a].sum())
        b = self.space.event(given).mask
        pb = float(self.p[b].sum())
        if pb <= 0:
            raise ImpossibleEvent(f"the belief gives the condition {given!r} probability 0")
        return float(self.p[a & b].sum()) / pb

    def posterior(self, likelihood) -> JointBelief:
        """Bayes' rule: the belief times a likelihood over the joint, renormalised."""
        w = self.p * np.asarray(likelihood, dtype=float).ravel()
        if w.shape != self.p.shape or not np.all(np.isfinite(w)) or w.sum() <= 0:
            raise InvalidInput("the likelihood must be finite, non-negative and not zero "
                               "on every outcome the belief allows")
        return JointBelief(self.space, w / w.sum())

    @classmethod
    def from_pgmpy(cls, model, space) -> JointBelief:
        """The joint of a pgmpy discrete Bayesian network, laid out like ``space``.

        The network's variables must be the space's, with the same state names (as text).
        Exact: the product of every CPD, by variable elimination.
        """
        from pgmpy.inference import VariableElimination

        model.check_model()
        names = list(space.names)
        if set(model.nodes()) != set(names):
            raise InvalidInput(f"the network's variables {sorted(model.nodes())!r} are not "
                               f"the space's {sorted(names)!r}")
        factor = VariableElimination(model).query(names, joint=True, show_progress=False)
        out = np.zeros(space.shape)
        index_maps = []
        for name in factor.variables:
            states = [str(s) for s in factor.state_names[name]]
            var = space.variable(name)
            if sorted(states) != sorted(var.states):
                raise InvalidInput(f"variable {name!r}: the network's states {states!r} are "
                                   f"not the space's {list(var.states)!r}")
            index_maps.append([var.index(s) for s in states])
        axes = [names.index(n) for n in factor.variables]
        values = np.asarray(factor.values, dtype=float)
        for idx in np.ndindex(values.shape):
            target = [0] * len(names)
            for pos, (ax, i) in enumerate(zip(axes, idx)):
                target[ax] = index_maps[pos][i]
            out[tuple(target)] = values[idx]
        return cls(space, out.ravel() / out.sum())


def _state_questions(var, prefix: str | None) -> list[tuple[str, str | None]]:
    """:math:`P(X = s_j \\mid \\text{prefix}, X \\notin \\{s_0..s_{j-1}\\})` for every state
    but the last: targeting them in order sets the whole conditional distribution of
    :math:`X`, because a conditional trade leaves the condition's probability and
    everything outside it unchanged."""
    out = []
    for j, s in enumerate(var.states[:-1]):
        parts = ([prefix] if prefix else []) + [
            f"{var.name} != {_quote(t)}" for t in var.states[:j]]
        out.append((f"{var.name} == {_quote(s)}", " & ".join(parts) if parts else None))
    return out


def marginal_questions(space) -> list[tuple[str, str | None]]:
    """Each variable's distribution, as :func:`chain_questions` asks it, without
    conditioning on other variables.

    >>> from predmarket import OutcomeSpace, Variable
    >>> marginal_questions(OutcomeSpace([Variable("t", ["lo", "mid", "hi"])]))
    [('t == "lo"', None), ('t == "mid"', 't != "lo"')]
    """
    return [q for var in space for q in _state_questions(var, None)]


def chain_questions(space, *, limit: int = 256) -> list[tuple[str, str | None]]:
    """The chain-rule decomposition: :math:`P(X_i = s \\mid X_1..X_{i-1})` for every state
    but the last (conditioned on not being an earlier state) and every assignment of the
    earlier variables.

    Setting every one of these prices to a belief's values sets the market's whole joint
    to the belief. Raises if there would be more than ``limit`` questions.

    >>> from predmarket import OutcomeSpace, Variable
    >>> space = OutcomeSpace([Variable("a", ["0", "1"]), Variable("b", ["0", "1"])])
    >>> chain_questions(space)
    [('a == "0"', None), ('b == "0"', 'a == "0"'), ('b == "0"', 'a == "1"')]
    """
    questions: list[tuple[str, str | None]] = []
    prefixes: list[str | None] = [None]
    for var in space:
        for prefix in prefixes:
            questions.extend(_state_questions(var, prefix))
        if len(questions) > limit:
            raise InvalidInput(f"the chain decomposition has more than {limit} questions; "
                               "pass questions explicitly")
        prefixes = [(f"{p} & " if p else "") + f"{var.name} == {_quote(s)}"
                    for p in prefixes for s in var.states]
    return questions


def _quote(state: str) -> str:
    import json

    return json.dumps(str(state))
