"""Bad input is refused with a specific, explanatory error and changes nothing.

Every case below runs against a market with a non-trivial history (plain buys, conditional
buys, edits, sells, targets, an observation, and, in the ``latent`` market, a latent
variable). For each one we check that

* a :class:`~predmarket.errors.PredmarketError` of exactly the expected subclass is raised,
* its message names what was wrong (the bad variable, state, account, value, ...),
* the full observable state of the market (maker, cash, assets, ledger, observations) is
  exactly the same afterwards.
"""

from __future__ import annotations

import math
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from predmarket import Market, OutcomeSpace, Variable
from predmarket.errors import (
    DuplicateAccount,
    EventSyntaxError,
    ImpossibleEvent,
    IncompleteObservation,
    InsufficientFunds,
    InvalidAmount,
    InvalidInput,
    InvalidLiquidity,
    InvalidObservation,
    InvalidProbability,
    LatentObservation,
    MarketClosed,
    PredmarketError,
    SpaceTooLarge,
    UnknownAccount,
    UnknownState,
    UnknownVariable,
)

# --------------------------------------------------------------------------------------
# markets with a history
# --------------------------------------------------------------------------------------

ACCOUNTS = ("alice", "bob", "carol")


def make_space() -> OutcomeSpace:
    return OutcomeSpace([
        Variable("rain", ["yes", "no"]),
        Variable("wind", ["calm", "strong"]),
        Variable("temp", ["20-25", "25-30", "30+"]),
        Variable("cause", ["c1", "c2", "c3"]),
    ])


def _history(m: Market, *, observe: bool) -> Market:
    m.open_account("alice", 100.0)
    m.open_account("bob", 50.0)
    m.open_account("carol", 5.0)
    m.buy("alice", "rain == yes", 5.0)
    m.buy("bob", "rain == yes", 3.0, given="wind == strong")
    m.edit("alice", "cause == c1", 0.7, given="rain == yes")
    m.sell("bob", 'temp == "30+"', 2.0)
    m.target("carol", 'rain == no & temp == "20-25"', 0.3)
    if observe:
        m.observe("wind == calm")
    m.buy("alice", "temp == '25-30'", 1.0)
    m.edit("bob", "rain == yes", 0.4, given="temp == '20-25'")
    m.check()
    return m


def latent_market() -> Market:
    """``cause`` is latent; ``wind`` has been observed to be ``calm``."""
    return _history(Market(make_space(), 10.0, latent=["cause"]), observe=True)


def plain_market() -> Market:
    """No latent variable, nothing observed."""
    return _history(Market(make_space(), 10.0), observe=False)


def settled_market() -> Market:
    m = latent_market()
    m.settle({"rain": "yes", "wind": "calm", "temp": "30+"})
    return m


MARKETS: dict[str, Callable[[], Market]] = {
    "latent": latent_market,
    "plain": plain_market,
    "settled": settled_market,
}


# --------------------------------------------------------------------------------------
# snapshots
# --------------------------------------------------------------------------------------


def snapshot(market: Market) -> dict[str, Any]:
    """Everything observable about a market, for exact before/after comparison."""
    snap: dict[str, Any] = {
        "log_weights": market.maker.log_weights(),
        "cost": market.maker.cost(),
        "maker_cash": market.maker_cash,
        "subsidy": market.subsidy,
        "observed": market.observed,
        "settled": market.settled,
        "ledger": market.ledger,
        "accounts": market.accounts,
    }
    for name in market.accounts:
        snap[f"cash[{name}]"] = market.cash(name)
        snap[f"min_asset[{name}]"] = market.min_asset(name)
        snap[f"assets[{name}]"] = market.assets(name)
    return snap


def assert_same(before: dict[str, Any], after: dict[str, Any]) -> None:
    assert before.keys() == after.keys()
    for key, old in before.items():
        new = after[key]
        if isinstance(old, np.ndarray):
            assert isinstance(new, np.ndarray), key
            assert old.shape == new.shape, key
            assert np.array_equal(old, new, equal_nan=True), f"{key} changed: {old} -> {new}"
        elif isinstance(old, float) and math.isnan(old):
            assert isinstance(new, float) and math.isnan(new), f"{key} changed: nan -> {new}"
        else:
            assert old == new, f"{key} changed: {old!r} -> {new!r}"


