"""Recorder (tables, SQLite, DataFrames, log scores) and sweep."""

import math
import sqlite3

import numpy as np
import pytest

from predmarket import Market, OutcomeSpace, Variable
from predmarket.errors import InvalidInput
from predmarket.sim import Buy, JointWorld, Recorder, Simulation, Target, sweep
from predmarket.sim.recorder import TABLES, outcome_event
from predmarket.sim.sweep import summarize


def space():
    return OutcomeSpace([Variable("rain", ["yes", "no"]), Variable("wind", ["calm", "strong"])])


def run(rec, *, episodes=3, rounds=3, seed=0, every="round"):
    truth = [0.4, 0.1, 0.3, 0.2]
    traders = {"bull": lambda v: Target("rain == yes", 0.7),
               "bear": lambda v: [Target("wind == calm", 0.3), Buy("snow == yes", 1.0)]}
    return Simulation(lambda: Market(space(), 10.0), traders, rounds=rounds, episodes=episodes,
                      world=JointWorld(space(), truth), rng=seed, recorder=rec,
                      record_every=every).run()


def test_tables_hold_what_happened():
    rec = Recorder(["rain == yes", {"wind": "calm"}])
    res = run(rec)
    prices = rec.rows("prices")
    assert len(prices) == 3 * 4 * 2  # episodes x (rounds + 1) x events
    assert {r[2] for r in prices} == {"rain == yes", 'wind == "calm"'}
    assert len(rec.rows("accounts")) == 3 * 4 * 2
    assert len(rec.rows("trades")) == res.trades == 3 * 3 * 2
    assert len(rec.rows("refusals")) == 9 and {r[5] for r in rec.rows("refusals")} == {
        "UnknownVariable"}
    assert len(rec.rows("settlements")) == 6
    # final prices before settlement
    last = [r for r in prices if r[1] == 3 and r[2] == "rain == yes"]
    assert all(r[3] == pytest.approx(0.7) for r in last)


def test_log_score_and_truth_match_an_independent_computation():
    rec = Recorder(["rain == yes", "rain == yes & wind == calm"])
    res = run(rec, episodes=4)
    market = res.markets["market"]
    assert market.settled
    # the world was drawn from the true joint; recompute each episode's outcome from payouts:
    # the last episode's outcome is in the market's observations
    observed = market.observed
    truth_rain = 1.0 if observed["rain"] == "yes" else 0.0
    outcomes = [r for r in rec.rows("outcomes") if r[0] == 3]
    assert outcomes[0][3] == truth_rain
    both = 1.0 if observed == {"rain": "yes", "wind": "calm"} else 0.0
    assert outcomes[1][3] == both
    # at day 3 P(rain) = 0.7 and P(wind=calm) = 0.3, independent (each move is an
    # edit-like target on a marginal of a uniform start): P(outcome) is their product
    p_rain = 0.7 if observed["rain"] == "yes" else 0.3
    p_wind = 0.3 if observed["wind"] == "calm" else 0.7
    score = next(r for r in rec.rows("scores") if r[0] == 3 and r[1] == 3)[3]
    assert score == pytest.approx(math.log(p_rain * p_wind))
    start = next(r for r in rec.rows("scores") if r[0] == 3 and r[1] == 0)[3]
    assert start == pytest.approx(math.log(0.25))


def test_wealth_marks_holdings_to_market():
    rec = Recorder()
    run(rec, episodes=1, rounds=1)
    rows = {r[2]: r for r in rec.rows("accounts") if r[1] == 1}
    # bull moved P(rain) 0.5 -> 0.7: target cost c = 10 log(0.5/0.3), payout x on rain with
    # x = 10 (logit .7 - logit .5); wealth = cash + 0.7 x
    x = 10 * math.log(0.7 / 0.3)
    c = 10 * math.log(0.5 / 0.3)
    assert rows["bull"][4] == pytest.approx(100 - c)
    assert rows["bull"][6] == pytest.approx(100 - c + 0.7 * x)
    assert rows["bull"][5] == pytest.approx(100 - c)


def test_sqlite_round_trip_and_dataframes(tmp_path):
    rec = Recorder(["rain == yes"])
    run(rec)
    path = rec.save(tmp_path / "h.sqlite")
    back = Recorder.load(path)
    for table in TABLES:
        a, b = rec.rows(table), back.rows(table)
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert tuple(pytest.approx(v, nan_ok=True) if isinstance(v, float) else v
                         for v in x) == y
    assert back.meta["rounds"] == 3 and back.events[0][2] == "rain == yes"
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM prices").fetchone()[0] == len(rec.rows("prices"))
    df = back.to_dataframe("accounts")
    assert list(df.columns) == list(TABLES["accounts"])
    assert len(df) == len(rec.rows("accounts"))
    assert df.groupby("trader").size().to_dict() == {"bear": 12, "bull": 12}


