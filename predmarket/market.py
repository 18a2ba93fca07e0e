"""``Market``: a market maker, accounts, an append-only ledger, observation and settlement.

Accounting (DESIGN.md sec. 3-4)
-------------------------------
Every trade is a move :math:`q \\to q' = q + \\Delta q` of the LMSR state, with
:math:`\\Delta q` constant on the parts of a partition of :math:`\\Omega`. The account pays
its cost now and is paid at settlement, when the market has observed every observable
variable and so learned that the outcome lies in the set :math:`S` of joint outcomes that
agree with the observation (latent variables stay open):

.. math::
    \\text{payout} = C_S(q') - C_S(q), \\qquad
    \\text{net} = \\text{payout} - \\text{cost} = b \\log \\frac{P'(S)}{P(S)}.

With no latent variables :math:`S` is one outcome and the payout is :math:`\\Delta q_S`:
ordinary shares. A *conditional* share of :math:`A` given :math:`B` is the move
:math:`(x` on :math:`A\\wedge B`, :math:`c` on :math:`\\neg B)` for cost :math:`c`, so it is
refunded on :math:`\\neg B`. Hanson's *edit* :math:`P(A\\mid B) \\to p'` is the move
:math:`(b\\log\\frac{p'}{p}` on :math:`A\\wedge B`,
:math:`b\\log\\frac{1-p'}{1-p}` on :math:`\\neg A \\wedge B`, :math:`0` on :math:`\\neg B)` at
cost 0 [1]_.

Budgets. An account's *assets* are its cash plus what it will be paid, as a function of
the observable outcome :math:`o`. A trade is refused whole unless the account's worst case
over the observable outcomes the market can still settle on stays :math:`\\ge 0`. With
latent variables each trade's payout is :math:`b\\log(P'(o)/P(o))` plus its cost, with
:math:`P(o)` the marginal on the observable variables: the minimum runs over observable
outcomes, not over joint outcomes (the joint worst case is not a valid bound once other
traders trade in between).

Money is conserved: the accounts' cash plus the maker's equals the endowments plus the
sponsor's subsidy, which is the maker's worst-case loss
:math:`-b\\log\\min_o P_0(o)` (:math:`b \\log |O|` for a uniform prior).

References
----------
.. [1] R. Hanson, "Combinatorial information market design", 2003.
.. [2] W. Sun, R. Hanson, K. B. Laskey, C. Twardy, "Probability and asset updating using
   Bayesian networks for combinatorial prediction markets", UAI 2012.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import logsumexp

from predmarket.accounts import AccountBook
from predmarket.errors import (
    ImpossibleEvent,
    IncompleteObservation,
    InvalidInput,
    InvalidObservation,
    LatentObservation,
    SpaceTooLarge,
    UnknownVariable,
)
from predmarket.events import Event
from predmarket.junction import JunctionTree
from predmarket.junction.tree import MAX_TABLE
from predmarket.ledger import Account, Quote
from predmarket.makers.bayesnet import BayesNetMaker
from predmarket.makers.joint import DEFAULT_MAX_OUTCOMES, JointMaker
from predmarket.moves import MovePricing
from predmarket.spaces import OutcomeSpace
from predmarket.validation import finite_number, verify

__all__ = ["BayesNetMarket", "Market"]

_PENDING_LIMIT = 64  # distinct parts with pending holdings updates before folding


class _AccountState:
    """Cash and holdings of one account (private to :class:`Market`).

    ``holdings[o]`` is what settlement will pay the account if the observable outcome is
    ``o``; updates are kept as pending ``(part, value)`` pairs and folded lazily.
    ``min_bound`` is a lower bound on the minimum of holdings over settleable outcomes
    (exact after each fold), so most trades pass the budget check without a scan.
    """

    __slots__ = ("cash", "endowment", "holdings", "min_bound", "name", "pending")

    def __init__(self, name: str, cash: float):
        self.name = name
        self.endowment = cash
        self.cash = cash
        self.holdings: np.ndarray | None = None
        self.pending: dict = {}  # selection -> total value not yet added to holdings
        self.min_bound = 0.0

    def fold(self, shape) -> np.ndarray:
        if self.holdings is None:
            self.holdings = np.zeros(int(np.prod(shape)))
        for part, value in self.pending.items():
            part.add(self.holdings, value)
        self.pending.clear()
        return self.holdings


@dataclass
class _Move:
    """A fully priced trade, ready to commit (nothing has changed yet)."""

    account: _AccountState
    kind: str
    parts: list[Event]
    values: list[float]
    cost: float
    shares: float
    price_before: float
    price_after: float
    plan: Any
    details: dict
    payout_vector: np.ndarray | None = None  # latent markets: payout per observable outcome
    details_table: Any = None  # factored markets: (clique, payout table over it)


class Market(AccountBook, MovePricing):
    """A prediction market: an LMSR maker, accounts, a ledger, observation and settlement.

    Parameters
    ----------
    space : OutcomeSpace
        The joint outcome space.
    liquidity : float
        Hanson's :math:`b > 0`: larger means prices move less per share and the maker can
        lose more (at most :math:`b \\log |O|`).
    latent : sequence of str, optional
        Variables that are never observed. Settlement observes all the others.
    prior : array_like, optional
        Initial prices over the flat joint (strictly positive). Uniform by default.
    max_outcomes : int
        Size guard for the explicit joint.

    Examples
    --------
    >>> from predmarket import Variable, OutcomeSpace, Market
    >>> space = OutcomeSpace([Variable("rain", ["yes", "no"]),
    ...                       Variable("wind", ["calm", "strong"])])
    >>> m = Market(space, liquidity=10.0)
    >>> a = m.open_account("alice", cash=100.0)
    >>> round(m.price("rain == yes"), 3)
    0.5
    >>> cost = m.buy(a, "rain == yes", shares=5.0)
    >>> round(cost, 4), round(m.price("rain == yes"), 4)
    (2.8093, 0.6225)
    >>> payouts = m.settle("rain == yes & wind == calm")
    >>> round(m.cash(a), 4)
    102.1907
    """

    def __init__(
        self,
        space: OutcomeSpace,
        liquidity: float,
        *,
        latent: Sequence[str] = (),
        prior=None,
        max_outcomes: int = DEFAULT_MAX_OUTCOMES,
    ):
        self.maker = JointMaker(space, liquidity, prior=prior, max_outcomes=max_outcomes)
        self._setup(space, latent)

    def _setup(self, space: OutcomeSpace, latent: Sequence[str]) -> None:
        """Latent variables, accounts, ledger and subsidy (after ``self.maker`` is set)."""
        self.space = space
        if isinstance(latent, str):
            latent = [latent]
        latent_names = []
        for name in latent:
            if not isinstance(name, str):
                raise InvalidInput(f"latent variables are given by name, got {name!r}")
            if name not in space.names:
                raise UnknownVariable(
                    f"unknown latent variable {name!r}; the space has {list(space.names)!r}"
                )
            if name not in latent_names:
                latent_names.append(name)
        if len(latent_names) == len(space):
            raise InvalidInput("at least one variable must be observable; all are latent")
        self.latent: tuple[str, ...] = tuple(n for n in space.names if n in latent_names)
        self._obs_axes = tuple(i for i, n in enumerate(space.names) if n not in self.latent)
        self._obs_shape = tuple(space.shape[a] for a in self._obs_axes)
        self._observed: dict[str, int] = {}
        self._open_book(-self.liquidity * self.maker.min_log_probability(self._obs_axes))

    @classmethod
    def from_bayesian_network(cls, model: Any, liquidity: float, *, latent: Sequence[str] = (),
                              cross_clique: str = "refuse", heuristic: str = "min_degree",
                              states: Mapping[str, Sequence[Any]] | None = None,
                              exact_latent_limit: int = 1 << 16) -> Market:
        """A market whose maker is a Bayesian network on a junction tree
        (:class:`~predmarket.makers.bayesnet.BayesNetMaker`), with the same interface,
        accounting and settlement as a market over the explicit joint.

        Parameters
        ----------
        model : pgmpy DiscreteBayesianNetwork, str or path, or list of edges
            A pgmpy model with CPDs (its distribution is the initial price), the path of a
            BIF file, or bare ``(parent, child)`` edges with uniform CPDs (``states`` gives
            the states per node, default ``yes``/``no``; nodes named only in ``states`` are
            unlinked).
        liquidity : float
            Hanson's :math:`b > 0`.
        latent : sequence of str
            Variables never observed (settlement by DESIGN.md sec. 4).
        cross_clique : {"refuse", "relink"}
            A trade whose variables share no clique is refused with
            :class:`~predmarket.errors.CrossCliqueTrade`, or the link is added and the tree
            recompiled (the distribution is carried over exactly).
        heuristic : {"min_degree", "min_fill"}
            Triangulation heuristic.
        exact_latent_limit : int
            With latent variables, budgets are exact while the observable outcomes number
            at most this many (and, times the widest clique, fit in
            :data:`~predmarket.junction.tree.MAX_TABLE` entries, with at most 52
            variables); beyond, a sound factored bound is used (see
            :class:`BayesNetMarket`; :attr:`BayesNetMarket.exact_budgets` says which).

        Examples
        --------
        >>> m = Market.from_bayesian_network([("rain", "wet")], liquidity=10.0)
        >>> a = m.open_account("alice", cash=50.0)
        >>> q = m.edit(a, "wet == yes", 0.9, given="rain == yes")
        >>> round(m.price("wet == yes"), 3), round(m.price("rain == yes"), 3)
        (0.7, 0.5)
        """
        return BayesNetMarket(model, liquidity, latent=latent, cross_clique=cross_clique,
                              heuristic=heuristic, states=states,
                              exact_latent_limit=exact_latent_limit)

    # -- basic properties ---------------------------------------------------------------
    @property
    def liquidity(self) -> float:
        """Hanson's liquidity parameter :math:`b`."""
        return self.maker.liquidity

    @property
    def observed(self) -> dict[str, str]:
        """Variables observed so far, ``{name: state}``."""
        return {n: self.space.variable(n).states[i] for n, i in self._observed.items()}

    # -- accounts ----------------------------------------------------------------------
    def _new_account(self, name: str, cash: float) -> _AccountState:
        return _AccountState(name, cash)

    def min_asset(self, account: Account | str) -> float:
        """Worst-case final cash of the account over the outcomes still settleable."""
        acct = self._account(account)
        if self._settled or acct.holdings is None and not acct.pending:
            return acct.cash
        return acct.cash + self._exact_min(acct)

    def expected_assets(self, account: Account | str) -> float:
        """Expected final cash of the account under the market's current prices,
        :math:`\\text{cash} + \\sum_o P(o)\\,h(o)` over the observable outcomes still
        settleable."""
        acct = self._account(account)
        if self._settled or acct.holdings is None and not acct.pending:
            return acct.cash
        logm = self.maker.log_marginal(self._obs_axes)
        p = np.exp(logm - logsumexp(logm))
        final = self.assets(account)
        live = np.isfinite(final) & (p > 0)
        return float(np.sum(p[live] * final[live]) / np.sum(p[live]))

    def assets(self, account: Account | str) -> np.ndarray:
        """Final cash of the account for every observable outcome, shaped like the
        observable variables (``nan`` where observations already ruled the outcome out)."""
        acct = self._account(account)
        holdings = acct.fold(self._obs_shape).reshape(self._obs_shape)
        out = np.full(self._obs_shape, np.nan)
        box = self._settleable_box()
        out[box] = acct.cash + (0.0 if self._settled else holdings[box])
        return out

    # -- prices ------------------------------------------------------------------------
    def event(self, spec: Any) -> Event:
        """Compile ``spec`` into an :class:`~predmarket.events.Event` of this market."""
        return self.space.event(spec)

    def price(self, event: Any, given: Any = None) -> float:
        """Price (probability) of ``event``, conditional on ``given`` if set.

        .. math:: P(A \\mid B) = \\frac{\\sum_{\\omega \\in A\\wedge B} e^{q_\\omega/b}}
                                       {\\sum_{\\omega \\in B} e^{q_\\omega/b}}

        Prices are conditional on what has been observed so far.
        """
        a = self._reachable(self.event(event), "event")
        if given is None:
            return self.maker.probability(self._maker_event(a))
        b = self._reachable(self.event(given), "conditioning event")
        ab = a & b
        return 0.0 if ab.is_empty else self.maker.probability(
            self._maker_event(ab), self._maker_event(b))

    def marginal(self, variable: str) -> dict[str, float]:
        """Prices of every state of one variable, ``{state: price}``."""
        var = self.space.variable(variable)
        logm = self.maker.log_marginal((self.space.axis(variable),))
        p = np.exp(logm - logsumexp(logm))
        return {s: float(x) for s, x in zip(var.states, p)}

    def probabilities(self) -> np.ndarray:
        """The market's joint distribution over the flat outcome space (a copy)."""
        return self.maker.probabilities()

    # -- trades ------------------------------------------------------------------------
    def buy(self, account: Account | str, event: Any, shares: float, *, given: Any = None) -> float:
        """Buy ``shares`` of ``event`` (sell if negative); return the cost paid now.

        Each share pays 1 at settlement if the event happens. With ``given=B`` they are
        conditional shares: they pay 1 on :math:`A\\wedge B`, 0 on :math:`\\neg A\\wedge B`,
        and the cost is refunded on :math:`\\neg B`. Closed form:

        .. math:: \\text{cost} = b \\log\\bigl(1 - p + p\\,e^{x/b}\\bigr),
                  \\quad p = P(A \\mid B).
        """
        return self._execute(self._prepare_shares(account, event, shares, given)).cost

    def sell(self, account: Account | str, event: Any, shares: float, *, given: Any = None) -> float:
        """Sell ``shares`` of ``event``: the same as ``buy`` with ``-shares``."""
        return self.buy(account, event, -finite_number("shares", shares), given=given)

    def edit(self, account: Account | str, event: Any, probability: float, *, given: Any = None) -> Quote:
        """Hanson's edit: set :math:`P(A \\mid B)` to ``probability`` [1]_.

        Keeps :math:`P(B)` and the distributions inside :math:`A\\wedge B` and
        :math:`\\neg A\\wedge B` fixed. It costs nothing now and pays

        .. math:: b\\log\\frac{p'}{p} \\text{ on } A\\wedge B, \\quad
                  b\\log\\frac{1-p'}{1-p} \\text{ on } \\neg A\\wedge B, \\quad
                  0 \\text{ on } \\neg B.
        """
        move = self._prepare_edit(account, event, probability, given)
        return self._execute(move)

    def target(self, account: Account | str, event: Any, probability: float, *, given: Any = None) -> Quote:
        """Buy (or sell) exactly the shares that bring :math:`P(E \\mid B)` to
        ``probability`` (closed form, no search).

        .. math:: x = b[\\operatorname{logit} p' - \\operatorname{logit} p], \\qquad
                  \\text{cost} = b \\log\\frac{1-p}{1-p'}

        Its net payoffs equal those of :meth:`edit`; only the timing of cash differs.
        """
        return self._execute(self._prepare_target(account, event, probability, given))

    def quote(self, account: Account | str, event: Any, *, shares: float | None = None,
              probability: float | None = None, given: Any = None) -> float:
        """Cost of a trade, without making it: ``shares=x`` prices :meth:`buy`,
        ``probability=p`` prices :meth:`target`. See :meth:`preview` for more."""
        return self.preview(account, event, shares=shares, probability=probability,
                            given=given).cost

    def preview(self, account: Account | str, event: Any, *, shares: float | None = None,
                probability: float | None = None, given: Any = None) -> Quote:
        """Everything a trade would do (cost, prices, worst case), without making it."""
        self._require_open()
        return self._preview(account, event, shares, probability, given)

    # -- observation and settlement ----------------------------------------------------
    def observe(self, observation: Any) -> None:
        """Reveal observable variables before settlement; later trades use the narrowed
        space. Trades still settle at the final settlement by the same rule."""
        self._require_open()
        combined, new = self._parse_observation(observation)
        if not new:
            return
        self._narrow_maker(new)
        self._observed = combined
        self._append("observe", None, details={"observed": {
            n: self.space.variable(n).states[i] for n, i in new.items()}})

    def _narrow_maker(self, new: dict[str, int]) -> None:
        """Tell the maker the newly observed states ``{variable: state index}``."""
        exclude = ~self.event({n: self.space.variable(n).states[i] for n, i in new.items()})
        if not exclude.is_empty:
            self.maker.exclude(exclude.selection)

    def settle(self, observation: Any) -> dict[str, float]:
        """Observe every observable variable and pay every account; return the payouts.

        Each trade pays :math:`C_S(q') - C_S(q)` where :math:`S` is the set of joint
        outcomes agreeing with the observation (latent variables stay open).

        Raises
        ------
        IncompleteObservation
            If an observable variable is left without a state (named in the message).
        """
        self._require_open()
        combined, _new = self._parse_observation(observation)
        missing = [n for i, n in enumerate(self.space.names)
                   if i in self._obs_axes and n not in combined]
        if missing:
            raise IncompleteObservation(
                f"settlement leaves observable variable(s) {missing!r} open; expected a state "
                f"for every observable variable" + (
                    f" (latent, never observed: {list(self.latent)!r})" if self.latent else ""))
        final = self._final_payouts(combined)
        self._observed = combined
        self._append("settle", None, details={"observed": self.observed})
        return self._pay_out(final)

    def _final_payouts(self, combined: dict[str, int]) -> dict[str, float]:
        """What settlement on the complete observation ``combined`` pays each account."""
        index = int(np.ravel_multi_index(
            tuple(combined[self.space.names[a]] for a in self._obs_axes), self._obs_shape))
        out = {}
        for acct in self._accounts.values():
            if acct.holdings is None and not acct.pending:
                out[acct.name] = 0.0
            else:
                out[acct.name] = float(acct.fold(self._obs_shape)[index])
        return out

    def check(self, *, tolerance: float = 1e-7) -> None:
        """Verify the market's invariants; raise ``AssertionError`` naming a failure.

        Prices are positive and sum to 1, money is conserved, and no account can end
        below zero.
        """
        self._check_prices()
        self._check_books(tolerance)

    def _check_prices(self) -> None:
        p = self.maker.probabilities()
        verify(abs(p.sum() - 1.0) < 1e-9, f"joint prices sum to {p.sum()!r}, expected 1")

    # -- internals: validation ---------------------------------------------------------
    def _reachable(self, event: Event, role: str) -> Event:
        if event.is_empty:
            raise ImpossibleEvent(f"{role} {str(event)!r} is impossible: it contains no outcome")
        if self._observed and not np.isfinite(self.maker.log_partition(event.selection)):
            raise ImpossibleEvent(
                f"{role} {str(event)!r} is impossible given the observations {self.observed!r}")
        return event

    def _parse_observation(self, observation: Any) -> tuple[dict[str, int], dict[str, int]]:
        """Turn an observation into ``{variable: state index}`` (all and new)."""
        if isinstance(observation, Mapping):
            assigned = self.space.assignment(observation)
        else:
            event = self.event(observation)
            if event.is_empty:
                raise InvalidObservation(f"observation {str(event)!r} is impossible")
            assigned = {}
            for pos, axis in enumerate(event.axes):
                present = np.flatnonzero(event.table.any(
                    axis=tuple(i for i in range(event.table.ndim) if i != pos)))
                if len(present) != 1:
                    break
                assigned[self.space.names[axis]] = int(present[0])
            if len(assigned) != len(event.axes) or event.size * math.prod(
                    self.space.shape[a] for a in event.axes) != self.space.size:
                raise InvalidObservation(
                    f"observation {str(event)!r} must give one state to each variable it "
                    "mentions, like 'rain == yes & wind == calm'")
        fixed_latent = [n for n in assigned if n in self.latent]
        if fixed_latent:
            raise LatentObservation(
                f"variable(s) {fixed_latent!r} are latent and are never observed")
        conflicts = {n: (self.observed[n], self.space.variable(n).states[i])
                     for n, i in assigned.items()
                     if n in self._observed and self._observed[n] != i}
        if conflicts:
            raise InvalidObservation(
                f"observation contradicts earlier observations (earlier, now): {conflicts!r}")
        new = {n: i for n, i in assigned.items() if n not in self._observed}
        return {**self._observed, **new}, new

    # -- internals: pricing a trade ----------------------------------------------------
    def _trade_parts(self, event: Any, given: Any):
        """The checked events and the partition of a trade on them (see ``MovePricing``)."""
        a = self._reachable(self.event(event), "event")
        b = None if given is None else self._reachable(self.event(given), "conditioning event")
        events, logs, masses = self._partition(a, b)
        return a, b, events, logs, masses

    def _partition(self, a: Event, b: Event | None):
        """The parts of a trade on A (given B): ``(A, ~A)`` or ``(A&B, ~A&B, ~B)``, with
        their log masses (``-inf`` for empty parts), read once from the maker."""
        events = [a, ~a] if b is None else [a & b, ~a & b, ~b]
        present = [e for e in events if not e.is_empty]
        masses = self.maker.part_masses([self._maker_event(e) for e in present])
        read = iter(masses.log_masses)
        logs = [next(read) if not e.is_empty else -math.inf for e in events]
        return events, logs, masses

    @staticmethod
    def _maker_event(event: Event) -> Any:
        """An event as the maker takes it (a selection over the flat joint)."""
        return event.selection

    def _move(self, acct, kind, events, values, masses, cost, shares, p0, p1, info) -> _Move:
        keep = [i for i, e in enumerate(events) if not e.is_empty]
        parts = [events[i] for i in keep]
        values = [values[i] for i in keep]
        plan = self.maker.plan([self._maker_event(p) for p in parts], values, masses)
        return self._finish_move(acct, kind, parts, values, cost, shares, p0, p1, plan, info)

    def _require_uncertain(self, logs, a: Event, b: Event | None) -> None:
        where = "" if b is None else f" given {str(b)!r}"
        if logs[0] == -math.inf:
            raise ImpossibleEvent(f"event {str(a)!r} is impossible{where}; its price is 0")
        if logs[1] == -math.inf:
            raise ImpossibleEvent(f"event {str(a)!r} is certain{where}; its price is 1")

    def _finish_move(self, acct, kind, parts, values, cost, shares, p0, p1, plan, info) -> _Move:
        move = _Move(acct, kind, parts, values, cost, shares, p0, p1, plan, info)
        if self.latent:
            # Payout per observable outcome o: C_S(q') - C_S(q) = b log(Z'_o / Z_o) in the
            # maker's units, plus the difference between our cost and the maker's.
            reachable = self._settleable_mask()
            sels = [p.selection for p in parts]
            before = self.maker.log_marginal(self._obs_axes, reachable)
            after = self.maker.preview_log_marginal(sels, values, self._obs_axes, reachable)
            with np.errstate(invalid="ignore"):
                payout = self.liquidity * (after - before) + (cost - plan.cost)
            payout[~reachable] = 0.0
            move.payout_vector = payout.ravel()
        return move

    # -- internals: budgets ------------------------------------------------------------
    def _settleable_box(self) -> tuple:
        """Index into observable-shaped arrays selecting the outcomes still settleable."""
        names = [self.space.names[a] for a in self._obs_axes]
        return tuple(self._observed.get(n, slice(None)) for n in names)

    def _settleable_mask(self) -> np.ndarray:
        mask = np.zeros(self._obs_shape, dtype=bool)
        mask[self._settleable_box()] = True
        return mask

    def _exact_min(self, acct: _AccountState, move: _Move | None = None) -> float:
        holdings = acct.fold(self._obs_shape)
        if move is not None:
            holdings = holdings.copy()
            self._add_payout(holdings, move)
        worst = float(holdings.reshape(self._obs_shape)[self._settleable_box()].min())
        if move is None:
            acct.min_bound = worst
        return worst

    def _add_payout(self, holdings: np.ndarray, move: _Move) -> None:
        if move.payout_vector is not None:
            holdings += move.payout_vector
        else:
            for part, value in zip(move.parts, move.values):
                if value != 0.0:
                    part.selection.add(holdings, value)

    def _worst_after(self, acct: _AccountState, move: _Move) -> float:
        """Worst final cash after the move, over settleable outcomes (exact)."""
        return acct.cash - move.cost + self._exact_min(acct, move)

    def _lower_bound_after(self, acct: _AccountState, move: _Move) -> float:
        if move.payout_vector is not None:
            step = float(move.payout_vector[self._settleable_mask().ravel()].min())
        else:
            step = min(min(move.values), 0.0) if len(move.parts) else 0.0
        return acct.min_bound + step

    # -- internals: commit -------------------------------------------------------------
    def _execute(self, move: _Move) -> Quote:
        acct = move.account
        tol = self._tolerance(acct)
        bound = self._lower_bound_after(acct, move)
        if acct.cash - move.cost + bound < -tol:
            worst = self._worst_after(acct, move)
            if worst < -tol:
                raise self._refuse(acct, move, worst)
            bound = worst - (acct.cash - move.cost)
        # -- nothing above changed any state; from here on the move is committed --
        self.maker.commit(move.plan)
        acct.cash -= move.cost
        self._maker_cash += move.cost
        self._record(acct, move)
        acct.min_bound = bound
        self._append("trade", acct.name, cash=-move.cost,
                     parts=tuple(str(p) for p in move.parts),
                     values=tuple(float(v) for v in move.values),
                     details={"kind": move.kind, **move.details, "cost": move.cost})
        return self._quote(move, acct.cash + bound, True)

    def _record(self, acct: _AccountState, move: _Move) -> None:
        """Add a committed move's payouts to the account's holdings."""
        if move.payout_vector is not None:
            acct.fold(self._obs_shape)
            acct.holdings += move.payout_vector
        else:
            for part, value in zip(move.parts, move.values):
                if value != 0.0:
                    acct.pending[part.selection] = acct.pending.get(part.selection, 0.0) + value
            if len(acct.pending) > _PENDING_LIMIT:
                acct.fold(self._obs_shape)

    def __repr__(self) -> str:
        state = "settled" if self._settled else "open"
        return (f"Market({len(self.space)} variables, {self.space.size} outcomes, "
                f"b={self.liquidity:g}, latent={list(self.latent)}, {state}, "
                f"{len(self._accounts)} accounts, {len(self._ledger)} ledger entries)")



