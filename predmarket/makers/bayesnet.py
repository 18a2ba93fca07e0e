"""``BayesNetMaker``: an LMSR market maker whose joint is a Bayesian network, kept as
potentials on a compiled junction tree.

State
-----
The LMSR state is :math:`q/b = \\log W + \\text{offset}` with
:math:`W(\\omega) = \\prod_C \\phi_C(\\omega_C)` the junction tree's measure, so

.. math:: C(q) = b\\,(\\text{offset} + \\log Z), \\qquad P(E) = \\frac{\\sum_{\\omega\\in E}
          W(\\omega)}{Z}.

It starts at the network's distribution, :math:`W = \\prod_X P(x\\mid \\mathrm{pa}_X)`,
:math:`C(q_0) = 0`, which is exactly the state of a
:class:`~predmarket.makers.joint.JointMaker` with that joint as prior.

Trades
------
A trade adds :math:`\\Delta` to :math:`q` where :math:`\\Delta` is constant on the parts of
a partition given by events. When every part's variables lie inside one clique :math:`C`,
:math:`\\Delta` is a function of :math:`\\omega_C` and the move multiplies
:math:`\\phi_C` by :math:`e^{\\Delta/b}`: the junction tree (so every conditional
independence it encodes) is preserved, and only messages directed away from :math:`C`
change [1]_. The cost is :math:`b[\\log E_P[e^{\\Delta/b}]]`, read from :math:`C`'s
calibrated belief. When the variables lie in no clique, the maker either refuses
(:class:`~predmarket.errors.CrossCliqueTrade`, naming the variables and the clique sharing
most of them) or, in ``"relink"`` mode, adds the link: it recompiles with the variables as
one clique and carries the current distribution over exactly (every old clique lies in a
new one, so :math:`P = \\prod \\beta_C / \\prod \\mu_S` re-factorises).

Structure of the network
------------------------
A move whose :math:`\\Delta` lies in the family of a node :math:`X` and satisfies
:math:`E_P[e^{\\Delta/b}\\mid \\mathrm{pa}_X] = k` for every parent configuration changes
only :math:`X`'s CPT, :math:`P'(x\\mid\\mathrm{pa}) = P(x\\mid\\mathrm{pa})e^{\\Delta/b}/k`,
and leaves the network's DAG valid (Pennock & Xia's structure-preserving trades [2]_;
Hanson's edit of :math:`P(X=x\\mid \\mathrm{pa}_X=c)` is one). Other in-clique moves keep the
junction tree but not the DAG; :meth:`BayesNetMaker.to_pgmpy` then exports a DAG read off
the junction tree.

References
----------
.. [1] W. Sun, R. Hanson, K. B. Laskey, C. Twardy, "Probability and asset updating using
   Bayesian networks for combinatorial prediction markets", UAI 2012.
.. [2] D. M. Pennock, L. Xia, "Price updating in combinatorial prediction markets with
   Bayesian networks", UAI 2011.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from predmarket.errors import (
    CrossCliqueTrade,
    InvalidAmount,
    InvalidInput,
    InvalidNetwork,
    SpaceTooLarge,
)
from predmarket.events import Event
from predmarket.junction import JunctionTree, compile_structure
from predmarket.junction.tree import MAX_TABLE
from predmarket.makers.network import Network, read_network, to_pgmpy, validate_network
from predmarket.scoring import check_liquidity
from predmarket.spaces import OutcomeSpace

__all__ = ["CROSS_CLIQUE_MODES", "BayesNetMaker", "FactoredPlan"]

CROSS_CLIQUE_MODES = ("refuse", "relink")


def _lse(values: list[float]) -> float:
    top = max(values)
    if top == -math.inf:
        return -math.inf
    return top + math.log(math.fsum(math.exp(x - top) for x in values))


@dataclass(frozen=True)
class FactoredMasses:
    """Log masses of a partition's parts, all inside clique ``clique``."""

    clique: int
    variables: tuple[int, ...]
    log_masses: list
    tables: list  # each part's indicator, broadcast over the clique
    version: int


@dataclass(frozen=True)
class FactoredPlan:
    """A priced move on one clique: ``log_factor`` (clique-shaped, :math:`\\Delta/b`)."""

    cost: float
    clique: int
    log_factor: np.ndarray
    version: int