def test_snapshot_sees_changes():
    """The snapshot is sensitive enough: a trade, an account, an observation all show."""
    m = latent_market()
    base = snapshot(m)
    assert_same(base, snapshot(m))
    m.buy("bob", "rain == no", 0.5)
    with pytest.raises(AssertionError):
        assert_same(base, snapshot(m))
    m = latent_market()
    m.open_account("dave", 1.0)
    with pytest.raises(AssertionError):
        assert_same(base, snapshot(m))
    m = latent_market()
    m.observe("rain == yes")
    with pytest.raises(AssertionError):
        assert_same(base, snapshot(m))
    # the latent market's assets are nan where the observation ruled outcomes out
    assert np.isnan(base["assets[alice]"]).any()
    assert not np.isnan(base["assets[alice]"]).all()


# --------------------------------------------------------------------------------------
# the cases
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    market: str
    action: Callable[[Market], Any]
    error: type[PredmarketError]
    words: tuple[str, ...] = ()


MALFORMED = [
    "(rain == yes",
    "rain == yes)",
    "((rain == yes) & wind == calm",
    "rain == yes &",
    "& rain == yes",
    "rain == yes | | wind == calm",
    "rain ==",
    "rain == yes ->",
    "<-> rain == yes",
    "~",
    "()",
    "rain == yes $ wind == calm",
    "rain = yes",
    "rain == 'yes",
    "rain yes",
    "rain == yes wind == calm",
    "rain == == yes",
    "temp",  # bare variable that is not yes/no
    "wind",  # two states, but not a yes/no pair
]
EMPTY_STRINGS = ["", "   "]


