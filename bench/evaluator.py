"""Time per evaluation: `Evaluator` vs a bare `model.predict` + the same metrics.

Both variants predict the same held-out set with the same batch size and call
the same two metric functions; the Evaluator adds its bookkeeping (conversion,
logs, history, best tracking). Variants are interleaved A B A B after a warm-up;
the headline is the median of per-pair ratios, next to an A/A control.

Run: `KERAS_BACKEND=jax .venv/bin/python bench/evaluator.py`
"""

import statistics
import time
import warnings

import keras
import numpy as np

from coolkeras.callbacks import Evaluator

SAMPLES, FEATURES, CLASSES, BATCH = 16384, 32, 10, 256
PAIRS, CALLS = 9, 8


def accuracy(y_true, y_pred):
    return float(np.mean(y_pred.argmax(axis=-1) == y_true))


def log_loss(y_true, y_pred):
    picked = y_pred[np.arange(len(y_true)), y_true]
    return float(-np.mean(np.log(np.clip(picked, 1e-7, 1.0))))


def main():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(SAMPLES, FEATURES)).astype("float32")
    y = rng.integers(0, CLASSES, size=SAMPLES)
    model = keras.Sequential([
        keras.Input((FEATURES,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(CLASSES, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    metrics = {"accuracy": accuracy, "log_loss": log_loss}
    evaluator = Evaluator(metrics, data=(x, y), mode={"accuracy": "max",
                          "log_loss": "min"}, batch_size=BATCH)
    evaluator.set_model(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no CallbackList outside fit
        evaluator.on_train_begin()
    epoch = [0]

    def bare():
        y_pred = model.predict(x, batch_size=BATCH, verbose=0)
        return {name: fn(y, y_pred) for name, fn in metrics.items()}

    def with_evaluator():
        evaluator.on_epoch_begin(epoch[0])
        evaluator.on_epoch_end(epoch[0], {})
        epoch[0] += 1

    def timed(fn):
        start = time.perf_counter()
        for _ in range(CALLS):
            fn()
        return (time.perf_counter() - start) / CALLS

    for fn in (bare, with_evaluator, bare, with_evaluator):
        timed(fn)  # warm-up: traces the predict function
    ratios, control = [], []
    for _ in range(PAIRS):
        a1 = timed(bare)
        b = timed(with_evaluator)
        a2 = timed(bare)
        ratios.append(b / ((a1 + a2) / 2))
        control.append(a2 / a1)
    backend = keras.backend.backend()
    print(f"backend: {backend}; {SAMPLES} samples, {CALLS} evaluations per timing,"
          f" {PAIRS} pairs; bare evaluation {a1 * 1e3:.1f} ms")
    print(f"evaluator_vs_bare_predict: {statistics.median(ratios):.3f}")
    print(f"control_bare_vs_bare: {statistics.median(control):.3f}")
    print(f"control spread (min..max of per-pair A/A): "
          f"{min(control):.3f}..{max(control):.3f}")


if __name__ == "__main__":
    main()
