"""Staff pages: who may see them, what they show, and the retrain button."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.services import profile_update
from recommender import plots
from recommender.embeddings import selectors as embeddings
from recommender.models import EvaluationReport, ItemEmbedding, ModelVersion, TaskLock
from tasks import enqueue
from tests.site.data import realistic_results

pytestmark = pytest.mark.django_db


@pytest.fixture
def report(db):
    version = ModelVersion.objects.create(
        artifact_path="artifacts/v.npz",
        artifact_sha256="a" * 64,
        embedding_model="all-MiniLM-L6-v2",
        embedding_dim=384,
        metrics={"ndcg@20": 0.412, "notes": {"nested": True}},
        is_live=True,
    )
    return EvaluationReport.objects.create(
        params={"dataset": "ml-100k"}, results=realistic_results(), model_version=version
    )


def staff_urls(report):
    return [
        "/staff/",
        "/staff/reports/",
        f"/staff/reports/{report.pk}/",
        f"/staff/reports/{report.pk}/recall.svg",
        f"/staff/reports/{report.pk}/ndcg.svg",
    ]


def test_anonymous_visitors_are_sent_to_log_in(client, report):
    for url in [*staff_urls(report), "/staff/retrain/"]:
        response = client.get(url) if not url.endswith("retrain/") else client.post(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/?next=/staff/"), url


def test_ordinary_users_get_403(alice_client, report):
    for url in staff_urls(report):
        response = alice_client.get(url)
        assert response.status_code == 403, url
    response = alice_client.post("/staff/retrain/")
    assert response.status_code == 403
    assert "You don’t have access to this page" in response.content.decode()


def test_staff_sees_every_page(staff_client, report):
    for url in staff_urls(report):
        assert staff_client.get(url).status_code == 200, url


def test_staff_link_only_in_staff_nav(alice_client, staff_client, db):
    assert b'href="/staff/"' not in alice_client.get("/browse/").content
    assert b'href="/staff/"' in staff_client.get("/browse/").content


def test_dashboard_shows_versions_coverage_locks_and_admin_link(staff_client, report, films, alice):
    alien = films["Alien"].pk
    current = embeddings.text_hash(embeddings.item_texts(item_ids=[alien])[alien])
    model_name = embeddings.current_model_name()
    ItemEmbedding.objects.create(item_id=alien, model_name=model_name, dim=2, vector=b"\0" * 8, text_hash=current)
    ItemEmbedding.objects.create(item=films["Heat"], model_name=model_name, dim=2, vector=b"\0" * 8, text_hash="old")
    profile_update(user=alice, about="Space films")
    TaskLock.objects.create(
        name="retrain-scorer", owner="worker-1", expires_at=timezone.now() + dt.timedelta(minutes=5)
    )
    body = staff_client.get("/staff/").content.decode()
    assert f"Live model: <strong>v{report.model_version.pk}</strong>" in body
    assert '<span class="badge live">live</span>' in body
    assert "ndcg@20 = 0.412</td>" in body  # nested metric values are left out of the cell
    assert "Items: <strong>6</strong> of 7 items lack a current embedding." in body
    assert "Users: <strong>1</strong> of 1 users with a profile lack a current embedding." in body
    assert '<span class="badge busy">running</span> by worker-1' in body
    assert 'href="/admin/"' in body
    assert f'href="/staff/reports/{report.pk}/">Evaluation #{report.pk}</a>' in body


def test_report_list(staff_client, report):
    body = staff_client.get("/staff/reports/").content.decode()
    assert "<h1>Evaluation reports</h1>" in body
    assert f"Evaluation #{report.pk}</a>" in body


def test_report_detail_table_bolds_the_best_method_per_scenario(staff_client, report):
    response = staff_client.get(f"/staff/reports/{report.pk}/")
    ndcg = response.context["ndcg"]
    assert ndcg["methods"] == ["hybrid", "ease", "content_knn", "demographic_popularity", "popularity", "random"]
    best = {row["scenario"]: [c["method"] for c in row["cells"] if c["best"]] for row in ndcg["rows"]}
    assert best == {"warm": ["ease"]} | {sc: ["hybrid"] for sc in list(best)[1:]}
    assert list(best) == [*plots.SCENARIO_ORDER] and len(best) == 7
    body = response.content.decode()
    assert '<td class="num best"><strong>0.436</strong></td>' in body
    assert '<td class="num">0.412</td>' in body
    assert '<th scope="row">Item cold-start</th><td class="num best"><strong>0.187</strong></td>' in body
    assert f'<img src="/staff/reports/{report.pk}/ndcg.svg" alt="Bar chart of NDCG@20' in body
    assert f'<img src="/staff/reports/{report.pk}/recall.svg" alt="Recall at K curves' in body


def test_report_detail_shows_catalog_coverage_per_scenario_and_method(staff_client, report):
    response = staff_client.get(f"/staff/reports/{report.pk}/")
    coverage = response.context["coverage"]
    assert coverage["metric"] == "coverage@20"
    assert [row["scenario"] for row in coverage["rows"]] == [*plots.SCENARIO_ORDER]
    values = {row["scenario"]: {c["method"]: c["value"] for c in row["cells"]} for row in coverage["rows"]}
    expected = {"hybrid": 0.05, "ease": 0.05, "content_knn": 0.45, "demographic_popularity": 0.05}
    assert values["warm"] == expected | {"popularity": 0.05, "random": 0.45}
    body = response.content.decode()
    row = '<th scope="row">Item cold-start</th>' + "".join(
        f'<td class="num">{v}</td>' for v in ("0.050", "0.050", "0.450", "0.050", "0.050", "0.450")
    )
    assert row in body
    assert "<code>bench/newcomer_ndcg.py</code>" in body


def test_report_detail_shows_diversity_and_says_when_an_old_report_has_none(staff_client, report):
    response = staff_client.get(f"/staff/reports/{report.pk}/")
    diversity = response.context["diversity"]
    assert diversity["metric"] == "diversity@20" and diversity["has_values"]
    values = {row["scenario"]: {c["method"]: c["value"] for c in row["cells"]} for row in diversity["rows"]}
    assert values["few_shot"]["random"] == 0.55 and values["few_shot"]["hybrid"] == 0.45
    body = response.content.decode()
    assert 'id="diversity-table"' in body and "before diversity was measured" not in body
    for per_method in report.results["scenarios"].values():
        for metrics in per_method.values():
            for k in list(metrics):
                if k.startswith("diversity@"):
                    del metrics[k]
    report.save()
    body = staff_client.get(f"/staff/reports/{report.pk}/").content.decode()
    assert 'id="diversity-table"' not in body and "This report was made before diversity was measured." in body


def test_plots_are_svg(staff_client, report):
    for name, label in (("recall", "Recall@K"), ("ndcg", "NDCG@20")):
        response = staff_client.get(f"/staff/reports/{report.pk}/{name}.svg")
        assert response["Content-Type"] == "image/svg+xml"
        assert response.content.startswith(b"<?xml")
        assert b"<svg" in response.content
        assert label.encode() in response.content
        assert b"Item cold-start" in response.content


def test_unknown_plot_and_report_are_404(staff_client, report):
    assert staff_client.get(f"/staff/reports/{report.pk}/pie.svg").status_code == 404
    assert staff_client.get("/staff/reports/999999/").status_code == 404


def test_report_with_empty_results_still_renders(staff_client):
    empty = EvaluationReport.objects.create(params={}, results={})
    assert "This report has no scenarios." in staff_client.get(f"/staff/reports/{empty.pk}/").content.decode()
    assert b"No Recall@K values" in staff_client.get(f"/staff/reports/{empty.pk}/recall.svg").content


class Publisher:
    """Stands in for enqueue.publish: records calls, answers like the broker would (True: sent)."""

    def __init__(self):
        self.sent, self.answer = [], True

    def __call__(self, task_name, *args, **options):
        self.sent.append((task_name, args))
        self.options = options
        return self.answer


@pytest.fixture
def published(monkeypatch):
    publisher = Publisher()
    monkeypatch.setattr(enqueue, "publish", publisher)
    return publisher


def test_retrain_queues_the_task_once(staff_client, published, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    response = staff_client.post("/staff/retrain/", follow=True)
    assert published.sent == [("tasks.retrain_scorer", ())]
    assert published.options == {"time_limit": 30 * 60, "soft_time_limit": 29 * 60}  # nothing trained yet
    assert response.redirect_chain == [("/staff/", 302)]
    assert "Retraining queued. Its lease shows below while it runs." in response.content.decode()


def test_retrain_reports_a_broker_outage(staff_client, published):
    published.answer = False
    response = staff_client.post("/staff/retrain/", follow=True)
    assert published.sent == [("tasks.retrain_scorer", ())]
    assert "Could not reach the task queue; nothing was queued." in response.content.decode()


def test_retrain_refuses_get_and_non_staff(staff_client, alice_client, published):
    assert staff_client.get("/staff/retrain/").status_code == 405
    assert alice_client.post("/staff/retrain/").status_code == 403
    assert published.sent == []


def test_retrain_in_process_runs_the_task_under_its_lease(staff_client, monkeypatch):
    # No broker in tests: the real task runs in-process. Only the training itself is replaced.
    trained = []
    monkeypatch.setattr("recommender.training.train_and_publish", lambda **kw: trained.append(1))
    response = staff_client.post("/staff/retrain/", follow=True)
    assert trained == [1]
    assert "Retraining ran in-process" in response.content.decode()
    lock = TaskLock.objects.get(name="retrain-scorer")
    assert (lock.owner, lock.expires_at) == ("", None)
    assert lock.last_finished_at is not None


def test_a_running_evaluation_shows_with_its_progress_until_its_report_exists(staff_client):
    body = staff_client.get("/staff/reports/").content.decode()
    assert "No evaluation reports yet" in body and "An evaluation is running" not in body
    TaskLock.objects.create(
        name="evaluation", owner="evaluate-1", expires_at=timezone.now() + dt.timedelta(minutes=2),
        progress="seed=0 warm hybrid",
    )  # fmt: skip
    for url in ("/staff/reports/", "/staff/"):
        body = staff_client.get(url).content.decode()
        assert "An evaluation is running, now: seed=0 warm hybrid." in body
        assert "No evaluation reports yet" not in body
    TaskLock.objects.filter(name="evaluation").update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert "An evaluation is running" not in staff_client.get("/staff/reports/").content.decode()


def test_report_detail_shows_ndcg_on_each_seed_and_where_the_hybrid_is_not_ahead(staff_client, report):
    response = staff_client.get(f"/staff/reports/{report.pk}/")
    rows = {row["scenario"]: row for row in response.context["ndcg_seeds"]["rows"]}
    assert rows["user_cold_trained"]["behind"] == [1] and rows["user_cold"]["behind"] == []
    assert rows["warm"]["behind"] == [0, 1, 2]  # EASE leads every seed there
    body = response.content.decode()
    assert '<table id="ndcg-seeds-table">' in body
    # seed 1's best is demographic popularity (0.2210), the hybrid's 0.2200 is not bold
    assert '<td class="num seeds"><strong>0.2900</strong> · 0.2200 · <strong>0.2880</strong></td>' in body
    assert '<td class="num seeds">0.2130 · <strong>0.2210</strong> · 0.2050</td>' in body
    assert "<td>not on seed 1</td>" in body and "<td>not on seeds 0, 1, 2</td>" in body
    assert "<td>on every seed</td>" in body
    del report.results["per_seed"]
    report.save()
    body = staff_client.get(f"/staff/reports/{report.pk}/").content.decode()
    assert "ndcg-seeds-table" not in body and "This report was made before each seed's figures were kept." in body
