"""Cost of `coolkeras.layers.Monitor`: steps/s with three monitored tensors ÷ without.

Three variants of the same small MLP, same data, same process:
  (a) plain Keras, nothing monitored (the baseline),
  (b) the same layers with three `Monitor`s: the mean of the first hidden
      activations, the mean per-sample norm of the second, and the max logit
      (each logged per batch and per epoch),
  (c) the graph of (b) with a plain Keras layer that returns its input in
      place of each `Monitor`: what three more layers (and the norm, computed
      only to be logged) cost in any Keras model. (b) ÷ (c) is then the cost
      of monitoring itself,
  (d) the model of (a) compiled with three more Keras metrics that log a
      constant: what three more values in the per-batch logs cost in Keras
      (on JAX, Keras reads every log value back to the host at every batch).
The A/A control pairs the baseline with a second copy of it, built the same way.
Runs are interleaved in adjacent pairs after a warm-up (`bench/_timing.py`);
`steps_per_execution` 1 and 16 on JAX and TensorFlow, 1 on PyTorch (which
refuses more).

Then the same isolated: the work three monitors add to a train step (three
accumulator updates and their results), timed alone, compiled as the step is,
and the ratio that cost implies: more precise than the end-to-end ratios on a
shared machine.
Run: KERAS_BACKEND=jax python bench/monitor.py [repeats, default 9]
"""

from __future__ import annotations

import os
import sys

import keras
import numpy as np
from keras import ops

sys.path.insert(0, os.path.dirname(__file__))
import _timing  # noqa: E402

from coolkeras.layers import Monitor  # noqa: E402
from coolkeras.layers._accumulator import Accumulator  # noqa: E402

BATCH, STEPS, EPOCHS, WIDTH = 128, 320, 2, 256
RNG = np.random.default_rng(0)
X = RNG.normal(size=(BATCH * STEPS, 64)).astype("float32")
Y = RNG.integers(0, 10, size=(BATCH * STEPS,))


def _norm(h):
    return ops.sqrt(ops.sum(ops.square(h), axis=-1))


class _PassThrough(keras.layers.Layer):
    """A plain Keras layer in place of a `Monitor`: returns what it would."""

    def __init__(self, name, reduction="mean", output_index=None):
        super().__init__(name=name)
        self.output_index = output_index

    def call(self, inputs):
        return inputs if self.output_index is None else inputs[self.output_index]


def _model(layer) -> keras.Model:
    """The MLP, with `layer` (`Monitor`, `_PassThrough` or `None`) at three places."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((64,))
    h1 = keras.layers.Dense(WIDTH, activation="relu")(inputs)
    if layer:
        h1 = layer("h1_mean")(h1)
    h2 = keras.layers.Dense(WIDTH, activation="relu")(h1)
    if layer:
        h2 = layer("h2_norm", output_index=1)([_norm(h2), h2])
    logits = keras.layers.Dense(10)(h2)
    if layer:
        logits = layer("logit_max", reduction="max")(logits)
    return keras.Model(inputs, logits)


def _zero(y_true, y_pred):
    return ops.zeros_like(y_pred[:, 0])


def _variant(layer, steps_per_execution: int, metrics: int = 0):
    monitored = layer is Monitor
    model = _model(layer)
    model.compile(
        optimizer=keras.optimizers.SGD(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[
            keras.metrics.MeanMetricWrapper(_zero, f"zero_{i}") for i in range(metrics)
        ]
        or None,
        steps_per_execution=steps_per_execution,
    )

    def run():
        history = model.fit(
            X, Y, batch_size=BATCH, epochs=EPOCHS, verbose=0, shuffle=False
        )
        if monitored:
            assert {"h1_mean", "h2_norm", "logit_max"} <= set(history.history)
        return STEPS * EPOCHS

    run.model = model
    return run


class _Owner(keras.layers.Layer):
    """Holds three accumulators, as three `Monitor` layers do."""

    def build(self, input_shape):
        self.accumulators = [
            Accumulator(self, reduction, names=(f"v{i}", f"c{i}"))
            for i, reduction in enumerate(("mean", "mean", "max"))
        ]


def _tensors():
    h1 = ops.convert_to_tensor(RNG.normal(size=(BATCH, WIDTH)).astype("float32"))
    h2 = ops.convert_to_tensor(RNG.normal(size=(BATCH, WIDTH)).astype("float32"))
    logits = ops.convert_to_tensor(RNG.normal(size=(BATCH, 10)).astype("float32"))
    return h1, h2, logits


def _isolated(extra: bool):
    """What three monitors add to a step (`extra`), or the same call without.

    Both take and return the accumulators' state (on JAX as arrays, the way a
    train step threads it; elsewhere as live variables): updating three
    running reductions and reading their results.
    """
    owner = _Owner()
    owner.build(None)
    accumulators = owner.accumulators
    variables = [v for a in accumulators for v in (a.value, a.count)]
    h1, h2, logits = _tensors()

    def work():
        if not extra:
            return ops.sum(h1) * 0.0
        for accumulator, tensor in zip(
            accumulators, (h1, _norm(h2), logits), strict=True
        ):
            accumulator.update(tensor)
        return sum(a.result() for a in accumulators)

    if keras.backend.backend() == "jax":

        def stateless(arrays):
            mapping = list(zip(variables, arrays, strict=True))
            with keras.StatelessScope(state_mapping=mapping) as scope:
                result = work()
            return result, [scope.get_current_value(v) for v in variables]

        compiled = _timing.compiled(stateless)
        state = {"arrays": [v.value for v in variables]}

        def call():
            result, state["arrays"] = compiled(state["arrays"])
            return result

        return call
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        # As `fit` compiles this MLP's step: `jit_compile="auto"` resolves to
        # False here (measured), so a `tf.function` without XLA.
        return tf.function(work, jit_compile=False)
    return work  # PyTorch: eager, as its train step


def main(repeats: int = 9) -> None:
    backend = keras.backend.backend()
    settings = [1] if backend == "torch" else [1, 16]
    for steps_per_execution in settings:
        variants = {
            "(a) plain Keras": _variant(None, steps_per_execution),
            "(b) three monitors": _variant(Monitor, steps_per_execution),
            "(c) three pass-through layers": _variant(
                _PassThrough, steps_per_execution
            ),
            "(d) three Keras metrics": _variant(None, steps_per_execution, metrics=3),
        }
        results = _timing.compare(
            variants,
            baseline="(a) plain Keras",
            repeats=repeats,
            control=_variant(None, steps_per_execution),
        )
        own = results["(b) three monitors"] / results["(c) three pass-through layers"]
        results["(b) / (c): monitoring itself"] = own
        _timing.report(f"{backend} spe={steps_per_execution}", results)
        if steps_per_execution == 1:
            cost = _timing.added_microseconds(_isolated(False), _isolated(True))
            _timing.added_cost(
                f"{backend} three monitors alone", cost, results["baseline steps/s"]
            )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 9)
