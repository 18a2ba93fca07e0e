"""The README quick start runs and gives the documented numbers."""

import math

import pytest

from predmarket import Market, OutcomeSpace, Variable


def test_quick_start_interface():
    space = OutcomeSpace([Variable("rain", ["yes", "no"]), Variable("wind", ["calm", "strong"])])
    m = Market(space, liquidity=10.0)
    a = m.open_account("alice", cash=100.0)
    assert m.price("rain == yes") == pytest.approx(0.5)
    assert m.price("rain == yes", given="wind == strong") == pytest.approx(0.5)
    quoted = m.quote(a, "rain == yes", shares=5.0)
    assert m.price("rain == yes") == pytest.approx(0.5)  # quoting changes nothing
    cost = m.buy(a, "rain == yes", shares=5.0)
    assert cost == pytest.approx(quoted)
    assert cost == pytest.approx(10 * math.log(0.5 + 0.5 * math.exp(0.5)))
    m.buy(a, "rain == yes", shares=2.0, given="wind == strong")
    m.edit(a, "rain == yes", 0.7, given="wind == strong")
    assert m.price("rain == yes", given="wind == strong") == pytest.approx(0.7)
    m.settle("rain == yes & wind == calm")
    assert m.settled
    m.check()
    assert [e.kind for e in m.ledger][-2:] == ["settle", "payout"]


def test_latent_quick_start():
    h = Market(OutcomeSpace([Variable("cause", ["c1", "c2", "c3"]),
                             Variable("rain", ["yes", "no"])]),
               liquidity=10.0, latent=["cause"])
    x = h.open_account("x", 10.0)
    h.edit(x, "cause == c1", 0.9)  # changes only P(latent | observed): pays 0
    payouts = h.settle("rain == yes")
    assert payouts["x"] == pytest.approx(0.0, abs=1e-9)
    h.check()


def test_demo_runs(capsys):
    from predmarket.cli import main

    assert main(["demo", "--rounds", "2"]) == 0
    out = capsys.readouterr().out
    assert "settled on" in out and "market maker" in out


def _readme_python_blocks():
    import pathlib
    import re

    readme = pathlib.Path(__file__).resolve().parents[1] / "README.md"
    return re.findall(r"```python\n(.*?)```", readme.read_text(encoding="utf-8"), flags=re.DOTALL)


def test_readme_python_blocks_run_in_order(tmp_path, monkeypatch):
    """Every Python block of README.md runs, read top to bottom in one namespace."""
    monkeypatch.chdir(tmp_path)  # blocks may write files (histories, figures)
    namespace: dict = {}
    for index, block in enumerate(_readme_python_blocks()):
        exec(compile(block, f"README.md python block {index}", "exec"), namespace)  # noqa: S102 (our own README)


def test_a_market_deep_copies_into_an_independent_market():
    import copy

    m = Market(OutcomeSpace([Variable("rain", ["yes", "no"])]), liquidity=5.0)
    a = m.open_account("a", 10.0)
    m.buy(a, "rain == yes", 2.0)
    twin = copy.deepcopy(m)
    twin.buy(a, "rain == yes", 3.0)
    assert len(twin.ledger) == len(m.ledger) + 1
    assert m.price("rain == yes") < twin.price("rain == yes")
    twin.settle("rain == yes")
    assert not m.settled
    m.check()
    twin.check()
