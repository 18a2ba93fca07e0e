"""The subsidy ledger: every flow of money between a sponsor, traders' wallets and markets.

Money inside one market (trades between accounts and the maker) is recorded by that
market's own ledger; this ledger records what crosses market boundaries, so that the two
together account for every unit:

========== ============================== =========================================
kind       from -> to                     meaning
========== ============================== =========================================
``budget`` ``outside -> sponsor``         the sponsor's budget B
``endow``  ``outside -> wallet:<agent>``  a trader's own money
``grant``  ``sponsor|wallet -> maker:<m>`` a market's subsidy, its worst-case loss
``deposit`` ``wallet -> account:<m>/<a>`` cash a trader brings to a market
``payout`` ``account:<m>/<a> -> wallet``  the account's final cash when ``m`` closes
``refund`` ``maker:<m> -> funder``        what the maker did not lose, back to its funder
========== ============================== =========================================
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["OUTSIDE", "Flow", "SubsidyLedger"]

#: The party money comes from when it enters the system.
OUTSIDE = "outside"


@dataclass(frozen=True)
class Flow:
    """One movement of ``amount`` (>= 0) from ``source`` to ``target``."""

    seq: int
    kind: str
    source: str
    target: str
    amount: float
    market: str | None = None
    details: Any = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))


class SubsidyLedger:
    """Append-only list of :class:`Flow` with balances per party."""

    def __init__(self):
        self._flows: list[Flow] = []

    def record(self, kind: str, source: str, target: str, amount: float,
               market: str | None = None, **details) -> Flow:
        flow = Flow(len(self._flows), kind, source, target, float(amount), market, details)
        self._flows.append(flow)
        return flow

    @property
    def flows(self) -> tuple[Flow, ...]:
        return tuple(self._flows)

    def balances(self) -> dict[str, float]:
        """Net amount received by every party (``outside`` is minus what entered)."""
        out: dict[str, float] = defaultdict(float)
        for f in self._flows:
            out[f.source] -= f.amount
            out[f.target] += f.amount
        return dict(out)

    def balance(self, party: str) -> float:
        return self.balances().get(party, 0.0)

    def entered(self) -> float:
        """Total money that entered from outside (budgets and endowments)."""
        return -self.balance(OUTSIDE)

    def table(self) -> str:
        """The flows as a fixed-width text table."""
        rows = [f"{'seq':>4} {'kind':<8} {'from':<24} {'to':<24} {'amount':>12}"]
        for f in self._flows:
            rows.append(f"{f.seq:>4} {f.kind:<8} {f.source:<24} {f.target:<24} "
                        f"{f.amount:>12.6f}")
        return "\n".join(rows)

    def __len__(self) -> int:
        return len(self._flows)
