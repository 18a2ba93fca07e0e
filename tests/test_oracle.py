"""``Market`` against the brute-force oracle of ``tests/oracle.py``.

Random small spaces (2-4 variables of 2-3 states, sometimes one latent variable, sometimes a
random prior) and random sequences of trades by 2-3 accounts, with observations. After every
operation the market's prices, conditional prices, costs, cash, min-asset, refusals and, at
the end, settlement payouts must agree with the oracle to 1e-9 (relative or absolute).

The scenario machinery here (``Scenario``, ``random_scenario``, ``Twin``) is also used by
``test_properties.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from oracle import Oracle

from predmarket import Market, OutcomeSpace, Variable
from predmarket.errors import ImpossibleEvent, InsufficientFunds

RTOL = 1e-9
ATOL = 1e-9

# -- scenarios ------------------------------------------------------------------------------

_SPACES: dict[tuple[int, ...], OutcomeSpace] = {}


def space_for(shape: tuple[int, ...]) -> OutcomeSpace:
    """One shared space per shape (variables v0, v1, ... with states s0, s1, ...), so the
    space's event cache is reused across examples."""
    if shape not in _SPACES:
        _SPACES[shape] = OutcomeSpace(
            [Variable(f"v{i}", [f"s{j}" for j in range(n)]) for i, n in enumerate(shape)])
    return _SPACES[shape]


