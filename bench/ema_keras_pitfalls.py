"""Measures what Keras' `use_ema=True` does, next to `coolkeras.callbacks.EMA`.

The numbers quoted on docs/article/7-ema.md. Each section trains tiny models
on the backend under test and prints plain floats:

1. bias: one weight `w` fitted to 1 by SGD (`w_t = 1 - 0.9^t`), 100 updates;
   the average and the loss `(average - 1)^2`, for momentum 0.99 and 0.999.
2. accumulation: `gradient_accumulation_steps=2`, 8 batches (4 updates); the
   average next to numpy EMAs over every batch and over every update.
3. resume: `fit(epochs=4)` against four `fit(epochs=1)`: the training loss.
4. validation: the last epoch's `val_loss` against the loss of the average.
5. BatchNorm: how many variables each averages.

Run: KERAS_BACKEND=jax python bench/ema_keras_pitfalls.py
"""

from __future__ import annotations

import keras
import numpy as np

from coolkeras.callbacks import EMA

ONES = np.ones((100, 1), "float32")


def _toy(keras_momentum=None, accumulation=None, lr=0.05):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((1,)),
            keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros"),
        ]
    )
    options = {"gradient_accumulation_steps": accumulation}
    if keras_momentum is not None:
        options |= {"use_ema": True, "ema_momentum": keras_momentum}
    model.compile(keras.optimizers.SGD(lr, **options), loss="mse")
    return model


def _weight(model):
    return float(model.get_weights()[0][0, 0])


def _ema_numpy(values, momentum, debias):
    """EMA of `values`: debiased from zero, or Keras' start at the first."""
    if debias:
        m = 0.0
        for v in values:
            m = momentum * m + (1 - momentum) * v
        return m / (1 - momentum ** len(values))
    average = values[0]
    for v in values[1:]:
        average = momentum * average + (1 - momentum) * v
    return average


def bias():
    for momentum in (0.99, 0.999):
        model = _toy(momentum)
        model.fit(ONES, ONES, batch_size=1, shuffle=False, verbose=0)
        keras_average = _weight(model)  # Keras put the average in at the end
        model = _toy()
        ema = EMA(momentum)
        model.fit(ONES, ONES, batch_size=1, shuffle=False, verbose=0, callbacks=[ema])
        raw = _weight(model)
        with ema.averaged():
            ours = _weight(model)
        steps = [1 - 0.9**t for t in range(1, 101)]
        print(
            f"1. momentum {momentum}: raw w {raw:.4f}; "
            f"keras use_ema {keras_average:.4f} "
            f"(loss {(keras_average - 1) ** 2:.4f}, numpy from first step "
            f"{_ema_numpy(steps, momentum, False):.4f}); coolkeras EMA {ours:.4f} "
            f"(loss {(ours - 1) ** 2:.6f}, numpy debiased "
            f"{_ema_numpy(steps, momentum, True):.4f})"
        )


