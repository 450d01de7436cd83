import pytest

from recommender.models import EvaluationReport, ModelVersion
from recommender.selectors import Recommendation
from tests.factories import CategoryFactory, InteractionFactory, ItemFactory

pytestmark = pytest.mark.django_db

FEED = "/api/recommendations/"


@pytest.fixture
def catalog(db):
    comedy = CategoryFactory(name="Comedy")
    return [
        ItemFactory(external_id="1", title="Toy Story", year=1995, categories=[comedy]),
        ItemFactory(external_id="2", title="GoldenEye", year=1995),
        ItemFactory(external_id="3", title="Four Rooms", year=1995),
    ]


@pytest.fixture
def fake_feed(monkeypatch, catalog):
    """Replace the recommender with a fixed answer and record how the API called it."""
    calls = []

    def recommend(*, user, k=20, category=None):
        calls.append({"user": user.username, "k": k, "category": category})
        return [Recommendation(item=catalog[0], score=0.9, reason="Because you like Comedy")]

    monkeypatch.setattr("recommender.api.recommendations_for_user", recommend)
    return calls


def test_my_feed_has_the_documented_shape(alice_api, catalog, fake_feed):
    response = alice_api.get(FEED)
    assert response.status_code == 200
    comedy = catalog[0].categories.get()
    assert response.json() == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [
            {
                "item": {
                    "id": catalog[0].id,
                    "external_id": "1",
                    "title": "Toy Story",
                    "year": 1995,
                    "categories": [{"id": comedy.id, "name": "Comedy", "slug": "comedy"}],
                },
                "score": 0.9,
                "reason": "Because you like Comedy",
            }
        ],
    }
    assert fake_feed == [{"user": "alice", "k": 20, "category": None}]


def test_k_and_category_are_passed_through(alice_api, fake_feed):
    assert alice_api.get(FEED, {"k": 5, "category": "comedy"}).status_code == 200
    assert fake_feed == [{"user": "alice", "k": 5, "category": "comedy"}]


@pytest.mark.parametrize("params,field", [({"k": 0}, "k"), ({"k": 101}, "k"), ({"category": "nope"}, "category")])
def test_bad_feed_parameters_are_400(alice_api, fake_feed, params, field):
    response = alice_api.get(FEED, params)
    assert (response.status_code, list(response.json())) == (400, [field])
    assert fake_feed == []


def test_staff_may_read_someone_elses_feed_but_alice_may_not(staff_api, alice_api, bob, fake_feed):
    assert staff_api.get(FEED, {"user": bob.id}).status_code == 200
    assert staff_api.get(FEED, {"user": 999999}).status_code == 400
    # Alice learns nothing about which ids exist: another user's, a missing one and garbage are all 403.
    refusals = [alice_api.get(FEED, {"user": value}) for value in (bob.id, 999999, "x")]
    assert {(r.status_code, r.json()["detail"]) for r in refusals} == {
        (403, "Only staff may read another user's recommendations.")
    }
    assert fake_feed == [{"user": "bob", "k": 20, "category": None}]


def test_anonymous_has_no_feed(anon_api, fake_feed):
    assert anon_api.get(FEED).status_code == 401
    assert fake_feed == []


def test_real_selector_serves_unseen_active_items(alice_api, alice, catalog):
    InteractionFactory(user=alice, item=catalog[1])
    ItemFactory(title="Retired", is_active=False)
    results = alice_api.get(FEED, {"k": 10}).json()["results"]
    ids = [row["item"]["id"] for row in results]
    assert set(ids) <= {catalog[0].id, catalog[2].id}
    assert len(ids) == len(set(ids))
    assert all(isinstance(row["score"], float) and isinstance(row["reason"], str) for row in results)


def test_similar_items(alice_api, anon_api, catalog, monkeypatch):
    calls = []

    def similar(*, item, k=10):
        calls.append((item.id, k))
        return [Recommendation(item=catalog[2], score=0.5, reason="Similar to Toy Story")]

    monkeypatch.setattr("catalog.api.views.similar_items", similar)
    response = alice_api.get(f"/api/items/{catalog[0].id}/similar/", {"k": 3})
    assert response.status_code == 200
    assert [(r["item"]["title"], r["score"], r["reason"]) for r in response.json()["results"]] == [
        ("Four Rooms", 0.5, "Similar to Toy Story")
    ]
    assert calls == [(catalog[0].id, 3)]
    assert alice_api.get(f"/api/items/{catalog[0].id}/similar/", {"k": 0}).status_code == 400
    assert alice_api.get("/api/items/999999/similar/").status_code == 404
    assert anon_api.get(f"/api/items/{catalog[0].id}/similar/").status_code == 401
    assert calls == [(catalog[0].id, 3)]


def test_staff_reads_evaluation_reports(staff_api):
    version = ModelVersion.objects.create(
        artifact_path="a", artifact_sha256="0" * 64, embedding_model="m", embedding_dim=3
    )
    report = EvaluationReport.objects.create(
        params={"k": 10}, results={"hybrid": {"ndcg@10": 0.25}}, model_version=version
    )
    body = staff_api.get("/api/evaluations/").json()
    expected = {
        "id": report.id,
        "created_at": body["results"][0]["created_at"],
        "params": {"k": 10},
        "results": {"hybrid": {"ndcg@10": 0.25}},
        "model_version": version.id,
    }
    assert (body["count"], body["results"]) == (1, [expected])
    assert staff_api.get(f"/api/evaluations/{report.id}/").json() == expected


def test_evaluations_are_staff_only(alice_api, anon_api):
    report = EvaluationReport.objects.create(params={}, results={})
    assert alice_api.get("/api/evaluations/").status_code == 403
    assert alice_api.get(f"/api/evaluations/{report.id}/").status_code == 403
    assert anon_api.get("/api/evaluations/").status_code == 401
    assert alice_api.delete(f"/api/evaluations/{report.id}/").status_code == 403
    assert EvaluationReport.objects.count() == 1