def trade_cases(kind: str) -> list[Case]:
    """Cases that apply to any open market (``kind`` is "latent" or "plain")."""
    cases: list[Case] = []

    def add(name, action, error, *words):
        cases.append(Case(f"{kind}-{name}", kind, action, error, tuple(words)))

    # -- amounts --------------------------------------------------------------------------
    for label, bad, shown in [("nan", math.nan, "nan"), ("inf", math.inf, "inf"),
                              ("-inf", -math.inf, "-inf"), ("str", "lots", "lots"),
                              ("None", None, "None"), ("bool", True, "True")]:
        add(f"buy-shares-{label}", lambda m, x=bad: m.buy("alice", "rain == yes", x),
            InvalidAmount, "shares", shown)
        add(f"buy-given-shares-{label}",
            lambda m, x=bad: m.buy("alice", "rain == yes", x, given="temp == '30+'"),
            InvalidAmount, "shares", shown)
        add(f"sell-shares-{label}", lambda m, x=bad: m.sell("alice", "rain == yes", x),
            InvalidAmount, "shares", shown)
        if bad is None:  # shares=None means "no shares given" for quote and preview
            continue
        add(f"quote-shares-{label}", lambda m, x=bad: m.quote("alice", "rain == yes", shares=x),
            InvalidAmount, "shares", shown)
        add(f"preview-shares-{label}",
            lambda m, x=bad: m.preview("alice", "rain == yes", shares=x),
            InvalidAmount, "shares", shown)
    for label, bad, shown in [("nan", math.nan, "nan"), ("inf", math.inf, "inf"),
                              ("-inf", -math.inf, "-inf"), ("str", "sure", "sure")]:
        add(f"edit-probability-{label}", lambda m, p=bad: m.edit("alice", "rain == yes", p),
            InvalidProbability, "probability", shown)
        add(f"target-probability-{label}",
            lambda m, p=bad: m.target("alice", "rain == yes", p, given="temp == '30+'"),
            InvalidProbability, "probability", shown)
        add(f"quote-probability-{label}",
            lambda m, p=bad: m.quote("alice", "rain == yes", probability=p),
            InvalidProbability, "probability", shown)

    # -- probabilities outside (0, 1) ---------------------------------------------------
    for bad in (0, 1, -0.1, 1.5, 0.0, 1.0, -1e-300, 1 + 1e-15):
        shown = repr(float(bad))
        add(f"edit-probability-{bad!r}", lambda m, p=bad: m.edit("alice", "rain == yes", p),
            InvalidProbability, "probability", shown)
        add(f"edit-given-probability-{bad!r}",
            lambda m, p=bad: m.edit("alice", "rain == yes", p, given="temp == '30+'"),
            InvalidProbability, "probability", shown)
        add(f"target-probability-{bad!r}",
            lambda m, p=bad: m.target("bob", "rain == yes", p),
            InvalidProbability, "probability", shown)
        add(f"quote-probability-{bad!r}",
            lambda m, p=bad: m.quote("bob", "rain == yes", probability=p),
            InvalidProbability, "probability", shown)
        add(f"preview-probability-{bad!r}",
            lambda m, p=bad: m.preview("bob", "rain == yes", probability=p),
            InvalidProbability, "probability", shown)

    # -- unknown variables and states -----------------------------------------------------
    add("buy-unknown-variable", lambda m: m.buy("alice", "snow == yes", 1.0),
        UnknownVariable, "snow")
    add("buy-unknown-variable-deep",
        lambda m: m.buy("alice", "rain == yes & (temp == '30+' | snow == yes)", 1.0),
        UnknownVariable, "snow")
    add("buy-unknown-variable-dict", lambda m: m.buy("alice", {"snow": "yes"}, 1.0),
        UnknownVariable, "snow")
    add("sell-unknown-variable", lambda m: m.sell("alice", "~snow", 1.0),
        UnknownVariable, "snow")
    add("edit-unknown-variable", lambda m: m.edit("alice", "snow == yes", 0.5),
        UnknownVariable, "snow")
    add("edit-given-unknown-variable",
        lambda m: m.edit("alice", "rain == yes", 0.5, given="snow == yes"),
        UnknownVariable, "snow")
    add("target-unknown-variable", lambda m: m.target("alice", "Rain == yes", 0.5),
        UnknownVariable, "Rain")
    add("quote-unknown-variable", lambda m: m.quote("alice", "snow == yes", shares=1.0),
        UnknownVariable, "snow")
    add("preview-given-unknown-variable",
        lambda m: m.preview("alice", "rain == yes", shares=1.0, given="snow == no"),
        UnknownVariable, "snow")
    add("price-unknown-variable", lambda m: m.price("snow == yes"), UnknownVariable, "snow")
    add("marginal-unknown-variable", lambda m: m.marginal("snow"), UnknownVariable, "snow")
    add("buy-unknown-state", lambda m: m.buy("alice", "rain == maybe", 1.0),
        UnknownState, "rain", "maybe")
    add("buy-unknown-state-ne", lambda m: m.buy("alice", "rain != maybe", 1.0),
        UnknownState, "rain", "maybe")
    add("buy-unknown-state-quoted", lambda m: m.buy("alice", "temp == '40+'", 1.0),
        UnknownState, "temp", "40+")
    add("buy-unknown-state-number", lambda m: m.buy("alice", "temp == 20", 1.0),
        UnknownState, "temp", "20")
    add("buy-unknown-state-dict", lambda m: m.buy("alice", {"rain": "maybe"}, 1.0),
        UnknownState, "rain", "maybe")
    add("buy-unknown-state-case", lambda m: m.buy("alice", "rain == YES", 1.0),
        UnknownState, "rain", "YES")
    add("edit-given-unknown-state",
        lambda m: m.edit("alice", "rain == yes", 0.5, given="cause == c4"),
        UnknownState, "cause", "c4")
    add("target-unknown-state", lambda m: m.target("alice", "wind == gale", 0.5),
        UnknownState, "wind", "gale")
    add("quote-unknown-state", lambda m: m.quote("alice", "wind == gale", probability=0.5),
        UnknownState, "wind", "gale")
    add("price-given-unknown-state", lambda m: m.price("rain == yes", given="wind == gale"),
        UnknownState, "gale")

    # -- malformed events -----------------------------------------------------------------
    for i, text in enumerate(MALFORMED):
        add(f"buy-malformed-{i}", lambda m, t=text: m.buy("alice", t, 1.0),
            EventSyntaxError, repr(text))
    for i, text in enumerate(EMPTY_STRINGS):
        add(f"buy-empty-string-{i}", lambda m, t=text: m.buy("alice", t, 1.0),
            EventSyntaxError, "empty")
    add("sell-malformed", lambda m: m.sell("alice", "rain == yes &", 1.0),
        EventSyntaxError, "'rain == yes &'")
    add("edit-malformed", lambda m: m.edit("alice", "(rain == yes", 0.5),
        EventSyntaxError, "'(rain == yes'")
    add("edit-given-malformed", lambda m: m.edit("alice", "rain == yes", 0.5, given="temp =="),
        EventSyntaxError, "'temp =='")
    add("target-malformed", lambda m: m.target("alice", "rain == yes | | rain == no", 0.5),
        EventSyntaxError, "'rain == yes | | rain == no'")
    add("quote-malformed", lambda m: m.quote("alice", "rain == yes $", shares=1.0),
        EventSyntaxError, "'rain == yes $'")
    add("preview-given-empty-string",
        lambda m: m.preview("alice", "rain == yes", probability=0.5, given=""),
        EventSyntaxError, "empty")
    add("buy-event-int", lambda m: m.buy("alice", 42, 1.0), InvalidInput, "42")
    add("buy-event-none", lambda m: m.buy("alice", None, 1.0), InvalidInput, "None")
    add("buy-event-list", lambda m: m.buy("alice", ["rain == yes"], 1.0), InvalidInput, "list")

    # -- empty events and empty conditions ------------------------------------------------
    empty = "rain == yes & rain == no"
    shown = "'rain == no & rain == yes'"  # canonical form of the empty event
    add("buy-empty-event", lambda m: m.buy("alice", empty, 1.0), ImpossibleEvent, shown,
        "impossible")
    add("sell-empty-event", lambda m: m.sell("alice", empty, 1.0), ImpossibleEvent, shown)
    add("edit-empty-event", lambda m: m.edit("alice", empty, 0.5), ImpossibleEvent, shown)
    add("target-empty-event", lambda m: m.target("alice", empty, 0.5), ImpossibleEvent, shown)
    add("quote-empty-event", lambda m: m.quote("alice", empty, shares=1.0), ImpossibleEvent,
        shown)
    add("price-empty-event", lambda m: m.price(empty), ImpossibleEvent, shown)
    add("buy-empty-event-three-states",
        lambda m: m.buy("alice", "temp != '20-25' & temp != '25-30' & temp != '30+'", 1.0),
        ImpossibleEvent, "impossible")
    add("buy-given-empty", lambda m: m.buy("alice", "rain == yes", 1.0, given=empty),
        ImpossibleEvent, "conditioning event", shown)
    add("edit-given-empty", lambda m: m.edit("alice", "rain == yes", 0.5, given=empty),
        ImpossibleEvent, "conditioning event", shown)
    add("target-given-empty", lambda m: m.target("alice", "rain == yes", 0.5, given=empty),
        ImpossibleEvent, "conditioning event", shown)
    add("preview-given-empty",
        lambda m: m.preview("alice", "rain == yes", shares=1.0, given=empty),
        ImpossibleEvent, "conditioning event", shown)
    add("price-given-empty", lambda m: m.price("rain == yes", given=empty),
        ImpossibleEvent, "conditioning event", shown)

    # -- edits (and targets) of certain or impossible events ------------------------------
    certain = "rain == yes | rain == no"
    add("edit-certain", lambda m: m.edit("alice", certain, 0.5), ImpossibleEvent, "certain")
    add("target-certain", lambda m: m.target("alice", certain, 0.5), ImpossibleEvent,
        "certain")
    add("quote-probability-certain", lambda m: m.quote("alice", certain, probability=0.5),
        ImpossibleEvent, "certain")
    add("edit-certain-given", lambda m: m.edit(
        "alice", "rain == yes", 0.5, given="rain == yes & temp == '30+'"),
        ImpossibleEvent, "certain", "given", "'rain == yes'")
    add("edit-impossible-given",
        lambda m: m.edit("alice", "rain == yes", 0.5, given="rain == no"),
        ImpossibleEvent, "impossible", "given", "'rain == no'")
    add("target-impossible-given",
        lambda m: m.target("alice", "temp == '30+'", 0.5, given="temp == '20-25'"),
        ImpossibleEvent, "impossible", "given")
    add("edit-certain-given-implication",
        lambda m: m.edit("bob", "rain == yes -> temp == '30+'", 0.3, given="rain == no"),
        ImpossibleEvent, "certain")

    # -- accounts -------------------------------------------------------------------------
    for method, action in [
        ("buy", lambda m: m.buy("dave", "rain == yes", 1.0)),
        ("sell", lambda m: m.sell("dave", "rain == yes", 1.0)),
        ("edit", lambda m: m.edit("dave", "rain == yes", 0.5)),
        ("target", lambda m: m.target("dave", "rain == yes", 0.5)),
        ("quote", lambda m: m.quote("dave", "rain == yes", shares=1.0)),
        ("preview", lambda m: m.preview("dave", "rain == yes", probability=0.5)),
        ("cash", lambda m: m.cash("dave")),
        ("min_asset", lambda m: m.min_asset("dave")),
        ("assets", lambda m: m.assets("dave")),
    ]:
        add(f"{method}-unknown-account", action, UnknownAccount, "'dave'")
    add("buy-unknown-account-case", lambda m: m.buy("Alice", "rain == yes", 1.0),
        UnknownAccount, "'Alice'")
    add("buy-account-none", lambda m: m.buy(None, "rain == yes", 1.0), UnknownAccount, "None")
    add("buy-account-unhashable", lambda m: m.buy(["alice"], "rain == yes", 1.0),
        UnknownAccount, "['alice']")
    add("open-duplicate", lambda m: m.open_account("alice", 1.0), DuplicateAccount, "'alice'")
    add("open-duplicate-zero", lambda m: m.open_account("carol", 0.0), DuplicateAccount,
        "'carol'")
    for label, bad, shown in [("negative", -1.0, "-1.0"), ("tiny-negative", -1e-300, "-1e-300"),
                              ("nan", math.nan, "nan"), ("inf", math.inf, "inf"),
                              ("str", "rich", "rich"), ("None", None, "None")]:
        add(f"open-cash-{label}", lambda m, c=bad: m.open_account("dave", c), InvalidAmount,
            "cash", shown)
    add("open-name-empty", lambda m: m.open_account("", 1.0), InvalidInput, "''")
    add("open-name-int", lambda m: m.open_account(7, 1.0), InvalidInput, "7")

    # -- budgets --------------------------------------------------------------------------
    for label, action in [
        ("buy", lambda m: m.buy("carol", "rain == yes", 1000.0)),
        ("buy-huge", lambda m: m.buy("carol", "rain == yes", 1e300)),
        ("sell", lambda m: m.sell("carol", "rain == yes", 1000.0)),
        ("sell-huge", lambda m: m.sell("carol", "rain == yes", 1e300)),
        ("sell-negative-buy", lambda m: m.buy("carol", "temp == '30+'", -500.0)),
        ("buy-given", lambda m: m.buy("carol", "rain == yes", 1000.0, given="temp == '30+'")),
        ("edit", lambda m: m.edit("carol", "rain == yes", 1e-9)),
        ("edit-given", lambda m: m.edit("carol", "rain == yes", 0.999999,
                                        given="temp == '30+'")),
        ("target", lambda m: m.target("carol", "temp == '25-30'", 1 - 1e-9)),
    ]:
        add(f"{label}-over-budget", action, InsufficientFunds, "'carol'")

    # -- preview / quote arguments --------------------------------------------------------
    add("preview-neither", lambda m: m.preview("alice", "rain == yes"), InvalidInput,
        "shares", "probability")
    add("preview-both",
        lambda m: m.preview("alice", "rain == yes", shares=1.0, probability=0.5),
        InvalidInput, "shares", "probability")
    add("quote-neither", lambda m: m.quote("alice", "rain == yes"), InvalidInput, "shares")

    # -- observations and settlement ------------------------------------------------------
    add("observe-not-assignment-or", lambda m: m.observe("rain == yes | temp == '30+'"),
        InvalidObservation, "'rain == yes | temp == \"30+\"'")
    add("observe-not-assignment-ne", lambda m: m.observe("temp != '30+'"),
        InvalidObservation, "temp")
    add("observe-not-assignment-implies", lambda m: m.observe("rain == yes -> temp == '30+'"),
        InvalidObservation, "rain", "temp")
    add("observe-not-assignment-iff", lambda m: m.observe("rain == yes <-> temp == '30+'"),
        InvalidObservation, "rain", "temp")
    add("observe-not-assignment-tautology", lambda m: m.observe("rain == yes | rain == no"),
        InvalidObservation, "rain")
    add("observe-impossible", lambda m: m.observe(empty), InvalidObservation, "impossible")
    add("settle-not-assignment",
        lambda m: m.settle("rain == yes & wind == calm & (temp == '30+' | temp == '20-25')"),
        InvalidObservation, "temp")
    add("observe-unknown-variable", lambda m: m.observe({"snow": "yes"}), UnknownVariable,
        "snow")
    add("observe-unknown-state", lambda m: m.observe({"rain": "maybe"}), UnknownState,
        "maybe")
    add("observe-malformed", lambda m: m.observe("rain =="), EventSyntaxError, "'rain =='")
    add("observe-not-event", lambda m: m.observe(3.5), InvalidInput, "3.5")
    add("settle-unknown-variable",
        lambda m: m.settle({"rain": "yes", "wind": "calm", "temp": "30+", "snow": "no"}),
        UnknownVariable, "snow")
    add("settle-leaves-temp-open", lambda m: m.settle("rain == yes & wind == calm"),
        IncompleteObservation, "temp")
    add("settle-leaves-temp-open-dict", lambda m: m.settle({"rain": "no", "wind": "calm"}),
        IncompleteObservation, "temp")
    add("settle-nothing", lambda m: m.settle({}), IncompleteObservation, "rain", "temp")
    return cases


