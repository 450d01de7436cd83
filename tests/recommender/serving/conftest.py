"""One trained model for this test package, on the synthetic world (training takes seconds, not per test)."""

import pytest
from django.test import override_settings

from recommender import serving
from recommender.training import train_and_publish
from tests.recommender.serving.world import World


@pytest.fixture(scope="package")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    artifacts = tmp_path_factory.mktemp("artifacts")
    with django_db_blocker.unblock(), override_settings(ARTIFACTS_DIR=artifacts):
        world = World()
        world.version = train_and_publish(embed_first=False)
        serving.reset()
        yield world
        World.destroy()
        serving.reset()
