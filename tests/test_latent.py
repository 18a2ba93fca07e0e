"""Latent-variable market properties (DESIGN.md sec. 4), each against a closed form or a
brute-force computation over the joint.

Every property runs once per market maker in ``MAKERS``. A factory takes
``(space, liquidity, *, latent, prior)`` and returns a ``Market``; ``prior`` is ``None``
(uniform) or a strictly positive joint over the flat space. The spaces put the latent class
first and its indicators after it, and every prior is a latent class model
(``L -> O_1..O_m``; ``latent_class_cpds`` gives its conditional tables), so a
Bayesian-network maker can represent it: ``MAKERS`` holds
both the explicit joint and the Bayesian-network maker.

Brute force: a trade that moves the market's joint from ``P`` to ``P'`` nets
``b log(P'_O(o) / P_O(o))`` on observable outcome ``o`` whatever its kind (buy, edit,
target), so an account's final cash is its endowment plus the sum of these over its
trades; the tests recompute that from price snapshots with numpy and compare it with the
market's budgets and settlement.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import entropy as scipy_entropy

from predmarket import Market, OutcomeSpace, Variable
from predmarket.errors import (
    ImpossibleEvent,
    IncompleteObservation,
    InsufficientFunds,
    LatentObservation,
    MarketClosed,
)
from predmarket.events import atom
from predmarket.latent import (
    LatentClassModel,
    joint_table,
    kl_divergence,
    latent_posterior,
    mutual_information,
    observed_distribution,
    relabel,
    relabel_latent,
    trade_observed_marginal,
    trade_to_distribution,
)


def joint_market(space, liquidity, *, latent=(), prior=None) -> Market:
    """``Market`` over an explicit joint (``JointMaker``)."""
    return Market(space, liquidity, latent=latent, prior=prior)


def latent_class_cpds(space: OutcomeSpace, prior) -> dict[str, np.ndarray]:
    """The network ``L -> O_j`` of a prior: ``{"L": P(L), "O_j": P(O_j | L)}`` (rows: states
    of ``L``), uniform when ``prior`` is None; what a Bayesian-network factory needs."""
    shape = space.shape
    table = (np.full(shape, 1.0 / space.size) if prior is None
             else np.asarray(prior, float).reshape(shape))
    cpds = {"L": table.sum(axis=tuple(range(1, len(shape))))}
    for j in range(1, len(shape)):
        pair = table.sum(axis=tuple(a for a in range(1, len(shape)) if a != j))
        cpds[space.names[j]] = pair / pair.sum(axis=1, keepdims=True)
    return cpds


def bayesnet_market(space, liquidity, *, latent=(), prior=None) -> Market:
    """``Market`` whose maker is the latent class network ``L -> O_j`` (``BayesNetMaker``)."""
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    root = space.names[0]
    cpds = latent_class_cpds(space, prior)
    states = {v.name: [str(s) for s in v.states] for v in space.variables}
    model = DiscreteBayesianNetwork([(root, child) for child in space.names[1:]])
    model.add_cpds(TabularCPD(root, len(states[root]), cpds["L"].reshape(-1, 1),
                              state_names={root: states[root]}))
    for child in space.names[1:]:
        model.add_cpds(TabularCPD(child, len(states[child]), cpds[child].T,
                                  evidence=[root], evidence_card=[len(states[root])],
                                  state_names={child: states[child], root: states[root]}))
    return Market.from_bayesian_network(model, liquidity, latent=latent, cross_clique="relink")


MAKERS = {"joint": joint_market, "bayesnet": bayesnet_market}


@pytest.fixture(scope="module", params=sorted(MAKERS))
def make_market(request):
    return MAKERS[request.param]


# -- spaces, priors, trades -----------------------------------------------------------------
_SPACES: dict = {}


def lc_space(k: int, obs_shape: tuple[int, ...]) -> OutcomeSpace:
    """Latent ``L`` with ``k`` classes, then indicators ``O0, O1, ...``."""
    key = (k, obs_shape)
    if key not in _SPACES:
        _SPACES[key] = OutcomeSpace(
            [Variable("L", [f"c{i}" for i in range(k)])]
            + [Variable(f"O{j}", [f"s{i}" for i in range(n)]) for j, n in enumerate(obs_shape)])
    return _SPACES[key]


def test_priors_are_latent_class_networks():
    """Every prior the properties use is the network L -> O_j given by latent_class_cpds."""
    rng = np.random.default_rng(0)
    for k, obs_shape in ((2, (2, 3)), (5, (2,)), (3, (3, 2, 2))):
        space = lc_space(k, obs_shape)
        model = random_model(rng, k, obs_shape)
        cpds = latent_class_cpds(space, model.joint())
        rebuilt = LatentClassModel(cpds["L"], tuple(cpds[n] for n in space.names[1:]))
        np.testing.assert_allclose(rebuilt.joint(), model.joint(), atol=1e-15)
        uniform = latent_class_cpds(space, None)
        assert np.allclose(LatentClassModel(uniform["L"], tuple(
            uniform[n] for n in space.names[1:])).joint(), 1.0 / space.size)


def random_model(rng, k: int, obs_shape, concentration: float = 1.0) -> LatentClassModel:
    return LatentClassModel(
        rng.dirichlet(np.full(k, 3.0)),
        tuple(rng.dirichlet(np.full(n, concentration), size=k) for n in obs_shape))


def observable_outcomes(obs_shape):
    return list(np.ndindex(*obs_shape))


def obs_dict(space: OutcomeSpace, index) -> dict:
    return {space.names[j + 1]: space.variable(space.names[j + 1]).states[s]
            for j, s in enumerate(index)}


def random_events(space: OutcomeSpace, draw) -> sympy.Basic:
    """A random event mentioning latent and/or observable variables."""
    terms = []
    for var in space:
        if draw(st.integers(0, 2)) == 0:
            terms.append(atom(var.name, var.states[draw(st.integers(0, var.cardinality - 1))]))
    if not terms:
        var = space.variable(space.names[draw(st.integers(0, len(space) - 1))])
        terms.append(atom(var.name, var.states[draw(st.integers(0, var.cardinality - 1))]))
    expr = sympy.And(*terms) if draw(st.booleans()) else sympy.Or(*terms)
    return ~expr if draw(st.integers(0, 3)) == 0 else expr


def draw_ops(draw, space: OutcomeSpace, accounts, n_ops: int, b: float, extreme: bool):
    ops = []
    for _ in range(n_ops):
        kind = draw(st.sampled_from(["buy", "edit", "target"]))
        acct = draw(st.sampled_from(accounts))
        event = random_events(space, draw)
        cond = random_events(space, draw) if draw(st.integers(0, 2)) == 0 else None
        if kind == "buy":
            scale = 20.0 if extreme else 3.0
            value = draw(st.floats(-scale, scale, allow_nan=False)) * b
        else:
            pool = [0.001, 0.999, 0.02, 0.98] if extreme else []
            value = draw(st.sampled_from(pool) if pool and draw(st.booleans())
                         else st.floats(0.05, 0.95))
        ops.append((kind, acct, event, cond, value))
    return ops


def apply_op(market: Market, op) -> bool:
    """Send one trade; True if accepted, False if refused or impossible (nothing changed)."""
    kind, acct, event, cond, value = op
    try:
        if kind == "buy":
            market.buy(acct, event, value, given=cond)
        elif kind == "edit":
            market.edit(acct, event, value, given=cond)
        else:
            market.target(acct, event, value, given=cond)
    except (InsufficientFunds, ImpossibleEvent):
        return False
    return True


def masks(space, event, cond):
    a = space.event(event).mask.ravel()
    b = np.ones(space.size, bool) if cond is None else space.event(cond).mask.ravel()
    return a, b


def brute_move(space, p: np.ndarray, op, b: float) -> np.ndarray | None:
    """The joint after ``op`` by brute force over the flat joint (None if impossible)."""
    kind, _, event, cond, value = op
    a, bb = masks(space, event, cond)
    live = p > 0
    ab, nab = a & bb & live, ~a & bb & live
    if not (a & live).any() or not (bb & live).any():
        return None
    w = p.copy()
    if kind == "buy":
        pa = w[ab].sum() / w[bb].sum()
        cost = b * math.log1p(pa * math.expm1(value / b))
        w[ab] *= math.exp(value / b)
        w[~bb] *= math.exp(cost / b)
    else:
        if not ab.any() or not nab.any():
            return None
        m_ab, m_nab = w[ab].sum(), w[nab].sum()
        w[ab] *= value * (m_ab + m_nab) / m_ab  # complement masses summed directly: exact
        w[nab] *= (1 - value) * (m_ab + m_nab) / m_nab  # even when P(A|B) is near 1
    return w / w.sum()


def obs_marginal(space, p: np.ndarray) -> np.ndarray:
    return p.reshape(space.shape).sum(axis=0)


# -- maker loss -----------------------------------------------------------------------------
@settings(max_examples=150)
@given(st.data())
def test_maker_loss_bounded_by_observed_part_whatever_the_latent_cardinality(make_market, data):
    """Loss = b log(P_final(S) / P_0(S)) <= b log|O| for 2, 5 and 50 latent states, even
    when an insider who knows the observation drives P(S) to nearly 1."""
    draw = data.draw
    k = draw(st.sampled_from([2, 5, 50]))
    obs_shape = tuple(draw(st.lists(st.integers(2, 3), min_size=1, max_size=2)))
    b = draw(st.sampled_from([0.5, 3.0, 40.0]))
    space = lc_space(k, obs_shape)
    m = make_market(space, b, latent=["L"])
    n_obs = int(np.prod(obs_shape))
    assert math.isclose(m.subsidy, b * math.log(n_obs), rel_tol=1e-12)
    for name in ("a", "b"):
        m.open_account(name, 1e4 * b)
    for op in draw_ops(draw, space, ["a", "b"], draw(st.integers(0, 8)), b, extreme=False):
        apply_op(m, op)
    o = observable_outcomes(obs_shape)[draw(st.integers(0, n_obs - 1))]
    if draw(st.booleans()):
        insider = np.full(obs_shape, 1e-7 / (n_obs - 1))
        insider[o] = 1 - 1e-7
        m.open_account("insider", 1e4 * b)
        trade_observed_marginal(m, "insider", insider)
    p_final = observed_distribution(m)[o]
    m.settle(obs_dict(space, o))
    loss = m.subsidy - m.maker_cash
    assert math.isclose(loss, b * math.log(p_final * n_obs), rel_tol=1e-9,
                        abs_tol=1e-9 * (1 + b))
    assert loss <= b * math.log(n_obs) + 1e-9 * (1 + b)
    assert m.maker_cash >= -1e-9 * (1 + b)
    m.check()


@pytest.mark.parametrize("k", [2, 5, 50])
def test_maker_loss_bound_is_tight_and_independent_of_latent_states(make_market, k):
    obs_shape = (2, 3)
    space = lc_space(k, obs_shape)
    b = 2.0
    m = make_market(space, b, latent=["L"])
    m.open_account("insider", 100.0)
    target = np.full(obs_shape, 1e-9 / 5)
    target[1, 2] = 1 - 1e-9
    trade_observed_marginal(m, "insider", target)
    m.settle({"O0": "s1", "O1": "s2"})
    loss = m.subsidy - m.maker_cash
    assert b * math.log(6) - 1e-8 <= loss <= b * math.log(6) + 1e-12


# -- relabelling and latent-only trades -----------------------------------------------------
@settings(max_examples=150)
@given(st.data())
def test_relabelling_and_latent_only_trades_cost_and_pay_nothing(make_market, data):
    draw = data.draw
    k = draw(st.sampled_from([2, 3, 5]))
    obs_shape = tuple(draw(st.lists(st.integers(2, 3), min_size=1, max_size=2)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    space = lc_space(k, obs_shape)
    b = draw(st.sampled_from([0.7, 5.0]))
    m = make_market(space, b, latent=["L"], prior=random_model(rng, k, obs_shape).joint().ravel())
    for name in ("a", "b"):
        m.open_account(name, 50.0 * b)
    for op in draw_ops(draw, space, ["a", "b"], draw(st.integers(0, 5)), b, extreme=False):
        apply_op(m, op)
    cash, assets = m.cash("a"), m.assets("a")
    p_o, post, maker = observed_distribution(m), latent_posterior(m), m.maker_cash

    perm = rng.permutation(k)
    relabel_latent(m, "a", "L", perm)
    assert m.cash("a") == cash and m.maker_cash == maker
    np.testing.assert_allclose(m.assets("a"), assets, rtol=0, atol=1e-9 * (1 + b))
    np.testing.assert_allclose(observed_distribution(m), p_o, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(latent_posterior(m), relabel(post, len(obs_shape), perm),
                               atol=1e-9)

    # any change of P(latent | observed) alone: new joint = P_O(o) * R(l | o)
    cond = rng.dirichlet(np.ones(k), size=int(np.prod(obs_shape))).T.reshape((k, *obs_shape))
    trade_to_distribution(m, "a", (cond * p_o[None]).ravel())
    assert m.cash("a") == cash and m.maker_cash == maker
    np.testing.assert_allclose(m.assets("a"), assets, rtol=0, atol=1e-9 * (1 + b))
    np.testing.assert_allclose(joint_table(m), cond * p_o[None], atol=1e-12)
    m.check()


@settings(max_examples=100)
@given(st.data())
def test_relabelled_market_is_the_same_market(make_market, data):
    """Relabel the latent states in the prior and in every trade: identical costs,
    prices of observable events and settlement payouts."""
    draw = data.draw
    k = draw(st.sampled_from([2, 3, 5]))
    obs_shape = (2, 2)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    space = lc_space(k, obs_shape)
    prior = random_model(rng, k, obs_shape).joint()
    perm = rng.permutation(k)
    rename = {atom("L", f"c{i}"): atom("L", f"c{perm[i]}") for i in range(k)}
    m1 = make_market(space, 2.0, latent=["L"], prior=prior.ravel())
    m2 = make_market(space, 2.0, latent=["L"], prior=relabel(prior, 0, perm).ravel())
    for m in (m1, m2):
        m.open_account("a", 30.0)
        m.open_account("b", 30.0)
    for op in draw_ops(draw, space, ["a", "b"], draw(st.integers(1, 6)), 2.0, extreme=True):
        kind, acct, event, cond, value = op
        op2 = (kind, acct, event.xreplace(rename),
               None if cond is None else cond.xreplace(rename), value)
        assert apply_op(m1, op) == apply_op(m2, op2)
        for name in ("a", "b"):
            assert math.isclose(m1.cash(name), m2.cash(name), rel_tol=1e-9, abs_tol=1e-9)
        np.testing.assert_allclose(observed_distribution(m1), observed_distribution(m2),
                                   rtol=1e-9, atol=1e-14)
    o = {"O0": "s1", "O1": "s0"}
    p1, p2 = m1.settle(o), m2.settle(o)
    for name in ("a", "b"):
        assert math.isclose(p1[name], p2[name], rel_tol=1e-9, abs_tol=1e-9)


# -- what information is worth --------------------------------------------------------------
TRUTH = LatentClassModel(np.array([0.35, 0.65]),
                         (np.array([[0.85, 0.15], [0.2, 0.8]]),
                          np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]]),
                          np.array([[0.9, 0.1], [0.25, 0.75]])))
MC_SAMPLES = 20_000
MC_TOLERANCE_SE = 4.0  # Monte Carlo means must lie within 4 standard errors of the closed form


def test_trader_with_true_model_earns_b_kl_in_expectation(make_market):
    """Net on o is b log(P*_O(o)/P_O(o)); its mean over o ~ P*_O is b KL(P*_O || P_O):
    exact in expectation, and the Monte Carlo mean of 20 000 draws is within 4 standard
    errors. Settlement pays exactly the netted amounts."""
    space = lc_space(2, (2, 3, 2))
    b = 3.0
    rng = np.random.default_rng(7)
    prior = random_model(rng, 2, (2, 3, 2)).joint()
    m = make_market(space, b, latent=["L"], prior=prior.ravel())
    m.open_account("insider", 100.0)
    p_o = observed_distribution(m).copy()
    trade_to_distribution(m, "insider", TRUTH.joint().ravel())
    net = m.assets("insider") - 100.0
    truth_o = TRUTH.observed()
    analytic = b * float(scipy_entropy(truth_o.ravel(), p_o.ravel()))
    assert math.isclose(analytic, b * kl_divergence(truth_o, p_o), rel_tol=1e-12)
    assert math.isclose(float(np.sum(truth_o * net)), analytic, rel_tol=1e-9)

    _, draws = TRUTH.sample(MC_SAMPLES, rng)
    values = net[tuple(draws.T)]
    se = values.std(ddof=1) / math.sqrt(MC_SAMPLES)
    assert abs(values.mean() - analytic) <= MC_TOLERANCE_SE * se, (values.mean(), analytic, se)

    o = tuple(draws[0])
    m.settle(obs_dict(space, o))
    assert math.isclose(m.cash("insider") - 100.0, net[o], rel_tol=1e-9, abs_tol=1e-12)


def test_trader_who_learns_the_latent_earns_b_mutual_information(make_market):
    """The market prices the truth; a trader told the latent class l moves P_O to
    P*(O | l). Expected net b I(L; O) (closed form, brute force) and Monte Carlo agree."""
    space = lc_space(2, (2, 3, 2))
    b = 2.5
    joint = TRUTH.joint()
    p_o = TRUTH.observed()
    nets = []
    for ell in range(2):
        m = make_market(space, b, latent=["L"], prior=joint.ravel())
        m.open_account("spy", 100.0)
        trade_observed_marginal(m, "spy", joint[ell] / joint[ell].sum())
        nets.append(m.assets("spy") - 100.0)
        np.testing.assert_allclose(latent_posterior(m), latent_posterior(
            make_market(space, b, latent=["L"], prior=joint.ravel())), atol=1e-12)
    nets = np.array(nets)
    brute = 0.0
    for idx in np.ndindex(*joint.shape):
        pl = joint[idx[0]].sum()
        brute += joint[idx] * math.log(joint[idx] / (pl * p_o[idx[1:]]))
    assert math.isclose(mutual_information(joint, 0, (1, 2, 3)), brute, rel_tol=1e-12)
    assert math.isclose(float(np.sum(joint * nets)), b * brute, rel_tol=1e-9)

    rng = np.random.default_rng(11)
    classes, draws = TRUTH.sample(MC_SAMPLES, rng)
    values = nets[(classes, *draws.T)]
    se = values.std(ddof=1) / math.sqrt(MC_SAMPLES)
    assert abs(values.mean() - b * brute) <= MC_TOLERANCE_SE * se


# -- budgets under adversarial interleaving -------------------------------------------------
@settings(max_examples=150)
@given(st.data())
def test_no_account_can_end_below_zero_under_adversarial_interleaving(make_market, data):
    """Poor accounts interleave extreme trades on latent and observable events. Brute force
    over observable outcomes: every accepted trade leaves every account >= 0 in every
    outcome, every refusal was needed, the market's assets equal the brute force, and
    settlement on each observable outcome pays exactly that."""
    draw = data.draw
    k = draw(st.sampled_from([2, 3]))
    obs_shape = tuple(draw(st.lists(st.integers(2, 3), min_size=1, max_size=2)))
    b = draw(st.sampled_from([1.0, 10.0]))
    space = lc_space(k, obs_shape)
    names = ["a", "b", "c"]
    endow = {n: draw(st.floats(0.05, 2.0)) * b for n in names}
    ops = draw_ops(draw, space, names, draw(st.integers(1, 12)), b, extreme=True)

    def build():
        m = make_market(space, b, latent=["L"])
        for n in names:
            m.open_account(n, endow[n])
        return m

    m = build()
    final = {n: np.full(obs_shape, endow[n]) for n in names}
    accepted = []
    tol = 1e-9 * (1 + b)
    for op in ops:
        p = m.probabilities()
        ok = apply_op(m, op)
        accepted.append(ok)
        new = brute_move(space, p, op, b)
        if new is None:
            assert not ok
            continue
        step = b * (np.log(obs_marginal(space, new)) - np.log(obs_marginal(space, p)))
        if ok:
            np.testing.assert_allclose(m.probabilities(), new, rtol=1e-7, atol=1e-13)
            final[op[1]] = final[op[1]] + step
        else:
            assert (final[op[1]] + step).min() < tol, "refused a trade the account could afford"
        for n in names:
            assert final[n].min() >= -tol
            np.testing.assert_allclose(m.assets(n), final[n], rtol=1e-7, atol=tol)
    for o in observable_outcomes(obs_shape):
        replay = build()
        for op, ok in zip(ops, accepted):
            assert apply_op(replay, op) == ok
        replay.settle(obs_dict(space, o))
        for n in names:
            assert replay.cash(n) >= -tol
            assert math.isclose(replay.cash(n), final[n][o], rel_tol=1e-7, abs_tol=tol)
        replay.check()


# -- multi-stage settlement -----------------------------------------------------------------
@settings(max_examples=150)
@given(st.data())
def test_every_trade_settles_at_the_final_observation(make_market, data):
    """Observations revealed in stages move no money; at settlement every trade, early or
    late, is paid C_S(q') - C_S(q) for the final S (brute force from price snapshots)."""
    draw = data.draw
    k = draw(st.sampled_from([2, 4]))
    obs_shape = (2, 3, 2)
    b = 2.0
    space = lc_space(k, obs_shape)
    m = make_market(space, b, latent=["L"])
    names = ["a", "b"]
    for n in names:
        m.open_account(n, 40.0)
    o = tuple(draw(st.integers(0, s - 1)) for s in obs_shape)
    final_obs = obs_dict(space, o)
    s_mask = np.zeros(obs_shape, bool)
    s_mask[o] = True
    s_mask = np.broadcast_to(s_mask[None], space.shape).ravel()
    paid = dict.fromkeys(names, 0.0)
    stages = [[], ["O0"], ["O0", "O2"]]
    for stage in stages:
        if stage:
            before = {n: m.cash(n) for n in names}, m.maker_cash, len(m.ledger)
            m.observe({v: final_obs[v] for v in stage})
            assert ({n: m.cash(n) for n in names}, m.maker_cash) == before[:2]
            assert [e.kind for e in m.ledger[before[2]:]] == ["observe"]
        for op in draw_ops(draw, space, names, draw(st.integers(0, 4)), b, extreme=False):
            p = m.probabilities()
            cash = m.cash(op[1])
            if apply_op(m, op):
                cost = cash - m.cash(op[1])
                p_new = m.probabilities()
                paid[op[1]] += cost + b * math.log(p_new[s_mask].sum() / p[s_mask].sum())
    cash = {n: m.cash(n) for n in names}
    payouts = m.settle(final_obs)
    for n in names:
        assert math.isclose(payouts[n], paid[n], rel_tol=1e-9, abs_tol=1e-9)
        assert math.isclose(m.cash(n), cash[n] + paid[n], rel_tol=1e-9, abs_tol=1e-9)
    assert m.subsidy - m.maker_cash <= b * math.log(12) + 1e-9
    m.check()


def test_early_trades_cannot_be_settled_at_a_coarser_observation(make_market):
    """Settling early trades at the observation made when they were traded would break the
    loss bound; the API cannot do it: ``observe`` pays nothing, a settlement must fix every
    observable variable, and a market settles once."""
    space = lc_space(2, (2, 2))
    b = 1.0
    m = make_market(space, b, latent=["L"])
    m.open_account("a", 50.0)
    m.open_account("b", 50.0)
    p0 = m.probabilities()
    # early: "a" makes O1 == s1 very unlikely given O0 == s0
    m.edit("a", "O1 == s1", 1e-6, given="O0 == s0")
    p1 = m.probabilities()
    ledger_len, cash = len(m.ledger), (m.cash("a"), m.cash("b"), m.maker_cash)
    m.observe({"O0": "s0"})
    assert (m.cash("a"), m.cash("b"), m.maker_cash) == cash
    assert [e.kind for e in m.ledger[ledger_len:]] == ["observe"]
    with pytest.raises(IncompleteObservation, match="O1"):
        m.settle({"O0": "s0"})
    with pytest.raises(LatentObservation):
        m.settle({"O0": "s0", "O1": "s1", "L": "c0"})
    assert (m.cash("a"), m.cash("b"), m.maker_cash) == cash and not m.settled
    # late: "b" corrects it to O1 == s1 with near certainty
    m.edit("b", "O1 == s1", 1 - 1e-6)
    p2 = m.probabilities()
    m.settle({"O0": "s0", "O1": "s1"})
    with pytest.raises(MarketClosed):
        m.settle({"O0": "s0", "O1": "s1"})
    real_loss = m.subsidy - m.maker_cash

    def mass(p, obs):
        sel = np.zeros((2, 2), bool)
        sel[obs] = True
        return p.reshape(space.shape)[:, sel].sum()

    coarse, fine = (0, slice(None)), (0, 1)
    # prices after the observation are conditional on it: P'(S) = P(S) / P(O0 == s0)
    real = b * math.log(mass(p1, coarse) * mass(p2, fine) / mass(p0, fine))
    # hypothetical rule: the early trade paid at S1 = {O0 = s0}, the late one at the final S
    coarse_loss = b * math.log(mass(p1, coarse) / mass(p0, coarse)) + b * math.log(
        mass(p2, fine) * mass(p1, coarse) / mass(p1, fine))
    bound = b * math.log(4)
    assert math.isclose(real_loss, real, rel_tol=1e-9)
    assert real_loss <= bound + 1e-12
    assert coarse_loss > 3 * bound  # the coarse rule would lose far more than the subsidy
