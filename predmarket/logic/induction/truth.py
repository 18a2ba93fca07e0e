"""Propositionally consistent worlds, as a truth table over the few atoms still open.

The budgeter needs, for the sentences a trader holds or trades, every truth pattern some
world consistent with the theorems :math:`D_n` gives them (the set
:math:`\\mathrm{PC}(D_n)` of Garrabrant et al. 2016, Def. 3.3.2, projected onto those
sentences). :class:`ConsistentWorlds` keeps the theorems incrementally:

* a theorem that is a literal (:math:`a` or :math:`\\lnot a`) fixes its atom;
* any other theorem is kept as a constraint.

A table is built only over the *open* atoms (neither fixed nor absent) that the live
sentences and the constraints touching them mention; since settled sentences become cash in
the inductor, that set stays small. Up to ``max_atoms`` open atoms the :math:`2^a`
assignments are evaluated with numpy (cheaper than solver calls at that size); beyond it,
the distinct truth patterns of the sentences are enumerated by a SAT solver with blocking
clauses (:mod:`predmarket.logic.worlds`), whose work grows with the number of patterns;
more than ``max_atoms`` sentences at once is refused with a clear error.

References
----------
.. [1] S. Garrabrant, T. Benson-Tilsen, A. Critch, N. Soares, J. Taylor, "Logical
   induction", arXiv:1609.03543 v5 (2016), Def. 3.3.2 (propositionally consistent worlds).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import reduce
from typing import Any

import numpy as np
import sympy
from sympy.logic.boolalg import And, BooleanFalse, BooleanTrue, Equivalent, Not, Or, Xor

from predmarket.errors import InvalidInput, InvalidObservation, SpaceTooLarge

__all__ = ["ConsistentWorlds", "compile_sentence"]

Evaluator = Callable[[dict], Any]


def compile_sentence(sentence: Any) -> Evaluator:
    """A function mapping ``{atom: bool or bool array}`` to the sentence's truth value(s).

    >>> A, B = sympy.symbols("A B")
    >>> f = compile_sentence(A & ~B)
    >>> f({A: np.array([True, True]), B: np.array([False, True])}).tolist()
    [True, False]
    """
    if isinstance(sentence, BooleanTrue):
        return lambda env: np.True_
    if isinstance(sentence, BooleanFalse):
        return lambda env: np.False_
    if isinstance(sentence, sympy.Symbol):
        return lambda env: env[sentence]
    parts = [compile_sentence(a) for a in sentence.args]
    if isinstance(sentence, Not):
        inner = parts[0]
        return lambda env: np.logical_not(inner(env))
    if isinstance(sentence, And):
        return lambda env: reduce(np.logical_and, (f(env) for f in parts))
    if isinstance(sentence, Or):
        return lambda env: reduce(np.logical_or, (f(env) for f in parts))
    if isinstance(sentence, Xor):
        return lambda env: reduce(np.logical_xor, (f(env) for f in parts))
    if isinstance(sentence, Equivalent):

        def equivalent(env):
            vals = [f(env) for f in parts]
            return np.logical_or(reduce(np.logical_and, vals), ~reduce(np.logical_or, vals))

        return equivalent
    raise InvalidInput(f"not a canonical sentence (And/Or/Not/Xor/Equivalent): {sentence!r}")


def _unique_rows(tab: np.ndarray) -> np.ndarray:
    """Distinct rows of a boolean table, sorted (rows packed into integers when they fit)."""
    k = tab.shape[1]
    if k > 62:
        return np.unique(tab, axis=0)
    codes = np.unique(tab.astype(np.int64) @ (np.int64(1) << np.arange(k, dtype=np.int64)))
    return ((codes[:, None] >> np.arange(k, dtype=np.int64)) & 1).astype(bool)


def _literal(theorem: Any) -> tuple[Any, bool] | None:
    if isinstance(theorem, sympy.Symbol):
        return theorem, True
    if isinstance(theorem, Not) and isinstance(theorem.args[0], sympy.Symbol):
        return theorem.args[0], False
    return None


class ConsistentWorlds:
    """The worlds consistent with the theorems so far, over the atoms still open.

    Parameters
    ----------
    max_atoms : int
        Largest number of open atoms a table may range over (:math:`2^a` rows).

    Examples
    --------
    >>> A, B = sympy.symbols("A B")
    >>> w = ConsistentWorlds()
    >>> w.add_theorems([A | B])
    >>> w.table([A, B, A & B]).astype(int).tolist()
    [[1, 0, 0], [0, 1, 0], [1, 1, 1]]
    >>> w.add_theorems([~A])
    >>> w.table([A, B]).astype(int).tolist()
    [[0, 1]]
    """

    def __init__(self, *, max_atoms: int = 16):
        if isinstance(max_atoms, bool) or not isinstance(max_atoms, int) or max_atoms < 1:
            raise InvalidInput(f"max_atoms must be an integer >= 1, got {max_atoms!r}")
        self.max_atoms = max_atoms
        self.fixed: dict[Any, bool] = {}
        self._constraints: list[tuple[Any, frozenset, Evaluator]] = []
        self._evaluators: dict[Any, Evaluator] = {}
        self._cache: dict[tuple, np.ndarray] = {}
        self._symbols: dict[Any, frozenset] = {}
        self._mentioned: dict[tuple, tuple] = {}
        self._stable: dict[tuple, np.ndarray] = {}

    def symbols(self, sentence: Any) -> frozenset:
        """The atoms of a sentence (memoised)."""
        got = self._symbols.get(sentence)
        if got is None:
            got = self._symbols[sentence] = frozenset(sentence.free_symbols)
        return got

    def evaluator(self, sentence: Any) -> Evaluator:
        f = self._evaluators.get(sentence)
        if f is None:
            f = self._evaluators[sentence] = compile_sentence(sentence)
        return f

    def add_theorems(self, theorems: Iterable[Any]) -> None:
        """Add proven sentences (refutations arrive as negations).

        Raises :class:`~predmarket.errors.InvalidInput` if no world satisfies the theorems
        together, and then keeps the theorems it had before the call.
        """
        state = self.snapshot()
        try:
            self._add_theorems(list(theorems))
        except BaseException:
            self.restore(state)
            raise

    def snapshot(self) -> tuple:
        """The theorems held now, for :meth:`restore`."""
        return dict(self.fixed), list(self._constraints)

    def restore(self, state: tuple) -> None:
        """Go back to the theorems of a :meth:`snapshot`."""
        fixed, constraints = state
        if fixed != self.fixed or len(constraints) != len(self._constraints):
            self._cache.clear()
        self.fixed = dict(fixed)
        self._constraints = list(constraints)

    def _add_theorems(self, pending: list) -> None:
        changed = False
        before = set(self.fixed)
        added: list = []
        for t in pending:
            lit = _literal(t)
            if lit is not None:
                atom, value = lit
                if self.fixed.get(atom, value) != value:
                    raise InvalidInput(
                        f"the theorems are inconsistent: {atom} is proven both true and false"
                    )
                if atom not in self.fixed:
                    self.fixed[atom] = value
                    changed = True
            else:
                constraint = (t, frozenset(t.free_symbols), self.evaluator(t))
                self._constraints.append(constraint)
                added.append(constraint)
                changed = True
        if changed:
            self._cache.clear()
            self._prune()
            # Constraints that gained a theorem or a fixed atom must still have a world in
            # common (pruning only catches those left with no open atom).
            newly_fixed = self.fixed.keys() - before
            added_ids = {id(c) for c in added}
            touched = [c[0] for c in self._constraints if id(c) in added_ids or c[1] & newly_fixed]
            if touched:
                # one sentence, their conjunction: a satisfiability check, which goes to
                # the SAT solver beyond max_atoms open atoms instead of being refused
                self.table((And(*touched),))

    def _prune(self) -> None:
        kept = []
        for t, atoms, f in self._constraints:
            open_atoms = atoms - self.fixed.keys()
            if open_atoms:
                kept.append((t, atoms, f))
            elif not bool(f({a: np.bool_(self.fixed[a]) for a in atoms})):
                raise InvalidInput(f"the theorems are inconsistent: {t} is refuted by the others")
        self._constraints = kept

    def _patterns_by_sat(self, sentences: Sequence[Any], active: list) -> np.ndarray:
        """Distinct truth patterns of ``sentences`` by a SAT solver with blocking clauses
        (:class:`~predmarket.logic.worlds.SatSolver`): one fresh atom :math:`z_j` per
        sentence, :math:`z_j \\leftrightarrow \\varphi_j`, enumerated over the :math:`z_j`
        only, so the work is proportional to the number of patterns, not to
        :math:`2^{\\text{atoms}}`."""
        from predmarket.logic.worlds import SatSolver

        mentioned: set = set()
        for sentence in sentences:
            mentioned |= self.symbols(sentence)
        for c in active:
            mentioned |= c[1]
        facts = [a if self.fixed[a] else Not(a) for a in mentioned if a in self.fixed]
        marks = [sympy.Symbol(f"pattern_mark_{j}_") for j in range(len(sentences))]
        definitions = [Equivalent(z, s) for z, s in zip(marks, sentences)]
        solver = SatSolver([*facts, *(c[0] for c in active), *definitions])
        try:
            rows = solver.enumerate(marks, limit=1 << len(sentences))
        finally:
            solver.close()
        if not rows:
            raise InvalidObservation("the theorems are inconsistent: no world satisfies them all")
        return np.unique(np.array(rows, dtype=bool).reshape(len(rows), len(sentences)), axis=0)

    def table(self, sentences: Sequence[Any]) -> np.ndarray:
        """Distinct truth patterns of ``sentences`` over all consistent worlds.

        Returns a boolean array of shape ``(worlds, len(sentences))``, rows unique.
        """
        key = tuple(sentences)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        # With literal theorems only, a table depends on nothing but the values fixed for
        # the atoms its sentences mention: keep it across days under that signature.
        signature = None
        if not self._constraints:
            mentioned = self._mentioned.get(key)
            if mentioned is None:
                atoms: set = set()
                for sentence in sentences:
                    atoms |= self.symbols(sentence)
                mentioned = self._mentioned[key] = tuple(sorted(atoms, key=sympy.default_sort_key))
            fixed = self.fixed
            signature = (key, tuple(fixed.get(a) for a in mentioned))
            stable = self._stable.get(signature)
            if stable is not None:
                self._cache[key] = stable
                return stable
        open_atoms: set = set()
        for s in sentences:
            open_atoms |= self.symbols(s) - self.fixed.keys()
        # constraints touching the open atoms, closed transitively
        active: list = []
        remaining = list(self._constraints)
        grew = True
        while grew:
            grew = False
            rest = []
            for c in remaining:
                if c[1] & open_atoms:
                    active.append(c)
                    open_atoms |= c[1] - self.fixed.keys()
                    grew = True
                else:
                    rest.append(c)
            remaining = rest
        atoms = sorted(open_atoms, key=sympy.default_sort_key)
        if len(atoms) > self.max_atoms:
            if len(sentences) > self.max_atoms:
                raise SpaceTooLarge(
                    f"{len(atoms)} open atoms and {len(sentences)} sentences: both exceed "
                    f"max_atoms={self.max_atoms}; settle sentences sooner or raise the limit"
                )
            tab = self._patterns_by_sat(sentences, active)
            self._cache[key] = tab
            return tab
        rows = 1 << len(atoms)
        codes = np.arange(rows, dtype=np.int64)
        mentioned: set = set()
        for sentence in sentences:
            mentioned |= self.symbols(sentence)
        for c in active:
            mentioned |= c[1]
        fixed = self.fixed
        env: dict = {a: np.bool_(fixed[a]) for a in mentioned if a in fixed}
        for j, a in enumerate(atoms):
            env[a] = ((codes >> j) & 1).astype(bool)
        ok = np.ones(rows, dtype=bool)
        for _, _, f in active:
            ok &= np.broadcast_to(f(env), (rows,))
        if not ok.any():
            raise InvalidObservation("the theorems are inconsistent: no world satisfies them all")
        cols = [np.broadcast_to(self.evaluator(s)(env), (rows,))[ok] for s in sentences]
        tab = np.stack(cols, axis=1) if cols else np.zeros((int(ok.sum()), 0), dtype=bool)
        tab = _unique_rows(tab) if tab.shape[1] else tab[:1]
        if len(self._cache) >= 50_000:
            self._cache.clear()
        self._cache[key] = tab
        if signature is not None:
            if len(self._stable) >= 100_000:
                self._stable.clear()
                self._mentioned.clear()
            self._stable[signature] = tab
        return tab
