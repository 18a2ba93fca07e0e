"""The simulation examples run at small sizes and print their results."""

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_forecasting_from_code_market_beats_every_trader():
    lines = []
    result = load("forecasting_from_code").main(episodes=80, seed=1, out=lines.append)
    assert result["market_beats_every_trader"]
    scores = result["scores"]
    assert all(scores["market"] > scores[n] for n in ("thermometer", "barometer", "lightning"))
    assert scores["market"] > scores["prior only"]
    assert result["gap_to_pooled_bayes"] < 1e-9  # the market pooled all three readings
    assert result["faults"] == []
    assert lines[-1] == "market beats every single trader: True"


def test_bounded_rationality_accuracy_grows_with_compute(tmp_path):
    lines = []
    figure = tmp_path / "accuracy.png"
    rows = load("bounded_rationality").main(budgets=(1, 32, 512), episodes=12, seed=0,
                                            figure=str(figure), out=lines.append)
    for kind in ("sampling", "gibbs"):
        mine = [r for r in rows if r["kind"] == kind]
        assert [r["total_compute"] for r in mine] == [1 * 4 * 12, 32 * 4 * 12, 512 * 4 * 12]
        assert mine[-1]["market_log_score"] > mine[0]["market_log_score"]
    assert all(r["market_log_score"] <= r["exact_posterior"] + 0.5 for r in rows)
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert any("budget k" in line for line in lines)


def test_forecasting_example_runs_as_a_script():
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "forecasting_from_code.py"),
                          "--episodes", "40"], capture_output=True, text=True, cwd=ROOT,
                         env={"PYTHONPATH": str(ROOT), "PATH": ""}, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    assert "market beats every single trader: True" in out.stdout
