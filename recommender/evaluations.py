"""Running the offline evaluation on the database's data and storing it as an EvaluationReport.

A run holds the `evaluation` lease while it works and notes each step in it, so the staff pages show
that an evaluation is running and where it is (and a second run started meanwhile is refused).
"""

import datetime as dt
import os
import uuid

from recommender.dataset import build_recdata
from recommender.embeddings.services import embed_missing
from recommender.ml.evaluation import METHODS, evaluate
from recommender.ml.splits import SCENARIOS
from recommender.models import EvaluationReport, ModelVersion
from tasks import locks

EVALUATION_LOCK = "evaluation"
EVALUATION_LEASE = dt.timedelta(minutes=2)  # renewed while the run is alive (tasks.locks.renewed)


class EvaluationRunning(Exception):
    """Another evaluation holds the lease."""


def evaluation_run(
    *, ks=(5, 10, 20, 50), seeds=(0, 1, 2), scenarios=SCENARIOS, methods=METHODS, positive_rating=None, log=None
) -> EvaluationReport:
    """Evaluate every method in every scenario on the current data and store the report.

    EvaluationRunning when another run holds the `evaluation` lease."""
    owner = f"evaluate-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    if not locks.claim(name=EVALUATION_LOCK, owner=owner, lease=EVALUATION_LEASE):
        raise EvaluationRunning("another evaluation is running (see the staff page)")
    try:
        with locks.renewed(name=EVALUATION_LOCK, owner=owner, lease=EVALUATION_LEASE):

            def progress(line: str) -> None:
                locks.note(name=EVALUATION_LOCK, owner=owner, progress=line.strip())
                if log:
                    log(line)

            progress("embedding what is missing and reading the data")
            return _run(ks, seeds, scenarios, methods, positive_rating, progress)
    finally:
        locks.release(name=EVALUATION_LOCK, owner=owner)


def _run(ks, seeds, scenarios, methods, positive_rating, log) -> EvaluationReport:
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
