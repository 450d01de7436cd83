import numpy as np
import pytest
from django.contrib import admin
from django.urls import reverse

from accounts.models import Profile, User
from recommender.models import EvaluationReport, ItemEmbedding, ModelVersion, TaskLock, UserEmbedding
from tests.factories import CategoryFactory, InteractionFactory, ItemFactory, UserFactory


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def catalog(db, alice):
    """One row of every model the admin shows."""
    comedy, drama = CategoryFactory(name="Comedy"), CategoryFactory(name="Drama")
    toy = ItemFactory(external_id="1", title="Toy Story", year=1995, categories=[comedy])
    heat = ItemFactory(external_id="2", title="Heat", year=1995, categories=[drama], is_active=False)
    Profile.objects.filter(user=alice).update(external_id="u-alice", gender="F", occupation="writer", age=30)
    like = InteractionFactory(user=alice, item=toy, kind="like", value=1.0)
    vector = np.arange(384, dtype=np.float32).tobytes()
    version = ModelVersion.objects.create(
        artifact_path="a.npz", artifact_sha256="0" * 64, embedding_model="m", embedding_dim=384, is_live=True
    )
    return {
        "category": comedy,
        "item": toy,
        "inactive": heat,
        "profile": alice.profile,
        "user": alice,
        "interaction": like,
        "itemembedding": ItemEmbedding.objects.create(item=toy, model_name="m", dim=384, vector=vector, text_hash="h"),
        "userembedding": UserEmbedding.objects.create(
            user=alice, model_name="m", dim=384, vector=vector, text_hash="h"
        ),
        "modelversion": version,
        "evaluationreport": EvaluationReport.objects.create(
            params={"k": 10}, results={"hit": 0.5}, model_version=version
        ),
        "tasklock": TaskLock.objects.create(name="retrain"),
    }


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def results(response) -> list:
    return list(response.context["cl"].result_list)


@pytest.mark.django_db
def test_every_changelist_and_change_form_loads_for_staff(staff_client, catalog):
    models = {
        model for model in admin.site._registry if model._meta.app_label in {"accounts", "catalog", "recommender"}
    }
    assert {m._meta.model_name for m in models} == {
        "user", "profile", "category", "item", "interaction", "itemembedding", "userembedding",
        "modelversion", "evaluationreport", "tasklock",
    }  # fmt: skip
    for model in models:
        assert staff_client.get(admin_url(model, "changelist")).status_code == 200, model
        obj = catalog[model._meta.model_name]
        assert staff_client.get(admin_url(model, "change", obj.pk)).status_code == 200, model


@pytest.mark.django_db
def test_add_forms_load_where_adding_is_allowed_and_not_elsewhere(staff_client, catalog):
    from catalog.models import Category, Interaction, Item

    for model in (Category, Item, User, Profile, TaskLock):
        assert staff_client.get(admin_url(model, "add")).status_code == 200, model
    for model in (Interaction, ItemEmbedding, UserEmbedding, ModelVersion, EvaluationReport):
        assert staff_client.get(admin_url(model, "add")).status_code == 403, model


@pytest.mark.django_db
def test_admin_pages_are_for_staff_only(client, alice, catalog):
    client.force_login(alice)
    response = client.get(admin_url(type(catalog["item"]), "changelist"))
    assert (response.status_code, response.url.split("?")[0]) == (302, reverse("admin:login"))


@pytest.mark.django_db
def test_item_search_and_filters(staff_client, catalog):
    url = admin_url(type(catalog["item"]), "changelist")
    by_title = staff_client.get(url, {"q": "toy"})
    by_external_id = staff_client.get(url, {"q": "2"})
    inactive = staff_client.get(url, {"is_active__exact": "0"})
    comedy = staff_client.get(url, {"categories__id__exact": catalog["category"].pk})

    assert [i.title for i in results(by_title)] == ["Toy Story"]
    assert [i.title for i in results(by_external_id)] == ["Heat"]
    assert [i.title for i in results(inactive)] == ["Heat"]
    assert [i.title for i in results(comedy)] == ["Toy Story"]
    assert "Comedy" in by_title.content.decode()  # the categories column


@pytest.mark.django_db
def test_profile_and_user_search_and_filters(staff_client, catalog):
    UserFactory(username="bob")
    profiles = admin_url(Profile, "changelist")
    users = admin_url(User, "changelist")

    assert [p.external_id for p in results(staff_client.get(profiles, {"q": "u-alice"}))] == ["u-alice"]
    assert [p.user.username for p in results(staff_client.get(profiles, {"gender__exact": "F"}))] == ["alice"]
    assert [p.user.username for p in results(staff_client.get(profiles, {"occupation": "writer"}))] == ["alice"]
    assert [u.username for u in results(staff_client.get(users, {"q": "u-alice"}))] == ["alice"]


@pytest.mark.django_db
def test_interaction_filters_and_read_only_change_page(staff_client, catalog):
    url = admin_url(type(catalog["interaction"]), "changelist")
    InteractionFactory(kind="view", value=1.0)

    assert [i.kind for i in results(staff_client.get(url, {"kind__exact": "like"}))] == ["like"]
    page = staff_client.get(admin_url(type(catalog["interaction"]), "change", catalog["interaction"].pk))
    assert page.context["has_change_permission"] is False
    assert 'name="value"' not in page.content.decode()


@pytest.mark.django_db
def test_adding_a_user_in_the_admin_makes_exactly_one_profile(staff_client):
    response = staff_client.post(
        admin_url(User, "add"),
        {
            "username": "carol",
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
            "usable_password": "true",
        },
    )

    assert response.status_code == 302
    assert Profile.objects.filter(user__username="carol").count() == 1


@pytest.mark.django_db
def test_user_change_form_edits_the_profile_inline(staff_client, catalog):
    alice = catalog["user"]
    page = staff_client.get(admin_url(User, "change", alice.pk))
    assert "profile-0-external_id" in page.content.decode()


@pytest.mark.django_db
def test_embedding_list_never_loads_the_vector_and_the_detail_shows_a_preview(staff_client, catalog):
    url = admin_url(ItemEmbedding, "changelist")
    listed = results(staff_client.get(url))
    detail = staff_client.get(admin_url(ItemEmbedding, "change", catalog["itemembedding"].pk))

    assert [e.get_deferred_fields() for e in listed] == [{"vector"}]
    assert "0.0000 1.0000 2.0000 3.0000 4.0000 5.0000 6.0000 7.0000" in detail.content.decode()


@pytest.mark.django_db
def test_the_live_model_version_cannot_be_deleted(staff_client, catalog):
    live = catalog["modelversion"]
    old = ModelVersion.objects.create(
        artifact_path="b.npz", artifact_sha256="1" * 64, embedding_model="m", embedding_dim=384
    )

    assert staff_client.get(admin_url(ModelVersion, "delete", live.pk)).status_code == 403
    assert staff_client.get(admin_url(ModelVersion, "delete", old.pk)).status_code == 200
    assert ModelVersion.objects.filter(is_live=True).get() == live


@pytest.mark.django_db
def test_interaction_search_by_username_user_external_id_or_item_external_id(staff_client, catalog):
    url = admin_url(type(catalog["interaction"]), "changelist")
    other = InteractionFactory(kind="view", value=1.0)

    assert results(staff_client.get(url, {"q": "alice"})) == [catalog["interaction"]]
    assert results(staff_client.get(url, {"q": "u-alice"})) == [catalog["interaction"]]
    assert results(staff_client.get(url, {"q": other.item.external_id})) == [other]
    assert results(staff_client.get(url, {"q": "nobody"})) == []
