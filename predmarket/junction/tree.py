"""Clique potentials on a junction tree, calibrated with ``numpy.einsum``.

The tree holds one non-negative potential :math:`\\phi_C` per clique; the unnormalised
measure it represents is

.. math:: W(\\omega) = \\prod_C \\phi_C(\\omega_C), \\qquad Z = \\sum_\\omega W(\\omega).

Each potential is stored as a table scaled to maximum 1 together with its log scale, and
each message as a table summing to 1 (a full calibration also tracks each message's log
normaliser), so that :math:`\\log Z` is exact to rounding for any magnitude of the
weights. The message from clique
:math:`i` to a neighbour :math:`j` is the Shafer-Shenoy message [1]_

.. math:: m_{i\\to j}(s_{ij}) = \\sum_{C_i \\setminus S_{ij}} \\phi_i
          \\prod_{k \\in N(i)\\setminus j} m_{k \\to i},

and the belief of clique :math:`i` is :math:`\\beta_i = \\phi_i \\prod_{k\\in N(i)}
m_{k\\to i}`, proportional to the marginal of :math:`W` on :math:`C_i`.

Incremental re-propagation: a change of :math:`\\phi_r` makes stale exactly the messages
directed away from :math:`r`; :math:`\\log Z` moves by :math:`\\log \\sum \\beta_r f` for a
factor :math:`f`. A full refresh follows only the branches whose messages actually change
(see :meth:`JunctionTree.refresh`). The tree records which cliques changed (with a tick) and,
when a belief is asked for, recomputes only the stale messages on the paths from the
changed cliques to the asked clique, farthest first.

Min-sum [2]_: for additive clique tables :math:`g_C`, :math:`\\min_\\omega \\sum_C
g_C(\\omega_C)` is found by the same message schedule with :math:`(\\min, +)` in place of
:math:`(\\sum, \\times)`, restricted to the smallest subtree spanning the cliques that
carry a table.

References
----------
.. [1] G. Shafer, P. Shenoy, "Probability propagation", Annals of Mathematics and
   Artificial Intelligence 2, 1990.
.. [2] A. P. Dawid, "Applications of a general propagation algorithm for probabilistic
   expert systems", Statistics and Computing 2, 1992.
.. [3] G. Birkhoff, "Extensions of Jentzsch's theorem", Transactions of the American
   Mathematical Society 85, 1957 (positive linear maps do not expand Hilbert's projective
   metric).
"""

from __future__ import annotations

import math
import string
from collections.abc import Mapping, Sequence

import numpy as np

from predmarket.errors import InvalidInput, SpaceTooLarge
from predmarket.junction.structure import JunctionStructure

__all__ = ["MAX_TABLE", "JunctionTree"]

#: Largest table (entries) a marginal over a set of variables may build.
MAX_TABLE = 1 << 22
_FULL_REFRESH = 16  # changed cliques remembered before a full recalibration
_STALE_SHARE = 4  # marginals of every variable, batched, once 1/4 of the cliques changed
_STACK_MIN = 8  # variables sharing a marginal einsum before they are stacked into one
_BATCH_MIN = 6  # messages sharing an einsum before refresh computes them stacked
_SCHEDULES = 256  # min-sum schedules (subtree and order) remembered
_ANSWERS = 4096  # clique_of answers remembered
_HUB_DEGREE = 3  # senders with at least this many other neighbours divide out (Hugin)
_LETTERS = string.ascii_letters
# numpy's C einsum without the Python wrapper (the wrapper costs more than a tiny einsum)
_einsum = getattr(getattr(np, "_core", np.core).multiarray, "c_einsum", np.einsum)
_sum = np.add.reduce


def _stack(tables: list) -> np.ndarray:
    """Equal-shaped tables stacked along a new first axis (``np.array`` does this in C,
    several times faster than ``np.stack`` for many small tables)."""
    return np.array(tables, dtype=float)


#: Relative change per entry below which a recomputed message counts as unchanged (a few
#: hundred ulps: the rounding of recomputing an unchanged message, far below any price).
_SAME = 1e-14


def _same(new: np.ndarray, old: np.ndarray) -> bool:
    """Whether every entry of ``new`` is within :data:`_SAME` of ``old``'s (relative)."""
    if new.size <= 16:
        return all(abs(a - b) <= _SAME * b for a, b in zip(new.ravel().tolist(),
                                                           old.ravel().tolist()))
    return bool(np.all(np.abs(new - old) <= _SAME * old))