class BayesNetMaker:
    """LMSR market maker over a Bayesian network (junction-tree representation).

    Parameters
    ----------
    network : Network, pgmpy model, BIF path or edge list
        See :func:`~predmarket.makers.network.read_network`.
    liquidity : float
        Hanson's :math:`b > 0`.
    cross_clique : {"refuse", "relink"}
        What a trade outside every clique does: raise
        :class:`~predmarket.errors.CrossCliqueTrade`, or add the link and recompile.
    heuristic : {"min_degree", "min_fill"}
        Triangulation heuristic (networkx).
    states : mapping, optional
        States per node, for a bare edge list.

    Examples
    --------
    >>> maker = BayesNetMaker([("rain", "wet")], 10.0)
    >>> e = maker.space.event("wet == yes")
    >>> round(maker.probability(e), 3)
    0.5
    >>> plan = maker.plan([e, ~e], [5.0, 0.0])
    >>> round(plan.cost, 4), round(maker.commit(plan), 4)
    (2.8093, 2.8093)
    >>> round(maker.probability(e), 4)
    0.6225
    """

    def __init__(self, network: Any, liquidity: float, *, cross_clique: str = "refuse",
                 heuristic: str = "min_degree", states: Mapping[str, Sequence[Any]] | None = None):
        if isinstance(network, Network) and states is not None:
            raise InvalidNetwork("states= applies only to a bare structure; a Network "
                                 "already lists its variables' states")
        self.network = validate_network(network) if isinstance(network, Network) \
            else read_network(network, states=states)
        self.liquidity = check_liquidity(liquidity)
        if cross_clique not in CROSS_CLIQUE_MODES:
            raise InvalidInput(f"cross_clique must be one of {list(CROSS_CLIQUE_MODES)!r}, "
                               f"got {cross_clique!r}")
        self.cross_clique = cross_clique
        self.heuristic = heuristic
        self.space = OutcomeSpace(self.network.variables)
        self.cards = self.space.shape
        self.families = [self.network.family(i) for i in range(len(self.cards))]
        self._children: list[list[int]] = [[] for _ in self.cards]
        for i, ps in enumerate(self.network.parents):
            for p in ps:
                self._children[p].append(i)
        self.links: list[tuple[int, ...]] = []  # cliques added by relinking
        # one entry per relink: (old clique variables, new clique variables) per old clique
        self.relinks: list[list[tuple[tuple[int, ...], tuple[int, ...]]]] = []
        self.tree = self._compile()
        for i, fam in enumerate(self.families):
            c = self.tree.clique_of(fam)
            self.tree.multiply(c, self.tree.expand(c, fam, self.network.tables[i]))
        self.tree.calibrate()
        self._offset = -self.tree.log_partition()  # C(q0) = 0 (Z = 1 up to rounding)
        self._evidence: dict[int, int] = {}
        self._version = 0
        self.dag_valid = True  # the network's DAG still describes the distribution

    def _compile(self, tree: JunctionTree | None = None) -> JunctionTree:
        structure = compile_structure(len(self.cards), self.families,
                                      extra_cliques=self.links, heuristic=self.heuristic)
        return JunctionTree(self.cards, structure)

    # -- queries ---------------------------------------------------------------------
    @property
    def size(self) -> int:
        return self.space.size

    def cost(self) -> float:
        """:math:`C(q)`."""
        return self.liquidity * (self._offset + self.tree.log_partition())

    def _event_clique(self, events: Sequence[Event], *, trade: bool) -> int:
        axes = sorted({a for e in events for a in e.axes})
        c = self.tree.clique_of(axes)
        if c is not None:
            return c
        names = [self.space.names[a] for a in axes]
        if trade and self.cross_clique == "relink":
            self.relink(axes)
            c = self.tree.clique_of(axes)
            assert c is not None  # the recompiled tree has a clique holding them
            return c
        near = self.tree.nearest_clique(axes)
        near_names = [self.space.names[a] for a in self.tree.cliques[near]]
        raise CrossCliqueTrade(
            f"variables {names!r} lie in no single clique of the junction tree; the nearest "
            f"clique is {near_names!r} (shares "
            f"{sorted(set(names) & set(near_names))!r}). Trade within one clique, or build "
            "the market with cross_clique='relink' to add the link")

    def event_table(self, event: Event, clique: int) -> np.ndarray:
        """The event's indicator broadcast over ``clique``."""
        return self.tree.expand(clique, event.axes, event.table)

    def log_partition(self, event: Event | None = None) -> float:
        """:math:`\\log \\sum_{\\omega\\in E} e^{q_\\omega/b}` (``-inf`` if unreachable).
        Events across cliques are summed exactly over the covering subtree (bounded
        work, else :class:`~predmarket.errors.SpaceTooLarge`)."""
        base = self._offset + self.tree.log_partition()
        if event is None:
            return base
        p = self.event_probability(event)
        return base + math.log(p) if p > 0 else -math.inf

    def event_probability(self, event: Event) -> float:
        """:math:`P(E)`, exact."""
        if event.is_empty:
            return 0.0
        if not event.axes:
            return 1.0
        c = self.tree.clique_of(event.axes)
        if c is not None:
            return min(1.0, self.tree.clique_probability(c, self.event_table(event, c)))
        table = self.tree.marginal_table(event.axes)
        return min(1.0, float(np.sum(table * event.table)))

    def probability(self, event: Event, given: Event | None = None) -> float:
        """:math:`P(E)`, or :math:`P(E)/P(B)` with ``given`` (pass :math:`A\\wedge B`)."""
        num = self.event_probability(event)
        if given is None:
            return num
        den = self.event_probability(given)
        return 0.0 if num == 0 else min(1.0, num / den)

    def marginal(self, axis: int) -> np.ndarray:
        """Prices of one variable's states."""
        m = self.tree.marginal(axis)
        return m / m.sum()

    def log_marginal(self, axes: Sequence[int], *, limit: int = MAX_TABLE) -> np.ndarray:
        """:math:`\\log` of the unnormalised marginal on ``axes`` (sorted), exact."""
        table = self.tree.marginal_table(sorted(axes), limit=limit)
        with np.errstate(divide="ignore"):
            return np.log(table) + self._offset + self.tree.log_partition()

    def probabilities(self, *, limit: int = MAX_TABLE) -> np.ndarray:
        """The joint over the flat outcome space (only when it has at most ``limit``
        outcomes; else :class:`~predmarket.errors.SpaceTooLarge`)."""
        if self.space.size > limit:
            raise SpaceTooLarge(
                f"the joint of {len(self.space)} variables has {self.space.size:.3g} outcomes; "
                f"a factored market gives marginals and event prices instead")
        return self.tree.marginal_table(list(range(len(self.cards))), limit=limit).ravel()

    def min_log_probability(self, keep_axes: Sequence[int]) -> float:
        """A lower bound on :math:`\\min_o \\log P(o)` over the marginal on ``keep_axes``:
        exact (min-sum) when ``keep_axes`` is every variable, exact by contraction when the
        marginal is small, else :math:`\\log|H| + \\min_\\omega \\log P(\\omega)` with
        :math:`H` the other variables (every :math:`P(o,h) \\ge \\min P`)."""
        keep = sorted(set(keep_axes))
        tables = {}
        with np.errstate(divide="ignore"):
            for c in range(len(self.tree.cliques)):
                tables[c] = np.log(self.tree.pot[c]) + self.tree.log_scale[c]
        log_z = self.tree.log_partition()
        floor = self.tree.min_sum(tables, self._evidence) - log_z
        if len(keep) == len(self.cards):
            return floor
        try:
            m = self.tree.marginal_table(keep)
            return float(np.log(m[m > 0].min()))
        except SpaceTooLarge:
            pass
        hidden = [a for a in range(len(self.cards)) if a not in keep]
        return floor + sum(math.log(self.cards[a]) for a in hidden)

    # -- trades -----------------------------------------------------------------------
    def part_masses(self, parts: Sequence[Event]) -> FactoredMasses:
        """Log masses of the parts of a partition whose variables share a clique.

        Raises
        ------
        CrossCliqueTrade
            In refuse mode, when no clique holds every variable of the parts.
        """
        if not parts:
            raise InvalidInput("a move needs a non-empty partition")
        c = self._event_clique(parts, trade=True)
        beta, log_z = self.tree.belief(c)
        base = self._offset + log_z
        tables, logm = [], []
        for e in parts:
            t = self.event_table(e, c)
            mass = float(np.sum(beta * t))
            tables.append(t)
            logm.append(base + math.log(mass) if mass > 0 else -math.inf)
        axes = tuple(sorted({a for e in parts for a in e.axes}))
        return FactoredMasses(c, axes, logm, tables, self._version)

    def plan(self, parts: Sequence[Event], values: Sequence[float],
             masses: FactoredMasses | None = None) -> FactoredPlan:
        """Price the move that adds ``values[r]`` to :math:`q` on ``parts[r]``."""
        if len(parts) != len(values):
            raise InvalidInput("a move needs one value per part of the partition")
        if masses is None or masses.version != self._version:
            masses = self.part_masses(parts)
        b = self.liquidity
        v = [float(x) / b for x in values]
        if not all(math.isfinite(x) for x in v):
            raise InvalidInput(f"move values must be finite, got {list(values)!r}")
        logm = masses.log_masses
        live = [r for r in range(len(parts)) if logm[r] > -math.inf]
        cost = b * (_lse([logm[r] + v[r] for r in live]) - _lse([logm[r] for r in live]))
        factor = np.zeros(self.tree.shapes[masses.clique])
        for t, x in zip(masses.tables, v):
            if x != 0.0:
                factor = factor + t * x
        self._check_representable(masses.clique, factor, parts)
        return FactoredPlan(cost, masses.clique, factor, self._version)

    def _check_representable(self, clique: int, log_factor: np.ndarray,
                             parts: Sequence[Event]) -> None:
        """Refuse a move that would round a possible outcome's weight to 0.

        Potentials are stored as floats scaled to maximum 1, so a weight falling more than
        about :math:`e^{-745}` below the largest in its clique would become exactly 0: an
        event would turn impossible without being observed."""
        pot = self.tree.pot[clique]
        spread = float(log_factor.max() - log_factor.min())
        if spread < 600.0 and float(pot[pot > 0].min(initial=1.0)) > 1e-40:
            return  # the product cannot underflow
        moved = pot * np.exp(log_factor - log_factor.max())
        if np.any((moved == 0) & (pot > 0)):
            raise InvalidAmount(
                f"the trade on {[str(p) for p in parts]!r} would underflow: it moves some "
                f"outcomes' weights by a factor of e^{-spread:.0f} against others in their "
                "clique, below the smallest positive float; trade a smaller amount")

    def commit(self, plan: FactoredPlan) -> float:
        """Make a planned move: :math:`\\phi_C \\leftarrow \\phi_C e^{\\Delta/b}`."""
        if plan.version != self._version:
            raise InvalidInput("the plan is stale: the maker changed since it was made")
        if self.dag_valid:
            self.dag_valid = self._preserves_dag(plan)
        top = float(plan.log_factor.max())
        self.tree.multiply(plan.clique, np.exp(plan.log_factor - top))
        self._offset += top
        self._version += 1
        return plan.cost

    def apply(self, parts: Sequence[Event], values: Sequence[float]) -> float:
        """Make a move and return its cost."""
        return self.commit(self.plan(parts, values))

    def log_expected_factor(self, plan: FactoredPlan, axes: Sequence[int]) -> np.ndarray:
        """:math:`\\log E_P[e^{\\Delta/b} \\mid o]` for every outcome :math:`o` of the
        variables ``axes`` (sorted): how a planned move changes the unnormalised marginal
        on them, :math:`\\log W'(o) - \\log W(o)`. Exact, from the joint marginal of
        ``axes`` and the move's clique (``nan`` where :math:`P(o) = 0`)."""
        cvars = self.tree.cliques[plan.clique]
        union = sorted(set(axes) | set(cvars))
        table = self.tree.marginal_table(union)
        top = float(plan.log_factor.max())
        shape = [1] * len(union)
        for v, n in zip(cvars, plan.log_factor.shape):
            shape[union.index(v)] = n
        factor = np.exp(plan.log_factor - top).reshape(shape)
        drop = tuple(k for k, v in enumerate(union) if v not in set(axes))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log((table * factor).sum(axis=drop) / table.sum(axis=drop)) + top

    def _preserves_dag(self, plan: FactoredPlan) -> bool:
        """Whether the move only rescales one CPT (see the module notes)."""
        clique_vars = self.tree.cliques[plan.clique]
        lf = plan.log_factor
        top = float(lf.max())
        if float(lf.min()) == top:
            return True
        varying = [v for k, v in enumerate(clique_vars)
                   if (np.maximum.reduce(lf, axis=k) != np.minimum.reduce(lf, axis=k)).any()]
        # A family holding every varying variable is that of one of them or of a child.
        # At most one varying variable's family holds the others (two would be each
        # other's parents), and it is the edited one for an edit of P(X | pa): try those
        # first, so a family edit needs one expectation check.
        seen = set(varying)
        candidates = list(varying) + sorted(set(self._children[varying[0]]) - seen)
        beta = f = None
        for x in candidates:
            fam = self.families[x]
            if not seen <= set(fam) or not set(fam) <= set(clique_vars):
                continue
            if beta is None:  # the clique's belief (cached since the move was priced)
                beta = self.tree.belief(plan.clique)[0]
                f = np.exp(lf - top)
            # E[f | pa_x] from the clique's belief (f is constant off x's family)
            rest = tuple(k for k, v in enumerate(clique_vars) if v == x or v not in fam)
            den = beta.sum(axis=rest)
            live = den > 0
            expect = (beta * f).sum(axis=rest)[live] / den[live]
            if expect.size == 0 or float(expect.max() - expect.min()) <= 1e-9 * float(
                    expect.max()):
                return True
        return False

    def observe(self, assignment: Mapping[int, int]) -> None:
        """Enter evidence ``{variable index: state}``: outcomes disagreeing are removed."""
        self._version += 1
        for v, s in assignment.items():
            self._evidence[v] = s
            c = self.tree.home[v]
            keep = np.zeros(self.cards[v])
            keep[s] = 1.0
            self.tree.multiply(c, self.tree.expand(c, (v,), keep))

    @property
    def evidence(self) -> dict[int, int]:
        """Evidence entered so far, ``{variable index: state}``."""
        return dict(self._evidence)

    # -- structure changes ------------------------------------------------------------
    def relink(self, axes: Sequence[int]) -> dict[int, int]:
        """Add links so that ``axes`` share a clique; recompile, keeping the distribution
        exactly. Returns the map from old clique positions to new ones."""
        old = self.tree
        # Keep the old cliques complete, so every one of them lies in a new clique.
        self.links = list(old.cliques) + [tuple(sorted(axes))]
        new = self._compile()
        mapping = {}
        for c, vars_ in enumerate(old.cliques):
            target = new.clique_of(vars_)
            mapping[c] = target
            beta, _ = old.belief(c)
            new.multiply(target, new.expand(target, vars_, beta))
            p = old.parent[c]
            if p >= 0:
                sep = tuple(v for v in vars_ if v in set(old.cliques[p]))
                if sep:
                    drop = tuple(k for k, v in enumerate(vars_) if v not in sep)
                    mu = beta.sum(axis=drop)
                    inv = np.where(mu > 0, 1.0 / np.where(mu > 0, mu, 1.0), 0.0)
                    t_sep = new.clique_of(sep)
                    new.multiply(t_sep, new.expand(t_sep, sep, inv))
        log_z_old = self._offset + old.log_partition()
        new.calibrate()
        self._offset = log_z_old - new.log_partition()
        self.tree = new
        self._version += 1
        self.dag_valid = False
        self.relinks.append([(old.cliques[c], new.cliques[t]) for c, t in mapping.items()])
        return mapping

    # -- export -----------------------------------------------------------------------
    def to_pgmpy(self):
        """The current distribution as a pgmpy ``DiscreteBayesianNetwork``.

        With the original DAG while every trade preserved it; otherwise with a DAG read off
        the junction tree (each variable's parents are the variables before it in its
        first clique, breadth first), which represents the distribution exactly.
        """
        if self.dag_valid:
            parents = list(self.network.parents)
        else:
            parents = [()] * len(self.cards)
            seen: set[int] = set()
            for c in self.tree.order:
                earlier = [v for v in self.tree.cliques[c] if v in seen]
                for v in self.tree.cliques[c]:
                    if v not in seen:
                        parents[v] = tuple(earlier)
                        earlier.append(v)
                        seen.add(v)
        tables = [self.tree.marginal_table(sorted([i, *ps])) for i, ps in enumerate(parents)]
        return to_pgmpy(self.network.variables, parents, tables)
