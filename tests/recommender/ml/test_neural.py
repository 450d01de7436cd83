"""The two-tower trainer serves (and validates) the moving average of the weights it trains."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from torch.optim.optimizer import register_optimizer_step_post_hook

import recommender.ml.neural as neural
from recommender.ml.neural import NeuralConfig, NeuralTrainer
from recommender.ml.sampled import RowAdam


def world(seed=0, n_users=60, n_items=30):
    rng = np.random.default_rng(seed)
    seen = (rng.random((n_users, n_items)) < 0.3).astype(np.float32)
    return dict(
        content=rng.normal(size=(n_items, 5)).astype(np.float32),
        profile=rng.normal(size=(n_users, 3)).astype(np.float32),
        positives=seen * (rng.random(seen.shape) < 0.7),
        seen=seen,
        first=seen * (rng.random(seen.shape) < 0.3),
        known_items=np.ones(n_items, dtype=bool),
        train_users=np.arange(n_users),
    )


def trained(cfg, epochs, evaluate=None):
    """(returned model, the raw weights after every optimiser step, in `model.parameters()` order)."""
    steps = []

    def keep(optimizer, args, kwargs):
        steps.append([p.detach().clone() for group in optimizer.param_groups for p in group["params"]])

    handle = register_optimizer_step_post_hook(keep)
    try:
        model, best = NeuralTrainer(cfg, seed=0).fit(**world(), epochs=epochs, evaluate=evaluate)
    finally:
        handle.remove()
    return model, best, steps


def moving_average(steps, decay, upto):
    avg = [p.clone() for p in steps[0]]
    for raw in steps[1:upto]:
        avg = [decay * a + (1 - decay) * p for a, p in zip(avg, raw, strict=True)]
    return avg


SMALL = dict(dim=4, hidden=8, batch_users=32, max_epochs=6)


def test_the_served_network_is_the_exponential_moving_average_of_the_trained_weights():
    # 60 users in batches of 32: 2 steps an epoch; over 2 epochs, a decay of 1 - 1/4 per step.
    model, _, steps = trained(NeuralConfig(**SMALL, ema_epochs=2.0), epochs=3)
    assert len(steps) == 6
    expected = moving_average(steps, 0.75, len(steps))
    served = [p.detach() for p in model.parameters()]
    for got, want in zip(served, expected, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
    assert not all(torch.equal(got, last) for got, last in zip(served, steps[-1], strict=True))
    assert not model.training


def test_without_averaging_the_served_network_is_the_last_one_trained():
    model, _, steps = trained(NeuralConfig(**SMALL, ema_epochs=0.0), epochs=3)
    for got, last in zip(model.parameters(), steps[-1], strict=True):
        assert torch.equal(got.detach(), last)


def test_early_stopping_validates_the_average_and_keeps_the_best_one_it_saw():
    scores, seen = iter([1.0, 3.0, 2.0, 2.0, 2.0]), []

    def evaluate(model):
        seen.append([p.detach().clone() for p in model.parameters()])
        return next(scores)

    model, best, steps = trained(NeuralConfig(**SMALL, ema_epochs=2.0), epochs=6, evaluate=evaluate)
    # Validated every 2 epochs (4 steps) of at most 6: at epochs 2, 4 and 6; the best (3.0) at epoch 4.
    assert len(seen) == 3 and best == 4
    at_epoch_4 = moving_average(steps, 0.75, 8)
    for validated, want in zip(seen[1], at_epoch_4, strict=True):
        torch.testing.assert_close(validated, want, rtol=1e-5, atol=1e-6)
    for got, want in zip(model.parameters(), seen[1], strict=True):
        assert torch.equal(got.detach(), want)


@pytest.mark.parametrize("ema", [0.0, 2.0])
def test_the_same_seed_trains_the_same_network(ema):
    first, _, _ = trained(NeuralConfig(**SMALL, ema_epochs=ema), epochs=2)
    second, _, _ = trained(NeuralConfig(**SMALL, ema_epochs=ema), epochs=2)
    for a, b in zip(first.parameters(), second.parameters(), strict=True):
        assert torch.equal(a, b)


def test_past_the_threshold_the_average_is_taken_every_few_steps_with_the_decay_to_that_power(monkeypatch):
    # CSR inputs take the sampled path. A window of 4 steps (2 an epoch, 2 epochs) taken at least 2 times:
    # every 2 steps, with a decay of (1 - 1/4)^2.
    monkeypatch.setattr(neural, "EMA_POINTS", 2)
    models, steps = [], []
    real = NeuralTrainer._optimizers

    def optimizers(self, model, sampled):
        models.append(model)
        return real(self, model, sampled)

    def keep(optimizer, args, kwargs):
        if isinstance(optimizer, RowAdam):  # a step's second update (the id tables), after Adam's
            steps.append([p.detach().clone() for p in models[0].parameters()])

    monkeypatch.setattr(NeuralTrainer, "_optimizers", optimizers)
    inputs = world()
    inputs.update({name: sp.csr_matrix(inputs[name]) for name in ("positives", "seen", "first")})
    handle = register_optimizer_step_post_hook(keep)
    try:
        model, _ = NeuralTrainer(NeuralConfig(**SMALL, ema_epochs=2.0), seed=0).fit(**inputs, epochs=3)
    finally:
        handle.remove()
    assert len(steps) == 6
    expected = moving_average([steps[1], steps[3], steps[5]], 0.75**2, 3)
    for got, want in zip(model.parameters(), expected, strict=True):
        torch.testing.assert_close(got.detach(), want, rtol=1e-5, atol=1e-6)
