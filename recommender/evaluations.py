"""Running the offline evaluation on the database's data and storing it as an EvaluationReport."""

from recommender.dataset import build_recdata
from recommender.embeddings.services import embed_missing
from recommender.ml.evaluation import METHODS, evaluate
from recommender.ml.splits import SCENARIOS
from recommender.models import EvaluationReport, ModelVersion


def evaluation_run(
    *, ks=(5, 10, 20, 50), seeds=(0, 1, 2), scenarios=SCENARIOS, methods=METHODS, positive_rating=None, log=None
) -> EvaluationReport:
    """Evaluate every method in every scenario on the current data and store the report."""
    embed_missing()
    data = build_recdata(positive_rating=positive_rating)
    results = evaluate(data, ks=ks, seeds=seeds, scenarios=scenarios, methods=methods, log=log)
    params = {
        "ks": list(ks),
        "seeds": list(seeds),
        "scenarios": list(scenarios),
        "methods": list(methods),
        "positive_rating": positive_rating,
        "n_users": data.n_users,
        "n_items": data.n_items,
        "n_interactions": len(data.user_idx),
    }
    live = ModelVersion.objects.filter(is_live=True).first()
    return EvaluationReport.objects.create(params=params, results=results, model_version=live)


def report_table(results: dict, *, metric: str = "ndcg@20") -> str:
    """A plain-text (and Markdown) table of one metric: methods down, scenarios across, best marked *."""
    scenarios = list(results["scenarios"])
    methods = list(next(iter(results["scenarios"].values())))
    best = {sc: max(results["scenarios"][sc][m].get(metric, 0.0) for m in methods) for sc in scenarios}
    lines = [f"| {metric} | " + " | ".join(scenarios) + " |", "|---|" + "---:|" * len(scenarios)]
    for method in methods:
        cells = []
        for sc in scenarios:
            value = results["scenarios"][sc][method].get(metric, 0.0)
            cells.append(f"**{value:.4f}**" if value == best[sc] else f"{value:.4f}")
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
