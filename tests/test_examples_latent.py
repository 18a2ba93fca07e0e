"""Both latent and subsidy examples run at their small sizes, print their tables, and show
what they claim."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_latent_discovery_small(tmp_path):
    pytest.importorskip("matplotlib")
    out = io.StringIO()
    figure = tmp_path / "latent.png"
    result = load("latent_discovery").main(["--figure", str(figure)], out=out)
    text = out.getvalue()
    assert "KL(P*_O||P_O)" in text and "identified" in text
    history = result["history"]
    assert len(history) == 40
    # the joint moves toward the true observed distribution, the latent posterior toward
    # the truth (up to relabelling), and wealth toward the right hypothesis
    assert history[-1]["kl"] < history[0]["kl"] / 2
    assert history[-1]["posterior_error"] < history[0]["posterior_error"] / 2
    final = history[-1]
    assert final["share:latent-class"] > max(final["share:independent"], final["share:chain"])
    verdicts = {row[0]: row[3] for row in result["identification"]}
    assert verdicts == {"K=2, 4 indicators": "yes", "K=2, 3 indicators": "yes",
                        "K=3, 3 indicators": "no"}
    assert figure.stat().st_size > 10_000


def test_subsidy_routing_prints_its_tables_and_the_routing_result():
    """The default run (400 instances; the full run in papers/subsidy_routing.md uses 2000)
    prints both tables, and value-of-information routing beats root-only by more than the
    standard error of the paired difference."""
    out = io.StringIO()
    result = load("subsidy_routing").main([], out=out)
    text = out.getvalue()
    for policy in ("root-only", "uniform", "price-gradient", "value-of-information"):
        assert policy in text
    assert "free riding" in text and "hidden until root closes" in text
    riding = result["free_riding"]
    assert riding["hidden until root closes"]["riders"] == 0.0
    assert riding["hidden until root closes"]["funded"] > riding["public"]["funded"]
    for row in result["routing"].values():
        assert row["sponsor_loss"] <= 1.0
    voi = result["routing"]["value-of-information"]
    assert voi["diff"] < -voi["diff_se"]
    assert result["margin"] > 1
    assert "more than its standard error: True" in text


def test_subsidy_routing_refuses_too_few_instances(capsys):
    with pytest.raises(SystemExit):
        load("subsidy_routing").main(["--instances", "1"], out=io.StringIO())
    assert "at least 2" in capsys.readouterr().err
