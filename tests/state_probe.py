"""Small models that record, from inside each step, the hyperparameter values used.

The probe model is `x -> Dense(1, no bias, kernel 1) -> ValueProbe -> Recorder`.
With `x = 1` and `loss = mean(y_pred) + ...`, the kernel `w` falls by exactly
the learning rate at each SGD update, so the learning rate used at update `t`
is `w_t - w_{t+1}`; `ValueProbe` records the hyperparameter's value in every
training forward pass, and `Recorder` the weight seen by that pass.
"""

import keras
import numpy as np
from keras import ops

from coolkeras import Hyperparameter
from tests.recording import Recorder

EPS = keras.optimizers.schedules.PolynomialDecay(0.5, 10, 0.05)
LR = keras.optimizers.schedules.PolynomialDecay(0.1, 8, 0.01)
STEPS = 12


def reference(schedule, steps, scale=1.0):
    return np.array([scale * float(schedule(int(step))) for step in steps])


@keras.saving.register_keras_serializable(package="coolkeras_tests")
def mean_prediction(y_true, y_pred):
    return ops.mean(y_pred)


@keras.saving.register_keras_serializable(package="coolkeras_tests")
class ValueProbe(keras.layers.Layer):
    """Records `hyperparameter.value` at every training call; returns its input."""

    def __init__(self, hyperparameter, size=64, **kwargs):
        super().__init__(**kwargs)
        if isinstance(hyperparameter, dict):
            hyperparameter = keras.saving.deserialize_keras_object(hyperparameter)
        self.hyperparameter = hyperparameter
        self.size = size
        self.recorder = Recorder(size, name=f"{self.name}_values")

    def get_config(self):
        return {
            **super().get_config(),
            "hyperparameter": keras.saving.serialize_keras_object(self.hyperparameter),
            "size": self.size,
        }

    def call(self, inputs, training=None):
        if training:
            self.recorder.record(self.hyperparameter.value)
        return inputs

    def values(self):
        return self.recorder.values()


def probe_model(eps=None, learning_rate=LR, model_class=keras.Model, **compile_kw):
    """The probe model compiled with SGD(learning_rate) and `loss = mean(y_pred)`.

    Returns `(model, eps, probe, weights_seen)`.
    """
    eps = eps or Hyperparameter(EPS, name="eps")
    inputs = keras.Input((1,))
    weight = keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")(inputs)
    probe = ValueProbe(eps, name="probe")
    weights_seen = Recorder(64, name="weights_seen")
    model = model_class(inputs, weights_seen(probe(weight)))
    model.compile(
        optimizer=keras.optimizers.SGD(
            learning_rate,
            gradient_accumulation_steps=compile_kw.pop("accumulation", None),
        ),
        loss=mean_prediction,
        **compile_kw,
    )
    return model, eps, probe, weights_seen


def fit(model, epochs=1, callbacks=(), steps=STEPS, **kwargs):
    data = np.ones((steps, 1), "float32")
    return model.fit(
        data,
        data,
        batch_size=1,
        epochs=epochs,
        verbose=0,
        shuffle=False,
        callbacks=list(callbacks),
        **kwargs,
    )


def learning_rates(weights_seen, per_update=1):
    """The learning rate of each update, from the weights seen before it."""
    weights = weights_seen.values()[::per_update]
    return -np.diff(weights)


def execution_settings():
    if keras.backend.backend() == "torch":  # torch refuses steps_per_execution > 1
        return [1]
    return [1, 4]
