"""Server-side plots and tables of an EvaluationReport's `results` JSON. No Django imports.

`results` looks like {"ks": [5, 10, 20, 50], "seeds": [0, 1, 2], "scenarios": {"warm": {"hybrid": {"ndcg@20": 0.41,
"recall@5": ...}, ...}, ...}, "per_seed": {"warm": {"hybrid": {"ndcg@20": [0.40, 0.42, 0.41], ...}}}}.
Missing scenarios, methods or metrics are skipped, never guessed.
"""

import io
import math

from recommender.ml.splits import SCENARIOS

SCENARIO_ORDER = list(SCENARIOS)
SCENARIO_LABELS = {
    "warm": "Warm",
    "item_cold": "Item cold-start",
    "user_cold": "User cold-start",
    "few_shot": "Few-shot",
    "user_cold_trained": "User cold-start, trained on",
    "few_shot_trained": "Few-shot, trained on",
    "item_cold_trained": "Item cold-start, trained on",
}
METHOD_ORDER = ["hybrid", "ease", "content_knn", "demographic_popularity", "popularity", "random"]
# Okabe-Ito: distinguishable with colour-blindness; the hybrid gets the strongest colour.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#999999", "#D55E00", "#F0E442", "#000000"]
NDCG_KEY = "ndcg@20"


def _ordered(keys, preferred: list[str]) -> list[str]:
    """Known keys in the preferred order, then any others alphabetically."""
    keys = list(keys)
    return [k for k in preferred if k in keys] + sorted(k for k in keys if k not in preferred)


def _number(value) -> float | None:
    """A finite float, or None for anything missing or not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def scenarios(results: dict) -> list[str]:
    """Scenario names in display order."""
    return _ordered((results or {}).get("scenarios", {}) or {}, SCENARIO_ORDER)


def methods(results: dict) -> list[str]:
    """Every method that appears in any scenario, in display order."""
    seen = {m for per_method in ((results or {}).get("scenarios") or {}).values() for m in (per_method or {})}
    return _ordered(seen, METHOD_ORDER)


def scenario_label(name: str) -> str:
    """A human label for a scenario key."""
    return SCENARIO_LABELS.get(name, name.replace("_", " ").capitalize())


def metric(results: dict, scenario: str, method: str, key: str) -> float | None:
    """One metric value, or None when it is absent."""
    return _number(((((results or {}).get("scenarios") or {}).get(scenario) or {}).get(method) or {}).get(key))


def metric_table(results: dict, key: str = NDCG_KEY) -> dict:
    """Rows of scenario x method values of one metric, the best value of each row flagged."""
    method_names = methods(results)
    rows = []
    for scenario in scenarios(results):
        values = [metric(results, scenario, m, key) for m in method_names]
        present = [v for v in values if v is not None]
        best = max(present) if present else None
        cells = [
            {"method": m, "value": v, "best": v is not None and v == best}
            for m, v in zip(method_names, values, strict=True)
        ]
        rows.append({"scenario": scenario, "label": scenario_label(scenario), "cells": cells})
    has_values = any(cell["value"] is not None for row in rows for cell in row["cells"])
    return {"metric": key, "methods": method_names, "rows": rows, "has_values": has_values}


def _seed_values(results: dict, scenario: str, method: str, key: str, n_seeds: int) -> list[float | None]:
    """One method's value of one metric on each seed (None where it is missing)."""
    per_seed = ((((results or {}).get("per_seed") or {}).get(scenario) or {}).get(method) or {}).get(key)
    values = per_seed if isinstance(per_seed, list) and len(per_seed) == n_seeds else [None] * n_seeds
    return [_number(v) for v in values]


