"""A training run reports each phase in order, logs it, and trains with the threads it was given."""

import logging
import os

import pytest
import torch

from recommender import serving
from recommender.ml.threads import available_cores, limited_threads
from recommender.training import train_and_publish

pytestmark = pytest.mark.django_db


def test_a_run_reports_its_phases_in_order_and_logs_each(world, settings, caplog):
    settings.TRAIN_THREADS = 1
    phases = []
    with caplog.at_level(logging.INFO, logger="recommender.training"):
        version = train_and_publish(embed_first=False, progress=lambda phase, done: phases.append((phase, done)))
    serving.reset()
    names = [phase for phase, _ in phases]
    assert names == [
        "reading the interactions",
        "fitting: warm validation fold 1 of 1",
        "fitting: cold-start validation fold 1 of 3",
        "fitting: cold-start validation fold 2 of 3",
        "fitting: cold-start validation fold 3 of 3",
        "fitting: final fit on all the data",
        "saving and publishing",
    ]
    fractions = [done for _, done in phases]
    assert fractions == sorted(fractions) and fractions[0] == 0.025 and fractions[-1] == 0.95
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("training: ")]
    assert [line.split(" (")[0] for line in logged] == [f"training: {name}" for name in names]
    assert version.metrics["threads"] == 1


def test_threads_are_limited_for_the_block_and_restored_after():
    before = torch.get_num_threads()
    with limited_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    assert 1 <= available_cores() <= len(os.sched_getaffinity(0))
