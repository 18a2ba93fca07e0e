"""``predmarket.latent``: information measures against brute force, relabelling, latent class
fits (identified and not), moves to a distribution, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import entropy as scipy_entropy

from predmarket import Market, OutcomeSpace, Variable
from predmarket.errors import InsufficientFunds, InvalidInput, UnknownVariable
from predmarket.latent import (
    LatentClassModel,
    align_labels,
    entropy,
    fit_latent_class,
    geometric_mixture,
    kl_divergence,
    latent_posterior,
    market_mutual_information,
    mutual_information,
    observed_distribution,
    relabel,
    trade_to_distribution,
)

SPACE = OutcomeSpace([Variable("L", ["a", "b", "c"]), Variable("O0", ["0", "1"]),
                      Variable("O1", ["x", "y", "z"])])


@settings(max_examples=200)
@given(st.integers(0, 2**32 - 1), st.integers(1, 3), st.integers(2, 4))
def test_information_measures_match_brute_force(seed, n_x, n_y):
    rng = np.random.default_rng(seed)
    joint = rng.dirichlet(np.full(n_x * n_y * 2, 0.7)).reshape(n_x, n_y, 2)
    q = rng.dirichlet(np.ones(joint.size))
    assert math.isclose(entropy(joint), scipy_entropy(joint.ravel()), rel_tol=1e-12,
                        abs_tol=1e-15)
    assert math.isclose(kl_divergence(joint.ravel(), q), scipy_entropy(joint.ravel(), q),
                        rel_tol=1e-10, abs_tol=1e-14)
    pxy = joint.sum(axis=2)
    px, py = pxy.sum(1), pxy.sum(0)
    brute = sum(pxy[i, j] * math.log(pxy[i, j] / (px[i] * py[j]))
                for i in range(n_x) for j in range(n_y) if pxy[i, j] > 0)
    mi = mutual_information(joint, 0, 1)
    assert math.isclose(mi, brute, rel_tol=1e-9, abs_tol=1e-14)
    assert math.isclose(mi, mutual_information(joint, 1, 0), rel_tol=1e-12, abs_tol=1e-15)
    # I(X;Y) = H(X) + H(Y) - H(X,Y)
    assert math.isclose(mi, entropy(px) + entropy(py) - entropy(pxy), abs_tol=1e-12)
    # grouped axes: I(X;(Y,Z)) >= I(X;Y)
    assert mutual_information(joint, 0, (1, 2)) >= mi - 1e-12


@settings(max_examples=100)
@given(st.integers(0, 2**32 - 1), st.integers(2, 6))
def test_relabel_and_align_round_trip(seed, k):
    rng = np.random.default_rng(seed)
    truth = rng.dirichlet(np.ones(4), size=k)  # distinct rows almost surely
    perm = rng.permutation(k)
    shuffled = relabel(truth, 0, perm)
    back = align_labels(shuffled, truth)
    np.testing.assert_allclose(relabel(shuffled, 0, back), truth)
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(k)
    assert back.tolist() == inverse.tolist()


def test_latent_posterior_matches_brute_force():
    prior = np.random.default_rng(1).dirichlet(np.ones(SPACE.size))
    m = Market(SPACE, 1.0, latent=["L"], prior=prior)
    table = prior.reshape(SPACE.shape)
    post = latent_posterior(m, {"O0": "1", "O1": "y"})
    np.testing.assert_allclose(post, table[:, 1, 1] / table[:, 1, 1].sum(), rtol=1e-10)
    full = latent_posterior(m)
    assert full.shape == (2, 3, 3)
    np.testing.assert_allclose(full.sum(axis=-1), 1.0)
    np.testing.assert_allclose(observed_distribution(m), table.sum(0), rtol=1e-10)
    assert math.isclose(market_mutual_information(m, "L", ["O0", "O1"]),
                        mutual_information(table, 0, (1, 2)), rel_tol=1e-9)


def test_latent_class_model_identified_with_three_indicators():
    """K = 2, three binary indicators: EM on P_O recovers the posterior up to relabelling."""
    truth = LatentClassModel(np.array([0.3, 0.7]),
                             tuple(np.array(t) for t in ([[0.9, 0.1], [0.2, 0.8]],
                                                         [[0.8, 0.2], [0.3, 0.7]],
                                                         [[0.75, 0.25], [0.1, 0.9]])))
    for seed in range(3):
        fit = fit_latent_class(truth.observed(), 2, rng=seed, n_starts=4, max_iter=5000,
                               tol=1e-14)
        assert kl_divergence(truth.observed(), fit.observed()) < 1e-9
        perm = align_labels(fit.posterior(), truth.posterior())
        np.testing.assert_allclose(relabel(fit.posterior(), 0, perm), truth.posterior(),
                                   atol=2e-3)


def test_latent_class_model_not_identified_with_too_few_indicators():
    """K = 3 with three binary indicators (2+2+2 < 2K+2): fits agree on P_O but not on the
    posterior, whatever the relabelling."""
    rng = np.random.default_rng(5)
    truth = LatentClassModel(rng.dirichlet(np.full(3, 5.0)),
                             tuple(rng.dirichlet(np.ones(2), size=3) for _ in range(3)))
    fits = [fit_latent_class(truth.observed(), 3, rng=s, n_starts=1, max_iter=3000, tol=1e-14)
            for s in range(6)]
    for f in fits:
        assert kl_divergence(truth.observed(), f.observed()) < 1e-6
    gaps = []
    for f in fits[1:]:
        perm = align_labels(f.posterior(), fits[0].posterior())
        gaps.append(np.abs(relabel(f.posterior(), 0, perm) - fits[0].posterior()).max())
    assert max(gaps) > 0.05


def test_geometric_mixture():
    p, q = np.array([0.2, 0.3, 0.5]), np.array([0.6, 0.3, 0.1])
    half = geometric_mixture(p, q, 0.5)
    expected = np.sqrt(p * q) / np.sqrt(p * q).sum()
    np.testing.assert_allclose(half, expected)
    np.testing.assert_allclose(geometric_mixture(p, q, 0.0), p)
    with pytest.raises(InvalidInput, match="weight"):
        geometric_mixture(p, q, 1.5)


def test_unaffordable_move_is_refused_whole():
    m = Market(SPACE, 5.0, latent=["L"])
    m.open_account("poor", 0.01)
    target = np.random.default_rng(2).dirichlet(np.ones(SPACE.size) * 0.3)
    before = (m.probabilities(), len(m.ledger), m.cash("poor"))
    with pytest.raises(InsufficientFunds, match="nothing was traded"):
        trade_to_distribution(m, "poor", target)
    np.testing.assert_array_equal(m.probabilities(), before[0])
    assert (len(m.ledger), m.cash("poor")) == before[1:]


@pytest.mark.parametrize("action, error, word", [
    (lambda: entropy([0.5, 0.6]), InvalidInput, "sum to 1"),
    (lambda: entropy([]), InvalidInput, "non-empty"),
    (lambda: kl_divergence([0.5, 0.5], [1.0]), InvalidInput, "shape"),
    (lambda: kl_divergence([np.nan, 1.0], [0.5, 0.5]), InvalidInput, "finite"),
    (lambda: mutual_information(np.full((2, 2), 0.25), 0, 0), InvalidInput, "disjoint"),
    (lambda: mutual_information(np.full((2, 2), 0.25), 0, 2), InvalidInput, "axis"),
    (lambda: mutual_information([[-0.5, 1.0], [0.25, 0.25]], 0, 1), InvalidInput,
     "non-negative"),
    (lambda: relabel(np.eye(2), 0, [0, 0]), InvalidInput, "permutation"),
    (lambda: relabel(np.eye(2), 3, [0, 1]), InvalidInput, "axis"),
    (lambda: align_labels(np.eye(2), np.eye(3)), InvalidInput, "shape"),
    (lambda: fit_latent_class([0.5, 0.5], 0), InvalidInput, "n_classes"),
    (lambda: fit_latent_class([0.5, 0.5], 2, n_starts=0), InvalidInput, "n_starts"),
])
def test_bad_input(action, error, word):
    with pytest.raises(error, match=word):
        action()


def test_bad_market_input():
    m = Market(SPACE, 1.0, latent=["L"])
    m.open_account("a", 10.0)
    plain = Market(OutcomeSpace([Variable("x", ["0", "1"])]), 1.0)
    with pytest.raises(UnknownVariable, match="nope"):
        market_mutual_information(m, "L", "nope")
    with pytest.raises(InvalidInput, match="no latent"):
        latent_posterior(plain)
    with pytest.raises(InvalidInput, match="missing"):
        latent_posterior(m, {"O0": "1"})
    with pytest.raises(InvalidInput, match="entries"):
        trade_to_distribution(m, "a", np.ones(5) / 5)
    with pytest.raises(InvalidInput, match="sum to 1"):
        trade_to_distribution(m, "a", np.ones(SPACE.size))
    zeros = np.zeros(SPACE.size)
    zeros[:2] = 0.5
    with pytest.raises(InvalidInput, match="strictly positive"):
        trade_to_distribution(m, "a", zeros)
    assert len(m.ledger) == 1  # only the account opening


def test_two_latent_variables_relabel_and_latent_only_moves_pay_nothing():
    from predmarket.latent import relabel_latent

    space = OutcomeSpace([Variable("A", ["0", "1"]), Variable("H1", ["p", "q", "r"]),
                          Variable("B", ["0", "1", "2"]), Variable("H2", ["u", "v"])])
    prior = np.random.default_rng(4).dirichlet(np.ones(space.size))
    m = Market(space, 2.0, latent=["H1", "H2"], prior=prior)
    m.open_account("a", 20.0)
    m.target("a", "A == 1 & H1 == q", 0.3)
    assets, cash, p_o = m.assets("a").copy(), m.cash("a"), observed_distribution(m)
    table = m.probabilities().reshape(space.shape)
    relabel_latent(m, "a", "H1", [2, 0, 1])
    np.testing.assert_allclose(m.probabilities().reshape(space.shape),
                               relabel(table, 1, [2, 0, 1]), atol=1e-12)
    np.testing.assert_allclose(m.assets("a"), assets, atol=1e-9)
    np.testing.assert_allclose(observed_distribution(m), p_o, atol=1e-12)
    assert m.cash("a") == cash
    post = latent_posterior(m, {"A": "1", "B": "2"})
    assert post.shape == (3, 2) and math.isclose(post.sum(), 1.0)
    with pytest.raises(InvalidInput, match="latent"):
        relabel_latent(m, "a", "A", [1, 0])
