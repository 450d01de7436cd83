"""After a retrain the newcomers are training users with a profile and a few rows: they stay newcomers."""

import numpy as np
import pytest

from accounts.models import User
from accounts.services import profile_update
from catalog.services import interaction_record
from recommender import ranking, selectors, serving
from recommender.training import train_and_publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def retrain(world):
    """Retrain and publish on the current data; the package's model is live again afterwards."""

    def run():
        version = train_and_publish(embed_first=False)
        serving.reset()
        return version

    yield run
    serving.reset()  # the test's rollback makes the package's version live again


def _western_ndcg(world, user, k=10) -> float:
    """NDCG@k of the feed against the known answer: the Western items the user has not seen."""
    recs = selectors.recommendations_for_user(user=user, k=k)
    seen = set(user.interactions.values_list("item_id", flat=True))
    relevant = {item.pk for item in world.items["Western"]} - seen
    gains = np.array([r.item.pk in relevant for r in recs], dtype=float)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    return float(gains @ discounts / discounts[: min(k, len(relevant))].sum())


def _regime(user) -> str:
    state = serving.serving_state()
    signals = ranking.user_signals(state=state, user=user)
    return state.scorer.regimes(signals.context).tolist()[0]


def test_a_newcomer_in_the_training_data_keeps_the_newcomer_models_and_a_feed_as_good(world, retrain):
    newcomer = User.objects.create(username="newcomer")
    profile_update(user=newcomer, age=31, gender="F")
    for item in world.items["Western"][:3]:
        interaction_record(user=newcomer, item=item, kind="like")
    profile_only = User.objects.create(username="profile-only")
    profile_update(user=profile_only, age=31, gender="F")
    assert (_regime(newcomer), _regime(profile_only)) == ("few_shot", "user_cold")
    before = _western_ndcg(world, newcomer)

    version = retrain()
    state = serving.serving_state()
    assert state.version_id == version.pk != world.version.pk
    assert newcomer.pk in state.scorer.user_map and profile_only.pk in state.scorer.user_map
    # Trained on, yet still scored as a newcomer: three interactions are few-shot, none is user-cold.
    assert (_regime(newcomer), _regime(profile_only)) == ("few_shot", "user_cold")
    after = _western_ndcg(world, newcomer)
    assert after >= before >= 0.8
