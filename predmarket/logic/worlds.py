"""Worlds: the truth assignments consistent with everything proven, found with a SAT solver.

A *world* (Garrabrant et al. 2016, Def. 3.5.1) assigns a truth value to every atom. The
worlds a market must respect on day :math:`n` are the *propositionally consistent* ones:
those that make every theorem of :math:`D_n` true. Here a world is an assignment to the
market's atoms that *extends* to a model of the theorems (theorems may mention other atoms;
those are projected away).

How worlds are found (never by running through :math:`2^k` assignments):

1. The theorems are put in conjunctive normal form with the Tseitin transformation
   (linear size; one fresh variable per sub-formula) [2]_.
2. Atoms are split into independent groups: two atoms are in one group when a theorem
   links them (union-find). An atom no theorem mentions is *free*: it takes both values
   in the consistent worlds, at no solver cost.
3. Each group's consistent assignments are enumerated by a SAT solver with *blocking
   clauses* over the group's market atoms: each solver call returns one new assignment, so
   the work is proportional to the number of worlds, not to :math:`2^k`.
4. The worlds are the product of the groups' assignments and the free atoms' values.

The solver is `python-sat` (MiniSat 2.2 by default; any name it knows, e.g.
``"cadical153"``), or sympy's DPLL when python-sat is missing or ``solver="sympy"``.
Exponential output is guarded: more than ``max_worlds`` worlds raise
:class:`~predmarket.errors.SpaceTooLarge` before any large array is built.

References
----------
.. [1] S. Garrabrant, T. Benson-Tilsen, A. Critch, N. Soares, J. Taylor, "Logical
   induction", arXiv:1609.03543 (2016), sec. 3.5.
.. [2] G. S. Tseitin, "On the complexity of derivation in propositional calculus",
   Studies in Constructive Mathematics and Mathematical Logic, Part II, 1968.
.. [3] N. Eén and N. Sörensson, "An extensible SAT-solver", SAT 2003 (MiniSat).
"""

from __future__ import annotations

import contextlib
import itertools
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import sympy
from sympy.logic.boolalg import And, Boolean, BooleanFalse, BooleanTrue, Equivalent, Not, Or, Xor

from predmarket.errors import InvalidInput, InvalidObservation, SpaceTooLarge, UnknownVariable
from predmarket.logic.sentences import parse_sentence

__all__ = [
    "DEFAULT_MAX_WORLDS",
    "SatSolver",
    "WorldSet",
    "consistent",
    "entails",
    "enumerate_worlds",
    "evaluate",
    "find_world",
]

DEFAULT_MAX_WORLDS = 1 << 16
SOLVERS = ("auto", "sympy")


# ----------------------------------------------------------------------------- CNF


class _Tseitin:
    """Tseitin encoding of canonical sentences into DIMACS clauses (ints)."""

    def __init__(self):
        self.var: dict[Any, int] = {}  # atom -> variable
        self.node: dict[Boolean, int] = {}  # sub-formula -> literal
        self.clauses: list[list[int]] = []
        self.count = 0

    def fresh(self) -> int:
        self.count += 1
        return self.count

    def atom(self, symbol) -> int:
        v = self.var.get(symbol)
        if v is None:
            v = self.var[symbol] = self.fresh()
        return v

    def literal(self, expr: Boolean) -> int:
        if isinstance(expr, sympy.Symbol):
            return self.atom(expr)
        if isinstance(expr, Not):
            return -self.literal(expr.args[0])
        known = self.node.get(expr)
        if known is not None:
            return known
        add = self.clauses.append
        if isinstance(expr, BooleanTrue | BooleanFalse):
            v = self.fresh()
            add([v] if isinstance(expr, BooleanTrue) else [-v])
        elif isinstance(expr, And | Or):
            kids = [self.literal(a) for a in expr.args]
            v = self.fresh()
            s = 1 if isinstance(expr, And) else -1  # Or is And with every sign flipped
            for k in kids:
                add([-s * v, s * k])
            add([s * v] + [-s * k for k in kids])
        elif isinstance(expr, Xor):
            kids = [self.literal(a) for a in expr.args]
            v = kids[0]
            for k in kids[1:]:
                v = self._xor(v, k)
        elif isinstance(expr, Equivalent):
            kids = [self.literal(a) for a in expr.args]
            pairs = [-self._xor(x, y) for x, y in itertools.pairwise(kids)]
            v = self.fresh()
            for k in pairs:
                add([-v, k])
            add([v] + [-k for k in pairs])
        else:
            raise InvalidInput(f"cannot encode {expr!r}; expected a canonical sentence")
        self.node[expr] = v
        return v

    def _xor(self, a: int, b: int) -> int:
        x = self.fresh()
        self.clauses += [[-x, a, b], [-x, -a, -b], [x, -a, b], [x, a, -b]]
        return x

    def assert_sentence(self, expr: Boolean) -> None:
        if isinstance(expr, And):
            for arg in expr.args:
                self.assert_sentence(arg)
        elif isinstance(expr, Or) and all(_is_literal(a) for a in expr.args):
            self.clauses.append([self.literal(a) for a in expr.args])
        else:
            self.clauses.append([self.literal(expr)])


