import keras
import numpy as np
import pytest

import coolkeras
from coolkeras.callbacks import ReduceOnPlateau

SCHEDULE = keras.optimizers.schedules.PolynomialDecay(0.1, 40, 0.01)


class _Scripted(keras.callbacks.Callback):
    """Writes a scripted value into the epoch logs, before the tested callback."""

    def __init__(self, values):
        super().__init__()
        self.values = values

    def on_epoch_end(self, epoch, logs=None):
        logs["score"] = self.values[epoch]


def test_reduces_a_scheduled_learning_rate_on_the_right_epochs():
    learning_rate = coolkeras.Hyperparameter(SCHEDULE, name="lr")
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss="mse")
    coolkeras.attach(model)
    seen = []
    record = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append(float(learning_rate))
    )
    scores = [0.5, 0.4, 0.45, 0.41, 0.3, 0.31, 0.32, 0.33]
    plateau = ReduceOnPlateau(
        learning_rate, monitor="score", patience=2, factor=0.5, mode="min"
    )
    data = np.ones((4, 2), "float32")

    model.fit(
        data,
        data[:, :1],
        batch_size=2,
        epochs=8,
        verbose=0,
        callbacks=[_Scripted(scores), plateau, record],
    )

    # No improvement on epochs 2 and 3 -> halve at epoch 3; again on 5, 6 -> at 6.
    scale = np.array([1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25])
    expected = scale * np.array([float(SCHEDULE(2 * (e + 1))) for e in range(8)])
    np.testing.assert_allclose(seen, expected, rtol=1e-5)


def test_nan_never_counts_as_improvement():
    hp = coolkeras.Hyperparameter(1.0)
    plateau = ReduceOnPlateau(hp, monitor="loss", patience=1, factor=0.5)
    plateau.on_train_begin()
    for value in [1.0, float("nan")]:
        plateau.on_epoch_end(0, {"loss": value})
    assert float(hp) == pytest.approx(0.5)


def test_min_value_is_respected():
    hp = coolkeras.Hyperparameter(1.0)
    plateau = ReduceOnPlateau(hp, monitor="loss", patience=1, factor=0.1, min_value=0.5)
    plateau.on_train_begin()
    for value in [1.0, 2.0, 2.0]:
        plateau.on_epoch_end(0, {"loss": value})
    assert float(hp) == pytest.approx(0.5)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"factor": 1.5}, "Received: factor=1.5"),
        ({"mode": "up"}, "Received: mode='up'"),
        ({"monitor": "f1"}, "Received: mode='auto'"),
        ({"patience": -1}, "Received: patience=-1"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ReduceOnPlateau(coolkeras.Hyperparameter(1.0), **kwargs)


def test_needs_a_hyperparameter():
    with pytest.raises(TypeError, match="Received: hyperparameter=0.1"):
        ReduceOnPlateau(0.1)
