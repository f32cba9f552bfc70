"""Models, recorders and the numpy reference for the `EMA` tests."""

import keras
import numpy as np

RNG = np.random.default_rng(0)
X = RNG.normal(size=(48, 3)).astype("float32")
Y = RNG.normal(size=(48, 2)).astype("float32")
XV = RNG.normal(size=(16, 3)).astype("float32")
YV = RNG.normal(size=(16, 2)).astype("float32")
BATCH = 4  # 12 steps per epoch


def make_model(
    steps_per_execution=1,
    accumulation=None,
    batch_norm=False,
    weights=None,
    optimizer=None,
):
    """A small regression MLP; `weights` (a list as `get_weights()`) or seed 1."""
    keras.utils.set_random_seed(1)
    layers = [keras.Input((3,)), keras.layers.Dense(4, activation="tanh")]
    if batch_norm:
        layers.append(keras.layers.BatchNormalization(momentum=0.5))
    layers.append(keras.layers.Dense(2))
    model = keras.Sequential(layers)
    if weights is not None:
        model.set_weights(weights)
    model.compile(
        optimizer=optimizer
        or keras.optimizers.SGD(0.1, gradient_accumulation_steps=accumulation),
        loss="mse",
        steps_per_execution=steps_per_execution,
    )
    return model


def fit(model, callbacks=(), epochs=1, **kwargs):
    return model.fit(
        X,
        Y,
        batch_size=BATCH,
        epochs=epochs,
        shuffle=False,
        verbose=0,
        callbacks=list(callbacks),
        **kwargs,
    )


def averaged_variables(model, include_non_trainable=False):
    """The variables an `EMA` averages, in its order (for a model without it)."""
    variables = list(model.trainable_variables)
    if include_non_trainable:
        variables += [
            v
            for v in model.non_trainable_variables
            if keras.backend.is_float_dtype(v.dtype)
        ]
    return variables


def values(variables):
    return [np.array(keras.ops.convert_to_numpy(v.value)) for v in variables]


class RawTrajectory(keras.callbacks.Callback):
    """The averaged variables after every batch, of a model trained without EMA
    (its trajectory is the raw trajectory of the same model with an EMA)."""

    def __init__(self, include_non_trainable=False):
        super().__init__()
        self.include_non_trainable = include_non_trainable
        self.initial = None
        self.steps = []

    def on_train_begin(self, logs=None):
        variables = averaged_variables(self.model, self.include_non_trainable)
        self.initial = values(variables)

    def on_train_batch_end(self, batch, logs=None):
        self.steps.append(
            values(averaged_variables(self.model, self.include_non_trainable))
        )


class Snapshots(keras.callbacks.Callback):
    """(raw, average) of an EMA's variables at each batch end (execution end
    with `steps_per_execution > 1`) and at each epoch end, wherever it stands."""

    def __init__(self, ema):
        super().__init__()
        self.ema = ema
        self.batches = []  # (batch index, raw, average)
        self.epochs = []  # (raw, average)

    def on_train_batch_end(self, batch, logs=None):
        self.batches.append((batch, *self.ema._state.read()))

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(self.ema._state.read())


def reference(
    initial, steps, decay, accumulation=1, debias=True, start_step=0
):
    """The EMA after each train step, in float64, bert4keras' form.

    `steps[j]` holds the variables after train step `j` (a micro-batch under
    gradient accumulation; the optimizer updates after every `accumulation`
    of them); `decay(c)` is the decay of the update made at clock `c` (the
    updates before it). Debiased: `m = d * m + (1 - d) * w` from `m = 0`,
    divided by `1 - prod(d)`. Plain: the same recursion started at the
    weights. Before `start_step` updates, the average is the raw weights.
    """
    current = [np.float64(w) for w in initial]
    m, product = [np.zeros_like(w) for w in current], 1.0
    out = []
    for j, weights in enumerate(steps):
        weights = [np.float64(w) for w in weights]
        if (j + 1) % accumulation == 0:
            clock = j // accumulation
            if clock < start_step:
                current = weights
            else:
                d = float(np.float32(decay(clock)))
                if debias:
                    m = [d * a + (1 - d) * w for a, w in zip(m, weights, strict=True)]
                    product *= d
                    current = [a / (1 - product) for a in m]
                else:
                    pairs = zip(current, weights, strict=True)
                    current = [d * a + (1 - d) * w for a, w in pairs]
        out.append(current)
    return out


def assert_close(actual, expected, rtol=1e-6):
    """Each array within `rtol` of the expected array's scale (elements near
    zero would otherwise demand more than float32 carries)."""
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected, strict=True):
        e = np.asarray(e)
        np.testing.assert_allclose(
            a, e, rtol=rtol, atol=rtol * float(np.max(np.abs(e)))
        )


def assert_far(actual, expected, rtol=1e-3):
    """Guards a comparison: the two lists differ by much more than `rtol`."""
    gap = max(
        float(np.max(np.abs(np.asarray(a) - np.asarray(e))) / np.max(np.abs(e)))
        for a, e in zip(actual, expected, strict=True)
    )
    assert gap > rtol, gap


def execution_settings():
    if keras.backend.backend() == "torch":  # torch refuses steps_per_execution > 1
        return [1]
    return [1, 4]