def _is_literal(expr) -> bool:
    return isinstance(expr, sympy.Symbol) or (
        isinstance(expr, Not) and isinstance(expr.args[0], sympy.Symbol)
    )


# ----------------------------------------------------------------------------- solver


class SatSolver:
    """An incremental SAT solver over sentences: python-sat, or sympy's DPLL as fallback.

    Parameters
    ----------
    sentences : iterable of sentences
        Asserted (all must hold).
    solver : str
        ``"auto"`` (python-sat's MiniSat 2.2 if installed, else sympy), ``"sympy"``, or a
        python-sat solver name such as ``"minisat22"``, ``"glucose4"``, ``"cadical153"``.

    Examples
    --------
    >>> s = SatSolver(["A | B", "~A"])
    >>> s.solve({})
    {A: False, B: True}
    >>> s.solve({sympy.Symbol("B"): False}) is None
    True
    """

    def __init__(self, sentences: Iterable[Any] = (), *, solver: str = "auto"):
        self.sentences = [parse_sentence(s) for s in sentences]
        self.encoding = _Tseitin()
        for s in self.sentences:
            self.encoding.assert_sentence(s)
        self.name = _choose_solver(solver)
        self.calls = 0
        self._pysat = None
        if self.name != "sympy":
            from pysat.solvers import Solver

            self._pysat = Solver(name=self.name, bootstrap_with=self.encoding.clauses)
        self._extra: list[Boolean] = []  # sympy backend: blocking clauses as sentences

    def add_sentence(self, sentence: Any) -> None:
        """Assert one more sentence."""
        s = parse_sentence(sentence)
        self.sentences.append(s)
        start = len(self.encoding.clauses)
        self.encoding.assert_sentence(s)
        if self._pysat is not None:
            for clause in self.encoding.clauses[start:]:
                self._pysat.add_clause(clause)

    def block(self, assignment: dict) -> None:
        """Forbid one assignment of some atoms (a blocking clause)."""
        if self._pysat is not None:
            self._pysat.add_clause(
                [
                    -self.encoding.atom(a) if v else self.encoding.atom(a)
                    for a, v in assignment.items()
                ]
            )
        else:
            self._extra.append(Or(*(Not(a) if v else a for a, v in assignment.items())))

    def solve(self, assumptions: dict, atoms: Sequence | None = None) -> dict | None:
        """A model satisfying the sentences and ``assumptions`` (``{atom: bool}``), restricted
        to ``atoms`` (default: every atom of the sentences and assumptions); ``None`` if
        there is none."""
        self.calls += 1
        if atoms is None:
            atoms = sorted(set(self.encoding.var) | set(assumptions), key=sympy.default_sort_key)
        if self._pysat is not None:
            lits = [
                self.encoding.atom(a) if v else -self.encoding.atom(a)
                for a, v in assumptions.items()
            ]
            if not self._pysat.solve(assumptions=lits):
                return None
            model = self._pysat.get_model()
            truth = {abs(x): x > 0 for x in model}
            return {a: bool(truth.get(self.encoding.var.get(a, 0), False)) for a in atoms}
        formula = And(
            *self.sentences, *self._extra, *(a if v else Not(a) for a, v in assumptions.items())
        )
        model = sympy.logic.inference.satisfiable(formula, algorithm="dpll2")
        if model is False:
            return None
        return {a: bool(model.get(a, False)) for a in atoms}

    def enumerate(self, atoms: Sequence, limit: int) -> list[np.ndarray] | None:
        """Every assignment of ``atoms`` that extends to a model, by blocking clauses.

        Returns the assignments (Boolean rows in the order of ``atoms``), or ``None`` when
        there are more than ``limit``. Each solver call finds one new assignment.
        """
        rows: list[np.ndarray] = []
        if self._pysat is None:
            while True:
                model = self.solve({}, atoms=atoms)
                if model is None:
                    return rows
                if len(rows) >= limit:
                    return None
                rows.append(np.array([model[a] for a in atoms], dtype=bool))
                if not atoms:
                    return rows
                self.block(model)
        ids = np.array([self.encoding.atom(a) for a in atoms], dtype=np.int64)
        solver = self._pysat
        while solver.solve():
            self.calls += 1
            if len(rows) >= limit:
                return None
            model = np.asarray(solver.get_model(), dtype=np.int64)
            bits = model[ids - 1] > 0  # the model lists variables 1..n in order
            rows.append(bits)
            if not len(ids):
                break
            solver.add_clause(np.where(bits, -ids, ids).tolist())
        return rows

    def close(self) -> None:
        if self._pysat is not None:
            self._pysat.delete()
            self._pysat = None

    def __del__(self):
        with contextlib.suppress(Exception):  # the interpreter may be shutting down
            self.close()