def latent_only_cases() -> list[Case]:
    cases: list[Case] = []

    def add(name, action, error, *words):
        cases.append(Case(f"latent-{name}", "latent", action, error, tuple(words)))

    # ``wind`` was observed to be ``calm``.
    add("buy-after-observe", lambda m: m.buy("alice", "wind == strong", 1.0),
        ImpossibleEvent, "'wind == strong'", "observations", "calm")
    add("buy-after-observe-compound",
        lambda m: m.buy("alice", "wind == strong & rain == yes", 1.0),
        ImpossibleEvent, "observations")
    add("sell-after-observe", lambda m: m.sell("alice", "wind == strong", 1.0),
        ImpossibleEvent, "'wind == strong'")
    add("edit-after-observe", lambda m: m.edit("alice", "wind == strong", 0.5),
        ImpossibleEvent, "'wind == strong'")
    add("target-after-observe", lambda m: m.target("alice", "wind != calm", 0.5),
        ImpossibleEvent, "'wind != calm'", "observations")
    add("quote-after-observe", lambda m: m.quote("alice", "wind == strong", shares=1.0),
        ImpossibleEvent, "'wind == strong'")
    add("price-after-observe", lambda m: m.price("wind == strong"), ImpossibleEvent,
        "'wind == strong'")
    add("buy-given-after-observe",
        lambda m: m.buy("alice", "rain == yes", 1.0, given="wind == strong"),
        ImpossibleEvent, "conditioning event", "'wind == strong'", "observations")
    add("edit-given-after-observe",
        lambda m: m.edit("alice", "rain == yes", 0.5, given="wind == strong"),
        ImpossibleEvent, "conditioning event", "'wind == strong'")
    add("target-given-after-observe",
        lambda m: m.target("alice", "rain == yes", 0.5, given="wind == strong"),
        ImpossibleEvent, "conditioning event")
    add("preview-given-after-observe",
        lambda m: m.preview("alice", "rain == yes", probability=0.5, given="wind == strong"),
        ImpossibleEvent, "conditioning event")
    add("edit-certain-after-observe", lambda m: m.edit("alice", "wind == calm", 0.5),
        ImpossibleEvent, "certain")
    add("edit-certain-given-after-observe",
        lambda m: m.edit("alice", "wind == calm", 0.5, given="rain == yes"),
        ImpossibleEvent, "certain")
    add("observe-latent", lambda m: m.observe("cause == c1"), LatentObservation, "cause")
    add("observe-latent-with-observable", lambda m: m.observe("rain == yes & cause == c1"),
        LatentObservation, "cause")
    add("observe-latent-dict", lambda m: m.observe({"cause": "c2"}), LatentObservation,
        "cause")
    add("settle-latent",
        lambda m: m.settle({"rain": "yes", "wind": "calm", "temp": "30+", "cause": "c1"}),
        LatentObservation, "cause")
    add("observe-contradiction", lambda m: m.observe("wind == strong"), InvalidObservation,
        "wind", "calm", "strong")
    add("observe-contradiction-dict", lambda m: m.observe({"rain": "no", "wind": "strong"}),
        InvalidObservation, "wind", "strong")
    add("settle-contradiction",
        lambda m: m.settle({"rain": "yes", "wind": "strong", "temp": "30+"}),
        InvalidObservation, "wind", "strong")
    add("observe-not-assignment-brief", lambda m: m.observe("rain == yes | wind == calm"),
        InvalidObservation, "rain", "wind")
    add("settle-leaves-open-mentions-latent", lambda m: m.settle("rain == yes"),
        IncompleteObservation, "temp", "cause")
    return cases


