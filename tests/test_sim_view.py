"""The read-only MarketView: what a trader can see, and what it cannot reach."""

import copy
import gc
import pickle
import types

import numpy as np
import pytest

from predmarket import Market, OutcomeSpace, Variable
from predmarket.errors import InvalidInput, MarketClosed, UnknownVariable
from predmarket.makers import JointMaker
from predmarket.sim import Buy, MarketView, Simulation, Target


def space():
    return OutcomeSpace([Variable("rain", ["yes", "no"]), Variable("wind", ["calm", "strong"])])


def run_one(trader, *, rounds=1, market=None, **kw):
    m = market if market is not None else Market(space(), liquidity=10.0)
    sim = Simulation(m, {"probe": trader, "other": lambda v: Target("rain == yes", 0.6)},
                     rounds=rounds, rng=0, activation="fixed", **kw)
    return sim.run(), m


FORBIDDEN = (Market, JointMaker)


def _reachable(root, depth=6):
    """Objects reachable from ``root`` through instance state: gc referents, closures,
    bound methods' ``__self__``/``__func__``, but not class or module dictionaries (which
    reach the whole interpreter)."""
    seen, frontier, found = set(), [root], []
    for _ in range(depth):
        nxt = []
        for obj in frontier:
            if id(obj) in seen or isinstance(obj, (type, types.ModuleType)):
                continue
            seen.add(id(obj))
            found.append(obj)
            refs = list(gc.get_referents(obj))
            if isinstance(obj, types.FunctionType):
                refs = [c.cell_contents for c in (obj.__closure__ or ())
                        if _cell_full(c)] + list(obj.__defaults__ or ())
            if isinstance(obj, types.MethodType):
                refs = [obj.__self__, obj.__func__]
            nxt.extend(refs)
        frontier = nxt
    return found


def _cell_full(cell):
    try:
        _ = cell.cell_contents
    except ValueError:
        return False
    return True


def test_view_shows_prices_account_and_day():
    seen = {}

    def probe(view):
        seen["price"] = view.price("rain == yes")
        seen["cond"] = view.price("wind == calm", given="rain == yes")
        seen["marginal"] = view.marginal("rain")
        seen["joint"] = view.probabilities()
        seen["cash"] = view.cash()
        seen["account"] = view.account()
        seen["min_asset"] = view.min_asset()
        seen["day"], seen["episode"], seen["name"] = view.day, view.episode, view.name
        seen["liquidity"] = view.liquidity()
        seen["quote"] = view.quote("rain == yes", shares=1.0)

    run_one(probe)
    assert seen["price"] == pytest.approx(0.5)
    assert seen["cond"] == pytest.approx(0.5)
    assert seen["marginal"] == pytest.approx({"yes": 0.5, "no": 0.5})
    assert seen["joint"].shape == (4,) and not seen["joint"].flags.writeable
    assert seen["cash"] == 100.0 and seen["account"].cash == 100.0
    assert seen["account"].name == "probe" and seen["min_asset"] == 100.0
    assert (seen["day"], seen["episode"], seen["name"]) == (0, 0, "probe")
    assert seen["liquidity"] == 10.0
    assert seen["quote"].cost == pytest.approx(10 * np.log(0.5 + 0.5 * np.exp(0.1)))


def test_public_history_is_anonymous_and_ordered():
    seen = []

    def probe(view):
        seen.append(view.history)
        return Buy("wind == calm", 1.0)

    run_one(probe, rounds=2)
    first, second = seen
    assert first == ()
    assert [t.kind for t in second] == ["Buy", "Target"]
    assert second[0].event == "wind == calm" and second[0].amount == 1.0
    assert second[1].price_after == pytest.approx(0.6)
    assert all("probe" not in repr(t) and "other" not in repr(t) for t in second)


def test_view_is_read_only_and_has_no_dict():
    caught = []

    def probe(view):
        for action in (lambda: setattr(view, "name", "other"),
                       lambda: setattr(view, "_token", 0),
                       lambda: setattr(view, "market", None),
                       lambda: delattr(view, "day"),
                       lambda: view.__dict__,
                       lambda: vars(view),
                       lambda: pickle.dumps(view),
                       lambda: copy.copy(view),
                       lambda: copy.deepcopy(view)):
            try:
                action()
            except (AttributeError, TypeError) as exc:
                caught.append(type(exc).__name__)

    run_one(probe)
    assert len(caught) == 9


def test_a_trader_cannot_reach_the_market_maker_ledger_or_other_accounts():
    findings = []

    def attacker(view):
        # every attribute, public or private, including dunders
        for name in set(dir(view)) | set(MarketView.__slots__) | {"_gate", "_token"}:
            try:
                value = object.__getattribute__(view, name)
            except AttributeError:
                continue
            for obj in _reachable(value):
                if isinstance(obj, FORBIDDEN) or type(obj).__name__ in (
                        "_AccountState", "LedgerEntry", "_Gate"):
                    findings.append((name, type(obj).__name__))
        # the gc graph from the view itself, and from what its methods return
        for root in (view, view.price, view.marginal("rain"), view.probabilities(),
                     view.account(), view.history, view.quote("rain == yes", shares=1.0)):
            for obj in _reachable(root):
                if isinstance(obj, FORBIDDEN) or type(obj).__name__ in (
                        "_AccountState", "LedgerEntry", "_Gate"):
                    findings.append((repr(type(root)), type(obj).__name__))
        # other accounts through the account methods: they take no account argument
        for method in (view.cash, view.min_asset, view.assets, view.account):
            with pytest.raises(TypeError):
                method("other")

    result, _ = run_one(attacker)
    assert not result.faults
    assert findings == []


def test_mutating_what_the_view_returns_changes_nothing():
    def vandal(view):
        p = view.probabilities()
        with pytest.raises(ValueError):
            p[0] = 1.0
        p.setflags(write=True)  # an owned copy: allowed, and harmless
        p[:] = 0.0
        m = view.marginal("rain")
        m["yes"] = 1.0
        a = view.assets()
        with pytest.raises(ValueError):
            a[...] = -1e9

    result, market = run_one(vandal)
    assert not result.faults
    assert market.price("rain == yes") == pytest.approx(0.6)
    assert market.probabilities().sum() == pytest.approx(1.0)
    market.check()


def test_view_expires_after_the_turn():
    kept = []

    def keeper(view):
        kept.append(view)

    run_one(keeper)
    with pytest.raises(MarketClosed, match="expired"):
        kept[0].price("rain == yes")
    with pytest.raises(MarketClosed):
        kept[0].cash()


def test_view_errors_name_the_problem():
    errors = []

    def probe(view):
        for call in (lambda: view.price("snow == yes"), lambda: view.marginal("snow"),
                     lambda: view.price("rain == yes", market="nowhere")):
            try:
                call()
            except (UnknownVariable, InvalidInput) as exc:
                errors.append(str(exc))

    run_one(probe)
    assert len(errors) == 3
    assert "snow" in errors[0] and "nowhere" in errors[2]


def test_the_reachability_walk_would_find_a_hidden_market():
    market = Market(space(), liquidity=10.0)

    class Leaky:
        __slots__ = ("_m",)

        def __init__(self):
            self._m = market

    def closure():
        return market

    for root in (Leaky(), closure, types.SimpleNamespace(inner=[{"m": market}])):
        assert any(obj is market for obj in _reachable(root))