class RngChooser:
    """Random choices from a seeded numpy Generator (bounds inclusive)."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng

    def int(self, lo: int, hi: int) -> int:
        return int(self.rng.integers(lo, hi + 1))

    def float(self, lo: float, hi: float) -> float:
        return float(self.rng.uniform(lo, hi))

    def bool(self) -> bool:
        return bool(self.rng.integers(2))


class DataChooser:
    """The same choices drawn from hypothesis (so failures shrink)."""

    def __init__(self, data):
        self.data = data

    def int(self, lo: int, hi: int) -> int:
        return self.data.draw(st.integers(lo, hi))

    def float(self, lo: float, hi: float) -> float:
        return self.data.draw(st.floats(lo, hi, allow_nan=False, allow_infinity=False))

    def bool(self) -> bool:
        return self.data.draw(st.booleans())


@dataclass
class Scenario:
    shape: tuple[int, ...]
    latent: int | None  # axis of the latent variable
    b: float
    prior: np.ndarray | None
    endowments: list[float]
    outcome: tuple[int, ...]  # the true joint outcome; observations reveal parts of it
    ops: list[tuple] = field(default_factory=list)
    settle_as_text: bool = False  # settle with "v0 == s1 & ..." instead of a mapping

    @property
    def obs_axes(self) -> tuple[int, ...]:
        return tuple(i for i in range(len(self.shape)) if i != self.latent)


_POOLS: dict[tuple, list[str]] = {}


def event_pool(shape, axes) -> list[str]:
    """Events over ``axes``: every literal, then every pair of literals joined by & or |,
    then their negations (simplest first, so hypothesis shrinks towards literals)."""
    key = (tuple(shape), tuple(axes))
    if key not in _POOLS:
        lits = [f"v{ax} {op} s{s}" for ax in axes for s in range(shape[ax]) for op in ("==", "!=")]
        pairs = [f"{x}{join}{y}" for i, x in enumerate(lits) for y in lits[i + 1:]
                 for join in (" & ", " | ")]
        _POOLS[key] = lits + pairs + [f"~({e})" for e in pairs]
    return _POOLS[key]


def random_event(ch, shape, axes) -> str:
    pool = event_pool(shape, axes)
    return pool[ch.int(0, len(pool) - 1)]


def random_trade(ch, scn: Scenario, name: str, kinds, share_scale: float) -> tuple:
    axes = list(range(len(scn.shape)))
    kind = kinds[ch.int(0, len(kinds) - 1)]
    a = random_event(ch, scn.shape, axes)
    if kind == "cbuy":
        return ("buy", name, a, random_event(ch, scn.shape, axes),
                ch.float(-share_scale, share_scale) * scn.b)
    if kind == "buy":
        return ("buy", name, a, None, ch.float(-share_scale, share_scale) * scn.b)
    cond = random_event(ch, scn.shape, axes) if ch.bool() else None
    return (kind, name, a, cond, ch.float(0.02, 0.98))


def random_scenario(ch, *, latent: bool | None = None, observe: bool = True, max_ops: int = 8,
                    min_ops: int = 1,
                    kinds=("buy", "cbuy", "edit", "target"), share_scale: float = 4.0,
                    cash_scale: float = 3.0) -> Scenario:
    """A random small market and a sequence of at most ``max_ops`` operations.

    ``latent=None`` picks at random whether one variable is latent."""
    nvars = ch.int(2, 4)
    shape = tuple(ch.int(2, 3) for _ in range(nvars))
    has_latent = ch.bool() if latent is None else latent
    lat = ch.int(0, nvars - 1) if has_latent else None
    b = (0.5, 1.0, 3.0, 10.0)[ch.int(0, 3)]
    prior_seed = ch.int(0, 2**16)
    prior = None
    if prior_seed % 3 == 0:
        prior = np.random.default_rng(prior_seed).uniform(0.2, 1.0, math.prod(shape))
    n_accounts = ch.int(2, 3)
    endowments = [ch.float(0.0, cash_scale) * b for _ in range(n_accounts)]
    outcome = tuple(ch.int(0, n - 1) for n in shape)
    scn = Scenario(shape, lat, b, prior, endowments, outcome, settle_as_text=ch.bool())
    for _ in range(ch.int(min_ops, max_ops)):
        if observe and ch.int(0, 5 * max(1, max_ops // 8)) == 0:
            ax = scn.obs_axes[ch.int(0, len(scn.obs_axes) - 1)]
            scn.ops.append(("observe", ax, ch.bool()))  # as a mapping or as a string
        else:
            name = f"a{ch.int(0, n_accounts - 1)}"
            scn.ops.append(random_trade(ch, scn, name, kinds, share_scale))
    return scn


# -- running a scenario on the market and the oracle side by side ---------------------------


def close(x: float, y: float, scale: float = 1.0) -> bool:
    return math.isclose(x, y, rel_tol=RTOL, abs_tol=ATOL * scale)


def assert_close(x: float, y: float, what: str, scale: float = 1.0) -> None:
    assert close(x, y, scale), f"{what}: market {x!r} != oracle {y!r} (diff {x - y!r})"


class Twin:
    """A Market and an Oracle fed the same operations, compared after each one."""

    def __init__(self, scn: Scenario, *, check: bool = True):
        self.scn = scn
        self.space = space_for(scn.shape)
        latent = [] if scn.latent is None else [f"v{scn.latent}"]
        self.market = Market(self.space, scn.b, latent=latent, prior=scn.prior)
        self.oracle = Oracle(scn.shape, scn.b, latent_axes=() if scn.latent is None
                             else (scn.latent,), prior=scn.prior)
        self.names = [f"a{i}" for i in range(len(scn.endowments))]
        for name, cash in zip(self.names, scn.endowments):
            self.market.open_account(name, cash)
            self.oracle.open(name, cash)
        self.do_check = check
        self.costs: list[tuple] = []  # (kind, market cost, oracle maker cost C(q')-C(q))
        if check:
            self.check_state()

    def mask(self, spec):
        return None if spec is None else self.space.event(spec).mask

    def scale(self) -> float:
        return 1.0 + self.scn.b + sum(self.scn.endowments)

    # -- operations -----------------------------------------------------------------------
    def run(self, ops=None) -> list[str]:
        return [self.step(op) for op in (self.scn.ops if ops is None else ops)]

    def step(self, op) -> str:
        """Apply one operation to both; return "ok", "refused", "impossible", "observed"."""
        if op[0] == "observe":
            _, ax, as_text = op
            spec = {f"v{ax}": f"s{self.scn.outcome[ax]}"}
            self.market.observe(f"v{ax} == s{self.scn.outcome[ax]}" if as_text else spec)
            self.oracle.observe(self.mask(spec))
            status = "observed"
        else:
            status = self.trade(*op)
        if self.do_check:
            self.check_state()
        return status

    def trade(self, kind, name, a_spec, g_spec, amount) -> str:
        m, o = self.market, self.oracle
        a, g = self.mask(a_spec), self.mask(g_spec)
        call = {"buy": m.buy, "edit": m.edit, "target": m.target}[kind]
        if o.degenerate(kind, a, g):
            with pytest.raises(ImpossibleEvent):
                call(name, a_spec, amount, given=g_spec)
            return "impossible"
        if self.do_check:
            assert_close(m.price(a_spec, given=g_spec), o.prob(a, g),
                         f"price of {a_spec} given {g_spec}")
        if kind == "buy":
            dq, cost = o.move_buy(a, amount, g)
        elif kind == "edit":
            dq, cost = o.move_edit(a, amount, g)
        else:
            dq, cost = o.move_target(a, amount, g)
        maker_cost = o.C(o.q + dq) - o.C()
        after = o.min_asset(name, dq, cost)
        endow = o.endowment[name]
        tol = 1e-9 * (1.0 + abs(endow))
        band = 1e-9 * self.scale()
        quote = None
        if self.do_check and kind != "edit":
            kw = {"shares": amount} if kind == "buy" else {"probability": amount}
            quote = m.preview(name, a_spec, given=g_spec, **kw)
            assert_close(quote.cost, cost, f"preview cost of {kind} {a_spec} | {g_spec}")
            assert_close(quote.min_asset_after, after, "preview min_asset_after", self.scale())
            assert_close(quote.price_before, o.prob(a, g), "preview price_before")
            assert quote.affordable == (after >= -tol) or abs(after + tol) <= band
            shares = amount if kind == "buy" else o.target_shares(a, amount, g)
            assert_close(quote.shares, shares, f"{kind} shares", 1 + abs(shares))
        try:
            result = call(name, a_spec, amount, given=g_spec)
        except InsufficientFunds:
            assert after < -tol + band, (
                f"refused {kind} of {a_spec} | {g_spec} ({amount}) by {name}, but the "
                f"oracle's min-asset after it is {after!r} >= 0")
            return "refused"
        assert after >= -tol - band, (
            f"accepted {kind} of {a_spec} | {g_spec} ({amount}) by {name}, but the oracle's "
            f"min-asset after it is {after!r} < 0")
        got = result if kind == "buy" else result.cost
        self.costs.append((kind, got, maker_cost))
        o.apply(name, dq, cost)
        if self.do_check:
            assert_close(got, cost, f"cost of {kind} {a_spec} | {g_spec} ({amount})")
            if kind != "buy":
                assert_close(result.price_after, amount, f"{kind} price_after")
                assert_close(m.price(a_spec, given=g_spec), amount, f"price after {kind}")
            if quote is not None:
                assert_close(quote.price_after, o.prob(a, g), "preview price_after")
        return "ok"

    def check_state(self) -> None:
        m, o = self.market, self.oracle
        joint = o.joint()
        np.testing.assert_allclose(m.probabilities(), joint, rtol=RTOL, atol=1e-12)
        for axis, var in enumerate(self.space.names):
            others = tuple(i for i in range(len(self.scn.shape)) if i != axis)
            want = joint.reshape(self.scn.shape).sum(axis=others)
            got = np.array(list(m.marginal(var).values()))
            np.testing.assert_allclose(got, want, rtol=RTOL, atol=1e-12, err_msg=var)
        for name in self.names:
            assert_close(m.cash(name), o.cash[name], f"cash of {name}", self.scale())
            assert_close(m.min_asset(name), o.min_asset(name), f"min_asset of {name}",
                         self.scale())
            assets = m.assets(name).ravel()
            ok = o.settleable()
            assert np.all(np.isnan(assets[~ok])), f"assets of {name} off the settleable set"
            np.testing.assert_allclose(assets[ok], o.cash[name] + o.holdings(name),
                                       rtol=RTOL, atol=ATOL * self.scale())
        m.check()

    def settle(self) -> dict[str, float]:
        scn = self.scn
        obs = {f"v{i}": f"s{scn.outcome[i]}" for i in scn.obs_axes}
        index = int(np.ravel_multi_index(tuple(scn.outcome[i] for i in scn.obs_axes),
                                         tuple(scn.shape[i] for i in scn.obs_axes)))
        got = self.market.settle(" & ".join(f"{k} == {v}" for k, v in obs.items())
                                 if scn.settle_as_text else obs)
        want = self.oracle.settle(index)
        assert set(got) == set(want)
        for name in want:
            assert_close(got[name], want[name], f"payout of {name}", self.scale())
            assert_close(self.market.cash(name), self.oracle.cash[name],
                         f"final cash of {name}", self.scale())
        self.market.check()
        return got


def check_scenario(scn: Scenario) -> Twin:
    twin = Twin(scn)
    twin.run()
    twin.settle()
    return twin


# -- the oracle itself, on hand-computed cases ---------------------------------------------


def test_oracle_hand_computed():
    o = Oracle((2,), 1.0)
    a = np.array([True, False])
    dq, cost = o.move_buy(a, 1.0)
    assert cost == pytest.approx(math.log((math.e + 1) / 2))
    o.open("x", 10.0)
    o.apply("x", dq, cost)
    assert o.prob(a) == pytest.approx(math.e / (math.e + 1))
    assert o.min_asset("x") == pytest.approx(10.0 - cost)
    assert o.settle(0) == {"x": pytest.approx(1.0)}


def test_oracle_moves_are_cost_function_differences():
    rng = np.random.default_rng(0)
    o = Oracle((2, 3), 2.0, prior=rng.uniform(0.1, 1, 6))
    a = np.array([1, 1, 0, 0, 1, 0], bool)
    g = np.array([1, 0, 1, 1, 1, 0], bool)
    for dq, cost in (o.move_buy(a, 1.7, g), o.move_buy(a, -3.1, g), o.move_edit(a, 0.2, g),
                     o.move_target(a, 0.9, g), o.move_target(a, 0.1)):
        assert o.C(o.q + dq) - o.C() == pytest.approx(cost, abs=1e-12)
    dq, _ = o.move_edit(a, 0.2, g)
    q1 = o.q + dq
    assert o.C(q1, a & g) - o.C(q1, g) == pytest.approx(2.0 * math.log(0.2))
    dq, _ = o.move_target(a, 0.9, g)
    q1 = o.q + dq
    assert o.C(q1, a & g) - o.C(q1, g) == pytest.approx(2.0 * math.log(0.9))


# -- the market against the oracle ----------------------------------------------------------


@pytest.mark.parametrize("chunk", range(4))
def test_market_matches_oracle_seeded(chunk):
    rng = np.random.default_rng([20240601, chunk])
    latent = 0
    for _ in range(150):
        latent += check_scenario(random_scenario(RngChooser(rng))).scn.latent is not None
    assert latent > 30


@pytest.mark.parametrize("latent", [False, True])
def test_market_matches_oracle_long_sequences(latent):
    """Long runs (150-250 trades) exercise the maker's cache: pending updates folded past
    the per-account limit, rebuilds after large drift, and the running error bound on Z."""
    rng = np.random.default_rng([7, latent])
    for _ in range(3):
        scn = random_scenario(RngChooser(rng), latent=latent, min_ops=150, max_ops=250,
                              share_scale=6.0, cash_scale=40.0)
        twin = check_scenario(scn)
        assert sum(op[0] != "observe" for op in scn.ops) > 100
        assert twin.costs, "some trades went through"


def test_seeded_scenarios_exercise_every_path():
    """The seeded scenarios reach refusals, impossible events, observations and latents."""
    rng = np.random.default_rng(7)
    seen = set()
    for _ in range(80):
        scn = random_scenario(RngChooser(rng))
        twin = Twin(scn, check=False)
        seen.update(twin.run())
        seen.add("latent" if scn.latent is not None else "plain")
    assert {"ok", "refused", "impossible", "observed", "latent", "plain"} <= seen


@given(st.data())
def test_market_matches_oracle(data):
    check_scenario(random_scenario(DataChooser(data)))


@given(st.data())
def test_market_matches_oracle_latent(data):
    check_scenario(random_scenario(DataChooser(data), latent=True))
