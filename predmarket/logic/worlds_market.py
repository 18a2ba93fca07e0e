"""``WorldsMarket``: an LMSR over the worlds consistent with what is proven.

The outcome space is the list of worlds (:mod:`predmarket.logic.worlds`): truth assignments
to the market's atoms that satisfy every theorem known when the market opens. The maker
holds log-weights :math:`q_w / b` over worlds, and the price of any sentence is the mass of
the worlds where it is true,

.. math:: P(\\varphi) = \\frac{\\sum_{w \\models \\varphi} e^{q_w / b}}{\\sum_w e^{q_w / b}},

so prices are *coherent* for every sentence at once: :math:`P(\\varphi) + P(\\lnot\\varphi)
= 1`, :math:`P(\\varphi \\wedge \\psi) \\le P(\\varphi)`, equivalent sentences get equal prices,
theorems get price 1 (Garrabrant et al. 2016, sec. 4.1: a coherent market is a probability
distribution over consistent worlds).

Proofs narrow the worlds: :meth:`WorldsMarket.observe` removes the worlds a new theorem rules
out, and trading continues on the rest. Settlement follows DESIGN.md sec. 4 exactly as
:class:`~predmarket.market.Market` does: each trade :math:`q \\to q'` pays
:math:`C_S(q') - C_S(q)` where :math:`S` is the set of worlds left at settlement. When every
atom is settled, :math:`S` is one world and a share of :math:`\\varphi` pays 1 iff
:math:`\\varphi` is true there. Atoms declared ``latent`` (say, sentences that will never be
proven or refuted) are never observed; then :math:`S` is the set of worlds agreeing on the
other atoms and trades on latent atoms are paid by the log score of what was observed.

Budgets follow the core too: a trade is refused whole unless the account's worst final cash
over the outcomes the market can still settle on stays :math:`\\ge 0`. Money is conserved:
accounts' cash plus the maker's equals endowments plus the subsidy
:math:`-b \\log \\min_o P_0(o)` (:math:`b \\log N` for :math:`N` worlds and no latent atoms),
which bounds the maker's loss.

The public API is :class:`~predmarket.market.Market`'s (sentences in place of events), so
trader-programs written for one trade on the other unchanged.

References
----------
.. [1] R. Hanson, "Combinatorial information market design", Information Systems Frontiers
   5(1), 2003.
.. [2] S. Garrabrant, T. Benson-Tilsen, A. Critch, N. Soares, J. Taylor, "Logical
   induction", arXiv:1609.03543 (2016), sec. 3-4.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy
from scipy.special import logsumexp
from sympy.logic.boolalg import And, Boolean, Not

from predmarket.accounts import AccountBook
from predmarket.errors import (
    ImpossibleEvent,
    IncompleteObservation,
    InvalidInput,
    InvalidObservation,
    LatentObservation,
    MarketClosed,
    UnknownVariable,
)
from predmarket.ledger import Account, Quote
from predmarket.logic.deductive import as_process
from predmarket.logic.sentences import parse_sentence, sentence_to_string
from predmarket.logic.worlds import DEFAULT_MAX_WORLDS, WorldSet, enumerate_worlds
from predmarket.moves import MovePricing
from predmarket.scoring import check_liquidity
from predmarket.validation import finite_number, verify

__all__ = ["WorldsMarket"]

_TRUE = {"true", "yes", "1", "t", "y"}
_FALSE = {"false", "no", "0", "f", "n"}


class _Holder:
    __slots__ = ("cash", "endowment", "holdings", "name")

    def __init__(self, name: str, cash: float, n_outcomes: int):
        self.name = name
        self.cash = cash
        self.endowment = cash
        self.holdings = np.zeros(n_outcomes)  # payout at settlement, per settleable outcome


@dataclass
class _Move:
    account: _Holder
    kind: str
    parts: list[Boolean]
    masks: list[np.ndarray]
    values: list[float]
    cost: float
    shares: float
    price_before: float
    price_after: float
    payout: np.ndarray  # per settleable outcome
    details: dict


class WorldsMarket(AccountBook, MovePricing):
    """An LMSR market maker over the consistent worlds of a set of atoms.

    Parameters
    ----------
    sentences : iterable of sentences, optional
        Sentences the market lists (:attr:`sentences`, :meth:`prices`); their atoms are the
        market's atoms. Any sentence over the market's atoms can be priced and traded.
    liquidity : float
        Hanson's :math:`b > 0`.
    atoms : iterable of atoms or names, optional
        Further atoms.
    theorems : iterable of sentences or a deductive process, optional
        What is known when the market opens: the worlds are those consistent with it. A
        deductive process contributes ``theorems(0)``.
    latent : iterable of atoms or names, optional
        Atoms never observed: settlement leaves them open (DESIGN.md sec. 4).
    max_worlds : int
        Guard on the number of worlds (:class:`~predmarket.errors.SpaceTooLarge` beyond).
    solver : str
        SAT solver, see :class:`~predmarket.logic.worlds.SatSolver`.

    Examples
    --------
    >>> m = WorldsMarket(["A", "A -> B"], liquidity=10.0)
    >>> len(m.worlds), round(m.price("A -> B"), 4)
    (4, 0.75)
    >>> alice = m.open_account("alice", cash=50.0)
    >>> cost = m.buy(alice, "B", shares=5.0)
    >>> round(m.price("B") + m.price("~B"), 12), m.price("A & B") <= m.price("A")
    (1.0, True)
    >>> m.observe("A")                  # a proof narrows the worlds
    >>> round(m.price("B"), 4)
    0.6225
    >>> payouts = m.settle("B")
    >>> round(payouts["alice"], 6)
    5.0
    """

    def __init__(
        self,
        sentences: Iterable[Any] = (),
        *,
        liquidity: float,
        atoms: Iterable[Any] = (),
        theorems: Any = (),
        latent: Iterable[Any] = (),
        max_worlds: int = DEFAULT_MAX_WORLDS,
        solver: str = "auto",
    ):
        self._b = check_liquidity(liquidity)
        if isinstance(sentences, str | Boolean):
            sentences = [sentences]
        self.sentences: tuple[Boolean, ...] = tuple(
            dict.fromkeys(parse_sentence(s) for s in sentences)
        )
        names: dict = {}
        for s in self.sentences:
            for a in sorted(s.free_symbols, key=sympy.default_sort_key):
                names.setdefault(a, None)
        for a in atoms:
            names.setdefault(self._atom(a), None)
        if not names:
            raise InvalidInput("a WorldsMarket needs at least one atom (from sentences or atoms=)")
        if theorems is None:
            theorems = ()
        if isinstance(theorems, str | Boolean):
            theorems = [theorems]
        if hasattr(theorems, "theorems"):
            theorems = as_process(theorems).theorems(0)
        self._initial_theorems = tuple(parse_sentence(t) for t in theorems)
        self.solver = solver
        worlds = enumerate_worlds(
            list(names), self._initial_theorems, max_worlds=max_worlds, solver=solver
        )
        latent_atoms = []
        for a in latent:
            atom = self._atom(a)
            if atom not in names:
                raise UnknownVariable(f"latent atom {atom} is not an atom of this market")
            latent_atoms.append(atom)
        self.latent: tuple = tuple(dict.fromkeys(latent_atoms))
        if len(self.latent) == len(names):
            raise InvalidInput("at least one atom must be observable; all are latent")
        observable = [i for i, a in enumerate(worlds.atoms) if a not in self.latent]
        # Sort worlds by their observable part so each settleable outcome is a contiguous run.
        keys = worlds.table[:, observable]
        _, outcome_of = np.unique(keys, axis=0, return_inverse=True)
        order = np.argsort(outcome_of.ravel(), kind="stable")
        self.worlds = WorldSet(worlds.atoms, worlds.table[order])
        self._outcome = outcome_of.ravel()[order]
        self._n_outcomes = int(self._outcome.max()) + 1
        self._starts = np.flatnonzero(np.r_[True, np.diff(self._outcome) != 0])
        self._observable = tuple(worlds.atoms[i] for i in observable)
        n = len(self.worlds)
        self._logw = np.zeros(n)  # q / b; -inf for worlds ruled out by proofs
        self._alive = np.ones(n, dtype=bool)
        self._refresh()
        sizes = np.diff(np.r_[self._starts, n])
        self._open_book(-self._b * float(np.log(sizes.min() / n)))
        self._observed: list[Boolean] = []
        self._closed = False

    # -- basic properties ---------------------------------------------------------------
    @property
    def liquidity(self) -> float:
        """Hanson's liquidity parameter :math:`b`."""
        return self._b

    @property
    def atoms(self) -> tuple:
        """The market's atoms (the columns of :attr:`worlds`)."""
        return self.worlds.atoms

    @property
    def closed(self) -> bool:
        """Whether trading has stopped (:meth:`close` or settlement)."""
        return self._closed or self._settled

    @property
    def observed(self) -> tuple[Boolean, ...]:
        """The proofs observed so far, in order."""
        return tuple(self._observed)

    @property
    def n_worlds(self) -> int:
        """Worlds still consistent with what has been observed."""
        return int(self._alive.sum())

    # -- accounts ----------------------------------------------------------------------
    def _new_account(self, name: str, cash: float) -> _Holder:
        return _Holder(name, cash, self._n_outcomes)

    def min_asset(self, account: Account | str) -> float:
        """Worst-case final cash of the account over the outcomes still settleable."""
        acct = self._account(account)
        if self._settled:
            return acct.cash
        return acct.cash + float(acct.holdings[self._settleable()].min())

    def assets(self, account: Account | str) -> np.ndarray:
        """Final cash of the account per settleable outcome (per world when nothing is
        latent), in the order of :meth:`outcomes`; ``nan`` where proofs ruled it out."""
        acct = self._account(account)
        out = np.full(self._n_outcomes, np.nan)
        live = self._settleable()
        out[live] = acct.cash + (0.0 if self._settled else acct.holdings[live])
        return out

    def outcomes(self) -> list[dict]:
        """The settleable outcomes: assignments to the observable atoms."""
        rows = self.worlds.table[self._starts]
        cols = [self.worlds.index[a] for a in self._observable]
        return [dict(zip(self._observable, map(bool, r[cols]), strict=True)) for r in rows]

    # -- prices ------------------------------------------------------------------------
    def event(self, spec: Any) -> Boolean:
        """The canonical sentence of ``spec``, checked to be over the market's atoms."""
        sentence = parse_sentence(spec)
        unknown = sorted(str(a) for a in sentence.free_symbols if a not in self.worlds.index)
        if unknown:
            raise UnknownVariable(
                f"sentence {sentence_to_string(sentence)!r} mentions atom(s) {unknown} that are "
                f"not atoms of this market ({[str(a) for a in self.atoms]})"
            )
        return sentence

    def _mask(self, sentence: Boolean) -> np.ndarray:
        return self.worlds.truth(sentence)

    def _log_mass(self, mask: np.ndarray) -> float:
        """:math:`\\log \\sum_{w \\in \\text{mask}} e^{q_w/b}` (relative to the centred weights).

        Summed from the cached weights :math:`e^{q_w/b - \\max q/b}`; when that sum is so small
        that it lost precision (or underflowed), recomputed exactly by log-sum-exp.
        """
        total = float(np.add.reduce(self._w, where=mask))
        if total > 1e-250:
            return math.log(total)
        return float(logsumexp(self._logw[mask])) if mask.any() else -math.inf

    def _refresh(self) -> None:
        """Re-centre the log-weights (max over possible worlds = 0) and cache their exp."""
        self._logw -= float(self._logw[self._alive].max())
        self._w = np.exp(self._logw)
        self._log_total = math.log(float(self._w.sum()))

    def price(self, event: Any, given: Any = None) -> float:
        """Price of a sentence, conditional on ``given`` if set.

        .. math:: P(\\varphi \\mid \\psi) = \\frac{\\sum_{w \\models \\varphi\\wedge\\psi}
                  e^{q_w/b}}{\\sum_{w \\models \\psi} e^{q_w/b}}

        As in :meth:`predmarket.market.Market.price`, a sentence false in every world still
        possible (refuted) raises :class:`ImpossibleEvent`, and so does such a condition;
        :meth:`prices` reports a refuted sentence as 0 instead.
        """
        sentence = self.event(event)
        a = self._mask(sentence)
        if not (a & self._alive).any():
            raise ImpossibleEvent(
                f"sentence {sentence_to_string(sentence)!r} is false in every world still "
                f"possible (refuted by the proofs observed)"
            )
        if given is None:
            return float(min(1.0, math.exp(self._log_mass(a) - self._log_total)))
        b = self._mask(self.event(given))
        log_b = self._log_mass(b)
        if log_b == -math.inf:
            raise ImpossibleEvent(
                f"conditioning sentence {sentence_to_string(self.event(given))!r} is false in "
                f"every world still possible"
            )
        return float(min(1.0, math.exp(self._log_mass(a & b) - log_b)))

    def prices(self, sentences: Iterable[Any] | None = None) -> dict:
        """``{sentence: price}`` for the listed sentences (default: :attr:`sentences`); a
        refuted sentence has price 0 here."""
        chosen = self.sentences if sentences is None else [self.event(s) for s in sentences]
        return {
            s: float(min(1.0, math.exp(self._log_mass(self._mask(s)) - self._log_total)))
            for s in chosen
        }

    def marginal(self, variable: Any) -> dict[str, float]:
        """Prices of an atom being true and false, ``{"True": p, "False": 1 - p}``."""
        atom = self._atom(variable)
        if atom not in self.worlds.index:
            raise UnknownVariable(f"{atom} is not an atom of this market")
        (p,) = self.prices([atom]).values()  # 0 or 1 once a proof settled it
        return {"True": p, "False": 1.0 - p}

    def probabilities(self) -> np.ndarray:
        """The market's distribution over :attr:`worlds` (0 on worlds ruled out)."""
        return np.exp(self._logw - logsumexp(self._logw))

    # -- trades ------------------------------------------------------------------------
    def buy(self, account: Account | str, event: Any, shares: float, *, given: Any = None) -> float:
        """Buy ``shares`` of a sentence (sell if negative); return the cost paid now.

        With ``given=ψ`` the shares are conditional: they pay 1 on :math:`\\varphi\\wedge\\psi`,
        0 on :math:`\\lnot\\varphi\\wedge\\psi`, and the cost is refunded on :math:`\\lnot\\psi`.

        .. math:: \\text{cost} = b \\log\\bigl(1 - p + p\\,e^{x/b}\\bigr), \\quad
                  p = P(\\varphi \\mid \\psi).
        """
        return self._execute(self._prepare_shares(account, event, shares, given)).cost

    def sell(
        self, account: Account | str, event: Any, shares: float, *, given: Any = None
    ) -> float:
        """Sell ``shares``: the same as ``buy`` with ``-shares``."""
        return self.buy(account, event, -finite_number("shares", shares), given=given)

    def edit(
        self, account: Account | str, event: Any, probability: float, *, given: Any = None
    ) -> Quote:
        """Hanson's edit: set :math:`P(\\varphi \\mid \\psi)` to ``probability`` at no cost now;
        it pays :math:`b\\log\\frac{p'}{p}` on :math:`\\varphi\\wedge\\psi`,
        :math:`b\\log\\frac{1-p'}{1-p}` on :math:`\\lnot\\varphi\\wedge\\psi`, 0 on
        :math:`\\lnot\\psi`."""
        return self._execute(self._prepare_edit(account, event, probability, given))

    def target(
        self, account: Account | str, event: Any, probability: float, *, given: Any = None
    ) -> Quote:
        """Buy the shares that bring :math:`P(\\varphi \\mid \\psi)` to ``probability``:
        :math:`x = b[\\operatorname{logit} p' - \\operatorname{logit} p]`."""
        return self._execute(self._prepare_target(account, event, probability, given))

    def quote(
        self,
        account: Account | str,
        event: Any,
        *,
        shares: float | None = None,
        probability: float | None = None,
        given: Any = None,
    ) -> float:
        """Cost of a trade without making it (``shares=`` as :meth:`buy`, ``probability=``
        as :meth:`target`)."""
        return self.preview(
            account, event, shares=shares, probability=probability, given=given
        ).cost

    def preview(
        self,
        account: Account | str,
        event: Any,
        *,
        shares: float | None = None,
        probability: float | None = None,
        given: Any = None,
    ) -> Quote:
        """Everything a trade would do, without making it."""
        self._require_trading()
        return self._preview(account, event, shares, probability, given)

    # -- proofs, closing and settlement --------------------------------------------------
    def observe(self, proof: Any) -> None:
        """A proof arrives: remove the worlds where it is false (several proofs may be given
        as a list). Later trades use the narrowed worlds; every trade still settles at the
        final settlement.

        A mapping ``{atom: True/False}`` (the form of the simulation layer's world outcomes)
        is read as the proofs of those literals.

        Raises
        ------
        InvalidObservation
            The proof contradicts what is already known.
        LatentObservation
            The proof would tell latent atoms apart.
        """
        self._require_open()
        proofs = self._proofs(proof)
        new = [p for p in proofs if p not in self._observed]
        if not new:
            return
        mask = self._alive & self.worlds.consistent_with(
            [*self._initial_theorems, *self._observed, *new], solver=self.solver
        )
        if not mask.any():
            raise InvalidObservation(
                f"proof(s) {[sentence_to_string(p) for p in new]} contradict what is known: no "
                f"world is left"
            )
        if self.latent:
            # Every settleable outcome must be kept or removed whole.
            kept = np.add.reduceat(mask.astype(int), self._starts)
            before = np.add.reduceat(self._alive.astype(int), self._starts)
            if np.any((kept > 0) & (kept < before)):
                raise LatentObservation(
                    f"proof(s) {[sentence_to_string(p) for p in new]} constrain the latent "
                    f"atoms {[str(a) for a in self.latent]}, which are never observed"
                )
        self._alive = mask
        self._logw = np.where(mask, self._logw, -np.inf)
        self._refresh()
        self._observed.extend(new)
        self._append("observe", None, details={"proofs": [sentence_to_string(p) for p in new]})

    def observe_process(self, process: Any, day: int) -> list[Boolean]:
        """Observe every theorem a deductive process has proven by ``day`` over this market's
        atoms (theorems mentioning other atoms are used for consistency too); return the
        new ones."""
        theorems = sorted(as_process(process).theorems(day), key=sympy.default_sort_key)
        new = [t for t in theorems if t not in self._observed]
        if new:
            self.observe(new)
        return new

    def close(self) -> None:
        """Stop trading; proofs and settlement are still accepted. Idempotent."""
        if not self._closed:
            self._require_open()
            self._closed = True
            self._append("close", None, details={})

    def settle(self, observation: Any = None) -> dict[str, float]:
        """Observe the final proof(s), if any, and pay every account; return the payouts.

        Each trade pays :math:`C_S(q') - C_S(q)`, :math:`S` the worlds left.

        Raises
        ------
        IncompleteObservation
            The worlds left disagree on an observable atom (named in the message).
        """
        self._require_open()
        if observation is not None:
            proofs = [p for p in self._proofs(observation) if p not in self._observed]
            if proofs:
                mask = self._alive & self.worlds.consistent_with(
                    [*self._initial_theorems, *self._observed, *proofs], solver=self.solver
                )
                self._check_final(mask, proofs)
                self.observe(proofs)
        self._check_final(self._alive, [])
        outcome = int(self._outcome[self._alive][0])
        self._append(
            "settle",
            None,
            details={"world": {str(a): v for a, v in self.outcomes()[outcome].items()}},
        )
        return self._pay_out(
            {acct.name: float(acct.holdings[outcome]) for acct in self._accounts.values()}
        )

    def _check_final(self, mask: np.ndarray, proofs: list) -> None:
        if not mask.any():
            raise InvalidObservation(
                f"proof(s) {[sentence_to_string(p) for p in proofs]} contradict what is known"
            )
        outcomes = np.unique(self._outcome[mask])
        if len(outcomes) > 1:
            rows = self.worlds.table[mask]
            open_atoms = [
                str(a)
                for a in self._observable
                if rows[:, self.worlds.index[a]].any() and not rows[:, self.worlds.index[a]].all()
            ]
            raise IncompleteObservation(
                f"settlement leaves observable atom(s) {open_atoms} open ({len(outcomes)} "
                f"outcomes remain); expected proofs that settle every observable atom"
                + (
                    f" (latent, never observed: {[str(a) for a in self.latent]})"
                    if self.latent
                    else ""
                )
            )

    def check(self, *, tolerance: float = 1e-7) -> None:
        """Verify the invariants; raise ``AssertionError`` naming a failure: prices sum to 1,
        ruled-out worlds have price 0, money is conserved, no account can end below zero."""
        p = self.probabilities()
        verify(abs(p.sum() - 1.0) < 1e-9, f"world prices sum to {p.sum()!r}, expected 1")
        verify(not p[~self._alive].any(), "a world ruled out by a proof has a positive price")
        self._check_books(tolerance)

    # -- internals -----------------------------------------------------------------------
    @staticmethod
    def _atom(a: Any):
        atom = parse_sentence(a) if isinstance(a, str) else a
        if not isinstance(atom, sympy.Symbol):
            raise InvalidInput(f"expected an atom (a name or a sympy Symbol), got {a!r}")
        parse_sentence(atom)
        return atom

    def _proofs(self, proof: Any) -> list[Boolean]:
        if isinstance(proof, Mapping):
            items = [self._literal(k, v) for k, v in proof.items()]
        elif isinstance(proof, str | bool | Boolean):
            items = [proof]
        elif isinstance(proof, Iterable):
            items = list(proof)
        else:
            raise InvalidObservation(f"a proof is a sentence or a list of sentences, got {proof!r}")
        out = []
        for p in items:
            s = parse_sentence(p)
            touched = [a for a in s.free_symbols if a in self.latent]
            if touched:
                raise LatentObservation(
                    f"proof {sentence_to_string(s)!r} mentions latent atom(s) "
                    f"{sorted(map(str, touched))}, which are never observed"
                )
            out.append(s)
        return out

    def _literal(self, atom: Any, value: Any) -> Boolean:
        """``{atom: truth}`` (as the simulation layer's worlds give outcomes) as a proof."""
        a = self._atom(atom)
        if a not in self.worlds.index:
            raise UnknownVariable(f"observation names {a}, which is not an atom of this market")
        text = (
            str(value).strip().lower()
            if isinstance(value, str | bool | int | np.bool_ | np.integer)
            else None
        )
        if text in _TRUE:
            return a
        if text in _FALSE:
            return Not(a)
        raise InvalidObservation(
            f"observation of {a} must be True or False (or yes/no, 1/0), got {value!r}"
        )

    def _require_trading(self) -> None:
        self._require_open()
        if self._closed:
            raise MarketClosed(
                "the market is closed for trading; only proofs and settlement remain"
            )

    def _settleable(self) -> np.ndarray:
        if not self.latent:  # one world per outcome, in the same order
            return self._alive
        return np.add.reduceat(self._alive.astype(int), self._starts) > 0

    def _trade_parts(self, event: Any, given: Any):
        a = self.event(event)
        b = None if given is None else self.event(given)
        ma = self._mask(a)
        if not (ma & self._alive).any():
            raise ImpossibleEvent(
                f"sentence {sentence_to_string(a)!r} is false in every world still possible "
                f"(refuted); its price is 0 and it cannot be traded"
            )
        if b is None:
            parts = [a, Not(a)]
            masks = [ma & self._alive, ~ma & self._alive]
        else:
            mb = self._mask(b)
            if not (mb & self._alive).any():
                raise ImpossibleEvent(
                    f"conditioning sentence {sentence_to_string(b)!r} is false in every world "
                    f"still possible"
                )
            parts = [And(a, b), And(Not(a), b), Not(b)]
            masks = [ma & mb & self._alive, ~ma & mb & self._alive, ~mb & self._alive]
        logs = [self._log_mass(m) for m in masks]
        return a, b, parts, logs, masks

    @staticmethod
    def _require_uncertain(logs, a, b) -> None:
        where = "" if b is None else f" given {sentence_to_string(b)!r}"
        if logs[0] == -math.inf:
            raise ImpossibleEvent(
                f"sentence {sentence_to_string(a)!r} is false in every world "
                f"still possible{where}; its price is 0"
            )
        if logs[1] == -math.inf:
            raise ImpossibleEvent(
                f"sentence {sentence_to_string(a)!r} is true in every world "
                f"still possible{where}; its price is 1"
            )

    @staticmethod
    def _price_from_log(log_price: float) -> float:
        return math.exp(min(0.0, log_price))

    @staticmethod
    def _label(sentence: Boolean) -> str:
        return sentence_to_string(sentence)

    def _move(self, acct, kind, parts, values, masks, cost, shares, p0, p1, info) -> _Move:
        keep = [i for i, m in enumerate(masks) if m.any()]
        parts = [parts[i] for i in keep]
        masks = [masks[i] for i in keep]
        values = [values[i] for i in keep]
        delta = np.zeros(len(self._logw))
        for m, v in zip(masks, values, strict=True):
            delta[m] = v
        if self.latent:
            # Payout per observable outcome o: C_{S_o}(q') - C_{S_o}(q) (DESIGN.md sec. 4).
            before = self._segment_lse(self._logw)
            after = self._segment_lse(self._logw + delta / self._b)
            with np.errstate(invalid="ignore"):
                payout = self._b * (after - before)
            payout[~np.isfinite(payout)] = 0.0
        else:
            payout = np.where(self._alive, delta, 0.0)
        return _Move(acct, kind, parts, masks, values, cost, shares, p0, p1, payout, info)

    def _segment_lse(self, z: np.ndarray) -> np.ndarray:
        top = np.maximum.reduceat(z, self._starts)
        safe = np.where(np.isfinite(top), top, 0.0)
        with np.errstate(divide="ignore"):
            return safe + np.log(
                np.add.reduceat(
                    np.exp(z - np.repeat(safe, np.diff(np.r_[self._starts, len(z)]))), self._starts
                )
            )

    def _worst_after(self, acct: _Holder, move: _Move) -> float:
        live = self._settleable()
        return acct.cash - move.cost + float((acct.holdings + move.payout)[live].min())

    def _execute(self, move: _Move) -> Quote:
        acct = move.account
        worst = self._worst_after(acct, move)
        if worst < -self._tolerance(acct):
            raise self._refuse(acct, move, worst)
        # -- nothing above changed any state; from here on the move is committed --
        for m, v in zip(move.masks, move.values, strict=True):
            if v != 0.0:
                self._logw[m] += v / self._b
        # keep the log-weights centred so they never overflow, whatever the trades
        self._refresh()
        acct.cash -= move.cost
        self._maker_cash += move.cost
        acct.holdings += move.payout
        self._append(
            "trade",
            acct.name,
            cash=-move.cost,
            parts=tuple(sentence_to_string(p) for p in move.parts),
            values=tuple(float(v) for v in move.values),
            details={"kind": move.kind, **move.details, "cost": move.cost},
        )
        return self._quote(move, worst, True)

    def __deepcopy__(self, memo) -> WorldsMarket:
        """An independent market with the same state; the worlds and the past ledger lines
        (immutable) are shared."""
        twin = copy.copy(self)
        twin._logw = self._logw.copy()
        twin._w = self._w.copy()
        twin._alive = self._alive.copy()
        twin._ledger = list(self._ledger)
        twin._observed = list(self._observed)
        twin._accounts = {}
        for name, acct in self._accounts.items():
            holder = _Holder(name, acct.cash, self._n_outcomes)
            holder.endowment = acct.endowment
            holder.holdings = acct.holdings.copy()
            twin._accounts[name] = holder
        memo[id(self)] = twin
        return twin

    def __repr__(self) -> str:
        state = "settled" if self._settled else "closed" if self._closed else "open"
        return (
            f"WorldsMarket({len(self.atoms)} atoms, {self.n_worlds} of {len(self.worlds)} "
            f"worlds, b={self._b:g}, {state}, {len(self._accounts)} accounts, "
            f"{len(self._ledger)} ledger entries)"
        )
