"""Staff pages: evaluation reports with plots, model versions, retraining and embedding coverage."""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from tasks import retrain as retrain_schedule

from . import plots, staff_selectors
from .models import EvaluationReport

PLOTS = {"recall": plots.recall_curves_svg, "ndcg": plots.ndcg_bars_svg}
COVERAGE_KEY = "coverage@20"  # catalog coverage: the share of ranked items in some evaluated user's top 20
DIVERSITY_KEY = "diversity@20"  # intra-list diversity: mean pairwise 1 - cosine of a top 20's text vectors


def staff_required(view):
    """Anonymous visitors go to the log-in page; signed-in non-staff get 403."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_staff:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _headline_metrics(metrics, limit: int = 6) -> list[tuple[str, float]]:
    """The first few plain numbers of a ModelVersion's metrics JSON, for a table cell."""
    if not isinstance(metrics, dict):
        return []
    numbers = [(k, v) for k, v in metrics.items() if isinstance(v, int | float) and not isinstance(v, bool)]
    return numbers[:limit]


@require_GET
@staff_required
def dashboard(request):
    versions = staff_selectors.model_version_list(limit=10)
    context = {
        "versions": [{"version": v, "metrics": _headline_metrics(v.metrics)} for v in versions],
        "live": staff_selectors.live_model_version(),
        "locks": staff_selectors.task_lock_list(),
        "coverage": staff_selectors.embedding_coverage(),
        "reports": staff_selectors.report_list()[:5],
        "evaluating": staff_selectors.evaluation_progress(),
        "online": staff_selectors.online_metrics(),
        "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    }
    return render(request, "recommender/dashboard.html", context)


@require_POST
@staff_required
def retrain(request):
    """Queue the retrain task now (it takes the retrain lease itself, so a running one is not doubled)."""
    # This view holds no transaction open, so the worker cannot miss uncommitted rows.
    if not retrain_schedule.publish_retrain():
        messages.error(request, "Could not reach the task queue; nothing was queued. Try again shortly.")
    elif settings.CELERY_TASK_ALWAYS_EAGER:
        messages.success(request, "Retraining ran in-process (no broker configured); see the model versions below.")
    else:
        messages.success(request, "Retraining queued. Its lease shows below while it runs.")
    return redirect("staff:dashboard")


@require_GET
@staff_required
def report_list(request):
    context = {"reports": staff_selectors.report_list(), "evaluating": staff_selectors.evaluation_progress()}
    return render(request, "recommender/report_list.html", context)


@require_GET
@staff_required
def report_detail(request, pk: int):
    report = get_object_or_404(EvaluationReport.objects.select_related("model_version"), pk=pk)
    results = report.results or {}
    context = {
        "report": report,
        "ndcg": plots.metric_table(results),
        "ndcg_seeds": plots.seed_table(results),
        "coverage": plots.metric_table(results, COVERAGE_KEY),
        "diversity": plots.metric_table(results, DIVERSITY_KEY),
        "scenario_tables": [plots.scenario_table(results, s) for s in plots.scenarios(results)],
        "ks": results.get("ks") or [],
        "seeds": results.get("seeds") or [],
    }
    return render(request, "recommender/report_detail.html", context)


@require_GET
@staff_required
@cache_control(private=True, max_age=60)
def online_plot(request):
    """The dashboard's online figures over time (`plots.online_over_time_svg`), last 30 days."""
    rows = staff_selectors.online_metrics_by_day()
    return HttpResponse(plots.online_over_time_svg(rows), content_type="image/svg+xml")


@require_GET
@staff_required
@cache_control(private=True, max_age=300)
def report_plot(request, pk: int, name: str):
    if name not in PLOTS:
        raise Http404("No such plot")
    report = get_object_or_404(EvaluationReport, pk=pk)
    return HttpResponse(PLOTS[name](report.results or {}), content_type="image/svg+xml")
