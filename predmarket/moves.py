"""How a buy, a target or an edit on :math:`A` (given :math:`B`) becomes an LMSR move.

Every trade moves the maker's state by :math:`\\Delta q`, constant on the parts of the
partition :math:`(A, \\lnot A)`, or :math:`(A\\wedge B, \\lnot A\\wedge B, \\lnot B)` for a
conditional trade (DESIGN.md sec. 3). With :math:`p = P(A \\mid B)` read from the parts'
masses and liquidity :math:`b` [1]_:

* ``x`` shares cost :math:`b \\log(1 - p + p\\,e^{x/b})`, the move is :math:`(x, 0)`, or
  :math:`(x, 0, \\text{cost})` so that the cost is refunded on :math:`\\lnot B`;
* a target :math:`p'` buys :math:`x = b[\\operatorname{logit} p' - \\operatorname{logit} p]`
  shares;
* an edit to :math:`p'` is the move :math:`(b\\log\\frac{p'}{p}, b\\log\\frac{1-p'}{1-p}, 0)`
  at cost 0.

The market supplies the partition and turns the move into its own representation.

References
----------
.. [1] R. Hanson, "Combinatorial information market design", Information Systems Frontiers
   5(1), 2003.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from predmarket.validation import finite_number, open_probability

__all__ = ["MovePricing", "conditional_logs"]


def conditional_logs(logs) -> tuple[float, float]:
    """:math:`\\log P(A \\mid B)` and :math:`\\log P(\\lnot A \\mid B)` from the log masses
    of the parts :math:`A\\wedge B` and :math:`\\lnot A\\wedge B` (the first two of ``logs``).

    Examples
    --------
    >>> [round(v, 6) for v in conditional_logs([math.log(0.1), math.log(0.3), 0.0])]
    [-1.386294, -0.287682]
    """
    log_b = float(np.logaddexp(logs[0], logs[1]))
    return logs[0] - log_b, logs[1] - log_b


class MovePricing:
    """Prices buys, targets and edits as LMSR moves on a partition (a mixin).

    The market defines ``liquidity``, ``_account(account)``, ``_require_trading()``,
    ``_trade_parts(event, given)`` returning ``(a, b, parts, logs, context)`` (``b`` is
    None for an unconditional trade, ``logs`` the parts' log masses, ``context`` whatever
    its ``_move`` needs), ``_require_uncertain(logs, a, b)``,
    ``_move(acct, kind, parts, values, context, cost, shares, p0, p1, info)`` and
    ``_label(event)`` (the event as a string for the ledger).
    """

    def _prepare_shares(self, account, event, shares, given) -> Any:
        self._require_trading()
        acct = self._account(account)
        x = finite_number("shares", shares)
        a, b, parts, logs, context = self._trade_parts(event, given)
        return self._shares_move(acct, a, b, parts, logs, context, x, "buy", {})

    def _prepare_target(self, account, event, probability, given) -> Any:
        self._require_trading()
        acct = self._account(account)
        p_target = open_probability(probability)
        a, b, parts, logs, context = self._trade_parts(event, given)
        self._require_uncertain(logs, a, b)
        log_p, log_q = conditional_logs(logs)
        x = self.liquidity * (math.log(p_target) - math.log1p(-p_target) - (log_p - log_q))
        return self._shares_move(acct, a, b, parts, logs, context, x, "target",
                                 {"probability": p_target})

    def _shares_move(self, acct, a, b, parts, logs, context, x, kind, details) -> Any:
        log_p, log_q = conditional_logs(logs)
        b_ = self.liquidity
        cost = b_ * float(np.logaddexp(log_q, log_p + x / b_))
        values = [x, 0.0] if b is None else [x, 0.0, cost]  # conditional: refund on ~B
        price_after = self._price_from_log(log_p + x / b_ - cost / b_)
        info = {"event": self._label(a), "given": None if b is None else self._label(b),
                "shares": x, **details}
        return self._move(acct, kind, parts, values, context, cost, x, math.exp(log_p),
                          price_after, info)

    def _prepare_edit(self, account, event, probability, given) -> Any:
        self._require_trading()
        acct = self._account(account)
        p_target = open_probability(probability)
        a, b, parts, logs, context = self._trade_parts(event, given)
        self._require_uncertain(logs, a, b)
        log_p, log_q = conditional_logs(logs)
        b_ = self.liquidity
        up = b_ * (math.log(p_target) - log_p)
        down = b_ * (math.log1p(-p_target) - log_q)
        values = [up, down] if b is None else [up, down, 0.0]
        info = {"event": self._label(a), "given": None if b is None else self._label(b),
                "probability": p_target}
        return self._move(acct, "edit", parts, values, context, 0.0, up - down,
                          math.exp(log_p), p_target, info)

    @staticmethod
    def _price_from_log(log_price: float) -> float:
        return math.exp(log_price)

    @staticmethod
    def _label(event: Any) -> str:
        return str(event)

    def _require_trading(self) -> None:
        self._require_open()