def _choose_solver(solver: str) -> str:
    if not isinstance(solver, str):
        raise InvalidInput(f"solver must be a name such as 'auto' or 'sympy', got {solver!r}")
    if solver == "sympy":
        return "sympy"
    try:
        from pysat.solvers import SolverNames
    except ImportError:
        if solver == "auto":
            return "sympy"
        raise InvalidInput(f"solver {solver!r} needs python-sat, which is not installed") from None
    if solver == "auto":
        return "minisat22"
    known = [n for n in vars(SolverNames) if not n.startswith("_")]
    if solver not in known:
        raise InvalidInput(f"unknown solver {solver!r}; expected 'auto', 'sympy' or one of {known}")
    return solver


# ----------------------------------------------------------------------------- queries


def consistent(theorems: Iterable[Any], *, solver: str = "auto") -> bool:
    """Whether some world makes every theorem true.

    Examples
    --------
    >>> consistent(["A -> B", "A"]), consistent(["A -> B", "A", "~B"])
    (True, False)
    """
    return SatSolver(theorems, solver=solver).solve({}, atoms=()) is not None


def entails(theorems: Iterable[Any], sentence: Any, *, solver: str = "auto") -> bool:
    """Whether the theorems propositionally imply ``sentence`` (:math:`\\Gamma \\models \\varphi`):
    true iff :math:`\\Gamma \\wedge \\lnot\\varphi` is unsatisfiable.

    Examples
    --------
    >>> entails(["A -> B", "A"], "B"), entails(["A | B"], "A")
    (True, False)
    """
    s = SatSolver(theorems, solver=solver)
    s.add_sentence(Not(parse_sentence(sentence)))
    return s.solve({}, atoms=()) is None


def find_world(
    theorems: Iterable[Any], atoms: Iterable[Any] = (), *, solver: str = "auto"
) -> dict | None:
    """One world (``{atom: bool}`` over ``atoms`` and the theorems' atoms) making every theorem
    true, or ``None``.

    Examples
    --------
    >>> find_world(["A ^ B", "B"])
    {A: False, B: True}
    """
    s = SatSolver(theorems, solver=solver)
    extra = set(_atoms(atoms))
    return s.solve({}, atoms=sorted(extra | set(s.encoding.var), key=sympy.default_sort_key))


def _atoms(atoms: Iterable[Any]) -> list:
    out = []
    for a in atoms:
        if isinstance(a, str):
            a = parse_sentence(a)
        if not isinstance(a, sympy.Symbol):
            raise InvalidInput(f"atoms must be atom names or sympy Symbols, got {a!r}")
        parse_sentence(a)  # validates the atom
        out.append(a)
    if len(set(out)) != len(out):
        raise InvalidInput(f"atoms repeat: {[str(a) for a in out]}")
    return out