class JunctionTree:
    """Potentials on a junction tree with sum-product and min-sum propagation.

    Parameters
    ----------
    cards : sequence of int
        Number of states of each variable.
    structure : JunctionStructure
        Cliques and tree edges (see :func:`~predmarket.junction.compile_structure`).

    Examples
    --------
    >>> import numpy as np
    >>> from predmarket.junction import compile_structure
    >>> s = compile_structure(3, [(0,), (0, 1), (1, 2)])
    >>> jt = JunctionTree([2, 2, 2], s)
    >>> jt.multiply(jt.clique_of([0, 1]), np.array([[1.0, 3.0], [1.0, 1.0]]))
    >>> jt.marginal(0).round(3).tolist()
    [0.667, 0.333]
    """

    def __init__(self, cards: Sequence[int], structure: JunctionStructure):
        self.cards = tuple(int(c) for c in cards)
        self.structure = structure
        self.cliques = structure.cliques
        n = len(self.cliques)
        if n == 0:
            raise InvalidInput("a junction tree needs at least one clique")
        if max(len(c) for c in self.cliques) > len(_LETTERS):
            raise SpaceTooLarge(f"a clique has more than {len(_LETTERS)} variables")
        self.shapes = [tuple(self.cards[v] for v in c) for c in self.cliques]
        self.neighbors: list[list[int]] = [[] for _ in range(n)]
        for i, j in structure.edges:
            self.neighbors[i].append(j)
            self.neighbors[j].append(i)
        self._index = [{v: k for k, v in enumerate(c)} for c in self.cliques]
        self.home = [-1] * len(self.cards)  # smallest clique containing each variable
        for i, c in enumerate(self.cliques):
            for v in c:
                h = self.home[v]
                if h < 0 or math.prod(self.shapes[i]) < math.prod(self.shapes[h]):
                    self.home[v] = i
        if min(self.home, default=0) < 0:
            raise InvalidInput("every variable must lie in some clique")
        self._containing: dict[int, list[int]] = {}
        for i, c in enumerate(self.cliques):
            for v in c:
                self._containing.setdefault(v, []).append(i)
        self._root_tree()
        self._sep: dict[tuple[int, int], tuple[int, ...]] = {}
        self._spec: dict[tuple[int, int], str] = {}
        for i in range(n):
            for j in self.neighbors[i]:
                self._sep[(i, j)] = tuple(v for v in self.cliques[i] if v in self._index[j])
                self._spec[(i, j)] = self._message_spec(i, j)
        self._belief_spec = [self._message_spec(i, None) for i in range(n)]
        # messages whose einsums and operand shapes agree, computed together by refresh
        self._batch_key = {}
        for (i, j), sp in self._spec.items():
            terms, result = sp.split("->")
            batched = ",".join("..." + t for t in terms.split(",")) + "->..." + result
            ins = tuple(tuple(self.cards[v] for v in self._sep[(k, i)])
                        for k in self.neighbors[i] if k != j)
            self._batch_key[(i, j)] = (batched, self.shapes[i], ins)
        # per directed edge: the other messages into the sender, and how the message
        # broadcasts into the receiver's clique / which sender axes it sums out
        self._inputs = {(i, j): [(k, i) for k in self.neighbors[i] if k != j]
                        for i in range(n) for j in self.neighbors[i]}
        self._into = [[(k, i) for k in self.neighbors[i]] for i in range(n)]
        self._bcast = {}
        self._drop = {}
        for (i, j), sep in self._sep.items():
            shape = [1] * len(self.cliques[j])
            for v in sep:
                shape[self._index[j][v]] = self.cards[v]
            self._bcast[(i, j)] = tuple(shape)
            self._drop[(i, j)] = tuple(k for k, v in enumerate(self.cliques[i]) if v not in sep)
        # marginal of each variable straight from its home clique's operands, batched
        # over variables whose einsum (and operand shapes) agree
        groups: dict[tuple, list[int]] = {}
        self._marginal_spec = []
        for v in range(len(self.cards)):
            h = self.home[v]
            spec = self._belief_spec[h]
            letter = _LETTERS[self._index[h][v]]
            self._marginal_spec.append(spec[:spec.index("->") + 2] + letter)
            batched = ",".join("Z" + t for t in spec[:spec.index("->")].split(","))
            key = (batched + "->Z" + letter, self.shapes[h],
                   tuple(tuple(self.cards[x] for x in self._sep[e]) for e in self._into[h]))
            groups.setdefault(key, []).append(v)
        # large groups are stacked into one einsum; stacking costs more than it saves below
        self._marginal_groups = [
            (key[0], members, [self.home[v] for v in members],
             [[self._into[self.home[v]][j] for v in members] for j in range(len(key[2]))])
            for key, members in groups.items() if len(members) >= _STACK_MIN]
        self._marginal_single = [v for members in groups.values() if len(members) < _STACK_MIN
                                 for v in members]
        self.pot = [np.ones(s) for s in self.shapes]
        self.log_scale = [0.0] * n
        self.msg: dict[tuple[int, int], np.ndarray] = {}
        self.msg_log: dict[tuple[int, int], float] = {}
        self._msg_tick: dict[tuple[int, int], int] = {}
        self._tick = 0
        self._changed: dict[int, int] = {}
        self._beliefs: dict[int, tuple[int, np.ndarray]] = {}
        self._log_z: float | None = None  # log Z, kept up to date by every change
        self._homed: list[list[int]] = [[] for _ in range(n)]
        for v, h in enumerate(self.home):
            self._homed[h].append(v)
        self._marg: list = [None] * len(self.cards)  # cached marginals
        self._stale: set[int] | None = None  # cliques whose cached marginals are out of date
        self._schedules: dict[frozenset, tuple[list[int], dict[int, int]]] = {}
        self._clique_of: dict[frozenset, int | None] = {}  # answers of clique_of
        self.calibrate()

    # -- tree layout ----------------------------------------------------------------
    def _root_tree(self) -> None:
        n = len(self.cliques)
        self.parent = [-1] * n
        self.depth = [0] * n
        order, seen = [0], [False] * n
        seen[0] = True
        for u in order:
            for w in self.neighbors[u]:
                if not seen[w]:
                    seen[w] = True
                    self.parent[w] = u
                    self.depth[w] = self.depth[u] + 1
                    order.append(w)
        if len(order) != n:
            raise InvalidInput("the junction tree's edges do not connect all cliques")
        self.order = order  # breadth-first from clique 0

    def _path(self, src: int, dst: int) -> list[int]:
        """Cliques on the tree path from ``src`` to ``dst`` (both included)."""
        up, down = [src], [dst]
        a, b = src, dst
        while self.depth[a] > self.depth[b]:
            a = self.parent[a]
            up.append(a)
        while self.depth[b] > self.depth[a]:
            b = self.parent[b]
            down.append(b)
        while a != b:
            a, b = self.parent[a], self.parent[b]
            up.append(a)
            down.append(b)
        return up + down[-2::-1]

    def _message_spec(self, i: int, j: int | None) -> str:
        letters = {v: _LETTERS[k] for k, v in enumerate(self.cliques[i])}
        terms = ["".join(letters[v] for v in self.cliques[i])]
        for k in self.neighbors[i]:
            if k != j:
                sep = [v for v in self.cliques[i] if v in self._index[k]]
                terms.append("".join(letters[v] for v in sep))
        out = terms[0] if j is None else "".join(
            letters[v] for v in self.cliques[i] if v in self._index[j])
        return ",".join(terms) + "->" + out

    # -- queries about structure ----------------------------------------------------
    def clique_of(self, variables: Sequence[int]) -> int | None:
        """Smallest clique containing every variable in ``variables`` (None if none)."""
        want = frozenset(variables)
        try:
            return self._clique_of[want]
        except KeyError:
            pass
        if not want:
            return 0
        rarest = min(want, key=lambda v: len(self._containing.get(v, ())))
        best = None
        for i in self._containing.get(rarest, []):
            if want <= self._index[i].keys() and (
                    best is None or math.prod(self.shapes[i]) < math.prod(self.shapes[best])):
                best = i
        if len(self._clique_of) >= _ANSWERS:
            self._clique_of.clear()
        self._clique_of[want] = best
        return best

    def nearest_clique(self, variables: Sequence[int]) -> int:
        """The clique sharing the most variables with ``variables`` (ties: smallest)."""
        want = set(variables)
        return max(range(len(self.cliques)),
                   key=lambda i: (len(want & self._index[i].keys()),
                                  -math.prod(self.shapes[i])))

    def expand(self, clique: int, variables: Sequence[int], table: np.ndarray) -> np.ndarray:
        """Broadcast a table over sorted ``variables`` (a subset of the clique) to the
        clique's shape (a read-only view)."""
        shape = [1] * len(self.cliques[clique])
        for v, n in zip(variables, table.shape):
            shape[self._index[clique][v]] = n
        return np.broadcast_to(np.reshape(table, shape), self.shapes[clique])

    # -- changes --------------------------------------------------------------------
    def set_potential(self, clique: int, table: np.ndarray, log_scale: float = 0.0) -> None:
        """Replace :math:`\\phi_C` by ``table * exp(log_scale)`` (no propagation yet)."""
        table = np.array(table, dtype=float)
        top = float(table.max())
        if not top > 0 or not np.isfinite(top) or not float(table.min()) >= 0:
            raise InvalidInput(f"clique {clique}: potential must be finite and non-negative "
                               f"with a positive entry")
        self.pot[clique] = table / top
        self.log_scale[clique] = float(log_scale + math.log(top))
        self._log_z = None
        self._mark(clique)

    def multiply(self, clique: int, factor: np.ndarray, log_scale: float = 0.0) -> None:
        """:math:`\\phi_C \\leftarrow \\phi_C \\cdot f \\cdot e^{s}` (``factor`` in clique
        shape or broadcastable to it).

        When the clique's belief :math:`\\beta_C` is at hand (cached, or one einsum away
        because nothing else is pending) :math:`\\log Z` is updated in place,

        .. math:: Z' = Z \\, e^{s} \\sum_{\\omega_C} \\beta_C(\\omega_C) f(\\omega_C);

        otherwise it is recomputed by the next full calibration.
        """
        new = self.pot[clique] * factor
        top = float(new.max())
        if not top > 0 or not np.isfinite(top) or not float(new.min()) >= 0:
            raise InvalidInput(f"clique {clique}: the product must be finite and "
                               f"non-negative with a positive entry")
        if self._log_z is not None:
            hit = self._beliefs.get(clique)
            if hit is not None and hit[0] == self._tick:
                beta = hit[1]
            elif not self._changed:
                beta = self.belief(clique)[0]
            else:
                beta = None
            mass = float(_sum(beta * factor, axis=None)) if beta is not None else 0.0
            if mass > 0 and math.isfinite(mass):
                self._log_z += math.log(mass) + float(log_scale)
            else:  # unknown here (or no mass left: the next calibration says so)
                self._log_z = None
        if top != 1.0:
            new /= top
        self.pot[clique] = new
        self.log_scale[clique] += float(log_scale + math.log(top))
        self._mark(clique)

    def _mark(self, clique: int) -> None:
        self._tick += 1
        self._changed[clique] = self._tick
        self._beliefs.clear()

    # -- sum-product ----------------------------------------------------------------
    def _send_many(self, edges) -> None:
        """Recompute the messages ``edges``, in order, with their log normalisers.

        A clique with many neighbours sends several messages in a row (breadth-first
        distribution); for those it forms the product of its potential with *all* incoming
        messages once and divides out the receiver's own message (Hugin-style), instead of
        one einsum over every other neighbour per message (quadratic in the degree). The
        division is used only where the divided message has no zero entry.
        """
        msg, msg_log, ticks, tick = self.msg, self.msg_log, self._msg_tick, self._tick
        spec, inputs_of, pot, log_scale = self._spec, self._inputs, self.pot, self.log_scale
        log_, einsum, total_of = math.log, _einsum, _sum
        into, bspec, bcast, drop = self._into, self._belief_spec, self._bcast, self._drop
        full_of, full = -1, None  # product at sender ``full_of``
        for edge in edges:
            inputs = inputs_of[edge]
            i, j = edge
            back = (j, i)
            reverse = msg.get(back)  # absent before the first calibration
            if len(inputs) >= _HUB_DEGREE and reverse is not None and reverse.min() > 0.0:
                if full_of != i:
                    full = einsum(bspec[i], pot[i], *[msg[e] for e in into[i]])
                    full_of = i
                m = (full / reverse.reshape(bcast[back])).sum(axis=drop[edge])
            else:
                m = einsum(spec[edge], pot[i], *[msg[e] for e in inputs])
            log = log_scale[i]  # summed afresh: subtracting a large log would lose digits
            for e in inputs:
                log += msg_log[e]
            total = float(total_of(m, axis=None))
            if not total > 0:
                raise InvalidInput("the potentials give zero mass to every outcome")
            m /= total
            msg[edge] = m
            msg_log[edge] = log + log_(total)
            ticks[edge] = tick
            if j == full_of:  # a message into the cached sender: its product is stale
                full_of = -1

    def calibrate(self) -> None:
        """Two-pass (collect, distribute) calibration of every message from clique 0, and
        :math:`\\log Z` from the collect pass's log normalisers."""
        parent = self.parent
        self._send_many([(u, parent[u]) for u in reversed(self.order[1:])])
        root = self.order[0]
        into = self._into[root]
        beta = _einsum(self._belief_spec[root], self.pot[root], *[self.msg[e] for e in into])
        total = float(_sum(beta, axis=None))
        if not total > 0:
            raise InvalidInput("the potentials give zero mass to every outcome")
        self._log_z = (math.log(total) + self.log_scale[root]
                       + sum(self.msg_log[e] for e in into))
        self._send_many([(parent[u], u) for u in self.order[1:]])
        self._changed.clear()
        self._beliefs.clear()
        self._stale = None

    def refresh(self) -> None:
        """Bring every message up to date.

        After a single change at clique :math:`r` only messages directed away from
        :math:`r` can change. They are recomputed level by level from :math:`r` (a level's
        messages depend only on the previous level's, so messages with equal einsums and
        operand shapes are computed together, stacked), and a branch is followed only while
        its messages change: a recomputed (normalised) message equal
        to the old one within :data:`_SAME` relative to each entry leaves every message
        beyond it as it was (an edit of :math:`P(X\\mid \\mathrm{pa}_X)` changes only the
        messages towards :math:`X`'s descendants, and the influence of any edit fades along a
        mixing chain). The cliques reached are remembered for :meth:`marginals`.

        Accuracy: a message kept this way stays the *old* table, so every stored message is
        within :data:`_SAME` (relative, per entry) of the message its stored inputs give, and
        a later drift past the tolerance is caught and propagated. Relative per-entry
        closeness bounds Hilbert's projective distance, :math:`d_H(x, y) = \\log\\max_s
        x_s/y_s - \\log\\min_s x_s/y_s \\le 2.1\\,\\epsilon`, and every message map (a
        positive linear map followed by normalisation) does not expand :math:`d_H`
        (Birkhoff [3]_), so errors of a message's inputs add up at most. A belief is thus
        within :math:`d_H \\le 2.1\\,\\epsilon\\,(n - 1)` of the exact one for :math:`n`
        cliques (hence each entry within that relative error), however many changes were
        made: with :math:`\\epsilon = 10^{-14}`, :math:`2 \\cdot 10^{-11}` at 1000 cliques.
        """
        if not self._changed:
            return
        if len(self._changed) > 1:
            self.calibrate()
            return
        ((root, tick),) = self._changed.items()
        msg, ticks, now = self.msg, self._msg_tick, self._tick
        neighbors, spec, inputs_of, pot = self.neighbors, self._spec, self._inputs, self.pot
        into, bspec, bcast, drop = self._into, self._belief_spec, self._bcast, self._drop
        batch_key = self._batch_key
        einsum, total_of, same = _einsum, _sum, _same
        stale = self._stale

        def keep(edge, m, out):  # normalise; store and follow only if it changed
            total = float(total_of(m, axis=None))
            if not total > 0:
                raise InvalidInput("the potentials give zero mass to every outcome")
            m /= total
            if not same(m, msg[edge]):
                msg[edge] = m
                ticks[edge] = now
                out.append((edge[1], edge[0]))

        level = [(root, -1)]  # cliques whose incoming messages changed, and from where
        while level:
            nxt: list[tuple[int, int]] = []  # the next level, one step farther from root
            todo: list[tuple[int, int]] = []
            for i, src in level:
                if stale is not None:
                    stale.add(i)
                for j in neighbors[i]:
                    if j == src:
                        continue
                    if ticks[(i, j)] >= tick:  # already recomputed since the change
                        nxt.append((j, i))
                    else:
                        todo.append((i, j))
            groups: dict[tuple, list[tuple[int, int]]] = {}
            if len(todo) >= _BATCH_MIN:
                for edge in todo:
                    groups.setdefault(batch_key[edge], []).append(edge)
            else:
                groups[None] = todo
            single: list[tuple[int, int]] = []
            for key, group in groups.items():
                if key is None or len(group) < _BATCH_MIN:
                    single += group
                else:
                    self._send_batch(key[0], group, tick=now, out=nxt)
            # one at a time; a sender with many other neighbours divides its full product
            fulls: dict[int, np.ndarray] = {}
            for edge in single:
                i, j = edge
                reverse = msg[(j, i)]
                if len(neighbors[i]) > _HUB_DEGREE and reverse.min() > 0.0:
                    full = fulls.get(i)
                    if full is None:
                        full = fulls[i] = einsum(bspec[i], pot[i], *[msg[e] for e in into[i]])
                    keep(edge, (full / reverse.reshape(bcast[(j, i)])).sum(axis=drop[edge]),
                         nxt)
                else:
                    keep(edge, einsum(spec[edge], pot[i], *[msg[e] for e in inputs_of[edge]]),
                         nxt)
            level = nxt
        self._changed.clear()

    def _send_batch(self, batched_spec: str, group: list[tuple[int, int]], *, tick: int,
                    out: list[tuple[int, int]]) -> None:
        """Recompute the messages ``group`` (equal einsums and operand shapes) with one
        stacked einsum; store those that changed (:data:`_SAME`) and list their receivers
        in ``out`` as ``(receiver, sender)``."""
        msg, pot, inputs_of = self.msg, self.pot, self._inputs
        k = len(group)
        ops = [_stack([pot[i] for i, _ in group])]
        for pos in range(len(inputs_of[group[0]])):
            ops.append(_stack([msg[inputs_of[e][pos]] for e in group]))
        raw = _einsum(batched_spec, *ops)
        flat = raw.reshape(k, -1)
        totals = flat.sum(axis=1, keepdims=True)
        if not (totals > 0).all():
            raise InvalidInput("the potentials give zero mass to every outcome")
        flat /= totals
        old = _stack([msg[e] for e in group]).reshape(k, -1)
        unchanged = (np.abs(flat - old) <= _SAME * old).all(axis=1).tolist()
        ticks = self._msg_tick
        for edge, row, same in zip(group, raw, unchanged):
            if not same:
                msg[edge] = row
                ticks[edge] = tick
                out.append((edge[1], edge[0]))

    def _ensure_incoming(self, i: int) -> None:
        """Recompute the stale messages into clique ``i`` (farthest first); after a single
        change, every message that changes (:meth:`refresh`: usually few, and no change is
        left pending for the next query)."""
        if not self._changed:
            return
        if len(self._changed) == 1:
            self.refresh()
            return
        if len(self._changed) > _FULL_REFRESH:
            self.calibrate()
            return
        stale: dict[tuple[int, int], int] = {}
        for r, tick in self._changed.items():
            if r == i:
                continue
            path = self._path(r, i)
            for pos in range(len(path) - 1):
                edge = (path[pos], path[pos + 1])
                if self._msg_tick[edge] < tick:
                    stale[edge] = len(path) - 1 - pos  # distance of the sender to i
        self._send_many(sorted(stale, key=stale.__getitem__, reverse=True))

    def belief(self, i: int) -> tuple[np.ndarray, float]:
        """Normalised belief of clique ``i`` (sums to 1) and :math:`\\log Z`."""
        log_z = self.log_partition()
        hit = self._beliefs.get(i)
        if hit is not None and hit[0] == self._tick:
            return hit[1], log_z
        self._ensure_incoming(i)
        ops = [self.pot[i]] + [self.msg[(k, i)] for k in self.neighbors[i]]
        beta = _einsum(self._belief_spec[i], *ops)
        total = float(beta.sum())
        if not total > 0:
            raise InvalidInput("the potentials give zero mass to every outcome")
        beta = beta / total  # einsum may return a view of the potential
        self._beliefs[i] = (self._tick, beta)
        return beta, log_z

    def log_partition(self) -> float:
        """:math:`\\log Z` (kept up to date by :meth:`multiply`; a full calibration when a
        change could not update it)."""
        if self._log_z is None:
            self.calibrate()
        return self._log_z

    def marginal(self, variable: int) -> np.ndarray:
        """Normalised marginal of one variable."""
        i = self.home[variable]
        beta, _ = self.belief(i)
        pos = self._index[i][variable]
        return beta.sum(axis=tuple(a for a in range(beta.ndim) if a != pos))

    def marginals(self) -> list[np.ndarray]:
        """Normalised marginals of every variable (read-only arrays).

        One :meth:`refresh`, then one einsum per variable from its home clique's potential
        and incoming messages, only for variables whose home clique the refresh reached
        (after a full calibration: every variable, batched over equal einsums)."""
        self.refresh()
        pot, msg, out, stale = self.pot, self.msg, self._marg, self._stale
        specs, into, homed = self._marginal_spec, self._into, self._homed
        if stale is not None and len(stale) * _STALE_SHARE > len(self.cliques):
            stale = None  # most cliques reached: the batched einsums are cheaper
        if stale is None:
            for spec, members, homes, edges in self._marginal_groups:
                ops = [_stack([pot[h] for h in homes])]
                ops += [_stack([msg[e] for e in column]) for column in edges]
                raw = _einsum(spec, *ops)
                raw /= raw.sum(axis=1, keepdims=True)
                raw.flags.writeable = False
                for v, row in zip(members, raw):
                    out[v] = row
            todo = self._marginal_single
        else:
            todo = [v for h in stale for v in homed[h]]
        for v in todo:
            ins = into[self.home[v]]
            raw = _einsum(specs[v], pot[self.home[v]], *[msg[e] for e in ins])
            raw = raw / raw.sum()  # not in place: einsum may return a view of the potential
            raw.flags.writeable = False
            out[v] = raw
        self._stale = set()
        return list(out)

    def clique_probability(self, clique: int, table: np.ndarray) -> float:
        """:math:`\\sum \\beta_C \\cdot t` for a clique-shaped (or broadcastable) ``t``."""
        beta, _ = self.belief(clique)
        return float(np.sum(beta * table))

    # -- sets of variables across cliques -------------------------------------------
    def _spanning(self, cliques: Sequence[int]) -> list[int]:
        """Cliques of the smallest subtree containing ``cliques`` (first is a member)."""
        targets = list(dict.fromkeys(cliques))
        marked: set[int] = set()
        parent = self.parent
        for t in targets:  # union of the paths to the root of the whole tree
            u = t
            while u >= 0 and u not in marked:
                marked.add(u)
                u = parent[u]
        children: dict[int, list[int]] = {}
        for u in marked:
            if parent[u] >= 0:
                children.setdefault(parent[u], []).append(u)
        top, wanted = self.order[0], set(targets)
        while top not in wanted and len(children.get(top, ())) == 1:
            marked.discard(top)
            top = children[top][0]
        return [targets[0]] + [c for c in marked if c != targets[0]]

    def marginal_table(self, variables: Sequence[int], *, limit: int = MAX_TABLE) -> np.ndarray:
        """Normalised joint marginal of ``variables`` (sorted, distinct), exact.

        Uses the calibrated beliefs of the smallest subtree covering them,
        :math:`P(V) = \\sum \\prod_C \\beta_C / \\prod_S \\mu_S`, contracted with einsum.

        Raises
        ------
        SpaceTooLarge
            If the result would exceed ``limit`` entries, or the subtree spans more than
            52 variables.
        """
        variables = list(variables)
        size = math.prod(self.cards[v] for v in variables)
        if size > limit:
            raise SpaceTooLarge(f"a marginal over {len(variables)} variables has {size:,} "
                                f"entries, more than the limit {limit:,}")
        inside = self.clique_of(variables)
        if inside is not None:
            beta, _ = self.belief(inside)
            keep = [self._index[inside][v] for v in variables]
            drop = tuple(a for a in range(beta.ndim) if a not in keep)
            return beta.sum(axis=drop)
        sub = self._spanning([self.home[v] for v in variables])
        subset = set(sub)
        union = sorted({v for c in sub for v in self.cliques[c]})
        if len(union) > len(_LETTERS):
            raise SpaceTooLarge(
                f"the cliques linking variables {variables!r} span {len(union)} variables, "
                f"more than {len(_LETTERS)}; the event is too far spread to price exactly")
        label = {v: k for k, v in enumerate(union)}
        ops: list = []
        for c in sub:
            ops += [self.belief(c)[0], [label[v] for v in self.cliques[c]]]
            p = self.parent[c]
            if p in subset:  # one separator per subtree edge
                sep = self._sep[(c, p)]
                beta = self.belief(c)[0]
                mu = beta.sum(axis=tuple(a for a, v in enumerate(self.cliques[c])
                                         if v not in sep))
                with np.errstate(divide="ignore"):
                    inv = np.where(mu > 0, 1.0 / np.where(mu > 0, mu, 1.0), 0.0)
                ops += [inv, [label[v] for v in sep]]
        return np.einsum(*ops, [label[v] for v in variables], optimize="greedy")

    # -- min-sum and expectations of additive tables ---------------------------------
    def min_sum(self, tables: Mapping[int, np.ndarray],
                evidence: Mapping[int, int] | None = None) -> float:
        """:math:`\\min_\\omega \\sum_C g_C(\\omega_C)` over outcomes agreeing with
        ``evidence`` (``{variable: state}``); ``tables`` maps clique to a clique-shaped
        table. Exact (min-sum on the spanning subtree).

        A message that does not depend on its separator (always so where a clique without
        a table passes on a message over variables it does not share with its parent) is a
        constant :math:`c`, and :math:`\\min (h + c) = \\min h + c`: it is added to a
        running total instead of being sent, so long stretches of cliques without tables
        cost one Python step each. The subtree and its leaves-first order are cached per
        set of cliques.
        """
        if not tables:
            return 0.0
        evidence = evidence or {}
        order, parent = self._min_sum_schedule(tables.keys())
        index, shapes, cards = self._index, self.shapes, self.cards
        bcast, drop_of, sep_of = self._bcast, self._drop, self._sep
        const = 0.0
        inbox: dict[int, list[np.ndarray]] = {}
        for u in order:
            g = tables.get(u)
            masked = [(index[u][v], st) for v, st in evidence.items()
                      if v in index[u]] if evidence else ()
            if masked:
                g = np.zeros(shapes[u]) if g is None else np.array(g, dtype=float)
                for pos, st in masked:
                    idx = [slice(None)] * g.ndim
                    keep = np.ones(g.shape[pos], dtype=bool)
                    keep[st] = False
                    idx[pos] = keep
                    g[tuple(idx)] = np.inf
            for m in inbox.pop(u, ()):
                g = m if g is None else g + m
            if g is None:
                continue
            p = parent[u]
            if p < 0:
                return const + float(g.min())
            if g.ndim != len(shapes[u]):
                g = np.broadcast_to(g, shapes[u])
            edge = (u, p)
            drop = drop_of[edge]
            m = g.min(axis=drop) if drop else g
            if m.size == 1:
                const += float(m.reshape(()))
                continue
            sep_shape = tuple(cards[v] for v in sep_of[edge])
            if m.shape != sep_shape:  # g was only broadcast along some separator axes
                m = np.broadcast_to(m, sep_shape)
            inbox.setdefault(p, []).append(m.reshape(bcast[edge]))
        return const

    def _min_sum_schedule(self, cliques) -> tuple[list[int], dict[int, int]]:
        """Leaves-first order of the subtree spanning ``cliques`` and each member's parent
        in it (``-1`` at its top); cached per set of cliques."""
        key = frozenset(cliques)
        hit = self._schedules.get(key)
        if hit is not None:
            return hit
        sub = self._spanning(list(key))
        depth, global_parent = self.depth, self.parent
        top = min(sub, key=depth.__getitem__)
        order = sorted(sub, key=depth.__getitem__, reverse=True)  # leaves first, top last
        parent = {u: global_parent[u] for u in sub}
        parent[top] = -1
        if len(self._schedules) >= _SCHEDULES:
            self._schedules.clear()
        self._schedules[key] = (order, parent)
        return order, parent

    def expectation(self, tables: Mapping[int, np.ndarray]) -> float:
        """:math:`E_P[\\sum_C g_C]` under the normalised measure (sum-product beliefs)."""
        return float(sum(np.sum(self.belief(c)[0] * t) for c, t in tables.items()))