class _FactoredAccount(_AccountState):
    """Holdings of an account in a :class:`BayesNetMarket`: additive tables on cliques
    (exact without latent variables, a lower bound with them) or, with latent variables
    and few observable outcomes, an explicit vector over them."""

    __slots__ = ("generation", "tables", "vector")

    def __init__(self, name: str, cash: float):
        super().__init__(name, cash)
        self.tables: dict[int, np.ndarray] = {}
        self.vector: np.ndarray | None = None
        self.generation = 0

    @property
    def traded(self) -> bool:
        return bool(self.tables) or self.vector is not None


def _expand_to(table: np.ndarray, source: Sequence[int], target: Sequence[int],
               shape: Sequence[int]) -> np.ndarray:
    """Broadcast a table over sorted variables ``source`` to sorted ``target`` (a superset)."""
    view = [1] * len(target)
    for v, n in zip(source, table.shape):
        view[list(target).index(v)] = n
    return np.broadcast_to(table.reshape(view), tuple(shape))


class BayesNetMarket(Market):
    """A :class:`Market` whose maker is a Bayesian network on a junction tree.

    Build it with :meth:`Market.from_bayesian_network`. Prices, trades, costs, budgets,
    observation and settlement follow DESIGN.md sec. 3-4 exactly as for the explicit joint;
    only the representation differs [1]_ [2]_.

    Trades
        Every trade's events must lie inside one clique (``cross_clique="refuse"``), or the
        tree is recompiled with the link added (``"relink"``). Relinking changes the tree,
        never a price, cost or account, and is kept only when the trade is made: a trade
        refused (by the budget rule or any other check) or only previewed leaves the tree
        as it was. Prices of events across cliques are exact,
        by contraction over the covering subtree, while that stays small (else
        :class:`~predmarket.errors.SpaceTooLarge`).

    Assets (Sun, Hanson, Laskey & Twardy 2012)
        Without latent variables a trade on clique :math:`C` pays :math:`\\Delta(\\omega_C)`,
        so an account's holdings are :math:`h(\\omega) = \\sum_C g_C(\\omega_C)`: one additive
        table per clique. Min-asset is :math:`\\min_\\omega h` by min-sum propagation on the
        junction tree (restricted to the observations); expected assets are
        :math:`\\sum_C E_{\\beta_C}[g_C]` from the calibrated beliefs.

    Latent variables
        A trade pays :math:`b\\log E_P[e^{\\Delta/b}\\mid o]` (plus the difference between
        the market's cost and the maker's) on observable outcome :math:`o`. While the
        observable outcomes number at most ``exact_latent_limit`` this is computed exactly
        for every :math:`o` and kept as a vector (budgets then match the explicit maker's).
        Beyond, each trade contributes the table
        :math:`\\min_{h_C}\\Delta(o_C, h_C)`, a lower bound since
        :math:`E[e^{\\Delta/b}\\mid o] \\ge \\min_{h_C} e^{\\Delta(o_C,h_C)/b}`; so the
        min-sum of these tables is a *sound* lower bound on the min-asset (a trade it
        accepts can never leave the account below zero; it may refuse some that the exact
        rule accepts). Settlement is always exact: the trades are replayed through the tree
        with every observable variable entered as evidence, each paying
        :math:`b\\log E_{P_t}[e^{\\Delta_t/b} \\mid o]` under the state it was made in.

    References
    ----------
    .. [1] D. M. Pennock, L. Xia, "Price updating in combinatorial prediction markets with
       Bayesian networks", UAI 2011.
    .. [2] W. Sun, R. Hanson, K. B. Laskey, C. Twardy, "Probability and asset updating
       using Bayesian networks for combinatorial prediction markets", UAI 2012.
    """

    def __init__(self, model: Any, liquidity: float, *, latent: Sequence[str] = (),
                 cross_clique: str = "refuse", heuristic: str = "min_degree",
                 states: Mapping[str, Sequence[Any]] | None = None,
                 exact_latent_limit: int = 1 << 16):
        if isinstance(exact_latent_limit, bool) or not isinstance(
                exact_latent_limit, (int, np.integer)) or exact_latent_limit < 1:
            raise InvalidInput(
                f"exact_latent_limit must be a positive integer, got {exact_latent_limit!r}")
        self.maker = BayesNetMaker(model, liquidity, cross_clique=cross_clique,
                                   heuristic=heuristic, states=states)
        self._setup(self.maker.space, latent)
        n_obs = math.prod(self._obs_shape)
        widest = max(math.prod(s) for s in self.maker.tree.shapes)
        if not self.latent:
            self._latent_mode = None
        elif (n_obs <= exact_latent_limit and n_obs * widest <= MAX_TABLE
              and len(self.space) <= 52):
            self._latent_mode = "exact"
        else:
            self._latent_mode = "bound"
        # bound mode: (account, clique variables, log-factor, cost difference) per trade
        self._trades: list[tuple[str, tuple[int, ...], np.ndarray, float]] = []
        self._undo: dict | None = None  # how to undo a relink while a trade is priced

    @property
    def exact_budgets(self) -> bool:
        """Whether min-asset and the budget rule are exact (else a sound lower bound)."""
        return self._latent_mode != "bound"

    def to_bayesian_network(self):
        """The market's current distribution as a pgmpy ``DiscreteBayesianNetwork`` (see
        :meth:`~predmarket.makers.bayesnet.BayesNetMaker.to_pgmpy`)."""
        return self.maker.to_pgmpy()

    # -- accounts ----------------------------------------------------------------------
    def _new_account(self, name: str, cash: float) -> _AccountState:
        return _FactoredAccount(name, cash)

    def _tables(self, acct: _FactoredAccount) -> dict[int, np.ndarray]:
        """The account's clique tables, carried over any recompilation since last used."""
        relinks = self.maker.relinks
        if self._undo is not None and acct.generation < len(relinks) \
                and acct.name not in self._undo["accounts"]:
            self._undo["accounts"][acct.name] = (acct.tables, acct.generation)
        while acct.generation < len(relinks):
            moves = relinks[acct.generation]
            carried: dict[int, np.ndarray] = {}
            for c, t in acct.tables.items():
                source, target = moves[c]
                key = self._clique_index(target, acct.generation + 1)
                shape = tuple(self.space.shape[v] for v in target)
                moved = _expand_to(t, source, target, shape)
                carried[key] = carried[key] + moved if key in carried else np.array(moved)
            acct.tables = carried
            acct.generation += 1
        return acct.tables

    def _clique_index(self, variables: tuple[int, ...], generation: int) -> int:
        """Position of the clique ``variables`` in the tree after ``generation`` relinks."""
        if generation == len(self.maker.relinks):
            return self.maker.tree.cliques.index(variables)
        nxt = self.maker.relinks[generation]
        return next(k for k, (src, _) in enumerate(nxt) if src == variables)

    def min_asset(self, account: Account | str) -> float:
        """Worst-case final cash of the account over the outcomes still settleable
        (min-sum on the junction tree; a lower bound when :attr:`exact_budgets` is False)."""
        acct = self._account(account)
        if self._settled or not acct.traded:
            return acct.cash
        return acct.cash + self._exact_min(acct)

    def expected_assets(self, account: Account | str) -> float:
        """Cash plus the market-price expectation of what settlement will pay
        (sum-product: :math:`\\sum_C E_{\\beta_C}[g_C]`).

        When :attr:`exact_budgets` is False (latent variables, many observable outcomes)
        the tables :math:`g_C` are the per-trade lower bounds used for budgets, so this is
        the expectation of that bound: a lower bound on the expected assets."""
        acct = self._account(account)
        if self._settled or not acct.traded:
            return acct.cash
        if acct.vector is not None:
            logm = self.maker.log_marginal(self._obs_axes)
            p = np.exp(logm - logsumexp(logm)).ravel()
            return acct.cash + float(np.sum(p[p > 0] * acct.vector[p > 0]))
        return acct.cash + self.maker.tree.expectation(self._tables(acct))

    def assets(self, account: Account | str) -> np.ndarray:
        """Final cash for every observable outcome (only when they are few enough to list
        and the budgets are exact; else :class:`~predmarket.errors.SpaceTooLarge`)."""
        acct = self._account(account)
        n_obs = math.prod(self._obs_shape)
        if n_obs > MAX_TABLE or not self.exact_budgets:
            raise SpaceTooLarge(
                f"{n_obs:.3g} observable outcomes are too many to list (or assets are "
                "bounded, not exact); use min_asset or expected_assets")
        holdings = np.zeros(self._obs_shape)
        if acct.vector is not None:
            holdings = acct.vector.reshape(self._obs_shape).copy()
        else:
            for c, t in self._tables(acct).items():
                holdings = holdings + _expand_to(t, self.maker.tree.cliques[c], self._obs_axes,
                                                 self._obs_shape)
        out = np.full(self._obs_shape, np.nan)
        box = self._settleable_box()
        out[box] = acct.cash + (0.0 if self._settled else holdings[box])
        return out

    # -- trades that may relink -------------------------------------------------------
    @contextmanager
    def _relink_guard(self, *, keep: bool):
        """Undo a relink made while pricing a trade, unless the trade commits.

        Pricing a trade across cliques in ``"relink"`` mode recompiles the tree (and
        carries accounts' clique tables into it). If the trade is refused, or only
        previewed (``keep=False``), the maker's tree and every account's tables are put
        back as they were, so nothing observable changes.
        """
        if self._undo is not None or self.maker.cross_clique != "relink":
            yield
            return
        mk = self.maker
        self._undo = {"maker": (mk.tree, mk.links, len(mk.relinks), mk._offset,
                                mk._version, mk.dag_valid), "accounts": {}}
        committed = False
        try:
            yield
            committed = keep
        finally:
            undo, self._undo = self._undo, None
            if not committed and len(mk.relinks) > undo["maker"][2]:
                (mk.tree, mk.links, n_relinks, mk._offset, mk._version,
                 mk.dag_valid) = undo["maker"]
                del mk.relinks[n_relinks:]
                for name, (tables, generation) in undo["accounts"].items():
                    acct = self._accounts[name]
                    acct.tables, acct.generation = tables, generation

    def buy(self, account: Account | str, event: Any, shares: float, *,
            given: Any = None) -> float:
        with self._relink_guard(keep=True):
            return super().buy(account, event, shares, given=given)

    def edit(self, account: Account | str, event: Any, probability: float, *,
             given: Any = None) -> Quote:
        with self._relink_guard(keep=True):
            return super().edit(account, event, probability, given=given)

    def target(self, account: Account | str, event: Any, probability: float, *,
               given: Any = None) -> Quote:
        with self._relink_guard(keep=True):
            return super().target(account, event, probability, given=given)

    def preview(self, account: Account | str, event: Any, *, shares: float | None = None,
                probability: float | None = None, given: Any = None) -> Quote:
        with self._relink_guard(keep=False):
            return super().preview(account, event, shares=shares, probability=probability,
                                   given=given)

    buy.__doc__ = Market.buy.__doc__
    edit.__doc__ = Market.edit.__doc__
    target.__doc__ = Market.target.__doc__
    preview.__doc__ = Market.preview.__doc__

    # -- prices ------------------------------------------------------------------------
    def marginal(self, variable: str) -> dict[str, float]:
        var = self.space.variable(variable)
        p = self.maker.marginal(self.space.axis(variable))
        return {s: float(x) for s, x in zip(var.states, p)}

    marginal.__doc__ = Market.marginal.__doc__

    def probabilities(self) -> np.ndarray:
        """The joint over the flat outcome space (small networks only)."""
        return self.maker.probabilities()

    def _reachable(self, event: Event, role: str) -> Event:
        if event.is_empty:
            raise ImpossibleEvent(f"{role} {str(event)!r} is impossible: it contains no outcome")
        if self._observed and self.maker.event_probability(event) <= 0.0:
            raise ImpossibleEvent(
                f"{role} {str(event)!r} is impossible given the observations {self.observed!r}")
        return event

    # -- trades ------------------------------------------------------------------------
    @staticmethod
    def _maker_event(event: Event) -> Event:
        """An event as the junction-tree maker takes it (the event itself)."""
        return event

    def _finish_move(self, acct, kind, parts, values, cost, shares, p0, p1, plan, info) -> _Move:
        move = _Move(acct, kind, parts, values, cost, shares, p0, p1, plan, info)
        c = plan.clique
        if self._latent_mode == "exact":
            reachable = self._settleable_mask()
            payout = self.liquidity * self.maker.log_expected_factor(plan, self._obs_axes)
            payout = payout + (cost - plan.cost)
            payout[~reachable] = 0.0
            move.payout_vector = payout.ravel()
        elif self._latent_mode == "bound":
            hidden = tuple(k for k, v in enumerate(self.maker.tree.cliques[c])
                           if self.space.names[v] in self.latent)
            low = plan.log_factor.min(axis=hidden, keepdims=True) if hidden else plan.log_factor
            table = self.liquidity * np.broadcast_to(low, plan.log_factor.shape)
            move.details_table = (c, table + (cost - plan.cost))
        else:  # the payout is the move itself: values[r] on part r
            move.details_table = (c, self.liquidity * plan.log_factor)
        return move

    def _step_tables(self, acct: _FactoredAccount, move: _Move | None) -> dict[int, np.ndarray]:
        tables = dict(self._tables(acct))
        if move is not None:
            c, t = move.details_table
            tables[c] = tables[c] + t if c in tables else t
        return tables

    def _exact_min(self, acct: _AccountState, move: _Move | None = None) -> float:
        if self._latent_mode == "exact":
            holdings = np.zeros(math.prod(self._obs_shape)) if acct.vector is None \
                else acct.vector.copy()
            if move is not None:
                holdings += move.payout_vector
            worst = float(holdings.reshape(self._obs_shape)[self._settleable_box()].min())
        else:
            worst = self.maker.tree.min_sum(self._step_tables(acct, move), self.maker.evidence)
        if move is None:
            acct.min_bound = worst
        return worst

    def _lower_bound_after(self, acct: _AccountState, move: _Move) -> float:
        if move.payout_vector is not None:
            step = float(move.payout_vector[self._settleable_mask().ravel()].min())
        else:
            step = min(float(move.details_table[1].min()), 0.0)
        return acct.min_bound + step

    def _record(self, acct: _AccountState, move: _Move) -> None:
        if move.payout_vector is not None:
            acct.vector = move.payout_vector.copy() if acct.vector is None \
                else acct.vector + move.payout_vector
            return
        c, t = move.details_table
        tables = self._tables(acct)
        tables[c] = tables[c] + t if c in tables else np.array(t)
        if self._latent_mode == "bound":
            plan = move.plan
            self._trades.append((acct.name, self.maker.tree.cliques[c], plan.log_factor,
                                 move.cost - plan.cost))

    # -- observation and settlement ----------------------------------------------------
    def _narrow_maker(self, new: dict[str, int]) -> None:
        self.maker.observe({self.space.axis(n): i for n, i in new.items()})

    def _final_payouts(self, combined: dict[str, int]) -> dict[str, float]:
        out = {name: 0.0 for name in self._accounts}
        if self._latent_mode == "exact":
            index = int(np.ravel_multi_index(
                tuple(combined[self.space.names[a]] for a in self._obs_axes), self._obs_shape))
            for acct in self._accounts.values():
                if acct.vector is not None:
                    out[acct.name] = float(acct.vector[index])
            return out
        if self._latent_mode == "bound":
            return self._replay(combined)
        state = {self.space.axis(n): i for n, i in combined.items()}
        for acct in self._accounts.values():
            total = 0.0
            for c, t in self._tables(acct).items():
                total += float(t[tuple(state[v] for v in self.maker.tree.cliques[c])])
            out[acct.name] = total
        return out

    def _replay(self, combined: dict[str, int]) -> dict[str, float]:
        """Exact settlement with latent variables: replay every trade through a fresh copy
        of the tree with the whole observation entered, paying each
        :math:`b\\log E_{P_t}[e^{\\Delta_t/b}\\mid o]` plus its cost difference."""
        tree = JunctionTree(self.space.shape, self.maker.tree.structure)
        net = self.maker.network
        for i, fam in enumerate(self.maker.families):
            c = tree.clique_of(fam)
            tree.multiply(c, tree.expand(c, fam, net.tables[i]))
        for name, s in combined.items():
            v = self.space.axis(name)
            keep = np.zeros(self.space.shape[v])
            keep[s] = 1.0
            tree.multiply(tree.home[v], tree.expand(tree.home[v], (v,), keep))
        out = {name: 0.0 for name in self._accounts}
        b = self.liquidity
        for name, variables, log_factor, extra in self._trades:
            c = tree.clique_of(variables)
            top = float(log_factor.max())
            factor = tree.expand(c, variables, np.exp(log_factor - top))
            out[name] += b * (math.log(tree.clique_probability(c, factor)) + top) + extra
            tree.multiply(c, factor)
        return out

    def _check_prices(self) -> None:
        for name in self.space.names:
            total = sum(self.marginal(name).values())
            verify(abs(total - 1.0) < 1e-9, f"prices of {name!r} sum to {total!r}, expected 1")

    def __repr__(self) -> str:
        state = "settled" if self._settled else "open"
        tree = self.maker.tree
        return (f"BayesNetMarket({len(self.space)} variables, {len(tree.cliques)} cliques of "
                f"width {tree.structure.width}, b={self.liquidity:g}, "
                f"latent={list(self.latent)}, {state}, {len(self._accounts)} accounts, "
                f"{len(self._ledger)} ledger entries)")