def plain_only_cases() -> list[Case]:
    cases: list[Case] = []

    def add(name, action, error, *words):
        cases.append(Case(f"plain-{name}", "plain", action, error, tuple(words)))

    add("settle-leaves-two-open", lambda m: m.settle("rain == yes"), IncompleteObservation,
        "wind", "temp", "cause")
    add("settle-leaves-cause-open",
        lambda m: m.settle({"rain": "yes", "wind": "calm", "temp": "30+"}),
        IncompleteObservation, "cause")
    add("observe-not-assignment-brief", lambda m: m.observe("rain == yes | wind == calm"),
        InvalidObservation, "rain", "wind")
    # ``cause`` is observable here, so betting it far down can lose carol's money.
    add("edit-cause-over-budget",
        lambda m: m.edit("carol", "cause == c2", 1e-12, given="rain == no"),
        InsufficientFunds, "'carol'")
    return cases


def settled_cases() -> list[Case]:
    cases: list[Case] = []
    for name, action in [
        ("buy", lambda m: m.buy("alice", "rain == yes", 1.0)),
        ("buy-given", lambda m: m.buy("alice", "rain == yes", 1.0, given="temp == '30+'")),
        ("sell", lambda m: m.sell("alice", "rain == yes", 1.0)),
        ("edit", lambda m: m.edit("alice", "rain == yes", 0.5)),
        ("target", lambda m: m.target("alice", "rain == yes", 0.5)),
        ("quote", lambda m: m.quote("alice", "rain == yes", shares=1.0)),
        ("preview", lambda m: m.preview("alice", "rain == yes", probability=0.5)),
        ("open-account", lambda m: m.open_account("dave", 1.0)),
        ("observe", lambda m: m.observe("rain == yes")),
        ("settle-twice", lambda m: m.settle({"rain": "yes", "wind": "calm", "temp": "30+"})),
        ("settle-differently", lambda m: m.settle({"rain": "no", "wind": "calm",
                                                   "temp": "20-25"})),
        # Even otherwise bad input reports the closed market first.
        ("buy-bad-shares", lambda m: m.buy("alice", "rain == yes", math.nan)),
        ("buy-unknown-account", lambda m: m.buy("dave", "rain == yes", 1.0)),
    ]:
        cases.append(Case(f"settled-{name}", "settled", action, MarketClosed, ("settled",)))
    return cases


