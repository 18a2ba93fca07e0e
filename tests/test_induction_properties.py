"""The paper's properties of logical induction, made empirical.

Garrabrant et al. (2016) prove asymptotic properties of any logical inductor; here each is a
finite scenario run by :class:`LogicalInductor` with *generic* trader families that are not
told the answer, with a stated tolerance. Every run also checks the MarketMaker condition on
every day (:meth:`LogicalInductor.verify`).

Tolerances are for these seeds and horizons; the threshold grid of ``levels`` dyadic levels
cannot resolve a price finer than its spacing :math:`2^{-\\text{levels}}`.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from predmarket.logic.deductive import GeneratorProcess
from predmarket.logic.induction import (
    AffineTrader,
    ClippedLinearTrader,
    LogicalInductor,
    ThresholdTrader,
    TradingFirm,
    affine_family,
    threshold_family,
    verify_prices,
)
from predmarket.logic.sentences import negate, parse_sentence, self_referential


def check_every_day(li: LogicalInductor) -> None:
    """The MarketMaker condition holds on every day, at max(2^-n, 1e-9 x magnitude)."""
    assert li.verify()
    for n, r in enumerate(li.results, start=1):
        assert r.tolerance == li.tolerance(n)
        assert verify_prices(r.trade, r.prices, r.tolerance)
        assert np.all((r.prices >= 0) & (r.prices <= 1))


def delayed_proofs(truths, lag: int):
    """Day d proves (or refutes) the sentences of day d - lag: ``truths(n) -> [(s, bool)]``."""

    def batches():
        d = 0
        while True:
            d += 1
            n = d - lag
            yield [s if t else negate(s) for s, t in truths(n)] if n >= 1 else []

    return GeneratorProcess(batches())


# ----------------------------------------------------------------------------- convergence


def test_convergence_on_a_fixed_sentence_set():
    """Thm 4.1.1 (convergence): on a fixed set of sentences, prices settle.

    Sentences A, ~A, A & B, B, A | B; A is proven on day 10 and B refuted on day 41. The
    traders are threshold families on each sentence (3 dyadic levels), entering one per day
    as in the paper's enumeration (``stagger=True``). Tolerance: over the last 50 of 250
    days no price moves by more than 1e-3 in a day; the limits agree with the proofs up to
    the grid's reach 1/8 (true sentences >= 0.85, false ones <= 0.15); prices did move
    (by > 0.3) before settling.
    """
    sentences = ["A", "~A", "A & B", "B", "A | B"]
    fam = []
    for s in sentences:
        fam += threshold_family(s, 3, name=s)
    firm = TradingFirm(fam, weights="level", stagger=True)
    proofs = [[]] * 9 + [["A"]] + [[]] * 30 + [["~B"]]
    li = LogicalInductor(firm, sentences=sentences, deductive=proofs)
    li.run(250)
    check_every_day(li)
    paths = np.array([li.price_path(s) for s in sentences])
    steps = np.abs(np.diff(paths, axis=1))
    assert steps[:, -50:].max() <= 1e-3
    assert steps.sum(axis=1).min() > 0.3
    final = dict(zip(sentences, paths[:, -1]))
    assert min(final["A"], final["A | B"]) >= 0.85
    assert max(final["~A"], final["B"], final["A & B"]) <= 0.15


# ----------------------------------------------------------------------------- provability


def test_provability_induction_before_proofs_arrive():
    """Thm 4.2.1 (provability induction): theorems' prices -> 1, refutables' -> 0, on the
    day they are listed, three days *before* the deductive process settles them.

    Each day lists a new theorem T_n and a new refutable R_n (atoms whose proof or refutation
    arrives on day n + 3). The traders are threshold families over the sequences, not told
    which is which. Tolerance: on days 150..200, P_n(T_n) >= 0.9 and P_n(R_n) <= 0.1, while
    neither is settled; early on both start at 0.5.
    """
    lag = 3
    T = lambda n: sympy.Symbol(f"T{n}")
    R = lambda n: sympy.Symbol(f"R{n}")
    deductive = delayed_proofs(lambda n: [(T(n), True), (R(n), False)], lag)
    fam = threshold_family(T, 4, name="T") + threshold_family(R, 4, name="R")
    li = LogicalInductor(
        TradingFirm(fam, weights="level"), sentences=lambda n: [T(n), R(n)], deductive=deductive
    )
    li.run(200)
    check_every_day(li)
    pt = np.array([li.price(T(n), n) for n in range(1, 201)])
    pr = np.array([li.price(R(n), n) for n in range(1, 201)])
    assert pt[0] == pr[0] == 0.5
    assert pt[149:].min() >= 0.9
    assert pr[149:].max() <= 0.1
    # on the day each was priced, neither was settled yet; both are settled lag days later
    for n in range(150, 198):
        assert not {T(n), R(n), negate(R(n))} & deductive.theorems(n)
        assert {T(n), negate(R(n))} <= deductive.theorems(n + lag)


# ----------------------------------------------------------------------------- calibration


def test_calibration_on_generated_frequencies():
    """Thm 4.3.3 (recurring calibration), empirically: two generated families whose members
    are true with known frequencies 0.3 and 0.8 (drawn with a seeded rng, revealed two days
    later). Tolerance: the mean price over days 151..300 is within 0.08 of the frequency, and
    every late price of the 0.3-family is below every late price of the 0.8-family.
    """
    days, lag = 300, 2
    rng = np.random.default_rng(7)
    freqs = {"U": 0.3, "V": 0.8}
    truth = {c: rng.random(days + 1) < f for c, f in freqs.items()}
    sym = lambda c, n: sympy.Symbol(f"{c}{n}")
    deductive = delayed_proofs(lambda n: [(sym(c, n), bool(truth[c][n])) for c in freqs], lag)

    def family_of(c):
        return lambda n: sym(c, n)

    fam = []
    for c in freqs:
        fam += threshold_family(family_of(c), 4, name=c)
    li = LogicalInductor(
        TradingFirm(fam, weights="level"),
        sentences=lambda n: [sym(c, n) for c in freqs],
        deductive=deductive,
    )
    li.run(days)
    check_every_day(li)
    late = {c: np.array([li.price(sym(c, n), n) for n in range(151, days + 1)]) for c in freqs}
    for c, f in freqs.items():
        assert abs(late[c].mean() - f) <= 0.08, (c, late[c].mean())
    assert late["U"].max() < late["V"].min()


# ----------------------------------------------------------------------------- coherence


def test_affine_coherence_emerges():
    """Thm 4.5.x (affine coherence): P(A) + P(~A) -> 1 and P(A & B) <= P(A), starting from
    incoherent prices.

    Two traders push P(A) toward 0.8 and P(~A) toward 0.6 (sum 1.4) and P(A & B) toward 0.9.
    A generic affine family (buy/sell the combinations A + ~A and A - A&B around several
    thresholds, told nothing about which are arbitrage) corrects them. Tolerance: early
    |P(A) + P(~A) - 1| >= 0.1; over the last 20 of 250 days |P(A) + P(~A) - 1| <= 0.02 and
    P(A & B) <= P(A) + 0.02.
    """
    pushers = [
        ClippedLinearTrader("A", lambda ctx: 0.8),
        ClippedLinearTrader("~A", lambda ctx: 0.6),
        ClippedLinearTrader("A & B", lambda ctx: 0.9),
    ]
    arbitrage = affine_family(
        [(["A", "~A"], [1.0, 1.0]), (["A", "A & B"], [1.0, -1.0])],
        [0.0, 0.5, 1.0],
        width=0.05,
    )
    firm = TradingFirm(pushers + arbitrage, weights=[0.05] * 3 + [0.5] * len(arbitrage))
    li = LogicalInductor(firm, sentences=["A", "~A", "A & B"])
    li.run(250)
    check_every_day(li)
    a, na, ab = (li.price_path(s) for s in ("A", "~A", "A & B"))
    assert abs(a[1] + na[1] - 1) >= 0.1
    assert np.abs(a[-20:] + na[-20:] - 1).max() <= 0.02
    assert (ab[-20:] - a[-20:]).max() <= 0.02


# ----------------------------------------------------------------------------- paradoxes


def paradox_run(p: float, days: int, levels: int = 4):
    @cache
    def chi(n):
        return self_referential(f"chi_{n}", n, p)

    fam = threshold_family(chi, levels, name="chi")  # the same family for every p
    li = LogicalInductor(TradingFirm(fam, weights="level"), sentences=lambda n: [chi(n)])
    li.run(days)
    return li, np.array([li.price(chi(n), n) for n in range(1, days + 1)])


@pytest.mark.parametrize("p", [0.4, 0.7])
def test_paradox_resistance(p):
    """Thm 4.11.2 (paradox resistance): chi_n := "P_n(chi_n) < p" is priced near p.

    chi_n is settled on day n + 1 from its fixed day-n price (tie rule: false at equality).
    The traders are the generic threshold family over a dyadic grid, not told p. Tolerance:
    the mean of |P_n(chi_n) - p| over days 301..400 is <= 0.02 and its maximum <= 0.04,
    while early on (days 1..20) the mean error is larger than late.
    """
    li, path = paradox_run(p, 400)
    check_every_day(li)
    err = np.abs(path - p)
    assert err[300:].mean() <= 0.02
    assert err[300:].max() <= 0.04
    assert err[:20].mean() > err[300:].mean()
    # the settlements really happened, by the strict tie rule
    n = 123
    chi_n = li.sentences_of_day[n - 1][0]
    assert (chi_n in li.theorems) == (path[n - 1] < p)
    assert (negate(chi_n) in li.theorems) == (path[n - 1] >= p)


@settings(max_examples=3, deadline=None)
@given(st.floats(0.1, 0.9))
def test_paradox_resistance_for_any_threshold(p):
    """Any p within the grid's reach: with the same family (4 dyadic levels, thresholds
    1/16 .. 15/16), the mean error over days 201..250 is <= 0.025."""
    li, path = paradox_run(p, 250)
    check_every_day(li)
    assert np.abs(path[200:] - p).mean() <= 0.025


# ----------------------------------------------------------------------------- misc


def test_settled_sentences_become_cash():
    """Once A is proven (day 3), holdings of A are paid out at the start of day 4: no trader
    holds A afterwards, and each account's value in every world is unchanged (1e-12)."""
    until3 = lambda day: "A" if day <= 3 else None
    fam = [
        ThresholdTrader(until3, 0.75, 1, width=0.25),
        ThresholdTrader(until3, 0.25, -1, width=0.25),
        AffineTrader([until3, "B"], [1, 1], 1.0, 1, width=0.2),
    ]
    li = LogicalInductor(TradingFirm(fam), sentences=["B"], deductive=[[], [], ["A"]])
    li.run(3)
    A = parse_sentence("A")
    before = [acc.cash + acc.shares.get(A, 0.0) for acc in li.firm.accounts]
    assert any(A in acc.shares for acc in li.firm.accounts)
    li.firm.settle({A: True})
    after = [acc.cash for acc in li.firm.accounts]
    assert np.allclose(before, after, rtol=0, atol=1e-12)
    assert all(A not in acc.shares for acc in li.firm.accounts)
    li.run(2)
    assert all(A not in acc.shares for acc in li.firm.accounts)
    check_every_day(li)


def test_teaching_example_runs(capsys):
    """The teaching example's walk runs (30 days) and its prices pass the check."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "examples" / "teaching_logical_induction.py"
    spec = importlib.util.spec_from_file_location("teaching_logical_induction", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    li = module.build()
    paths = module.walk(li, 30)
    assert li.verify()
    assert np.mean(paths["T"][15:]) > 0.6
    assert np.mean(paths["R"][15:]) < 0.4
    assert "MarketMaker check: True" in capsys.readouterr().out
