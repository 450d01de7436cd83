import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Profile
from recommender.models import ItemEmbedding, UserEmbedding
from tests.factories import ItemFactory, UserFactory

pytestmark = pytest.mark.django_db


def embed(*args) -> str:
    out = StringIO()
    call_command("embed", *args, stdout=out, stderr=StringIO())
    return re.sub(r"in \d+\.\d s \(\d+\.\d", "in T s (R", out.getvalue())


def test_embed_missing_then_all():
    toy, heat = ItemFactory(title="Toy Story"), ItemFactory(title="Heat")
    alice = UserFactory(username="alice")
    Profile.objects.filter(user=alice).update(about="Loves heist films.")

    assert embed("--missing", "--batch-size", "1") == (
        "Model all-MiniLM-L6-v2: 2 items and 1 users to embed\n"
        "items: 2 embedded, 0 unchanged, 0 removed in T s (R items/s)\n"
        "users: 1 embedded, 0 unchanged, 0 removed in T s (R users/s)\n"
    )
    assert sorted(ItemEmbedding.objects.values_list("item_id", flat=True)) == [toy.id, heat.id]
    before = dict(ItemEmbedding.objects.values_list("item_id", "updated_at"))
    assert embed().startswith("Model all-MiniLM-L6-v2: 0 items and 0 users to embed\n")
    assert dict(ItemEmbedding.objects.values_list("item_id", "updated_at")) == before

    output = embed("--all")
    assert "items: 2 embedded, 0 unchanged" in output and "users: 1 embedded, 0 unchanged" in output
    assert UserEmbedding.objects.get().user_id == alice.id
    assert ItemEmbedding.objects.count() == 2


def test_all_and_missing_exclude_each_other():
    with pytest.raises(CommandError):
        call_command("embed", "--all", "--missing")
