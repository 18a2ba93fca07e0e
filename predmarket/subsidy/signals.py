"""Costly signals: what routing a subsidy buys, and what free riding costs.

The model (DESIGN.md sec. 5). A binary root variable :math:`X` with
:math:`P(X=1)=\\pi`, and signals :math:`Y_1, \\dots, Y_n`, conditionally independent given
:math:`X`, with accuracy :math:`a_i = P(Y_i = X)` and cost :math:`c_i` to learn. A sponsor's
budget :math:`B` funds a root market on :math:`X` and, as a router decides, subsidiary
markets on the :math:`Y_i` (each over its own variable, priced at its prior marginal).

Specialist :math:`i`, when its turn comes, may buy signal :math:`i` for :math:`c_i`. It
does so when its expected trading profit exceeds the cost: with root price :math:`r`,

.. math:: \\mathbb E[\\text{profit}] = b_0\\,I(X; Y_i \\mid r)
          + b_i \\sum_y P(y \\mid r) \\log\\frac{1-\\varepsilon}{s_i(y)},

(the first term: moving the root from :math:`r` to :math:`P(X\\mid r, y)`; the second:
moving subsidiary market :math:`i` from its price :math:`s_i(y)` to :math:`1-\\varepsilon`
on the state it learned). If it buys, it makes both trades. The root's expected log-loss
:math:`-\\log P_{\\text{root}}(X = x)` after every specialist has had its turn measures the
policy; all policies see the same instances (same truth, costs and order).

Free riding (:func:`run_funded_signal`): a trader F may fund the subsidiary market for one
signal itself, to profit on the root from the price that a specialist then produces there.
If the market's prices are public, riders who read them race F to the root; with
``hidden_until`` only F reads them. F funds only when its expected share of the root
profit covers the subsidiary market's expected loss.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from predmarket.errors import InvalidInput
from predmarket.market import Market
from predmarket.spaces import OutcomeSpace, Variable
from predmarket.subsidy.router import SubsidyRouter
from predmarket.subsidy.sponsor import Sponsor

__all__ = [
    "FreeRidingOutcome",
    "RoutingOutcome",
    "SignalInstance",
    "random_instance",
    "run_funded_signal",
    "run_routing",
]

EPSILON = 0.01  # informed traders move a subsidiary market to 1 - EPSILON on what they learned
_SPACES: dict[str, OutcomeSpace] = {}


def _space(name: str) -> OutcomeSpace:
    if name not in _SPACES:
        _SPACES[name] = OutcomeSpace([Variable(name, ["0", "1"])])
    return _SPACES[name]


def _kl2(p: float, q: float) -> float:
    """KL between Bernoulli(p) and Bernoulli(q)."""
    out = 0.0
    for a, b in ((p, q), (1 - p, 1 - q)):
        if a > 0:
            out += a * math.log(a / b)
    return out


@dataclass(frozen=True)
class SignalInstance:
    """One random instance: the model, the truth, the costs and the activation order."""

    prior: float
    accuracy: np.ndarray
    cost: np.ndarray
    x: int
    y: np.ndarray
    order: np.ndarray

    @property
    def names(self) -> tuple[str, ...]:
        return ("X",) + tuple(f"Y{i}" for i in range(len(self.accuracy)))

    def likelihood(self, i: int, y: int) -> tuple[float, float]:
        """:math:`(P(Y_i=y \\mid X=0), P(Y_i=y \\mid X=1))`."""
        a = float(self.accuracy[i])
        return (a, 1 - a) if y == 0 else (1 - a, a)

    def posterior(self, r: float, i: int, y: int) -> float:
        """:math:`P(X=1 \\mid r, Y_i = y)` from root price :math:`r`."""
        l0, l1 = self.likelihood(i, y)
        return r * l1 / (r * l1 + (1 - r) * l0)

    def predictive(self, r: float, i: int, y: int) -> float:
        """:math:`P(Y_i = y \\mid r)`."""
        l0, l1 = self.likelihood(i, y)
        return r * l1 + (1 - r) * l0

    def joint(self) -> np.ndarray:
        """:math:`P(X, Y_1, \\dots, Y_n)`, one axis per variable."""
        table = np.array([1 - self.prior, self.prior])
        for a in self.accuracy:
            cond = np.array([[a, 1 - a], [1 - a, a]])  # rows x, columns y
            table = table[..., None] * cond.reshape((2,) + (1,) * (table.ndim - 1) + (2,))
        return table

    def beliefs(self) -> Market:
        """The common prior as a market's joint over :math:`(X, Y_1..Y_n)`: what a router
        reads as the current prices."""
        space = OutcomeSpace([Variable(n, ["0", "1"]) for n in self.names])
        return Market(space, 1.0, prior=self.joint().ravel())

    def signal_marginal(self, i: int) -> np.ndarray:
        """Prior marginal of :math:`Y_i`."""
        p1 = self.predictive(self.prior, i, 1)
        return np.array([1 - p1, p1])


def random_instance(rng, n_signals: int = 6, *, cost_range=(0.05, 0.6),
                    accuracy_range=(0.55, 0.95), budget: float = 1.0) -> SignalInstance:
    """Draw an instance: :math:`\\pi \\sim U(0.3, 0.7)`, accuracies and costs (as a fraction
    of the budget) uniform in their ranges, the truth from the model, a random order."""
    gen = np.random.default_rng(rng)
    if not isinstance(n_signals, (int, np.integer)) or n_signals < 1:
        raise InvalidInput(f"n_signals must be a positive integer, got {n_signals!r}")
    prior = float(gen.uniform(0.3, 0.7))
    accuracy = gen.uniform(*accuracy_range, size=n_signals)
    cost = gen.uniform(*cost_range, size=n_signals) * budget
    x = int(gen.random() < prior)
    correct = gen.random(n_signals) < accuracy
    y = np.where(correct, x, 1 - x).astype(int)
    return SignalInstance(prior, accuracy, cost, x, y, gen.permutation(n_signals))


@dataclass(frozen=True)
class RoutingOutcome:
    """What one policy produced on one instance."""

    log_loss: float
    acquired: np.ndarray
    sponsor_loss: float
    specialist_net: float


def _target(market: Market, account, event: str, probability: float) -> None:
    current = market.price(event)
    if abs(current - probability) > 1e-12:
        market.target(account, event, probability)


def run_routing(instance: SignalInstance, router: SubsidyRouter, budget: float,
                *, epsilon: float = EPSILON) -> RoutingOutcome:
    """Fund markets as ``router`` says, let every specialist buy its signal when it pays
    and trade, close everything, and report the root's log-loss on the truth."""
    n = len(instance.accuracy)
    subs = [f"Y{i}" for i in range(n)]
    allocation = router.route(instance.beliefs(), "X", subs, budget)
    sponsor = Sponsor(budget)
    factories = {"X": lambda b: Market(_space("X"), b,
                                       prior=[1 - instance.prior, instance.prior])}
    for i, name in enumerate(subs):
        factories[name] = (lambda b, i=i, name=name: Market(
            _space(name), b, prior=instance.signal_marginal(i)))
    markets = sponsor.fund_allocation(allocation, factories)
    root = markets["X"]
    b0 = root.liquidity
    stake = 50.0 * (budget + 1.0)
    acquired = np.zeros(n, dtype=bool)
    spent = 0.0
    for i in instance.order:
        agent, name = f"spec{i}", subs[i]
        r = root.price("X == 1")
        gain = b0 * sum(instance.predictive(r, i, y) * _kl2(instance.posterior(r, i, y), r)
                        for y in (0, 1))
        sub = markets.get(name)
        if sub is not None:
            for y in (0, 1):
                s = sub.price(f"{name} == {y}")
                if s < 1 - epsilon:
                    gain += sub.liquidity * instance.predictive(r, i, y) * math.log(
                        (1 - epsilon) / s)
        if gain <= instance.cost[i]:
            continue
        acquired[i] = True
        spent += float(instance.cost[i])
        y = int(instance.y[i])
        sponsor.open_wallet(agent, 2 * stake)
        _target(root, sponsor.join(agent, "X", stake), "X == 1", instance.posterior(r, i, y))
        if sub is not None and sub.price(f"{name} == {y}") < 1 - epsilon:
            _target(sub, sponsor.join(agent, name, stake), f"{name} == {y}", 1 - epsilon)
    log_loss = -math.log(root.price(f"X == {instance.x}"))
    wallets_before = sum(2 * stake for i in np.flatnonzero(acquired))
    sponsor.close("X", {"X": str(instance.x)})
    for i, name in enumerate(subs):
        if name in markets:
            sponsor.close(name, {name: str(int(instance.y[i]))})
    sponsor.check()
    net = sum(sponsor.wallet(f"spec{i}") for i in np.flatnonzero(acquired)) - wallets_before
    return RoutingOutcome(log_loss, acquired, sponsor.realised_loss, net - spent)