def evaluate(sentence: Boolean, columns: dict, n: int, cache: dict | None = None) -> np.ndarray:
    """Truth of a canonical sentence on ``n`` worlds given each atom's column of truth values.

    Vectorised over worlds (numpy Boolean arrays).
    """
    if cache is not None and sentence in cache:
        return cache[sentence]
    if isinstance(sentence, BooleanTrue):
        out = np.ones(n, dtype=bool)
    elif isinstance(sentence, BooleanFalse):
        out = np.zeros(n, dtype=bool)
    elif isinstance(sentence, sympy.Symbol):
        try:
            out = columns[sentence]
        except KeyError:
            raise UnknownVariable(f"atom {sentence} is not an atom of these worlds") from None
    else:
        kids = [evaluate(a, columns, n, cache) for a in sentence.args]
        if isinstance(sentence, Not):
            out = ~kids[0]
        elif isinstance(sentence, And):
            out = np.logical_and.reduce(kids)
        elif isinstance(sentence, Or):
            out = np.logical_or.reduce(kids)
        elif isinstance(sentence, Xor):
            out = np.logical_xor.reduce(kids)
        elif isinstance(sentence, Equivalent):
            out = np.logical_and.reduce(kids) | ~np.logical_or.reduce(kids)
        else:
            raise InvalidInput(f"cannot evaluate {sentence!r}; expected a canonical sentence")
    if cache is not None:
        cache[sentence] = out
    return out


# ----------------------------------------------------------------------------- world sets