def seed_table(results: dict, key: str = NDCG_KEY, *, lead: str = "hybrid") -> dict:
    """One metric seed by seed: per scenario, each method's value on every seed (the best method of each
    seed flagged), and `behind`: the seeds on which `lead` is not strictly ahead of every other method
    (empty: ahead on every seed; None: `lead` has no values there). Reports stored before per-seed
    values were kept have none (`has_values` False)."""
    seeds = list((results or {}).get("seeds") or [])
    method_names = methods(results)
    rows = []
    for scenario in scenarios(results):
        values = {m: _seed_values(results, scenario, m, key, len(seeds)) for m in method_names}
        best = [max((v[i] for v in values.values() if v[i] is not None), default=None) for i in range(len(seeds))]
        cells = [
            {
                "method": m,
                "values": [{"value": v, "best": v is not None and v == best[i]} for i, v in enumerate(values[m])],
            }
            for m in method_names
        ]
        ours = values.get(lead, [None] * len(seeds))
        behind = None
        if any(v is not None for v in ours):
            behind = [
                seed
                for i, seed in enumerate(seeds)
                if ours[i] is None or any(v[i] is not None and v[i] >= ours[i] for m, v in values.items() if m != lead)
            ]
        rows.append({"scenario": scenario, "label": scenario_label(scenario), "cells": cells, "behind": behind})
    has_values = any(v["value"] is not None for row in rows for cell in row["cells"] for v in cell["values"])
    return {
        "metric": key,
        "seeds": seeds,
        "methods": method_names,
        "lead": lead,
        "rows": rows,
        "has_values": has_values,
    }


def _behind_text(seeds: list) -> str:
    return f"no (seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))})" if seeds else "yes"


def seed_table_markdown(results: dict, key: str = NDCG_KEY) -> str:
    """`seed_table` as Markdown, methods down and scenarios across like `manage.py evaluate`'s other
    tables: each cell is a method's value on every seed ("a / b / c"), and a last row says per scenario
    whether the hybrid is ahead of every other method on every seed. Empty for a report stored before
    per-seed values were kept."""
    table = seed_table(results, key)
    if not table["has_values"]:
        return ""
    rows = table["rows"]
    seeds = ", ".join(str(s) for s in table["seeds"])
    lines = [
        f"| {key}, seeds {seeds} | " + " | ".join(row["scenario"] for row in rows) + " |",
        "|---|" + "---:|" * len(rows),
    ]
    for i, method in enumerate(table["methods"]):
        cells = [
            " / ".join("—" if v["value"] is None else f"{v['value']:.4f}" for v in row["cells"][i]["values"])
            for row in rows
        ]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    verdicts = ["—" if row["behind"] is None else _behind_text(row["behind"]) for row in rows]
    lines.append(f"| {table['lead']} ahead on every seed | " + " | ".join(verdicts) + " |")
    return "\n".join(lines)


def metric_keys(results: dict, scenario: str) -> list[str]:
    """All metric names reported in one scenario, grouped by family then by K."""

    def sort_key(name: str):
        family, _, k = name.partition("@")
        return (family, int(k) if k.isdigit() else math.inf, name)

    per_method = ((results or {}).get("scenarios") or {}).get(scenario) or {}
    return sorted({key for values in per_method.values() for key in (values or {})}, key=sort_key)


def scenario_table(results: dict, scenario: str) -> dict:
    """Every metric of every method reported in one scenario (None where a method lacks one)."""
    keys = metric_keys(results, scenario)
    per_method = ((results or {}).get("scenarios") or {}).get(scenario) or {}
    rows = [
        {"method": m, "values": [metric(results, scenario, m, key) for key in keys]}
        for m in methods(results)
        if per_method.get(m)
    ]
    return {"name": scenario, "label": scenario_label(scenario), "keys": keys, "rows": rows}


def _colours(method_names: list[str]) -> dict[str, str]:
    return {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(method_names)}


def _figure(**kwargs):
    """A new matplotlib Figure on the Agg backend (imported here: the site's other pages never pay for it)."""
    import matplotlib

    matplotlib.use("Agg")  # no display: render to files only
    from matplotlib.figure import Figure

    return Figure(layout="constrained", **kwargs)


def _svg(fig) -> str:
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "report"}):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    return buf.getvalue()


