"""Helpers for the Evaluator tests: scripted metrics, a tiny model, weight logs."""

import keras
import numpy as np


class Scripted:
    """A metric whose n-th call returns `values[n]`, known in advance."""

    def __init__(self, values):
        self.values = list(values)
        self.calls = 0

    def __call__(self, y_true, y_pred):
        value = self.values[self.calls]
        self.calls += 1
        return value


def tiny_data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5, 0.0], "float32"))[:, None]
    return x, y


def tiny_model(learning_rate=0.05):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss="mse")
    return model


class WeightLog(keras.callbacks.Callback):
    """Keeps the weights at every epoch end and the learning rate at every begin."""

    def __init__(self):
        super().__init__()
        self.weights = []
        self.learning_rates = []

    def on_epoch_begin(self, epoch, logs=None):
        self.learning_rates.append(float(self.model.optimizer.learning_rate))

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append([np.array(w) for w in self.model.get_weights()])


def assert_weights_equal(actual, expected):
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected, strict=True):
        np.testing.assert_allclose(np.asarray(a), e, rtol=0, atol=0)
