"""Trains a model with `coolkeras.callbacks.EMA` on one device and on four.

Run as a script in a fresh process (the simulated devices must be set up before
JAX starts): `python ema_scenario.py OUT.npz`. The model: Dense, BatchNorm,
Dense, SGD with momentum, an `EMA` with timm's warm-up decay (a schedule) that
also averages the BatchNorm statistics, validation data, 2 epochs of 4 steps,
then a second `fit` of one epoch (which must continue from the raw weights).
Writes, for the single-device run (`single_*`) and the `DataParallel` run
(`multi_*`): the raw weights and the averages after every step, the validation
losses, the final raw weights and averages, and on how many devices the
averages live.
"""

from __future__ import annotations

import os

DEVICES = 4


def run(out) -> dict:
    """Runs this script in a fresh process; returns its results as arrays."""
    from tests.distributed.launch import run_script

    return run_script(__file__, str(out), out=out, backend="jax", devices=DEVICES)


def _flat(arrays):
    import numpy as np

    return np.concatenate([np.ravel(a) for a in arrays])


def train() -> dict:
    import keras
    import numpy as np

    from coolkeras import schedules
    from coolkeras.callbacks import EMA

    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype("float32")
    y = rng.normal(size=(32, 2)).astype("float32")
    keras.utils.set_random_seed(1)
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(8, activation="tanh"),
            keras.layers.BatchNormalization(momentum=0.5),
            keras.layers.Dense(2),
        ]
    )
    model.compile(keras.optimizers.SGD(0.1, momentum=0.5), loss="mse")
    decay = 1.0 - schedules.InverseTime(1.0, steps=2, rate=1.0)
    ema = EMA(decay, include_non_trainable=True)
    raw, average = [], []

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            weights, averages = ema._state.read()
            raw.append(_flat(weights))
            average.append(_flat(averages))

    options = dict(batch_size=8, shuffle=False, verbose=0, validation_data=(x, y))
    history = model.fit(x, y, epochs=2, callbacks=[ema, Record()], **options)
    again = model.fit(x, y, epochs=1, callbacks=[Record(), ema], **options)
    weights, averages = ema._state.read()
    slot = ema._state.slots[0].value
    return {
        "raw": np.stack(raw),
        "average": np.stack(average),
        "val_loss": np.asarray(history.history["val_loss"] + again.history["val_loss"]),
        "final_raw": _flat(weights),
        "final_average": _flat(averages),
        "model": _flat(model.get_weights()),
        "replicas": np.asarray(len(slot.sharding.device_set)),
    }


def main(out: str) -> None:
    import keras
    import numpy as np

    devices = keras.distribution.list_devices("cpu")
    assert len(devices) == DEVICES, devices
    single = train()
    keras.distribution.set_distribution(
        keras.distribution.DataParallel(devices=devices)
    )
    try:
        multi = train()
    finally:
        keras.distribution.set_distribution(None)
    results = {f"single_{k}": v for k, v in single.items()}
    results.update({f"multi_{k}": v for k, v in multi.items()})
    np.savez(out, **results)


if __name__ == "__main__":
    import argparse

    os.environ.setdefault("KERAS_BACKEND", "jax")
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    main(parser.parse_args().out)
