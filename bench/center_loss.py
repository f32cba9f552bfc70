"""Steps/s of a classifier with `CenterLoss` (each update rule) vs a plain softmax head.

Same network, same data, same process: Input(784) -> Dense(256, relu) -> Dense(2)
-> Dense(10), Adam, batch 128, with an accuracy metric in every variant. One
more variant sends the softmax head through a plain Keras layer that joins
`[logits, features]` as `CenterLoss` does (loss and metric slice the logits
out): what that graph costs in any Keras model, so that a CenterLoss ratio
divided by it is the cost of the center term itself. Method
of `bench/_timing.py`: interleaved runs after a warm-up, median of per-repeat
steps/s ratios to the softmax run, and an A/A control whose spread bounds the
precision of the other ratios.

The A/A control is a second, separately built softmax model. On a shared
machine, give PyTorch one intra-op thread (`OMP_NUM_THREADS=1`): with two
threads on a loaded 2-core machine its steps spin-wait (measured: 230 ms a step
instead of 17 ms). `BENCH_REPEATS` and `BENCH_STEPS` set the repeats and the
steps per run (JAX's steps are short: give it more, e.g. 200).

Run: `KERAS_BACKEND=jax python bench/center_loss.py`.
"""

from __future__ import annotations

import os
import sys

import keras
import numpy as np

from coolkeras.layers import CenterLoss

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _timing  # noqa: E402

BATCH = 128
STEPS = int(os.environ.get("BENCH_STEPS", 50))
REPEATS = int(os.environ.get("BENCH_REPEATS", 15))


def _network():
    inputs = keras.Input((784,))
    hidden = keras.layers.Dense(256, activation="relu")(inputs)
    features = keras.layers.Dense(2)(hidden)
    return inputs, features, keras.layers.Dense(10)(features)


def softmax_model() -> keras.Model:
    inputs, _, logits = _network()
    model = keras.Model(inputs, logits)
    model.compile(
        "adam",
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


class _Join(keras.layers.Layer):
    """The joined `[logits, features]` output, as `CenterLoss` returns it."""

    def call(self, inputs):
        return keras.ops.concatenate(inputs, axis=-1)


def _logits_loss(y_true, y_pred):
    return keras.losses.sparse_categorical_crossentropy(
        y_true, y_pred[:, :10], from_logits=True
    )


def _logits_accuracy(y_true, y_pred):
    return keras.metrics.sparse_categorical_accuracy(y_true, y_pred[:, :10])


def joined_softmax_model() -> keras.Model:
    """The softmax head through a plain joining layer: what the graph of
    `CenterLoss` costs in Keras before any center term."""
    inputs, features, logits = _network()
    model = keras.Model(inputs, _Join()([logits, features]))
    model.compile("adam", _logits_loss, metrics=[_logits_accuracy])
    return model


def center_model(update: str) -> keras.Model:
    inputs, features, logits = _network()
    center = CenterLoss(0.1, update=update)
    model = keras.Model(inputs, center([logits, features]))
    model.compile("adam", loss=center.loss(), metrics=[center.metric()])
    return model


def epochs_runner(model: keras.Model, x: np.ndarray, y: np.ndarray):
    def run() -> int:
        model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
        return STEPS

    return run


def main() -> None:
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.random((BATCH * STEPS, 784), dtype=np.float32)
    y = rng.integers(0, 10, size=BATCH * STEPS)
    variants = {
        "softmax": epochs_runner(softmax_model(), x, y),
        "center_loss gradient": epochs_runner(center_model("gradient"), x, y),
        "center_loss paper": epochs_runner(center_model("paper"), x, y),
        "softmax through a joining layer": epochs_runner(joined_softmax_model(), x, y),
    }
    variants["softmax"]()  # extra warm-up epoch for the baseline's first runs
    print(f"{STEPS} steps of batch {BATCH} per run, {REPEATS} interleaved repeats")
    control = epochs_runner(softmax_model(), x, y)
    results = _timing.compare(
        variants, baseline="softmax", repeats=REPEATS, control=control
    )
    joined = results["softmax through a joining layer"]
    for update in ("gradient", "paper"):
        own = results[f"center_loss {update}"] / joined
        results[f"center_loss {update} / joined softmax: the center term"] = own
    _timing.report(keras.backend.backend(), results)


if __name__ == "__main__":
    main()
