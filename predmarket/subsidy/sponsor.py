"""``Sponsor``: a budget that funds a root market and subsidiary markets, traders' wallets,
visibility of prices, and a ledger of every flow.

A market with liquidity :math:`b` whose observable outcomes start at prices :math:`P_0` can
lose at most :math:`-b \\log \\min_o P_0(o)` (:math:`b \\log N` for a uniform prior over
:math:`N` outcomes; Hanson [1]_). That worst case is the market's ``subsidy``; a sponsor
with budget :math:`B` funds markets only while

.. math:: \\sum_i \\text{subsidy}_i \\;\\le\\; B
          \\qquad(\\textstyle\\sum_i b_i \\log N_i \\le B \\text{ for uniform priors}),

so whatever traders do, its realised loss never exceeds :math:`B`. A trader may fund a
subsidiary market itself from its wallet (it then bears the loss and gets the refund).

Free riding. A funded market's prices are information: anyone who reads them can trade on
the root market before the funder does. ``hidden_until=<root>`` limits this: the market's
prices are visible only to its funder until the root market closes (traders in the hidden
market learn only what their own trades reveal).

Money is conserved: the sponsor's cash, the wallets, and the cash inside every market
(maker and accounts) always add up to the budgets and endowments that entered
(:meth:`Sponsor.check`).

References
----------
.. [1] R. Hanson, "Logarithmic market scoring rules for modular combinatorial information
   aggregation", Journal of Prediction Markets 1(1), 2007.
"""

from __future__ import annotations

from typing import Any

from predmarket.errors import (
    DuplicateAccount,
    InsufficientFunds,
    InvalidAmount,
    InvalidInput,
    MarketClosed,
    UnknownAccount,
)
from predmarket.ledger import Account
from predmarket.subsidy.ledger import OUTSIDE, SubsidyLedger
from predmarket.validation import finite_number, verify

__all__ = ["Sponsor"]


def _amount(name: str, value: Any, *, positive: bool = False) -> float:
    x = finite_number(name, value)
    if x < 0 or (positive and x == 0):
        raise InvalidAmount(f"{name} must be a finite number {'>' if positive else '>='} 0, "
                            f"got {value!r}")
    return x


def _wallet(agent: str) -> str:
    return f"wallet:{agent}"


def _maker(market: str) -> str:
    return f"maker:{market}"


def _account(market: str, agent: str) -> str:
    return f"account:{market}/{agent}"