def recall_curves_svg(results: dict) -> str:
    """Recall@K against K, one panel per scenario, one line per method, as an SVG document."""
    ks = sorted(k for k in ((results or {}).get("ks") or []) if _number(k) is not None)
    names, method_names = scenarios(results), methods(results)
    colours = _colours(method_names)
    cols = 2 if len(names) > 1 else 1
    rows = max(1, math.ceil(len(names) / cols))
    fig = _figure(figsize=(4.6 * cols, 3.3 * rows + 0.6))
    axes = fig.subplots(rows, cols, squeeze=False, sharey=True)
    for ax in axes.flat[len(names) :]:
        ax.set_visible(False)
    if not names or not ks:
        axes[0][0].set_visible(True)
        axes[0][0].text(0.5, 0.5, "No Recall@K values in this report", ha="center", va="center")
        axes[0][0].set_axis_off()
        return _svg(fig)
    for ax, scenario in zip(axes.flat, names, strict=False):
        for method in method_names:
            points = [(k, metric(results, scenario, method, f"recall@{k}")) for k in ks]
            points = [(k, v) for k, v in points if v is not None]
            if points:
                xs, ys = zip(*points, strict=True)
                width = 2.6 if method == "hybrid" else 1.5
                ax.plot(xs, ys, marker="o", markersize=4, linewidth=width, color=colours[method], label=method)
        ax.set_title(scenario_label(scenario), fontsize=11)
        ax.set_xscale("log")
        ax.set_xticks(ks, [str(k) for k in ks])
        ax.minorticks_off()
        ax.set_xlabel("K")
        ax.grid(True, alpha=0.3)
    for ax in axes[:, 0]:
        ax.set_ylabel("Recall@K")
    handles, labels = [], []
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 6), frameon=False)
    return _svg(fig)


def ndcg_bars_svg(results: dict, key: str = NDCG_KEY) -> str:
    """Grouped bars of one metric (NDCG@20): a group per scenario, a bar per method, as SVG."""
    names, method_names = scenarios(results), methods(results)
    colours = _colours(method_names)
    fig = _figure(figsize=(max(6.0, 1.9 * len(names) + 2), 3.8))
    ax = fig.subplots()
    if not names or not method_names:
        ax.text(0.5, 0.5, f"No {key.upper()} values in this report", ha="center", va="center")
        ax.set_axis_off()
        return _svg(fig)
    width = 0.8 / len(method_names)
    for i, method in enumerate(method_names):
        xs, ys = [], []
        for j, scenario in enumerate(names):
            value = metric(results, scenario, method, key)
            if value is not None:
                xs.append(j - 0.4 + width * (i + 0.5))
                ys.append(value)
        ax.bar(xs, ys, width=width, color=colours[method], label=method, edgecolor="white", linewidth=0.5)
    ax.set_xticks(range(len(names)), [scenario_label(s) for s in names])
    ax.set_ylabel(key.upper())
    ax.grid(True, axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    fig.legend(loc="outside lower center", ncols=min(len(method_names), 6), frameon=False)
    return _svg(fig)


REGIME_STYLES = {
    "warm": "-",
    "few_shot": "--",
    "user_cold": ":",
    "fallback": "-.",
    "new_items": (0, (5, 1, 1, 1, 1, 1)),
}


def online_over_time_svg(rows: list[dict], top: int = 10) -> str:
    """Click-through@top and like rate@top per day shown, a line per model version and regime (colour:
    version, dash: regime), from `staff_selectors.online_metrics_by_day` rows, as SVG."""
    fig = _figure(figsize=(10.0, 3.6))
    axes = fig.subplots(1, 2, sharex=True)
    series: dict[tuple, list] = {}
    for row in rows:
        series.setdefault((row["model_version_id"], row["regime"]), []).append(row)
    if not series:
        axes[0].text(0.5, 0.5, "No feed shown in this period", ha="center", va="center")
        for ax in axes:
            ax.set_axis_off()
        return _svg(fig)
    versions = sorted({v for v, _ in series}, key=lambda v: (v is None, -(v or 0)))
    colours = {v: PALETTE[i % len(PALETTE)] for i, v in enumerate(versions)}
    for ax, key, title in ((axes[0], "ctr", f"Click-through@{top}"), (axes[1], "like_rate", f"Like rate@{top}")):
        for (version, regime), points in sorted(
            series.items(), key=lambda item: (versions.index(item[0][0]), item[0][1])
        ):
            label = f"{'v' + str(version) if version else 'no model'} {regime.replace('_', '-')}"
            ax.plot(
                [p["day"] for p in points],
                [p[key] for p in points],
                linestyle=REGIME_STYLES.get(regime, "-"),
                marker="o",
                markersize=3,
                color=colours[version],
                label=label,
            )
        ax.set_title(title, fontsize=11)
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        ax.tick_params(axis="x", labelrotation=30)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 4), frameon=False)
    return _svg(fig)
