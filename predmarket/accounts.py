"""The account book that every market keeps: accounts, the append-only ledger, payouts at
settlement and the money-conservation check (DESIGN.md sec. 3-4).

A market holds its accounts by name; each account state has ``name``, ``cash`` and
``endowment``. Money only moves between the accounts and the maker, so at every moment

.. math:: \\sum_a \\text{cash}_a + \\text{maker cash}
          = \\sum_a \\text{endowment}_a + \\text{subsidy},

and the budget rule keeps every account's worst-case final cash :math:`\\ge 0`.
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
from predmarket.ledger import Account, LedgerEntry, Quote
from predmarket.validation import finite_number, verify

__all__ = ["AccountBook"]


class AccountBook:
    """Accounts, ledger, settlement payouts and the money check of a market (a mixin).

    The market calls :meth:`_open_book` in its constructor and defines
    ``_new_account(name, cash)`` (its account state), ``min_asset(account)``, and for
    :meth:`_preview` ``_prepare_shares``, ``_prepare_target`` and
    ``_worst_after(acct, move)``. A priced move has ``account``, ``kind``, ``cost``,
    ``shares``, ``price_before``, ``price_after`` and ``details["event"]``.
    """

    def _open_book(self, subsidy: float) -> None:
        """Start with no account, an empty ledger and the maker holding the subsidy."""
        self._accounts: dict[str, Any] = {}
        self._ledger: list[LedgerEntry] = []
        self._settled = False
        self.subsidy = subsidy
        self._maker_cash = subsidy

    # -- basic properties ---------------------------------------------------------------
    @property
    def ledger(self) -> tuple[LedgerEntry, ...]:
        """The append-only ledger (an immutable tuple of entries)."""
        return tuple(self._ledger)

    @property
    def settled(self) -> bool:
        """Whether the market has been settled."""
        return self._settled

    @property
    def maker_cash(self) -> float:
        """The market maker's balance: subsidy plus costs received minus payouts made."""
        return self._maker_cash

    @property
    def accounts(self) -> tuple[str, ...]:
        """Names of the open accounts."""
        return tuple(self._accounts)

    # -- accounts ----------------------------------------------------------------------
    def open_account(self, name: str, cash: float) -> Account:
        """Open an account funded with ``cash`` (>= 0) and return its handle."""
        self._require_open()
        if not isinstance(name, str) or not name:
            raise InvalidInput(f"account name must be a non-empty string, got {name!r}")
        if name in self._accounts:
            raise DuplicateAccount(f"an account named {name!r} already exists")
        amount = finite_number("cash", cash)
        if amount < 0:
            raise InvalidAmount(f"initial cash must be >= 0, got {amount!r}")
        self._accounts[name] = self._new_account(name, amount)
        self._append("open", name, cash=amount, details={"cash": amount})
        return Account(name)

    def _account(self, account: Account | str) -> Any:
        name = account.name if isinstance(account, Account) else account
        try:
            return self._accounts[name]
        except (KeyError, TypeError):
            raise UnknownAccount(
                f"no account {name!r}; open accounts are {list(self._accounts)!r}"
            ) from None

    def cash(self, account: Account | str) -> float:
        """Cash now: endowment minus costs paid (plus payouts once settled)."""
        return self._account(account).cash

    # -- quotes and budgets ------------------------------------------------------------
    def _preview(self, account: Account | str, event: Any, shares: float | None,
                 probability: float | None, given: Any) -> Quote:
        """Price ``shares=`` as a buy or ``probability=`` as a target, and say whether the
        budget rule would accept it, changing nothing."""
        if (shares is None) == (probability is None):
            raise InvalidInput("give exactly one of shares= or probability=")
        if shares is not None:
            move = self._prepare_shares(account, event, shares, given)
        else:
            move = self._prepare_target(account, event, probability, given)
        worst = self._worst_after(move.account, move)
        ok = worst >= -self._tolerance(move.account)
        return self._quote(move, worst, ok)

    @staticmethod
    def _quote(move: Any, min_asset_after: float, affordable: bool) -> Quote:
        return Quote(float(move.cost), float(move.shares), float(move.price_before),
                     float(move.price_after), float(min_asset_after), bool(affordable))

    @staticmethod
    def _tolerance(acct: Any) -> float:
        return 1e-9 * (1.0 + abs(acct.endowment))

    @staticmethod
    def _refuse(acct: Any, move: Any, worst: float) -> InsufficientFunds:
        """The error for a move that would leave ``acct`` at ``worst`` < 0."""
        return InsufficientFunds(
            f"account {acct.name!r} refused: {move.kind} of {move.details['event']!r}"
            f" costs {move.cost:.6g} with cash {acct.cash:.6g}, and would leave a "
            f"worst-case final cash of {worst:.6g}; expected >= 0"
        )

    # -- settlement and invariants -----------------------------------------------------
    def _pay_out(self, final: dict[str, float]) -> dict[str, float]:
        """Pay every account what settlement owes it (``final[name]``) from the maker."""
        payouts = {}
        for acct in self._accounts.values():
            payout = final[acct.name]
            acct.cash += payout
            self._maker_cash -= payout
            payouts[acct.name] = payout
            self._append("payout", acct.name, cash=payout, details={"payout": payout})
        self._settled = True
        return payouts

    def _check_books(self, tolerance: float) -> None:
        """Money is conserved and no account can end below zero (``AssertionError``)."""
        total = sum(a.cash for a in self._accounts.values()) + self._maker_cash
        expected = sum(a.endowment for a in self._accounts.values()) + self.subsidy
        scale = 1.0 + abs(expected)
        verify(abs(total - expected) <= tolerance * scale,
               f"money not conserved: accounts + maker = {total!r}, expected {expected!r}")
        for name in self._accounts:
            worst = self.min_asset(name)
            verify(worst >= -tolerance * scale, f"account {name!r} can end at {worst!r} < 0")

    def _require_open(self) -> None:
        if self._settled:
            raise MarketClosed("the market is settled; no more trades, observations or settlements")

    def _append(self, kind, account, *, cash=0.0, parts=(), values=(), details=None):
        self._ledger.append(LedgerEntry(len(self._ledger), kind, account, float(cash),
                                        parts, values, details or {}))