class Sponsor:
    """A sponsor with budget ``budget`` and the markets, wallets and flows it oversees.

    Parameters
    ----------
    budget : float
        :math:`B \\ge 0`: the most the sponsor can lose over all markets it funds.
    name : str
        The sponsor's party name in the ledger.

    Examples
    --------
    >>> from predmarket import Market, OutcomeSpace, Variable
    >>> sponsor = Sponsor(2.0)
    >>> x = OutcomeSpace([Variable("x", ["0", "1"])])
    >>> root = sponsor.fund("root", Market(x, 2.0))
    >>> round(sponsor.committed, 4), round(sponsor.remaining, 4)
    (1.3863, 0.6137)
    >>> sponsor.open_wallet("ann", 10.0)
    >>> acct = sponsor.join("ann", "root", 5.0)
    >>> _ = root.target(acct, "x == 1", 0.8)
    >>> payouts = sponsor.close("root", {"x": "1"})
    >>> round(sponsor.wallet("ann"), 4)
    10.94
    >>> sponsor.check()
    """

    def __init__(self, budget: float, *, name: str = "sponsor"):
        if not isinstance(name, str) or not name or ":" in name:
            raise InvalidInput(f"sponsor name must be a non-empty string without ':', got "
                               f"{name!r}")
        self.name = name
        self.budget = _amount("budget", budget)
        self.ledger = SubsidyLedger()
        self.ledger.record("budget", OUTSIDE, name, self.budget)
        self.markets: dict[str, Any] = {}
        self.funders: dict[str, str] = {}
        self._hidden_until: dict[str, str | None] = {}
        self._closed: set[str] = set()
        self._members: dict[str, set[str]] = {}
        self._wallets: dict[str, float] = {}
        self._committed = 0.0

    # -- budget ------------------------------------------------------------------------
    @property
    def committed(self) -> float:
        """Sum of the worst-case losses (subsidies) of the markets the sponsor funded."""
        return self._committed

    @property
    def remaining(self) -> float:
        """Budget not yet committed."""
        return self.budget - self._committed

    @property
    def cash(self) -> float:
        """The sponsor's cash: budget minus grants plus refunds."""
        return self.ledger.balance(self.name)

    @property
    def realised_loss(self) -> float:
        """Grants minus refunds over the markets the sponsor funded and that have closed."""
        loss = 0.0
        for f in self.ledger.flows:
            if f.market in self._closed and self.funders.get(f.market) == self.name:
                if f.kind == "grant":
                    loss += f.amount
                elif f.kind == "refund":
                    loss -= f.amount
        return loss

    # -- wallets -----------------------------------------------------------------------
    def open_wallet(self, agent: str, cash: float) -> None:
        """Give trader ``agent`` a wallet holding ``cash`` of its own money."""
        if not isinstance(agent, str) or not agent or ":" in agent or "/" in agent:
            raise InvalidInput(f"agent name must be a non-empty string without ':' or '/', "
                               f"got {agent!r}")
        if agent in self._wallets or agent == self.name:
            raise DuplicateAccount(f"a wallet named {agent!r} already exists")
        amount = _amount("cash", cash)
        self._wallets[agent] = amount
        self.ledger.record("endow", OUTSIDE, _wallet(agent), amount)

    def wallet(self, agent: str) -> float:
        """Cash in ``agent``'s wallet (outside any market)."""
        try:
            return self._wallets[agent]
        except (KeyError, TypeError):
            raise UnknownAccount(f"no wallet {agent!r}; wallets are {list(self._wallets)!r}"
                                 ) from None

    # -- markets -----------------------------------------------------------------------
    def _market(self, name: str):
        try:
            return self.markets[name]
        except (KeyError, TypeError):
            raise InvalidInput(f"no market {name!r}; markets are {list(self.markets)!r}"
                               ) from None

    def fund(self, name: str, market, *, funder: str | None = None,
             hidden_until: str | None = None):
        """Fund a fresh ``market`` (no accounts, no trades) under ``name``.

        The funder (the sponsor by default, or a trader's wallet) pays the market's
        worst-case loss ``market.subsidy`` now, and gets back what the maker has left when
        the market closes. The sponsor refuses, with
        :class:`~predmarket.errors.InsufficientFunds`, a market that would take its
        committed worst-case losses above its budget.

        ``hidden_until=root`` makes the market's prices visible only to its funder until the
        market ``root`` closes.
        """
        if not isinstance(name, str) or not name or ":" in name or "/" in name:
            raise InvalidInput(f"market name must be a non-empty string without ':' or '/', "
                               f"got {name!r}")
        if name in self.markets:
            raise InvalidInput(f"a market named {name!r} is already funded")
        for attr in ("subsidy", "ledger", "settle", "open_account"):
            if not hasattr(market, attr):
                raise InvalidInput(f"expected a Market, got {type(market).__name__}")
        if market.ledger or market.settled:
            raise InvalidInput(f"market {name!r} must be fresh (no accounts, trades or "
                               "settlement) to be funded")
        if hidden_until is not None and hidden_until != name and hidden_until not in \
                self.markets:
            raise InvalidInput(f"hidden_until names unknown market {hidden_until!r}; markets "
                               f"are {list(self.markets)!r}")
        subsidy = float(market.subsidy)
        payer = self.name if funder is None else funder
        if payer == self.name:
            if self._committed + subsidy > self.budget:
                raise InsufficientFunds(
                    f"market {name!r} has worst-case loss {subsidy:.6g}, but the sponsor has "
                    f"only {self.remaining:.6g} of its budget {self.budget:.6g} left; "
                    "expected sum of b_i log N_i <= B")
            self._committed += subsidy
            source = self.name
        else:
            if self.wallet(payer) < subsidy:
                raise InsufficientFunds(
                    f"wallet {payer!r} holds {self.wallet(payer):.6g}, cannot fund market "
                    f"{name!r} whose worst-case loss is {subsidy:.6g}")
            self._wallets[payer] -= subsidy
            source = _wallet(payer)
        self.markets[name] = market
        self.funders[name] = payer
        self._hidden_until[name] = hidden_until
        self._members[name] = set()
        self.ledger.record("grant", source, _maker(name), subsidy, name,
                           liquidity=float(market.liquidity))
        return market

    def fund_allocation(self, allocation, markets: dict) -> dict:
        """Fund every market of a :class:`~predmarket.subsidy.router.Allocation`.

        ``markets`` maps each allocated name to a callable ``liquidity -> fresh Market``;
        names whose allocated liquidity is 0 are skipped. Returns the funded markets.
        """
        missing = [n for n in allocation.names if n not in markets]
        if missing:
            raise InvalidInput(f"no market factory for {missing!r}")
        total = sum(allocation.worst_case_loss.values())
        if self._committed + total > self.budget:
            raise InsufficientFunds(
                f"allocation needs {total:.6g} but only {self.remaining:.6g} is left")
        funded = {}
        for name in allocation.names:
            b = allocation.liquidity[name]
            if b > 0:
                funded[name] = self.fund(name, markets[name](b))
        return funded

    def join(self, agent: str, market: str, cash: float) -> Account:
        """Open ``agent``'s account in ``market`` with ``cash`` moved from its wallet."""
        m = self._market(market)
        amount = _amount("cash", cash)
        if self.wallet(agent) < amount:
            raise InsufficientFunds(f"wallet {agent!r} holds {self.wallet(agent):.6g}, cannot "
                                    f"deposit {amount:.6g}")
        account = m.open_account(agent, amount)
        self._wallets[agent] -= amount
        self._members[market].add(agent)
        self.ledger.record("deposit", _wallet(agent), _account(market, agent), amount, market)
        return account

    def visible(self, viewer: str, market: str) -> bool:
        """Whether ``viewer`` may read ``market``'s prices now."""
        self._market(market)
        root = self._hidden_until[market]
        if root is None or root in self._closed or market in self._closed:
            return True
        return viewer == self.funders[market]

    def prices(self, viewer: str, market: str, variable: str) -> dict[str, float]:
        """``market.marginal(variable)`` if ``viewer`` may see it (else
        :class:`~predmarket.errors.InvalidInput` naming the funder and the root)."""
        if not self.visible(viewer, market):
            raise InvalidInput(
                f"prices of market {market!r} are visible only to its funder "
                f"{self.funders[market]!r} until market {self._hidden_until[market]!r} closes")
        return self._market(market).marginal(variable)

    def close(self, market: str, observation) -> dict[str, float]:
        """Settle ``market``, return every account's final cash to its wallet, and refund
        the maker's remaining cash to the funder. Returns the settlement payouts."""
        m = self._market(market)
        if market in self._closed:
            raise MarketClosed(f"market {market!r} is already closed")
        payouts = m.settle(observation)
        for agent in sorted(self._members[market]):
            final = m.cash(agent)
            self._wallets[agent] += final
            self.ledger.record("payout", _account(market, agent), _wallet(agent), final, market)
        refund = m.maker_cash
        funder = self.funders[market]
        target = self.name if funder == self.name else _wallet(funder)
        if funder != self.name:
            self._wallets[funder] += refund
        self.ledger.record("refund", _maker(market), target, refund, market)
        self._closed.add(market)
        return payouts

    def check(self, *, tolerance: float = 1e-9) -> None:
        """Verify budget and conservation of money; raise ``AssertionError`` naming a failure.

        * committed worst-case losses do not exceed the budget, and the realised loss does
          not exceed what was committed;
        * every wallet, and the sponsor's cash, equal their ledger balances;
        * inside each open market, maker cash plus account cash equal the grant plus the
          deposits (the market's own ledger moves the rest); every closed market is empty;
        * so everything adds up to the money that entered.
        """
        scale = 1.0 + self.ledger.entered()
        tol = tolerance * scale
        verify(self._committed <= self.budget + tol,
                f"committed {self._committed!r} exceeds budget {self.budget!r}")
        verify(self.realised_loss <= self._committed + tol,
                f"realised loss {self.realised_loss!r} exceeds committed {self._committed!r}")
        balances = self.ledger.balances()
        for agent, cash in self._wallets.items():
            verify(abs(balances.get(_wallet(agent), 0.0) - cash) <= tol,
                    f"wallet {agent!r} holds {cash!r}, ledger says "
                    f"{balances.get(_wallet(agent))!r}")
        total = self.cash + sum(self._wallets.values())
        for name, m in self.markets.items():
            inside = balances.get(_maker(name), 0.0) + sum(
                balances.get(_account(name, a), 0.0) for a in self._members[name])
            if name in self._closed:
                verify(abs(inside) <= tol, f"closed market {name!r} still holds {inside!r}")
                continue
            held = m.maker_cash + sum(m.cash(a) for a in self._members[name])
            verify(abs(held - inside) <= tol,
                    f"market {name!r} holds {held!r}, but {inside!r} was put in")
            total += held
        verify(abs(total - self.ledger.entered()) <= tol,
                f"money not conserved: {total!r} held, {self.ledger.entered()!r} entered")

    def __repr__(self) -> str:
        return (f"Sponsor(budget={self.budget:g}, committed={self._committed:g}, "
                f"{len(self.markets)} markets, {len(self._wallets)} wallets)")