class WorldSet:
    """An explicit list of worlds over fixed atoms: a Boolean table, one row per world.

    Attributes
    ----------
    atoms : tuple of Symbol
        The columns.
    table : numpy.ndarray of bool, shape (n_worlds, n_atoms)
        Read-only.
    """

    def __init__(self, atoms: Sequence, table: np.ndarray):
        self.atoms = tuple(atoms)
        table = np.asarray(table, dtype=bool).reshape(-1, len(self.atoms))
        table.setflags(write=False)
        self.table = table
        self.index = {a: i for i, a in enumerate(self.atoms)}
        self._columns = {a: table[:, i] for i, a in enumerate(self.atoms)}
        self._cache: dict = {}  # sentence -> truth column (sub-formulas included)
        # at most ~64 MiB of cached truth columns, and at least 64 of them
        self._cache_limit = max(64, (64 << 20) // max(1, len(self)))

    def __len__(self) -> int:
        return self.table.shape[0]

    def __repr__(self) -> str:
        return f"WorldSet({len(self)} worlds over {len(self.atoms)} atoms)"

    def truth(self, sentence: Any) -> np.ndarray:
        """Truth value of ``sentence`` in every world (a read-only Boolean array).

        Raises :class:`~predmarket.errors.UnknownVariable` if the sentence mentions an atom
        that is not a column.
        """
        s = parse_sentence(sentence)
        unknown = [str(a) for a in s.free_symbols if a not in self.index]
        if unknown:
            raise UnknownVariable(
                f"sentence {s} mentions atom(s) {sorted(unknown)} outside these worlds' atoms "
                f"{[str(a) for a in self.atoms]}"
            )
        if len(self._cache) > self._cache_limit:
            self._cache.clear()
        out = evaluate(s, self._columns, len(self), self._cache)
        return out

    def assignment(self, i: int) -> dict:
        """World ``i`` as ``{atom: bool}``."""
        return {a: bool(v) for a, v in zip(self.atoms, self.table[i], strict=True)}

    def consistent_with(self, theorems: Iterable[Any], *, solver: str = "auto") -> np.ndarray:
        """Mask of the worlds that extend to a model of ``theorems``.

        A theorem over these atoms only is evaluated directly; the others (mentioning
        outside atoms) are checked with one SAT call per world still standing, with the
        world's values as assumptions.
        """
        mask = np.ones(len(self), dtype=bool)
        foreign = []
        for t in theorems:
            s = parse_sentence(t)
            if s.free_symbols <= self.index.keys():
                mask &= self.truth(s)
            else:
                foreign.append(s)
        if foreign and mask.any():
            sat = SatSolver(foreign, solver=solver)
            shared = [a for a in self.atoms if a in sat.encoding.var]
            cols = [self.index[a] for a in shared]
            verdict: dict[tuple, bool] = {}
            for i in np.flatnonzero(mask):
                key = tuple(self.table[i, cols])
                if key not in verdict:
                    verdict[key] = (
                        sat.solve(dict(zip(shared, key, strict=True)), atoms=()) is not None
                    )
                mask[i] = verdict[key]
        return mask


def _components(atoms: Sequence, theorems: Sequence[Boolean]) -> list[tuple[list, list]]:
    """Groups of (market atoms, theorems) linked by shared atoms (union-find)."""
    parent: dict = {}

    def find(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for t in theorems:
        symbols = list(t.free_symbols)
        for s in symbols[1:]:
            parent[find(s)] = find(symbols[0])
        if symbols:
            find(symbols[0])
    groups: dict = {}
    for t in theorems:
        if t.free_symbols:
            groups.setdefault(find(next(iter(t.free_symbols))), ([], []))[1].append(t)
    for a in atoms:
        if a in parent:
            groups.setdefault(find(a), ([], []))[0].append(a)
    return list(groups.values())


def enumerate_worlds(
    atoms: Iterable[Any],
    theorems: Iterable[Any] = (),
    *,
    max_worlds: int = DEFAULT_MAX_WORLDS,
    solver: str = "auto",
) -> WorldSet:
    """Every assignment to ``atoms`` that extends to a model of ``theorems``.

    Parameters
    ----------
    atoms : iterable of atoms or names
        The columns, in this order.
    theorems : iterable of sentences
        What is proven; may mention atoms outside ``atoms``.
    max_worlds : int
        Refuse (raise :class:`~predmarket.errors.SpaceTooLarge`) rather than list more
        worlds than this.
    solver : str
        See :class:`SatSolver`.

    Raises
    ------
    InvalidObservation
        The theorems are inconsistent: no world satisfies them.
    SpaceTooLarge
        More than ``max_worlds`` worlds.

    Examples
    --------
    >>> w = enumerate_worlds(["A", "B", "C"], ["A -> B"])
    >>> len(w)        # 3 assignments of (A, B) times 2 of the free C
    6
    >>> bool(w.truth("A & ~B").any())
    False
    """
    atoms = _atoms(atoms)
    theorems = [parse_sentence(t) for t in theorems]
    if isinstance(max_worlds, bool) or not isinstance(max_worlds, int) or max_worlds < 1:
        raise InvalidInput(f"max_worlds must be a positive integer, got {max_worlds!r}")
    name = _choose_solver(solver)
    constant = [t for t in theorems if not t.free_symbols]
    if any(isinstance(t, BooleanFalse) for t in constant):
        raise InvalidObservation("the theorems are inconsistent: one of them is False")
    groups = _components(atoms, [t for t in theorems if t.free_symbols])
    linked = {a for group, _ in groups for a in group}
    free = [a for a in atoms if a not in linked]
    budget = max_worlds / 2 ** min(len(free), 1100)
    if budget < 1:
        raise SpaceTooLarge(
            f"{len(free)} atoms are unconstrained, so there are at least 2^{len(free)} worlds, "
            f"more than max_worlds={max_worlds}"
        )
    tables: list[tuple[list, np.ndarray]] = []
    for group_atoms, group_theorems in sorted(groups, key=lambda g: -len(g[1])):
        limit = math.floor(budget)
        sat = SatSolver(group_theorems, solver=name)
        rows = sat.enumerate(group_atoms, limit)
        sat.close()
        if rows is None:
            raise SpaceTooLarge(
                f"more than max_worlds={max_worlds} worlds over {len(atoms)} atoms are "
                f"consistent with the theorems; raise max_worlds or add theorems"
            )
        if not rows:
            shown = sorted(map(str, group_theorems))
            more = f" and {len(shown) - 5} more" if len(shown) > 5 else ""
            raise InvalidObservation(
                f"the theorems are inconsistent: no world satisfies {shown[:5]}{more}"
            )
        budget /= len(rows)
        if group_atoms:
            tables.append((group_atoms, np.vstack(rows)))
    for a in free:
        tables.append(([a], np.array([[False], [True]])))
    return WorldSet(atoms, _product(atoms, tables))


def _product(atoms: Sequence, tables: list[tuple[list, np.ndarray]]) -> np.ndarray:
    sizes = [t.shape[0] for _, t in tables]
    n = math.prod(sizes)
    out = np.empty((n, len(atoms)), dtype=bool)
    col = {a: i for i, a in enumerate(atoms)}
    repeat = n
    tile = 1
    for (group_atoms, t), size in zip(tables, sizes, strict=True):
        repeat //= size
        block = np.repeat(t, repeat, axis=0)
        block = np.tile(block, (tile, 1))
        tile *= size
        for j, a in enumerate(group_atoms):
            out[:, col[a]] = block[:, j]
    return out
