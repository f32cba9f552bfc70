"""`Monitor` and the logged learning rate under `keras.distribution.DataParallel`.

Run as a script in a fresh process (the 4 simulated CPU devices must be set up
before JAX starts): `python monitor_scenario.py OUT.npz`. For
`steps_per_execution` 1 and 4 it trains a small model whose hidden tensor is
monitored (mean and max) and whose SGD learning rate is a coolkeras schedule,
on four devices (one device: tests/layers/test_monitor.py), and writes the
epoch logs, the validation logs and the per-execution logs. It also writes
the numpy reference: a plain Keras twin (no `Monitor`, same initial weights,
one device, one step per execution) records its hidden weights before every
step and after every epoch, and the monitored tensor is recomputed from them.
"""

from __future__ import annotations

import os
import sys

DEVICES = 4
BATCH, SAMPLES, VAL_SAMPLES, EPOCHS = 8, 32, 16, 2  # batches divide over 4 devices
STEPS = SAMPLES // BATCH
SPE = (1, 4)
KEYS = ("h_mean", "h_max", "val_h_mean", "val_h_max", "learning_rate")


def run(out) -> dict:
    """Runs this script in a fresh process; returns its results as arrays."""
    from tests.distributed.launch import run_script

    return run_script(__file__, str(out), out=out, backend="jax", devices=DEVICES)


def data():
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(size=(SAMPLES, 3)).astype("float32")
    y = rng.normal(size=(SAMPLES, 1)).astype("float32")
    xv = rng.normal(size=(VAL_SAMPLES, 3)).astype("float32")
    yv = rng.normal(size=(VAL_SAMPLES, 1)).astype("float32")
    return x, y, xv, yv


def schedule():
    from coolkeras import schedules

    return schedules.Linear(0.2, 0.02, steps=STEPS * EPOCHS)


def model(monitors: bool, spe: int = 1):
    import keras

    import coolkeras
    from coolkeras.layers import Monitor

    keras.utils.set_random_seed(1)
    inputs = keras.Input((3,))
    h = keras.layers.Dense(2, activation="tanh", name="hidden")(inputs)
    if monitors:
        h = Monitor("h_max", reduction="max")(Monitor("h_mean")(h))
    result = keras.Model(inputs, keras.layers.Dense(1, name="out")(h))
    result.compile(keras.optimizers.SGD(schedule()), "mse", steps_per_execution=spe)
    if monitors:
        coolkeras.attach(result)  # logs the learning rate
    return result


def fit(model, callbacks=()):
    x, y, xv, yv = data()
    return model.fit(
        x,
        y,
        batch_size=BATCH,
        epochs=EPOCHS,
        shuffle=False,
        verbose=0,
        validation_data=(xv, yv),
        callbacks=list(callbacks),
    ).history


def monitored_run(spe: int) -> dict:
    import keras
    import numpy as np

    class BatchLogs(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.values = []  # (global index of the last step, h_mean, lr)

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            step = self.epoch * STEPS + min(batch, STEPS - 1)
            self.values.append([step, logs["h_mean"], logs["learning_rate"]])

    recorder = BatchLogs()
    monitored = model(monitors=True, spe=spe)
    history = fit(monitored, [recorder])
    results = {key: np.asarray(history[key]) for key in KEYS}
    results["batches"] = np.asarray(recorder.values, dtype="float64")
    kernel = monitored.get_layer("hidden").kernel.value
    results["devices"] = np.asarray(len(kernel.sharding.device_set))
    return results


def reference() -> dict:
    """The numpy values of every key, from a plain Keras twin's weights."""
    import keras
    import numpy as np

    class Weights(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.steps, self.epochs = [], []

        def _weights(self):
            layer = self.model.get_layer("hidden")
            return [keras.ops.convert_to_numpy(w).copy() for w in layer.weights]

        def on_train_batch_begin(self, batch, logs=None):
            self.steps.append(self._weights())

        def on_epoch_end(self, epoch, logs=None):
            self.epochs.append(self._weights())

    recorder = Weights()
    fit(model(monitors=False), [recorder])
    x, _, xv, _ = data()

    def hidden(inputs, weights):
        kernel, bias = weights
        return np.tanh(inputs @ kernel + bias)

    steps = [
        hidden(x[i * BATCH : (i + 1) * BATCH], recorder.steps[e * STEPS + i])
        for e in range(EPOCHS)
        for i in range(STEPS)
    ]
    epochs = [np.stack(steps[e * STEPS : (e + 1) * STEPS]) for e in range(EPOCHS)]
    val = [hidden(xv, weights) for weights in recorder.epochs]
    lr = schedule()
    return {
        "h_mean": np.asarray([np.mean(h) for h in epochs]),
        "h_max": np.asarray([np.max(h) for h in epochs]),
        "val_h_mean": np.asarray([np.mean(h) for h in val]),
        "val_h_max": np.asarray([np.max(h) for h in val]),
        "learning_rate": np.asarray(
            [float(lr(STEPS * (e + 1) - 1)) for e in range(EPOCHS)]
        ),
        # The running mean within the epoch after each step.
        "running_mean": np.asarray(
            [
                np.mean(np.stack(steps[(t // STEPS) * STEPS : t + 1]))
                for t in range(len(steps))
            ]
        ),
        "lr_per_step": np.asarray([float(lr(t)) for t in range(len(steps))]),
    }


def main(out: str) -> None:
    import keras
    import numpy as np

    devices = keras.distribution.list_devices("cpu")
    assert len(devices) == DEVICES, devices
    results = {f"reference_{k}": v for k, v in reference().items()}
    distribution = keras.distribution.DataParallel(devices=devices)
    keras.distribution.set_distribution(distribution)
    try:
        for spe in SPE:
            for key, value in monitored_run(spe).items():
                results[f"multi_{spe}_{key}"] = value
    finally:
        keras.distribution.set_distribution(None)
    np.savez(out, **results)


if __name__ == "__main__":
    os.environ.setdefault("KERAS_BACKEND", "jax")
    main(sys.argv[1])