CASES = (trade_cases("latent") + trade_cases("plain") + latent_only_cases()
         + plain_only_cases() + settled_cases())
assert len({c.id for c in CASES}) == len(CASES), "case ids must be unique"


@pytest.fixture
def fresh_market():
    """A fresh market of the given kind (built from scratch for every use)."""
    return lambda name: MARKETS[name]()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_refused_and_state_unchanged(case: Case, fresh_market):
    m = fresh_market(case.market)
    before = snapshot(m)
    with pytest.raises(PredmarketError) as info:
        case.action(m)
    err = info.value
    assert type(err) is case.error, f"expected {case.error.__name__}, got {type(err).__name__}"
    message = str(err)
    for word in case.words:
        assert word in message, f"{word!r} not in message {message!r}"
    assert_same(before, snapshot(m))
    if not m.settled:
        m.check()


def test_markets_are_reproducible(fresh_market):
    """Two markets built the same way are identical (so snapshots can be compared)."""
    for name in MARKETS:
        assert_same(snapshot(fresh_market(name)), snapshot(fresh_market(name)))


def test_input_errors_are_value_errors():
    for cls in (InvalidAmount, InvalidLiquidity, InvalidProbability, UnknownVariable,
                UnknownState, EventSyntaxError, ImpossibleEvent, UnknownAccount,
                DuplicateAccount, InvalidObservation, IncompleteObservation,
                LatentObservation):
        assert issubclass(cls, ValueError) and issubclass(cls, PredmarketError)
    for cls in (InsufficientFunds, MarketClosed, SpaceTooLarge):
        assert issubclass(cls, PredmarketError)


