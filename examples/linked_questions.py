"""A market of 30 linked forecasting questions, kept as a Bayesian network.

The questions (all yes/no) and their links form a pgmpy ``DiscreteBayesianNetwork``: a
drought raises food prices, food prices raise unrest, and so on. The market starts at the
network's probabilities. Three traders then edit conditional probabilities inside the
network's families (Hanson's edit, structure-preserving in the sense of Pennock & Xia
2011). The script prints how each edit propagates to questions nobody traded directly,
shows a trade across cliques being refused (and what relink mode does instead), and
settles every question against an outcome drawn from the final market's network.

Run::

    PYTHONPATH=. python examples/linked_questions.py
"""

from __future__ import annotations

import numpy as np

from predmarket import Market
from predmarket.errors import CrossCliqueTrade

# question: (parents, base rate of "yes", log-odds added when each parent is "yes")
QUESTIONS: dict[str, tuple[tuple[str, ...], float, tuple[float, ...]]] = {
    "el_nino": ((), 0.35, ()),
    "drought_africa": (("el_nino",), 0.20, (1.4,)),
    "drought_asia": (("el_nino",), 0.15, (1.2,)),
    "wheat_price_up": (("drought_africa", "drought_asia"), 0.25, (1.0, 1.3)),
    "rice_price_up": (("drought_asia",), 0.20, (1.6,)),
    "food_inflation": (("wheat_price_up", "rice_price_up"), 0.20, (1.2, 1.0)),
    "oil_price_up": ((), 0.40, ()),
    "shipping_disrupted": (("oil_price_up",), 0.15, (0.8,)),
    "headline_inflation": (("food_inflation", "oil_price_up"), 0.30, (1.1, 1.4)),
    "fed_hikes": (("headline_inflation",), 0.25, (1.8,)),
    "ecb_hikes": (("headline_inflation",), 0.20, (1.5,)),
    "strong_dollar": (("fed_hikes",), 0.35, (1.0,)),
    "em_currency_crisis": (("strong_dollar", "food_inflation"), 0.08, (1.3, 0.9)),
    "us_recession": (("fed_hikes", "oil_price_up"), 0.15, (1.2, 0.7)),
    "eu_recession": (("ecb_hikes", "shipping_disrupted"), 0.18, (1.1, 0.9)),
    "unemployment_up": (("us_recession",), 0.20, (2.2,)),
    "sp500_down": (("us_recession", "fed_hikes"), 0.25, (1.6, 0.6)),
    "tech_layoffs": (("sp500_down",), 0.30, (1.2,)),
    "housing_slump": (("fed_hikes",), 0.20, (1.4,)),
    "unrest_africa": (("food_inflation", "drought_africa"), 0.10, (1.3, 0.8)),
    "migration_surge": (("unrest_africa",), 0.15, (1.5,)),
    "eu_populist_gains": (("migration_surge", "eu_recession"), 0.25, (0.9, 0.8)),
    "incumbent_loses_us": (("us_recession", "unemployment_up"), 0.40, (0.9, 0.6)),
    "trade_tariffs": (("incumbent_loses_us",), 0.30, (0.7,)),
    "china_slowdown": (("trade_tariffs", "strong_dollar"), 0.25, (0.8, 0.4)),
    "commodity_slump": (("china_slowdown",), 0.20, (1.3,)),
    "ai_capex_boom": ((), 0.55, ()),
    "chip_shortage": (("ai_capex_boom",), 0.20, (1.0,)),
    "data_center_power_crunch": (("ai_capex_boom",), 0.25, (1.2,)),
    "nasdaq_record": (("ai_capex_boom", "sp500_down"), 0.40, (1.0, -1.8)),
}


def build_model():
    """The questions as a pgmpy network; P(yes | parents) = logistic(base + effects)."""
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    model = DiscreteBayesianNetwork()
    model.add_nodes_from(QUESTIONS)
    for q, (parents, _base, _fx) in QUESTIONS.items():
        model.add_edges_from((p, q) for p in parents)
    cpds = []
    for q, (parents, base, effects) in QUESTIONS.items():
        configs = np.array(np.meshgrid(*[[1, 0]] * len(parents), indexing="ij")).reshape(
            len(parents), -1) if parents else np.zeros((0, 1))
        logit = np.log(base / (1 - base)) + np.asarray(effects) @ configs
        p_yes = 1 / (1 + np.exp(-logit))
        cpds.append(TabularCPD(q, 2, [p_yes, 1 - p_yes], evidence=list(parents) or None,
                               evidence_card=[2] * len(parents) or None,
                               state_names={n: ["yes", "no"] for n in (q, *parents)}))
    model.add_cpds(*cpds)
    return model


