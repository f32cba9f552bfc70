"""Section 5c of the article: a hyperparameter inside the loss, on a schedule.

The article keeps the label-smoothing epsilon in a backend variable and changes
it from a callback ("0.1, then 0.01 after epoch 100"). On Keras 3 with JAX that
variable is frozen at its first value and nothing warns. Here epsilon is a
`coolkeras.Hyperparameter` on a per-epoch schedule, read inside the loss at
every step on every backend. Scaled down: the switch happens after `switch_epoch`.
"""

import keras
import numpy as np

import coolkeras
from coolkeras import schedules
from coolkeras.losses import SmoothedCrossEntropy


def epsilon_schedule(steps_per_epoch: int, switch_epoch: int) -> schedules.Schedule:
    return schedules.by_epoch(
        schedules.PiecewiseConstant({0: 0.1, switch_epoch: 0.01}), steps_per_epoch
    )


def main(
    samples: int = 256,
    batch_size: int = 32,
    epochs: int = 4,
    switch_epoch: int = 2,
    verbose: int = 0,
) -> dict:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(samples, 16)).astype("float32")
    y = (x[:, :4].sum(1) > 0).astype("int32") + 2 * (x[:, 4:8].sum(1) > 0)
    steps_per_epoch = -(-samples // batch_size)
    eps = coolkeras.Hyperparameter(
        epsilon_schedule(steps_per_epoch, switch_epoch), name="eps"
    )

    model = keras.Sequential(
        [
            keras.Input((16,)),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(4),
        ]
    )
    model.compile(
        optimizer="adam",
        loss=SmoothedCrossEntropy(eps, from_logits=True),
        metrics=["accuracy"],
    )
    coolkeras.attach(model)  # the one extra line

    epsilon_per_epoch = []
    record = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: epsilon_per_epoch.append(float(eps))
    )
    history = model.fit(
        x, y, batch_size=batch_size, epochs=epochs, verbose=verbose, callbacks=[record]
    )
    result = {"epsilon": epsilon_per_epoch, "accuracy": history.history["accuracy"]}
    if verbose:
        print(result)
    return result


if __name__ == "__main__":
    main(verbose=1)