@dataclass(frozen=True)
class FreeRidingOutcome:
    """One funded-signal episode."""

    funded: bool
    log_loss: float
    funder_net: float
    riders_net: float
    specialist_net: float


def run_funded_signal(instance: SignalInstance, *, budget: float, hidden: bool,
                      n_riders: int = 2, rng=None, epsilon: float = EPSILON,
                      margin: float = 0.05) -> FreeRidingOutcome:
    """A trader F funds the subsidiary market for signal 0 of ``instance`` itself.

    The sponsor funds the root market on X with the whole budget. F funds a market on
    :math:`Y_0` just liquid enough that specialist S buys the signal
    (:math:`b_1 = (1 + \\text{margin})\\,c / (H(Y_0) + \\log(1-\\varepsilon))`), if F's
    expected share of the root profit, :math:`b_0 I(X;Y_0)` (all of it when the market is
    hidden, :math:`1/(1+\\text{riders})` when it is public and readers race in random
    order), exceeds the market's expected loss. S trades the market to :math:`1-\\varepsilon`
    on what it learned; the first reader who can see that price moves the root to
    :math:`P(X \\mid \\text{price})` (Jeffrey's rule); the others find nothing left.
    """
    gen = np.random.default_rng(rng)
    sponsor = Sponsor(budget)
    pi = instance.prior
    root = sponsor.fund("X", Market(_space("X"), budget * (1 - 1e-12) / -math.log(
        min(pi, 1 - pi)), prior=[1 - pi, pi]))
    b0 = root.liquidity
    marg = instance.signal_marginal(0)
    entropy_y = float(-(marg * np.log(marg)).sum())
    b1 = (1 + margin) * float(instance.cost[0]) / (entropy_y + math.log(1 - epsilon))
    expected_loss = b1 * (entropy_y + math.log(1 - epsilon))
    info = sum(instance.predictive(pi, 0, y) * _kl2(instance.posterior(pi, 0, y), pi)
               for y in (0, 1))
    share = 1.0 if hidden else 1.0 / (1 + n_riders)
    stake = 50.0 * (budget + 1.0)
    agents = ["funder", "specialist"] + [f"rider{k}" for k in range(n_riders)]
    for a in agents:
        sponsor.open_wallet(a, stake + (b1 * -math.log(marg.min()) if a == "funder" else 0))
    start = {a: sponsor.wallet(a) for a in agents}
    funded = share * b0 * info > expected_loss
    spent = 0.0
    if funded:
        sub = sponsor.fund("Y0", Market(_space("Y0"), b1, prior=marg), funder="funder",
                           hidden_until="X" if hidden else None)
        y = int(instance.y[0])
        spent = float(instance.cost[0])
        _target(sub, sponsor.join("specialist", "Y0", stake / 2), f"Y0 == {y}", 1 - epsilon)
        readers = [a for a in ["funder"] + [f"rider{k}" for k in range(n_riders)]
                   if sponsor.visible(a, "Y0")]
        first = readers[int(gen.integers(len(readers)))]
        s1 = sponsor.prices(first, "Y0", "Y0")["1"]
        l0 = (1 - s1) * instance.likelihood(0, 0)[0] / marg[0] + s1 * instance.likelihood(
            0, 1)[0] / marg[1]
        l1 = (1 - s1) * instance.likelihood(0, 0)[1] / marg[0] + s1 * instance.likelihood(
            0, 1)[1] / marg[1]
        posterior = pi * l1 / (pi * l1 + (1 - pi) * l0)
        _target(root, sponsor.join(first, "X", stake / 2), "X == 1", posterior)
    log_loss = -math.log(root.price(f"X == {instance.x}"))
    sponsor.close("X", {"X": str(instance.x)})
    if funded:
        sponsor.close("Y0", {"Y0": str(int(instance.y[0]))})
    sponsor.check()
    net = {a: sponsor.wallet(a) - start[a] for a in agents}
    return FreeRidingOutcome(
        bool(funded), log_loss, net["funder"],
        sum(net[a] for a in agents if a.startswith("rider")), net["specialist"] - spent)