def accumulation():
    x = ONES[:8]
    model = _toy()
    weights = []

    class Recorder(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            weights.append(
                float(
                    keras.ops.convert_to_numpy(self.model.trainable_variables[0].value)[
                        0, 0
                    ]
                )
            )

    recorder = Recorder()
    model.compile(keras.optimizers.SGD(0.05, gradient_accumulation_steps=2), loss="mse")
    model.fit(x, x, batch_size=1, shuffle=False, verbose=0, callbacks=[recorder])
    model = _toy(0.9, accumulation=2)
    model.fit(x, x, batch_size=1, shuffle=False, verbose=0)
    keras_average = _weight(model)
    model = _toy(accumulation=2)
    ema = EMA(0.9)
    model.fit(x, x, batch_size=1, shuffle=False, verbose=0, callbacks=[ema])
    with ema.averaged():
        ours = _weight(model)
    # Keras' average starts at the first update's weights (after batch 2).
    per_batch = _ema_numpy(weights[1:], 0.9, False)
    per_update = _ema_numpy(weights[1::2], 0.9, False)
    debiased = _ema_numpy(weights[1::2], 0.9, True)
    print(
        f"2. accumulation 2, momentum 0.9, 4 updates: "
        f"keras use_ema {keras_average:.4f} (numpy over the 7 batches from "
        f"the first update {per_batch:.4f}, over the 4 "
        f"updates {per_update:.4f}); coolkeras EMA {ours:.4f} (numpy debiased over "
        f"the updates {debiased:.4f})"
    )


def _regression(keras_momentum=None, batch_norm=False):
    keras.utils.set_random_seed(1)
    layers = [keras.Input((3,)), keras.layers.Dense(8, activation="tanh")]
    if batch_norm:
        layers.append(keras.layers.BatchNormalization())
    model = keras.Sequential([*layers, keras.layers.Dense(1)])
    options = (
        {"use_ema": True, "ema_momentum": keras_momentum} if keras_momentum else {}
    )
    model.compile(keras.optimizers.SGD(0.1, **options), loss="mse")
    return model


RNG = np.random.default_rng(0)
X = RNG.normal(size=(64, 3)).astype("float32")
Y = (X @ np.array([[1.0], [-2.0], [0.5]]) + 0.3 * RNG.normal(size=(64, 1))).astype(
    "float32"
)
FIT = dict(batch_size=8, shuffle=False, verbose=0)


def _loss(model):
    return float(model.evaluate(X, Y, verbose=0))


def resume():
    for name, momentum in (("keras use_ema", 0.9), ("coolkeras EMA", None)):
        callbacks = [] if momentum else [EMA(0.9)]
        once = _regression(momentum)
        once.fit(X, Y, epochs=4, callbacks=callbacks, **FIT)
        once_loss = _loss(once)
        callbacks = [] if momentum else [EMA(0.9)]
        four = _regression(momentum)
        try:
            for _ in range(4):
                four.fit(X, Y, epochs=1, callbacks=callbacks, **FIT)
            four_loss = f"{_loss(four):.4f}"
        except Exception as error:  # JAX: the average and the weight share a buffer
            four_loss = f"fails at the second fit: {type(error).__name__}"
        print(f"3. {name}: fit(epochs=4) loss {once_loss:.4f}; 4 x fit(1) {four_loss}")


def validation():
    model = _regression(0.9)
    history = model.fit(X, Y, epochs=3, validation_data=(X, Y), **FIT)
    print(
        f"4. keras use_ema: last val_loss {history.history['val_loss'][-1]:.4f}; "
        f"loss of its average {_loss(model):.4f}"
    )
    ema = EMA(0.9)
    model = _regression()
    history = model.fit(X, Y, epochs=3, validation_data=(X, Y), callbacks=[ema], **FIT)
    raw = _loss(model)
    with ema.averaged():
        average = _loss(model)
    print(
        f"4. coolkeras EMA: last val_loss {history.history['val_loss'][-1]:.4f}; "
        f"loss of its average {average:.4f} (raw {raw:.4f})"
    )


def batch_norm():
    model = _regression(0.9, batch_norm=True)
    model.fit(X, Y, epochs=1, **FIT)
    averages = [v for v in model.optimizer.variables if "average" in v.path]
    statistics = len(model.non_trainable_weights)
    ema = EMA(0.9, include_non_trainable=True)
    model = _regression(batch_norm=True)
    model.fit(X, Y, epochs=1, callbacks=[ema], **FIT)
    print(
        f"5. BatchNorm model, {len(model.trainable_weights)} trainable + {statistics} "
        f"statistics: keras use_ema averages {len(averages)}; "
        f"EMA(include_non_trainable=True) averages {len(ema._state.slots)}"
    )


if __name__ == "__main__":
    print(f"backend: {keras.backend.backend()}, keras {keras.__version__}")
    bias()
    accumulation()
    resume()
    validation()
    batch_norm()