def test_record_every_episode():
    rec = Recorder(["rain == yes"])
    run(rec, every="episode")
    assert sorted({r[1] for r in rec.rows("prices")}) == [0, 3]


def test_recorder_validation(tmp_path):
    with pytest.raises(InvalidInput, match="unknown table"):
        Recorder().rows("nope")
    with pytest.raises(InvalidInput, match="pair"):
        Recorder([("a", "b", "c")])
    with pytest.raises(InvalidInput, match="cannot be priced"):
        run(Recorder(["snow == yes"]))
    with pytest.raises(InvalidInput, match="names market"):
        run(Recorder([("other", "rain == yes")]))
    with pytest.raises(InvalidInput, match="no history"):
        Recorder.load(tmp_path / "missing.sqlite")
    bad = tmp_path / "bad.sqlite"
    bad.write_text("not a database")
    with pytest.raises(InvalidInput, match="not a predmarket history"):
        Recorder.load(bad)


def test_outcome_event_quotes_states():
    s = OutcomeSpace([Variable("t", ["20-25", "25+"]), Variable("x", ["0", "1"])])
    m = Market(s, 1.0)
    assert m.price(outcome_event({"t": "20-25", "x": "0"})) == pytest.approx(0.25)


def test_sweep_is_parameters_times_seeds():
    def experiment(liquidity, target, rng):
        res = Simulation(lambda: Market(space(), liquidity),
                         {"t": lambda v: Target("rain == yes", target)}, rounds=1,
                         world=lambda g: {"rain": "yes", "wind": "calm"}, rng=rng).run()
        return res

    rows = sweep(experiment, {"liquidity": [1.0, 10.0], "target": [0.6, 0.9]}, seeds=2)
    assert len(rows) == 8
    assert [(r["liquidity"], r["target"], r["seed"]) for r in rows[:3]] == [
        (1.0, 0.6, 0), (1.0, 0.6, 1), (1.0, 0.9, 0)]
    for r in rows:  # log score of the truth after moving P(rain) to target, wind uniform
        assert r["log_score"] == pytest.approx(math.log(r["target"] * 0.5))
    frame = sweep(experiment, {"liquidity": [2.0], "target": [0.8]}, seeds=[5],
                  as_frame=True, show_progress=True)
    assert list(frame["seed"]) == [5] and "cash_t" in frame.columns


@pytest.mark.parametrize("grid, seeds, match", [
    ({"a": []}, 1, "empty"), ({"a": 3}, 1, "list"), ({"a": [1]}, 0, ">= 1"),
    ({"a": [1]}, [-1], "non-negative"), ([1], 1, "map")])
def test_sweep_validation(grid, seeds, match):
    with pytest.raises(InvalidInput, match=match):
        sweep(lambda a, rng: {}, grid, seeds=seeds)


def test_sweep_rejects_non_mapping_results():
    with pytest.raises(InvalidInput, match="mapping"):
        sweep(lambda a, rng: 3, {"a": [1]})


def test_summarize_counts():
    res = run(Recorder())
    s = summarize(res)
    assert s["trades"] == 18 and s["faults"] == 0
    assert np.isfinite(s["log_score"])


def test_latent_market_records_scores_of_the_observed_part():
    s = OutcomeSpace([Variable("z", ["a", "b"]), Variable("x", ["0", "1"])])
    market = Market(s, 10.0, latent=["z"])
    rec = Recorder(["x == 1", "z == a"])
    res = Simulation(market, {"t": lambda v: [Target("x == 1", 0.8, given="z == a"),
                                              Target("z == a", 0.6)]},
                     rounds=1, world=lambda rng: {"x": "1"}, rng=0, recorder=rec).run()
    assert res.trades == 2
    acc = next(r for r in rec.rows("accounts") if r[1] == 1)
    assert math.isnan(acc[6])  # assets are over x only, prices over (z, x)
    p_x = 0.6 * 0.8 + 0.4 * 0.5
    score = next(r for r in rec.rows("scores") if r[1] == 1)[3]
    assert score == pytest.approx(math.log(p_x))
    truths = {r[1]: r[3] for r in rec.rows("outcomes")}
    assert truths["x == 1"] == 1.0
    assert truths["z == a"] == pytest.approx(0.6 * 0.8 / p_x)  # still open: its posterior


def test_recorded_worst_case_is_min_asset():
    s = OutcomeSpace([Variable("z", ["a", "b"]), Variable("x", ["0", "1"])])
    market = Market(s, 10.0, latent=["z"])
    rec = Recorder()
    Simulation(market, {"t": lambda v: [Target("x == 1", 0.9, given="z == a"),
                                        Target("x == 0", 0.7)]}, rounds=2, rng=0,
               recorder=rec).run()
    assert not market.settled
    last = next(r for r in rec.rows("accounts") if r[1] == 2)
    assert last[5] == pytest.approx(market.min_asset("t"))
    assert last[4] == pytest.approx(market.cash("t"))
