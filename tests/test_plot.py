"""Figures: produced from a simulation's history, saved as PNG, drawn from the right data."""

import subprocess
import sys

import numpy as np
import pytest

from predmarket.errors import InvalidInput
from predmarket.plot import calibration, calibration_table, price_paths, save_figures, wealth
from predmarket.sim import Recorder
from predmarket.sim.scenarios import weather

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def history():
    return weather(episodes=12, rounds=4, rng=0).run().recorder


def test_figures_are_written_as_png(history, tmp_path):
    paths = save_figures(history, tmp_path / "figs")
    assert [p.name for p in paths] == ["prices.png", "calibration.png", "wealth.png"]
    import matplotlib.image as mpimg

    for path in paths:
        assert path.read_bytes()[:8] == PNG
        image = mpimg.imread(path)
        assert image.shape[0] >= 300 and image.shape[1] >= 300
        assert float(image[..., :3].std()) > 0.05  # something is drawn


def test_figures_from_a_saved_history(history, tmp_path):
    db = history.save(tmp_path / "h.sqlite")
    fig = price_paths(db, events=["rain == yes"], episode=3, path=tmp_path / "p.png")
    ax = fig.axes[0]
    # one price line plus its truth marker; the line is the recorded series
    series = [r[3] for r in history.rows("prices") if r[0] == 3 and r[2] == "rain == yes"]
    assert list(ax.lines[0].get_ydata()) == pytest.approx(series)
    truth = next(r[3] for r in history.rows("outcomes") if r[0] == 3 and r[1] == "rain == yes")
    assert list(ax.lines[1].get_ydata()) == [truth]
    w = wealth(db, path=tmp_path / "w.png")
    assert len(w.axes[0].get_legend().get_texts()) == 5
    assert (tmp_path / "p.png").read_bytes()[:8] == PNG


def test_wealth_lines_sum_each_traders_markets(history):
    fig = wealth(history)
    line = {ln.get_label(): ln for ln in fig.axes[0].lines if not ln.get_label().startswith("_")}
    bayes = [r[6] for r in history.rows("accounts") if r[2] == "bayes"]
    assert list(line["bayes"].get_ydata()) == pytest.approx(bayes)


def test_calibration_table_matches_a_direct_count(history):
    table = calibration_table(history, bins=5)
    pairs = np.array([(p, t) for _, _, p, t in history.rows("outcomes")])
    assert sum(r[4] for r in table) == len(pairs)
    for low, high, mean_price, freq, n in table:
        inside = (pairs[:, 0] >= low) & ((pairs[:, 0] < high) | (high == 1.0))
        assert n == inside.sum()
        assert mean_price == pytest.approx(pairs[inside, 0].mean())
        assert freq == pytest.approx(pairs[inside, 1].mean())
    fig = calibration(history, bins=5)
    assert fig.axes[0].get_xlabel() == "closing price"


def test_plot_errors(history, tmp_path):
    with pytest.raises(InvalidInput, match="not recorded"):
        price_paths(history, events=["snow == yes"])
    with pytest.raises(InvalidInput, match="no prices"):
        price_paths(Recorder())
    with pytest.raises(InvalidInput, match="no resolved"):
        calibration(Recorder())
    with pytest.raises(InvalidInput, match="no account"):
        wealth(Recorder())
    with pytest.raises(InvalidInput, match="PNG"):
        wealth(history, path=tmp_path / "w.jpg")
    with pytest.raises(InvalidInput, match="Recorder or the path"):
        wealth(42)
    with pytest.raises(InvalidInput, match="bins"):
        calibration_table(history, bins=0)


def test_heavy_libraries_load_lazily():
    code = ("import sys, predmarket, predmarket.sim, predmarket.traders, predmarket.plot, "
            "predmarket.cli; print(sorted(m for m in ('matplotlib', 'pandas', 'tqdm', 'pgmpy') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=False)
    assert out.stdout.strip() == "[]", out.stderr