# --------------------------------------------------------------------------------------
# non-raising refusals and the market after errors
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["latent", "plain"])
def test_unaffordable_preview_reports_without_changing_anything(kind, fresh_market):
    m = fresh_market(kind)
    before = snapshot(m)
    q = m.preview("carol", "rain == yes", shares=1000.0)
    assert not q.affordable and q.min_asset_after < 0
    assert m.quote("carol", "rain == yes", shares=1000.0) == pytest.approx(q.cost)
    assert_same(before, snapshot(m))


@pytest.mark.parametrize("kind", ["latent", "plain"])
def test_market_still_trades_after_many_refusals(kind, fresh_market):
    m = fresh_market(kind)
    reference = fresh_market(kind)
    for case in CASES:
        if case.market == kind:
            with pytest.raises(case.error):
                case.action(m)
    assert_same(snapshot(reference), snapshot(m))
    cost_a = m.buy("bob", "rain == no", 1.5, given="temp == '30+'")
    cost_b = reference.buy("bob", "rain == no", 1.5, given="temp == '30+'")
    assert cost_a == cost_b
    assert_same(snapshot(reference), snapshot(m))
    m.check()


# --------------------------------------------------------------------------------------
# constructor errors
# --------------------------------------------------------------------------------------

CONSTRUCTOR_CASES = [
    ("liquidity-zero", {"liquidity": 0.0}, InvalidLiquidity, ("liquidity", "0.0")),
    ("liquidity-int-zero", {"liquidity": 0}, InvalidLiquidity, ("liquidity",)),
    ("liquidity-negative", {"liquidity": -1.0}, InvalidLiquidity, ("liquidity", "-1.0")),
    ("liquidity-nan", {"liquidity": math.nan}, InvalidLiquidity, ("liquidity", "nan")),
    ("liquidity-inf", {"liquidity": math.inf}, InvalidLiquidity, ("liquidity", "inf")),
    ("liquidity-neg-inf", {"liquidity": -math.inf}, InvalidLiquidity, ("liquidity", "-inf")),
    ("liquidity-str", {"liquidity": "deep"}, InvalidLiquidity, ("liquidity", "deep")),
    ("liquidity-none", {"liquidity": None}, InvalidLiquidity, ("liquidity", "None")),
    ("unknown-latent", {"latent": ["snow"]}, UnknownVariable, ("snow", "latent")),
    ("unknown-latent-among-known", {"latent": ["cause", "Snow"]}, UnknownVariable, ("Snow",)),
    ("unknown-latent-str", {"latent": "snow"}, UnknownVariable, ("snow",)),
    ("latent-not-str", {"latent": [3]}, InvalidInput, ("3",)),
    ("all-latent", {"latent": ["rain", "wind", "temp", "cause"]}, InvalidInput,
     ("latent", "observable")),
    ("all-latent-with-repeats", {"latent": ["rain", "wind", "temp", "cause", "rain"]},
     InvalidInput, ("latent",)),
    ("max-outcomes-too-small", {"max_outcomes": 35}, SpaceTooLarge,
     ("36", "max_outcomes=35")),
    ("max-outcomes-one", {"max_outcomes": 1}, SpaceTooLarge, ("36", "max_outcomes")),
    ("max-outcomes-zero", {"max_outcomes": 0}, InvalidInput, ("max_outcomes", "0")),
    ("max-outcomes-negative", {"max_outcomes": -5}, InvalidInput, ("max_outcomes", "-5")),
    ("max-outcomes-float", {"max_outcomes": 100.5}, InvalidInput, ("max_outcomes", "100.5")),
    ("max-outcomes-bool", {"max_outcomes": True}, InvalidInput, ("max_outcomes", "True")),
    ("prior-zeros", {"prior": np.zeros(36)}, InvalidInput, ("prior", "36")),
    ("prior-one-zero", {"prior": np.r_[0.0, np.ones(35)]}, InvalidInput, ("prior",)),
    ("prior-negative", {"prior": np.r_[-1.0, np.ones(35)]}, InvalidInput, ("prior",)),
    ("prior-short", {"prior": np.ones(35)}, InvalidInput, ("prior", "36", "(35,)")),
    ("prior-long", {"prior": np.ones(37)}, InvalidInput, ("prior", "36", "(37,)")),
    ("prior-scalar", {"prior": 1.0}, InvalidInput, ("prior", "36")),
    ("prior-nan", {"prior": np.r_[np.nan, np.ones(35)]}, InvalidInput, ("prior", "nan")),
    ("prior-all-nan", {"prior": np.full(36, np.nan)}, InvalidInput, ("prior",)),
    ("prior-inf", {"prior": np.r_[np.inf, np.ones(35)]}, InvalidInput, ("prior",)),
]


