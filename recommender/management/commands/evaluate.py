"""Offline evaluation: every method in every cold-start scenario, stored as an EvaluationReport."""

from django.core.management.base import BaseCommand, CommandError

from recommender.evaluations import EvaluationRunning, evaluation_run, report_table
from recommender.ml.evaluation import METHODS
from recommender.ml.splits import SCENARIOS
from recommender.plots import seed_table_markdown


class Command(BaseCommand):
    help = "Evaluate random, popularity, demographic popularity, EASE, content-kNN and the hybrid model."

    def add_arguments(self, parser):
        parser.add_argument("--k", type=int, nargs="+", default=[5, 10, 20, 50])
        parser.add_argument("--seeds", type=int, default=3, help="number of seeds (0..N-1) to average over")
        parser.add_argument("--scenarios", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
        parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
        parser.add_argument("--positive-rating", type=float, default=None, help="default: POSITIVE_RATING")

    def handle(self, *args, k, seeds, scenarios, methods, positive_rating, **options):
        if seeds < 1 or any(x < 1 for x in k):
            raise CommandError("--seeds and every --k must be at least 1")
        try:
            report = evaluation_run(
                ks=sorted(set(k)),
                seeds=list(range(seeds)),
                scenarios=scenarios,
                methods=methods,
                positive_rating=positive_rating,
                log=lambda line: self.stderr.write(line),
            )
        except EvaluationRunning as error:
            raise CommandError(str(error)) from None
        ndcg = f"ndcg@{max(x for x in k if x <= 20) if min(k) <= 20 else min(k)}"
        for metric in (ndcg, f"recall@{max(k)}"):
            self.stdout.write(report_table(report.results, metric=metric) + "\n")
        self.stdout.write(seed_table_markdown(report.results, ndcg) + "\n")
        self.stdout.write(self.style.SUCCESS(f"Stored evaluation report {report.pk}"))
