import keras
import numpy as np
import pytest

import coolkeras
from coolkeras import schedules
from coolkeras.losses import SmoothedCrossEntropy
from tests.helpers import save_and_load, to_numpy

LOGITS = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3], [-1.0, 3.0, 0.0]], "float32")
LABELS = np.array([0, 2, 1])


def _reference(labels, logits, epsilon):
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    target = (
        np.eye(logits.shape[-1])[labels] * (1 - epsilon) + epsilon / logits.shape[-1]
    )
    return np.mean(-(target * log_p).sum(-1))


@pytest.mark.parametrize("labels", [LABELS, LABELS[:, None], np.eye(3)[LABELS]])
def test_matches_numpy_for_sparse_column_and_one_hot_labels(labels):
    loss = SmoothedCrossEntropy(epsilon=0.2, from_logits=True)
    np.testing.assert_allclose(
        to_numpy(loss(labels, LOGITS)), _reference(LABELS, LOGITS, 0.2), rtol=1e-5
    )


def test_probabilities_input():
    probabilities = np.exp(LOGITS) / np.exp(LOGITS).sum(-1, keepdims=True)
    loss = SmoothedCrossEntropy(epsilon=0.1)
    np.testing.assert_allclose(
        to_numpy(loss(LABELS, probabilities)),
        _reference(LABELS, LOGITS, 0.1),
        rtol=1e-5,
    )


def test_epsilon_zero_is_keras_cross_entropy():
    keras_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    np.testing.assert_allclose(
        to_numpy(SmoothedCrossEntropy(0.0, from_logits=True)(LABELS, LOGITS)),
        to_numpy(keras_loss(LABELS, LOGITS)),
        rtol=1e-5,
    )


def _compiled_model(epsilon):
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(3)(inputs))
    learning_rate = schedules.Warmup(schedules.PiecewiseLinear({0: 0.1, 8: 0.01}), 2)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate),
        loss=SmoothedCrossEntropy(epsilon, from_logits=True),
    )
    coolkeras.attach(model)
    return model


def test_scheduled_epsilon_round_trips_with_its_state(tmp_path):
    schedule = schedules.Cosine(0.3, 0.01, steps=8)
    model = _compiled_model(schedule)
    x = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
    y = np.arange(16) % 3
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    model.loss.epsilon.scale(0.5)

    reloaded = save_and_load(model, tmp_path)
    coolkeras.attach(reloaded)

    np.testing.assert_allclose(
        reloaded.predict(x, verbose=0), model.predict(x, verbose=0)
    )
    assert reloaded.loss.epsilon.step == 4
    assert float(reloaded.loss.epsilon) == pytest.approx(0.5 * float(schedule(4)))
    np.testing.assert_allclose(
        reloaded.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0), rtol=1e-6
    )
    assert int(to_numpy(reloaded.optimizer.iterations)) == 4
    assert float(reloaded.optimizer.learning_rate) == pytest.approx(
        float(model.optimizer.learning_rate)
    )


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_bad_epsilon_names_the_argument(bad):
    with pytest.raises(ValueError, match="Received: epsilon="):
        SmoothedCrossEntropy(bad)
