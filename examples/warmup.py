"""Section 5d of the article: learning-rate warmup, batch by batch.

The article sets the learning rate from a callback before every batch, using
`K.set_value`, `optimizer.lr` and `params['samples']` (all gone in Keras 3), and
on JAX and TensorFlow such a callback acts once per execution when
`steps_per_execution > 1`. Here the warmup is part of the schedule, computed
inside the train step: exact at every batch, with no callback at all.
"""

import keras
import numpy as np

from coolkeras import schedules


def learning_rate(steps_per_epoch: int, warmup_epochs: int, peak: float = 1e-3):
    """Linear warmup per batch over `warmup_epochs`, then `peak`."""
    return schedules.by_epoch(
        schedules.Warmup(schedules.Constant(peak), steps=warmup_epochs), steps_per_epoch
    )


class RecordLearningRate(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.values = []

    def on_train_batch_begin(self, batch, logs=None):
        self.values.append(float(self.model.optimizer.learning_rate))


def main(
    samples: int = 128,
    batch_size: int = 16,
    epochs: int = 3,
    warmup_epochs: int = 2,
    verbose: int = 0,
) -> dict:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(samples, 8)).astype("float32")
    y = x.sum(1, keepdims=True)
    steps_per_epoch = -(-samples // batch_size)
    schedule = learning_rate(steps_per_epoch, warmup_epochs)

    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="mse")
    recorder = RecordLearningRate()
    history = model.fit(
        x,
        y,
        batch_size=batch_size,
        epochs=epochs,
        verbose=verbose,
        callbacks=[recorder],
    )
    result = {
        "learning_rate_per_batch": recorder.values,
        "steps_per_epoch": steps_per_epoch,
        "loss": history.history["loss"],
    }
    if verbose:
        print(result)
    return result


if __name__ == "__main__":
    main(verbose=1)
