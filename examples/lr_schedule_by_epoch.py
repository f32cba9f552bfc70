"""Section 5b of the article: a learning rate that changes by epoch.

The article passes Keras' `LearningRateScheduler` a Python function:

    def lr_schedule(epoch):
        if epoch < 50:
            return 1e-2
        elif epoch < 80:
            return 1e-3
        return 1e-4

With coolkeras the same schedule is one expression, computed inside the train
step from the optimizer's step count:

    by_epoch(PiecewiseConstant({0: 1e-2, 50: 1e-3, 80: 1e-4}), steps_per_epoch)

It is an ordinary Keras `LearningRateSchedule`: no callback, it is saved with
the model and reloads with `safe_mode=True`, and a resumed run continues where
the optimizer's step count stands.

Run `python -m examples.lr_schedule_by_epoch` for the article's 100 epochs on
scikit-learn's digits; `main()` defaults to a few epochs.
"""

import keras
from sklearn.datasets import load_digits

from coolkeras import schedules


def learning_rate(
    steps_per_epoch: int,
    boundaries: tuple[int, int] = (50, 80),
    rates: tuple[float, float, float] = (1e-2, 1e-3, 1e-4),
) -> schedules.Schedule:
    """The article's rates by epoch: `rates[i]` from epoch `boundaries[i - 1]`."""
    first, second = boundaries
    points = {0: rates[0], first: rates[1], second: rates[2]}
    return schedules.by_epoch(schedules.PiecewiseConstant(points), steps_per_epoch)


class RecordLearningRate(keras.callbacks.Callback):
    """Keeps the learning rate at the start of each epoch."""

    def __init__(self):
        super().__init__()
        self.values = []

    def on_epoch_begin(self, epoch, logs=None):
        self.values.append(float(self.model.optimizer.learning_rate))


def main(
    epochs: int = 6,
    boundaries: tuple[int, int] = (2, 4),
    rates: tuple[float, float, float] = (1e-2, 1e-3, 1e-4),
    samples: int = 512,
    batch_size: int = 64,
    verbose: int = 0,
) -> dict:
    digits = load_digits()
    x = (digits.data[:samples] / 16.0).astype("float32")
    y = digits.target[:samples]
    steps_per_epoch = -(-len(x) // batch_size)

    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    schedule = learning_rate(steps_per_epoch, boundaries, rates)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=schedule, momentum=0.9),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    recorder = RecordLearningRate()
    history = model.fit(
        x,
        y,
        epochs=epochs,
        batch_size=batch_size,
        verbose=verbose,
        callbacks=[recorder],
    )
    result = {
        "learning_rates": recorder.values,
        "steps_per_epoch": steps_per_epoch,
        "loss": history.history["loss"],
        "accuracy": history.history["accuracy"],
    }
    if verbose:
        for epoch, rate in enumerate(result["learning_rates"]):
            print(f"epoch {epoch}: learning rate {rate:g}")
    return result


if __name__ == "__main__":
    main(epochs=100, boundaries=(50, 80), samples=1797, verbose=1)