@pytest.mark.parametrize("name,kwargs,error,words", CONSTRUCTOR_CASES,
                         ids=[c[0] for c in CONSTRUCTOR_CASES])
def test_bad_market_constructor(name, kwargs, error, words):
    space = make_space()
    kwargs = dict(kwargs)
    liquidity = kwargs.pop("liquidity", 10.0)
    with pytest.raises(PredmarketError) as info:
        Market(space, liquidity, **kwargs)
    assert type(info.value) is error, f"expected {error.__name__}, got {info.value!r}"
    for word in words:
        assert word in str(info.value), f"{word!r} not in {str(info.value)!r}"
    assert space == make_space()  # the space is untouched and can be reused
    Market(space, 10.0).check()


def test_bad_market_space_argument():
    with pytest.raises(InvalidInput, match="OutcomeSpace"):
        Market([Variable("rain", ["yes", "no"])], 1.0)


def test_thirty_binary_variables_refused_without_allocating():
    space = OutcomeSpace([Variable(f"x{i}", ["0", "1"]) for i in range(30)])
    assert space.size == 2**30
    tracemalloc.start()
    try:
        with pytest.raises(SpaceTooLarge) as info:
            Market(space, 1.0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, f"refusing the space allocated {peak} bytes"
    message = str(info.value)
    assert "1,073,741,824" in message and "max_outcomes" in message and "30 variables" in message


def test_max_outcomes_is_inclusive():
    space = make_space()
    Market(space, 1.0, max_outcomes=36).check()
    with pytest.raises(SpaceTooLarge):
        Market(space, 1.0, max_outcomes=35)


# --------------------------------------------------------------------------------------
# error-class consistency
# --------------------------------------------------------------------------------------


def test_unknown_latent_variable_is_unknown_variable():
    with pytest.raises(UnknownVariable, match="snow"):
        Market(make_space(), 1.0, latent=["snow"])


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_probability_is_invalid_probability(bad):
    m = plain_market()
    with pytest.raises(InvalidProbability):
        m.edit("alice", "rain == yes", bad)


@pytest.mark.parametrize("prior", ["uniform", ["a"] * 36, object()],
                         ids=["str", "list-of-str", "object"])
def test_non_numeric_prior_is_invalid_input(prior):
    with pytest.raises(InvalidInput, match="prior"):
        Market(make_space(), 1.0, prior=prior)
