"""Isolation of a trader that calls ``sys.exit``, and a simulation that runs once."""

from __future__ import annotations

import sys

import pytest

from predmarket import Market, OutcomeSpace, Variable
from predmarket.errors import InvalidInput
from predmarket.sim import Buy, Recorder, Simulation, check_trader

SPACE = OutcomeSpace([Variable("rain", ["yes", "no"])])


def factory():
    return Market(SPACE, 5.0)


def buyer(view):
    return Buy("rain == yes", 1.0)


def quitter(view):
    sys.exit(3)


def test_a_trader_calling_sys_exit_is_a_fault_not_the_end_of_the_run():
    result = Simulation(factory, {"quit": quitter, "buy": buyer}, rounds=4,
                        world=lambda rng: {"rain": "yes"}, rng=0, max_faults=10).run()
    assert [(f.trader, f.kind) for f in result.faults] == [("quit", "raised")] * 4
    assert all("SystemExit" in f.message for f in result.faults)
    assert result.trades == 4
    assert result.cash["quit"] == 100.0


def test_check_trader_reports_sys_exit_as_raised():
    with pytest.raises(InvalidInput, match="raised: turn 0: SystemExit"):
        check_trader(quitter, factory)


def test_a_simulation_runs_once():
    rec = Recorder(["rain == yes"])
    sim = Simulation(factory, {"buy": buyer}, rounds=2, world=lambda rng: {"rain": "yes"},
                     rng=0, recorder=rec)
    first = sim.run()
    rows = list(rec.rows("prices"))
    with pytest.raises(InvalidInput, match="already run"):
        sim.run()
    assert rec.rows("prices") == rows
    assert first.trades == 2


def test_a_recorder_records_one_simulation():
    rec = Recorder(["rain == yes"])
    Simulation(factory, {"buy": buyer}, rounds=2, rng=0, recorder=rec).run()
    rows = {t: list(rec.rows(t)) for t in ("prices", "trades", "accounts")}
    with pytest.raises(InvalidInput, match="fresh Recorder"):
        Simulation(factory, {"buy": buyer}, rounds=2, rng=0, recorder=rec).run()
    assert {t: rec.rows(t) for t in rows} == rows


def test_a_trader_cannot_change_the_public_evidence_others_see():
    seen = []

    def vandal(view):
        view.public["reading"] = "tampered"
        view.public["log"].append("vandal was here")

    def reader(view):
        seen.append((view.public["reading"], list(view.public["log"])))

    from predmarket.sim import World

    world = World({"rain": "yes"}, public={"reading": "dry", "log": []})
    Simulation(factory, {"vandal": vandal, "reader": reader}, rounds=3,
               world=lambda rng: world, activation="fixed", rng=0).run()
    assert seen == [("dry", [])] * 3
    assert world.public == {"reading": "dry", "log": []}


def test_off_the_main_thread_an_overrun_is_measured_after_the_turn():
    """No interval timer off the main thread: the slow turn runs to its end, then its
    orders are dropped as a timeout fault (as the Simulation docstring says)."""
    import threading
    import time

    def slow(view):
        time.sleep(0.15)
        return Buy("rain == yes", 1.0)

    out = {}

    def run():
        out["result"] = Simulation(factory, {"slow": slow, "buy": buyer}, rounds=2, rng=0,
                                   time_budget=0.05, max_faults=5).run()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=60)
    result = out["result"]
    assert [(f.trader, f.kind) for f in result.faults] == [("slow", "timeout")] * 2
    assert all(f.message.startswith("turn took") for f in result.faults)
    assert result.trades == 2 and result.cash["slow"] == 100.0


def test_an_alarm_after_the_turn_interrupts_nothing():
    """The time-budget handler of a finished turn is inert: an alarm that arrives as the
    turn ends cannot raise inside the simulation's own code."""
    import signal as signals

    if not hasattr(signals, "setitimer"):
        pytest.skip("no interval timers on this platform")
    handlers = []

    def grab(view):
        handlers.append(signals.getsignal(signals.SIGALRM))
        return Buy("rain == yes", 1.0)

    before = signals.getsignal(signals.SIGALRM)
    result = Simulation(factory, {"grab": grab}, rounds=2, rng=0, time_budget=5.0).run()
    assert result.faults == [] and result.trades == 2
    assert signals.getsignal(signals.SIGALRM) is before
    assert len(handlers) == 2 and all(callable(h) for h in handlers)
    for handler in handlers:
        handler(signals.SIGALRM, None)  # must not raise TurnOverrun
