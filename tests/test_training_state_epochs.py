"""`by_epoch` without `steps_per_epoch`: `fit` tells it the epoch length (issue 15).

The article's 5b schedule scaled down (1e-2 until epoch 5, 1e-3 until epoch 8,
then 1e-4), for the learning rate and for a hyperparameter in the loss, with
`steps_per_execution` 1 and 4 and `gradient_accumulation_steps` 2.
"""

import keras
import numpy as np
import pytest

import coolkeras
from coolkeras import Hyperparameter, schedules
from tests.state_probe import execution_settings, fit, learning_rates, probe_model

EPOCHS, BATCHES = 10, 4


def _article_5b():
    return schedules.by_epoch(schedules.PiecewiseConstant({0: 1e-2, 5: 1e-3, 8: 1e-4}))


def _per_epoch(epoch):
    return np.where(epoch < 5, 1e-2, np.where(epoch < 8, 1e-3, 1e-4))


@pytest.mark.parametrize(
    "steps_per_execution, accumulation", [(1, None), (4, None), (1, 2)]
)
def test_the_drops_land_on_their_epochs(steps_per_execution, accumulation):
    if steps_per_execution not in execution_settings():
        pytest.skip("PyTorch refuses steps_per_execution > 1")
    eps = Hyperparameter(_article_5b(), name="eps")
    model, _, probe, weights_seen = probe_model(
        eps=eps,
        learning_rate=_article_5b(),
        steps_per_execution=steps_per_execution,
        accumulation=accumulation,
    )
    coolkeras.attach(model)
    fit(model, epochs=EPOCHS, steps=BATCHES)

    per_update = accumulation or 1
    updates_per_epoch = BATCHES // per_update
    batch = np.arange(EPOCHS * BATCHES)
    np.testing.assert_allclose(
        probe.values(), _per_epoch(batch // per_update // updates_per_epoch), rtol=1e-6
    )
    update = np.arange(EPOCHS * updates_per_epoch - 1)
    np.testing.assert_allclose(
        learning_rates(weights_seen, per_update),
        _per_epoch(update // updates_per_epoch),
        rtol=1e-4,
        atol=5e-8,  # a float32 kernel near 0.9 moves by 1e-4
    )


def test_a_wrong_explicit_epoch_length_raises_before_training():
    wrong = schedules.by_epoch(schedules.Constant(1e-2), steps_per_epoch=3)
    model, _, _, _ = probe_model(learning_rate=wrong)
    coolkeras.attach(model)
    weights = [np.array(w) for w in model.get_weights()]
    with pytest.raises(ValueError, match="steps_per_epoch=3"):
        fit(model, steps=BATCHES)
    for before, after in zip(weights, model.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)


def test_the_learned_length_is_saved(tmp_path):
    eps = Hyperparameter(_article_5b(), name="eps")
    model, _, _, _ = probe_model(eps=eps)
    coolkeras.attach(model)
    fit(model, steps=BATCHES)
    reloaded = keras.models.load_model(_save(model, tmp_path))
    assert reloaded.get_layer("probe").hyperparameter.schedule.steps_per_epoch == 4


def _save(model, tmp_path):
    path = str(tmp_path / "model.keras")
    model.save(path)
    return path
