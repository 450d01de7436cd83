"""build_recdata: the database as the arrays the models train and are evaluated on."""

import numpy as np
import pytest

from accounts.models import User
from catalog.models import Interaction
from recommender.dataset import build_recdata

pytestmark = pytest.mark.django_db


def test_interactions_come_in_the_order_they_were_recorded(world):
    data = build_recdata()
    recorded = list(Interaction.objects.order_by("id").values_list("user_id", "item_id", "value"))
    assert len(recorded) == len(data.user_idx) == 80 * 15
    assert data.user_map.index_of(u for u, _, _ in recorded).tolist() == data.user_idx.tolist()
    assert data.item_map.index_of(i for _, i, _ in recorded).tolist() == data.item_idx.tolist()
    assert [v for _, _, v in recorded] == data.value.tolist()


def test_of_two_interactions_at_the_same_second_the_first_recorded_counts_as_first(world):
    user = User.objects.create(username="tied")
    # Recorded first although it has the larger item id: the order must come from the interactions.
    recorded_first, recorded_second = world.items["Space"][1], world.items["Space"][0]
    moment = Interaction.objects.order_by("timestamp").first().timestamp
    Interaction.objects.create(user=user, item=recorded_first, kind="rating", value=5.0, timestamp=moment)
    Interaction.objects.create(user=user, item=recorded_second, kind="rating", value=2.0, timestamp=moment)

    data = build_recdata()
    row = data.user_map.index_of([user.pk])[0]
    mine = np.flatnonzero(data.user_idx == row)
    assert data.item_idx[mine].tolist() == data.item_map.index_of([recorded_first.pk, recorded_second.pk]).tolist()
    assert data.value[mine].tolist() == [5.0, 2.0]
    # The newcomer models train on a user's first interactions: here the one recorded first.
    assert data.first_interactions(1)[row].indices.tolist() == data.item_map.index_of([recorded_first.pk]).tolist()
