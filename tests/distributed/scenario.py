"""Trains the coolkeras scenario model once on one device and once distributed.

Run as a script in a fresh process (the device setup must happen before the
backend initializes): `python scenario.py {data_parallel,mirrored} OUT.npz
[--rules gradient,paper] [--add-loss]`. The model: `CenterLoss` (λ on a
schedule), `SmoothedCrossEntropy` with a scheduled `Hyperparameter` ε as its
classification loss, SGD with a warmup learning-rate schedule, an `Evaluator`,
and optionally an `AddLoss` term. Writes, for each center update rule, the
per-step running loss, the epoch means of the logged terms, the centers after
every step, the final trainable weights, the evaluator's scores, step counters
and replica bookkeeping, of the single-device run (`single_<rule>_*`) and of
the distributed run (`multi_<rule>_*`).
"""

from __future__ import annotations

import argparse
import os

DEVICES = {"data_parallel": 4, "mirrored": 2}
BACKENDS = {"data_parallel": "jax", "mirrored": "tensorflow"}
STEPS = 8  # 32 samples, global batch 8, 2 epochs


def run(mode: str, out, *flags: str) -> dict:
    """Runs this script in a fresh process; returns its results as arrays."""
    from tests.distributed.launch import run_script

    return run_script(
        __file__,
        mode,
        str(out),
        *flags,
        out=out,
        backend=BACKENDS[mode],
        devices=DEVICES[mode],
    )


def configure(mode: str) -> None:
    """Makes the simulated CPU devices visible, before the backend starts."""
    if mode == "mirrored":
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * DEVICES[mode]
        )


def data():
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = (np.arange(32) % 3).astype("int32")
    return x, y


def build(rule: str, add_loss: bool):
    import keras
    import numpy as np

    import coolkeras
    from coolkeras import schedules
    from coolkeras.callbacks import Evaluator
    from coolkeras.layers import AddLoss, CenterLoss
    from coolkeras.losses import SmoothedCrossEntropy

    keras.utils.set_random_seed(1)
    inputs = keras.Input((4,))
    features = keras.layers.Dense(2, name="features")(inputs)
    if add_loss:
        penalty = keras.ops.mean(keras.ops.square(features), axis=-1)
        features = AddLoss(0.05, output_index=1, name="l2")([penalty, features])
    logits = keras.layers.Dense(3, name="logits")(features)
    center = CenterLoss(
        weight=schedules.Linear(0.5, 0.1, steps=8),
        update=rule,
        alpha=0.5,
        centers_initializer=keras.initializers.RandomNormal(seed=2),
        name="center",
    )
    model = keras.Model(inputs, center([logits, features]))
    initial = np.concatenate([np.ravel(w) for w in model.get_weights()])
    epsilon = coolkeras.Hyperparameter(schedules.Linear(0.2, 0.0, steps=8), name="eps")
    learning_rate = schedules.Warmup(schedules.Linear(0.1, 0.02, steps=6), steps=2)
    model.compile(
        keras.optimizers.SGD(learning_rate, momentum=0.5),
        loss=center.loss(SmoothedCrossEntropy(epsilon, from_logits=True)),
    )
    coolkeras.attach(model)
    x, y = data()

    def accuracy(y_true, y_pred):
        return float(np.mean(np.argmax(y_pred[:, :3], axis=-1) == y_true))

    evaluator = Evaluator({"acc": accuracy}, data=(x, y), mode="max", batch_size=16)
    return model, initial, evaluator, epsilon


class Recorder:
    """Keras callback factory: per-step logs and centers."""

    @staticmethod
    def make():
        import keras
        import numpy as np

        class _Recorder(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.loss, self.term, self.l2, self.centers = [], [], [], []

            def on_train_batch_end(self, batch, logs=None):
                self.loss.append(float(logs["loss"]))
                self.centers.append(np.asarray(self.model.get_layer("center").centers))

            def on_epoch_end(self, epoch, logs=None):
                self.term.append(float(logs["center"]))
                self.l2.append(float(logs.get("l2", 0.0)))

        return _Recorder()


def replicas(variable) -> int:
    """On how many devices the backend holds `variable`."""
    import keras

    if keras.backend.backend() == "jax":
        return len(variable.value.sharding.device_set)
    return len(getattr(variable.value, "values", [None]))


def spread(variable) -> float:
    """Largest difference between the per-device copies of `variable`."""
    import keras
    import numpy as np

    value = variable.value
    if keras.backend.backend() == "jax":
        copies = [np.asarray(shard.data) for shard in value.addressable_shards]
    else:
        copies = [np.asarray(v.numpy()) for v in getattr(value, "values", [value])]
    return float(max(np.max(np.abs(c - copies[0])) for c in copies))


def train(rule: str, add_loss: bool):
    import keras
    import numpy as np

    model, initial, evaluator, epsilon = build(rule, add_loss)
    recorder = Recorder.make()
    x, y = data()
    model.fit(
        x,
        y,
        batch_size=8,
        epochs=2,
        shuffle=False,
        verbose=0,
        callbacks=[evaluator, recorder],
    )
    return {
        "loss": np.asarray(recorder.loss),
        "term": np.asarray(recorder.term),
        "l2": np.asarray(recorder.l2),
        "centers": np.stack(recorder.centers),
        "weights": np.concatenate(
            [np.ravel(keras.ops.convert_to_numpy(w)) for w in model.trainable_weights]
        ),
        "initial": initial,
        "replicas": np.asarray(replicas(model.get_layer("center").centers)),
        "spread": np.asarray(
            [spread(v) for v in model.non_trainable_variables] or [0.0]
        ).max(),
        "steps": np.asarray(
            [epsilon.step, int(keras.ops.convert_to_numpy(model.optimizer.iterations))]
        ),
        "score": np.asarray([h["acc"] for h in evaluator.history]),
    }


def main(mode: str, out: str, rules: list[str], add_loss: bool) -> None:
    configure(mode)
    import keras
    import numpy as np

    if mode == "data_parallel":
        devices = keras.distribution.list_devices("cpu")
        assert len(devices) == DEVICES[mode], devices
        distribution = keras.distribution.DataParallel(devices=devices)
    else:
        import tensorflow as tf

        devices = [d.name for d in tf.config.list_logical_devices("CPU")]
        # One strategy per process: a second one reuses collective instance keys.
        strategy = tf.distribute.MirroredStrategy(devices)
        assert strategy.num_replicas_in_sync == DEVICES[mode], devices
    results = {}
    for rule in rules:
        single = train(rule, add_loss)
        if mode == "data_parallel":
            keras.distribution.set_distribution(distribution)
            try:
                multi = train(rule, add_loss)
            finally:
                keras.distribution.set_distribution(None)
        else:
            with strategy.scope():
                multi = train(rule, add_loss)
        for run, values in (("single", single), ("multi", multi)):
            for key, value in values.items():
                results[f"{run}_{rule}_{key}"] = value
    np.savez(out, **results)


if __name__ == "__main__":
    os.environ.setdefault("KERAS_BACKEND", "jax")
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=sorted(DEVICES))
    parser.add_argument("out")
    parser.add_argument("--rules", default="gradient,paper")
    parser.add_argument("--add-loss", action="store_true")
    args = parser.parse_args()
    main(args.mode, args.out, args.rules.split(","), args.add_loss)
