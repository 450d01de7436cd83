"""recommender.plots: the report tables and SVG plots (pure functions, no database)."""

import math

from recommender import plots
from tests.site.data import realistic_results

RESULTS = {
    "ks": [5, 10],
    "scenarios": {
        "user_cold": {"popularity": {"ndcg@20": 0.2, "recall@5": 0.1}, "hybrid": {"ndcg@20": 0.3, "recall@10": 0.4}},
        "warm": {"hybrid": {"ndcg@20": 0.4}, "ease": {"ndcg@20": 0.4}, "mystery": {"ndcg@20": "n/a"}},
        "zebra": {},
    },
}


def test_orders_known_scenarios_and_methods_first():
    assert plots.scenarios(RESULTS) == ["warm", "user_cold", "zebra"]
    assert plots.methods(RESULTS) == ["hybrid", "ease", "popularity", "mystery"]
    assert plots.scenario_label("few_shot") == "Few-shot"
    assert plots.scenario_label("zebra_crossing") == "Zebra crossing"


def test_metric_reads_numbers_only():
    assert plots.metric(RESULTS, "warm", "hybrid", "ndcg@20") == 0.4
    assert plots.metric(RESULTS, "warm", "mystery", "ndcg@20") is None
    assert plots.metric(RESULTS, "warm", "hybrid", "recall@5") is None
    assert plots.metric(RESULTS, "nowhere", "hybrid", "ndcg@20") is None
    assert plots.metric({"scenarios": {"w": {"m": {"x": math.nan}}}}, "w", "m", "x") is None
    assert plots.metric({"scenarios": {"w": {"m": {"x": True}}}}, "w", "m", "x") is None
    assert plots.metric({}, "w", "m", "x") is None


def test_metric_table_flags_ties_and_skips_missing():
    table = plots.metric_table(RESULTS)
    assert table["methods"] == ["hybrid", "ease", "popularity", "mystery"]
    cells = {row["scenario"]: [(c["method"], c["value"], c["best"]) for c in row["cells"]] for row in table["rows"]}
    assert cells["warm"] == [
        ("hybrid", 0.4, True),
        ("ease", 0.4, True),
        ("popularity", None, False),
        ("mystery", None, False),
    ]
    assert cells["user_cold"] == [
        ("hybrid", 0.3, True),
        ("ease", None, False),
        ("popularity", 0.2, False),
        ("mystery", None, False),
    ]
    assert [value for _, value, _ in cells["zebra"]] == [None, None, None, None]


def test_scenario_table_sorts_metrics_by_family_then_k():
    table = plots.scenario_table(realistic_results(), "warm")
    assert table["keys"][:6] == [*(f"coverage@{k}" for k in (5, 10, 20, 50)), "diversity@5", "diversity@10"]
    assert "ndcg@20" in table["keys"]
    assert [row["method"] for row in table["rows"]] == plots.METHOD_ORDER
    hybrid = dict(zip(table["keys"], table["rows"][0]["values"], strict=True))
    assert hybrid["ndcg@20"] == 0.412


def test_svgs_name_every_scenario_and_method():
    results = realistic_results()
    for svg in (plots.recall_curves_svg(results), plots.ndcg_bars_svg(results)):
        assert svg.startswith("<?xml")
        labels = ("Warm", "Item cold-start", "User cold-start", "Few-shot", "User cold-start, trained on")
        for text in (
            *labels,
            "Few-shot, trained on",
            "Item cold-start, trained on",
            "hybrid",
            "demographic_popularity",
        ):
            assert text in svg


def test_svgs_are_deterministic_and_survive_empty_input():
    assert plots.ndcg_bars_svg(realistic_results()) == plots.ndcg_bars_svg(realistic_results())
    assert "No Recall@K values in this report" in plots.recall_curves_svg({})
    assert "No NDCG@20 values in this report" in plots.ndcg_bars_svg({"scenarios": {}})
    assert "<svg" in plots.recall_curves_svg({"ks": [5], "scenarios": {"warm": {"hybrid": {}}}})


SEEDED = {
    "seeds": [0, 1, 2],
    "scenarios": {"user_cold": {"hybrid": {}, "demographic_popularity": {}, "random": {}}, "warm": {"ease": {}}},
    "per_seed": {
        "user_cold": {
            "hybrid": {"ndcg@20": [0.41, 0.3845, 0.40]},
            "demographic_popularity": {"ndcg@20": [0.40, 0.3847, 0.40]},
            "random": {"ndcg@20": [0.04, 0.03]},  # not one value per seed: shown as missing
        },
        "warm": {"ease": {"ndcg@20": [0.41, 0.40, 0.42]}},
    },
}


def test_seed_table_flags_each_seeds_best_and_the_seeds_the_lead_is_not_ahead_on():
    table = plots.seed_table(SEEDED)
    assert table["seeds"] == [0, 1, 2] and table["lead"] == "hybrid" and table["has_values"]
    rows = {row["scenario"]: row for row in table["rows"]}
    cells = {c["method"]: [(v["value"], v["best"]) for v in c["values"]] for c in rows["user_cold"]["cells"]}
    assert cells["hybrid"] == [(0.41, True), (0.3845, False), (0.40, True)]
    assert cells["demographic_popularity"] == [(0.40, False), (0.3847, True), (0.40, True)]
    assert cells["random"] == cells["ease"] == [(None, False)] * 3
    # seed 1: behind; seed 2: a tie is not ahead
    assert rows["user_cold"]["behind"] == [1, 2]
    assert rows["warm"]["behind"] is None  # no hybrid there


def test_seed_table_of_a_report_without_per_seed_values_is_empty():
    table = plots.seed_table({k: v for k, v in SEEDED.items() if k != "per_seed"})
    assert not table["has_values"] and plots.seed_table_markdown({"seeds": [0], "scenarios": {}}) == ""
    assert all(row["behind"] is None for row in table["rows"])


def test_seed_table_markdown_lists_every_seed_and_the_verdict():
    text = plots.seed_table_markdown(SEEDED)
    assert text.splitlines() == [
        "| ndcg@20, seeds 0, 1, 2 | warm | user_cold |",
        "|---|---:|---:|",
        "| hybrid | — / — / — | 0.4100 / 0.3845 / 0.4000 |",
        "| ease | 0.4100 / 0.4000 / 0.4200 | — / — / — |",
        "| demographic_popularity | — / — / — | 0.4000 / 0.3847 / 0.4000 |",
        "| random | — / — / — | — / — / — |",
        "| hybrid ahead on every seed | — | no (seeds 1, 2) |",
    ]
