"""The article series' weight averaging: train, then evaluate with the average.

bert4keras keeps an exponential moving average of the weights and swaps it in
for evaluation. Here `coolkeras.callbacks.EMA` does it: the average is
bias-corrected, updated inside the train step once per optimizer update, and
swapped in for validation and for the callbacks at each epoch end (so
`ModelCheckpoint` keeps the averaged model); training continues from the raw
weights. A noisy optimizer (large learning rate, small batches) makes the raw
weights jitter around the optimum, which the average smooths out.
"""

import os
import tempfile

import keras
import numpy as np

from coolkeras.callbacks import EMA


def make_data(samples: int, seed: int):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(samples, 8)).astype("float32")
    w = np.linspace(-1.0, 1.0, 8, dtype="float32")[:, None]
    y = x @ w + 0.5 * rng.normal(size=(samples, 1)).astype("float32")
    return x, y


def main(
    samples: int = 512, epochs: int = 6, out_dir: str | None = None, verbose: int = 0
) -> dict:
    x, y = make_data(samples, seed=0)
    x_val, y_val = make_data(256, seed=1)
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    out_dir = out_dir or tempfile.mkdtemp()
    path = os.path.join(out_dir, "best.keras")
    ema = EMA(decay=0.99)
    # The EMA may stand anywhere in the list: validation and the checkpoint
    # both see the averaged weights.
    checkpoint = keras.callbacks.ModelCheckpoint(path, save_best_only=True)
    history = model.fit(
        x,
        y,
        validation_data=(x_val, y_val),
        epochs=epochs,
        batch_size=8,
        verbose=verbose,
        callbacks=[checkpoint, ema],
    )
    raw_loss = model.evaluate(x_val, y_val, verbose=0)  # the raw weights
    with ema.averaged():
        average_loss = model.evaluate(x_val, y_val, verbose=0)
    # For inference, the one call that gives the averaged model of a file.
    reloaded = EMA.load_model(path)
    result = {
        "val_loss": history.history["val_loss"],
        "raw_loss": raw_loss,
        "average_loss": average_loss,
        "reloaded_loss": reloaded.evaluate(x_val, y_val, verbose=0),
        "path": path,
    }
    if verbose:
        print(result)
    return result


if __name__ == "__main__":
    main(verbose=1)
