"""The predmarket command: demo, run SCENARIO, plot HISTORY."""

import io
import sqlite3
from contextlib import redirect_stdout

import pytest

from predmarket.cli import main


def call(*argv):
    buf = io.StringIO()
    with redirect_stdout(buf):
        code = main(list(argv))
    return code, buf.getvalue()


def test_demo():
    code, out = call("demo", "--rounds", "2")
    assert code == 0 and "settled on" in out


def test_run_writes_a_history_and_figures(tmp_path):
    code, out = call("run", "weather", "--episodes", "3", "--rounds", "2", "--out",
                     str(tmp_path))
    assert code == 0
    assert "scenario weather: 3 episodes x 2 rounds" in out
    db = tmp_path / "history.sqlite"
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT COUNT(DISTINCT episode) FROM prices").fetchone()[0] == 3
    for name in ("prices.png", "calibration.png", "wealth.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"


def test_run_arbitrage_without_figures(tmp_path):
    code, out = call("run", "arbitrage", "--episodes", "2", "--rounds", "3", "--out",
                     str(tmp_path), "--no-figures", "--seed", "4")
    assert code == 0 and "cash_arbitrageur" in out
    assert (tmp_path / "history.sqlite").exists() and not (tmp_path / "prices.png").exists()


def test_plot_a_saved_history(tmp_path):
    call("run", "weather", "--episodes", "2", "--rounds", "2", "--out", str(tmp_path),
         "--no-figures")
    code, out = call("plot", str(tmp_path / "history.sqlite"), "--out", str(tmp_path / "f"),
                     "--episode", "1")
    assert code == 0 and out.count("figure:") == 3
    assert (tmp_path / "f" / "wealth.png").exists()


def test_plot_refuses_what_is_not_a_history(tmp_path, capsys):
    bad = tmp_path / "x.sqlite"
    bad.write_text("hello")
    assert main(["plot", str(bad)]) == 2
    assert "not a predmarket history" in capsys.readouterr().err
    assert main(["plot", str(tmp_path / "missing.sqlite")]) == 2


@pytest.mark.parametrize("argv", [["run", "nope"], ["run", "weather", "--episodes", "0"],
                                  ["demo", "--seed", "-1"], ["fly"]])
def test_bad_arguments_exit_with_usage(argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
