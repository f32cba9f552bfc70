"""The paper rule under gradient accumulation, and out-of-range labels."""

import keras
import numpy as np
import pytest

from tests.helpers import to_numpy
from tests.layers.center_loss_reference import (
    CentersAfterEachBatch,
    data,
    features_of,
    paper_centers,
    paper_model,
)


def _frozen(train, center, accumulation=None, **kwargs):
    optimizer = keras.optimizers.SGD(0.0, gradient_accumulation_steps=accumulation)
    train.compile(optimizer=optimizer, loss=center.loss(), **kwargs)


@pytest.mark.parametrize("accumulation, steps_per_execution", [(2, 1), (3, 1), (2, 3)])
def test_centers_move_once_per_optimizer_update(
    accumulation, steps_per_execution, backend
):
    if backend == "torch" and steps_per_execution > 1:
        pytest.skip("PyTorch refuses steps_per_execution > 1")
    train, center = paper_model()
    _frozen(train, center, accumulation, steps_per_execution=steps_per_execution)
    x, y = data(samples=12)
    weights = np.linspace(0.5, 2.0, 12)
    expected = paper_centers(
        to_numpy(center.centers), features_of(train, x), y, 2, weights, accumulation
    )
    recorder = CentersAfterEachBatch()
    train.fit(
        x,
        y,
        sample_weight=weights,
        batch_size=2,
        shuffle=False,
        verbose=0,
        callbacks=[recorder],
    )
    seen = recorder.seen["center"]
    if steps_per_execution > 1:  # callbacks see the end of each execution
        expected = expected[steps_per_execution - 1 :: steps_per_execution]
    assert len(seen) == len(expected)
    for got, want in zip(seen, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert int(to_numpy(train.optimizer.iterations)) == 6 // accumulation


def test_a_new_optimizer_restarts_the_accumulated_counts():
    train, center = paper_model()
    _frozen(train, center, accumulation=2)
    x, y = data(samples=6)
    f = features_of(train, x)
    start = to_numpy(center.centers)
    # Three micro-batches: one update, then one micro-batch left pending.
    train.fit(x, y, batch_size=2, shuffle=False, verbose=0)
    after_first = paper_centers(start, f, y, 2, steps=2)[-1]
    np.testing.assert_allclose(to_numpy(center.centers), after_first, rtol=1e-5)
    # A new optimizer starts its accumulation afresh, and so does the rule.
    _frozen(train, center, accumulation=2)
    train.fit(x[2:], y[2:], batch_size=2, shuffle=False, verbose=0)
    expected = paper_centers(after_first, f[2:], y[2:], 2, steps=2)[-1]
    np.testing.assert_allclose(to_numpy(center.centers), expected, rtol=1e-5)


class _Losses(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = []

    def on_train_batch_end(self, batch, logs=None):
        self.seen.append(float(logs["loss"]))


def _train(update, initial, x, y, weights=None, run_eagerly=False):
    """Two or three SGD(0.1) steps of batch 3; the losses and final weights."""
    train, center = paper_model(update=update)
    train.set_weights(initial)
    train.compile(
        optimizer=keras.optimizers.SGD(0.1),
        loss=center.loss(),
        run_eagerly=run_eagerly,
    )
    losses = _Losses()
    train.fit(
        x,
        y,
        sample_weight=weights,
        batch_size=3,
        shuffle=False,
        verbose=0,
        callbacks=[losses, keras.callbacks.TerminateOnNaN()],
    )
    return losses.seen, [to_numpy(w) for w in train.weights]


@pytest.mark.parametrize(
    "update, bad_label, run_eagerly",
    [
        ("gradient", -1, False),
        ("gradient", 3, False),
        ("paper", -1, False),
        ("paper", 3, False),
        ("paper", 3, True),  # PyTorch always runs eagerly: the same case
    ],
)
def test_an_out_of_range_label_makes_the_loss_nan_and_moves_nothing(
    update, bad_label, run_eagerly, backend
):
    if run_eagerly and backend == "torch":
        pytest.skip("PyTorch steps always run eagerly: covered by the other cases")
    initial = paper_model(update=update)[0].get_weights()
    x, y = data(samples=9)
    y[4] = bad_label  # in the second of three batches
    losses, weights = _train(update, initial, x, y, run_eagerly=run_eagerly)
    # TerminateOnNaN stopped at the bad batch; nothing became NaN.
    assert len(losses) == 2 and np.isfinite(losses[0]) and np.isnan(losses[1])
    # The steps were those of the same batches with the bad sample weighted 0
    # (the loss still divides by 3): it added nothing to any gradient or center.
    keep = np.ones(6)
    keep[4] = 0.0
    y_valid = np.where(np.arange(6) == 4, 0, y[:6])
    reference_losses, reference = _train(update, initial, x[:6], y_valid, keep)
    np.testing.assert_allclose(losses[0], reference_losses[0], rtol=1e-6)
    for got, want in zip(weights, reference, strict=True):
        assert np.isfinite(got).all()
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    # A bad label of weight 0 (padding, unlabelled) counts for nothing.
    ignored_losses, ignored = _train(update, initial, x[:6], y[:6], keep)
    np.testing.assert_allclose(ignored_losses, reference_losses, rtol=1e-6)
    for got, want in zip(ignored, reference, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
