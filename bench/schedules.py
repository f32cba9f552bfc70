"""Cost of coolkeras schedules and hyperparameters, as ratios to a constant rate.

Variants of the same small MLP, same data, same process:
  (a) constant learning rate (the baseline),
  (b) Warmup + PiecewiseLinear learning rate,
  (c) a Hyperparameter epsilon in the loss (vs (c0): the same loss with a float),
  (d) the article's per-batch Python callback setting the learning rate.
Each setting also times alone the work (b) and (c) add per step, compiled as the
train step is, and prints the ratio that cost implies: far more precise than the
end-to-end ratios on a shared machine.
Run: KERAS_BACKEND=jax python bench/schedules.py
"""

from __future__ import annotations

import os
import sys

import keras
import numpy as np
from keras import ops

sys.path.insert(0, os.path.dirname(__file__))
import _timing  # noqa: E402

import coolkeras  # noqa: E402
from coolkeras import _keras_internals, schedules  # noqa: E402
from coolkeras.losses import SmoothedCrossEntropy  # noqa: E402

BATCH, STEPS, EPOCHS, WIDTH = 128, 320, 3, 256
RNG = np.random.default_rng(0)
X = RNG.normal(size=(BATCH * STEPS, 64)).astype("float32")
Y = RNG.integers(0, 10, size=(BATCH * STEPS,))


class PerBatchLearningRate(keras.callbacks.Callback):
    """The article's warmup: set the learning rate from Python before every batch."""

    def on_train_batch_begin(self, batch, logs=None):
        self.model.optimizer.learning_rate = 1e-3 * min(1.0, (batch + 1) / 100)


def _variant(learning_rate, epsilon=0.1, callbacks=(), steps_per_execution=1):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(WIDTH, activation="relu"),
            keras.layers.Dense(WIDTH, activation="relu"),
            keras.layers.Dense(10),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate),
        loss=SmoothedCrossEntropy(epsilon, from_logits=True),
        steps_per_execution=steps_per_execution,
    )
    coolkeras.attach(model)

    def run():
        model.fit(
            X,
            Y,
            batch_size=BATCH,
            epochs=EPOCHS,
            verbose=0,
            shuffle=False,
            callbacks=list(callbacks),
        )
        return STEPS * EPOCHS

    return run


def _isolated_costs(schedule, epsilon, steps_per_second: float) -> None:
    """Times alone what (b) and (c) add to a train step, where the step runs it.

    Each is compiled as in a train step (eagerly on PyTorch) and timed in
    rounds adjacent to a function that only returns the step as a float.
    (b): the learning rate. (c): the hyperparameter's value, its state passed
    in as the train step passes it (mapped variables), plus the increment of
    its step.
    """
    backend = keras.backend.backend()

    state = epsilon._state

    def step_only(step, settings):
        return ops.cast(step, "float32")

    def learning_rate(step, settings):
        return schedule(step)

    def hyperparameter(step, settings):
        if backend == "torch":  # eager: the variables are read and updated
            _keras_internals.increment(state.step)
            return epsilon._value_at(state.step.value)
        mapping = [(state.step, step), (state.settings, settings)]
        with keras.StatelessScope(state_mapping=mapping):
            _keras_internals.increment(state.step)
            return epsilon._value_at(state.step.value)

    args = (ops.convert_to_tensor(7, "int32"), state.settings.value)
    baseline = _timing.compiled(step_only)
    for title, function in [
        ("(b) schedule alone", learning_rate),
        ("(c) hyperparameter alone", hyperparameter),
    ]:
        cost = _timing.added_microseconds(baseline, _timing.compiled(function), *args)
        _timing.added_cost(f"{backend} {title}", cost, steps_per_second)


def main() -> None:
    backend = keras.backend.backend()
    settings = [1] if backend == "torch" else [1, 16]
    for steps_per_execution in settings:
        schedule = schedules.Warmup(
            schedules.PiecewiseLinear({0: 1e-3, 100: 1e-4}), steps=50
        )
        epsilon = coolkeras.Hyperparameter(
            schedules.PiecewiseLinear({0: 0.1, 100: 0.01}), name="eps"
        )
        variants = {
            "(a) constant": _variant(1e-3, steps_per_execution=steps_per_execution),
            "(b) warmup+piecewise": _variant(
                schedule, steps_per_execution=steps_per_execution
            ),
            "(c) hyperparameter eps": _variant(
                1e-3, epsilon=epsilon, steps_per_execution=steps_per_execution
            ),
            "(d) per-batch callback": _variant(
                1e-3,
                callbacks=[PerBatchLearningRate()],
                steps_per_execution=steps_per_execution,
            ),
        }
        results = _timing.compare(variants, baseline="(a) constant", repeats=7)
        _timing.report(f"{backend} spe={steps_per_execution}", results)
        if steps_per_execution == 1:
            _isolated_costs(schedule, epsilon, results["baseline steps/s"])


if __name__ == "__main__":
    main()
