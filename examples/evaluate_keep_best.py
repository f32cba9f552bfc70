"""Section 5a of the article: evaluate after each epoch and keep the best model.

The article's `Evaluate` callback computes accuracy on held-out data in plain
Python at each epoch end and saves the weights when it improves. With
`coolkeras.callbacks.Evaluator` the metric is any `f(y_true, y_pred)` (here
scikit-learn's `accuracy_score`), the file is written atomically, and the value
lands in the epoch logs, so `EarlyStopping` can stop on it wherever it stands in
the callbacks list.
"""

import os
import tempfile

import keras
import numpy as np
from sklearn.metrics import accuracy_score

from coolkeras.callbacks import Evaluator


def make_data(samples: int, seed: int):
    rng = np.random.default_rng(seed)
    centers = np.array([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]], "float32")
    labels = rng.integers(0, 3, size=samples)
    x = centers[labels] + rng.normal(scale=1.0, size=(samples, 2)).astype("float32")
    return x.astype("float32"), labels


def accuracy(y_true, y_pred):
    return accuracy_score(y_true, y_pred.argmax(axis=-1))


def main(samples: int = 512, epochs: int = 10, out_dir: str | None = None,
         verbose: int = 0) -> dict:
    x, y = make_data(samples, seed=0)
    x_val, y_val = make_data(max(samples // 4, 8), seed=1)
    model = keras.Sequential([
        keras.Input((2,)),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(3, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(0.02),
                  loss="sparse_categorical_crossentropy")
    out_dir = out_dir or tempfile.mkdtemp()
    path = os.path.join(out_dir, "best_model.weights.h5")
    evaluator = Evaluator(
        {"val_accuracy": accuracy},
        data=(x_val, y_val),
        mode="max",
        save_best=path,
        restore_best=True,
        verbose=verbose,
    )
    stopping = keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=5)
    # EarlyStopping stands first: it still sees the Evaluator's value.
    history = model.fit(x, y, epochs=epochs, batch_size=32, verbose=verbose,
                        callbacks=[stopping, evaluator])
    result = {
        "val_accuracy": history.history["val_accuracy"],
        "best": evaluator.best,
        "best_epoch": evaluator.best_epoch,
        "path": path,
        "final_accuracy": accuracy(y_val, model.predict(x_val, verbose=0)),
    }
    if verbose:
        print(result)
    return result


if __name__ == "__main__":
    main(verbose=1)