def show(m: Market, before: dict[str, float], touched: set[str], title: str) -> dict:
    now = {q: m.price(f"{q} == yes") for q in QUESTIONS}
    print(f"\n== {title}")
    moved = sorted(QUESTIONS, key=lambda q: -abs(now[q] - before[q]))
    for q in moved[:8]:
        if abs(now[q] - before[q]) < 5e-4:
            break
        tag = "traded" if q in touched else "propagated"
        print(f"  {q:<26} {before[q]:.3f} -> {now[q]:.3f}   ({tag})")
    return now


def sample_outcome(m: Market, rng: np.random.Generator) -> dict[str, str]:
    """Ancestral sampling from the market's final network (its CPTs, parents first)."""
    model = m.to_bayesian_network()
    import networkx as nx

    outcome: dict[str, str] = {}
    for q in nx.topological_sort(model):
        cpd = model.get_cpds(q)
        column = cpd.to_factor().reduce([(p, outcome[p]) for p in cpd.variables[1:]],
                                        inplace=False)
        probs = [column.get_value(**{q: s}) for s in ("yes", "no")]
        outcome[q] = "yes" if rng.random() < probs[0] / sum(probs) else "no"
    return outcome


def main(seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    m = Market.from_bayesian_network(build_model(), liquidity=50.0)
    tree = m.maker.tree
    print(f"{len(QUESTIONS)} questions, junction tree of {len(tree.cliques)} cliques "
          f"(largest {tree.structure.width + 1} questions); maker's worst-case loss "
          f"{m.subsidy:.1f}")
    traders = {name: m.open_account(name, cash=200.0) for name in ("climatologist",
                                                                   "macro_fund", "pollster")}
    prices = {q: m.price(f"{q} == yes") for q in QUESTIONS}
    touched: set[str] = set()

    m.edit(traders["climatologist"], "el_nino == yes", 0.70)
    touched.add("el_nino")
    prices = show(m, prices, touched, "climatologist: P(el_nino) -> 0.70")

    m.edit(traders["macro_fund"], "fed_hikes == yes", 0.85, given="headline_inflation == yes")
    touched.add("fed_hikes")
    prices = show(m, prices, touched, "macro_fund: P(fed_hikes | headline_inflation) -> 0.85")

    m.edit(traders["pollster"], "incumbent_loses_us == yes", 0.80,
           given="us_recession == yes & unemployment_up == yes")
    touched.add("incumbent_loses_us")
    prices = show(m, prices, touched,
                  "pollster: P(incumbent_loses_us | us_recession, unemployment_up) -> 0.80")

    print("\n== a trade across cliques (refuse mode)")
    try:
        m.edit(traders["pollster"], "nasdaq_record == yes", 0.2, given="el_nino == yes")
    except CrossCliqueTrade as exc:
        print(f"  refused: {exc}")
    relinked = Market.from_bayesian_network(build_model(), liquidity=50.0,
                                            cross_clique="relink")
    acct = relinked.open_account("pollster", cash=200.0)
    relinked.edit(acct, "nasdaq_record == yes", 0.2, given="el_nino == yes")
    print(f"  relink mode: link added, tree now {len(relinked.maker.tree.cliques)} cliques, "
          f"P(nasdaq_record | el_nino) = "
          f"{relinked.price('nasdaq_record == yes', given='el_nino == yes'):.3f}")

    print("\n== accounts before settlement (min-sum / sum-product over the junction tree)")
    for name, acct in traders.items():
        print(f"  {name:<14} cash {m.cash(acct):7.2f}  worst case {m.min_asset(acct):7.2f}  "
              f"expected {m.expected_assets(acct):7.2f}")
    outcome = sample_outcome(m, rng)
    payouts = m.settle(outcome)
    print("\n== settled on a sampled outcome "
          f"({sum(v == 'yes' for v in outcome.values())} of 30 questions resolved yes)")
    for name, acct in traders.items():
        print(f"  {name:<14} paid {payouts[name]:+7.2f}   final cash {m.cash(acct):7.2f}")
    m.check()


if __name__ == "__main__":
    main()
