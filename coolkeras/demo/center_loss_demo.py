"""`coolkeras demo`: the article's center-loss model, trained three ways and shown.

Three classifiers with 2-D features learn the same data: softmax only, center
loss with centers learned by gradient (the article), and center loss with the
paper's α rule. Each uses a warmup + piecewise-linear learning rate and keeps
the epoch with the best macro-F1, chosen by an `Evaluator`. A `Monitor` logs the
mean norm of the 2-D features (`feature_norm`), which the center term pulls
toward the class centers: it is in the progress line and in metrics.json.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict, dataclass

import keras
import numpy as np

from coolkeras import schedules
from coolkeras.callbacks import Evaluator
from coolkeras.demo import plots
from coolkeras.demo.data import Dataset, load
from coolkeras.layers import CenterLoss, Monitor

VARIANTS = ("softmax", "center-gradient", "center-paper")
FILES = ("features.png", "curves.png", "metrics.json") + tuple(
    f"{variant}.keras" for variant in VARIANTS
)


class TrainingDiverged(RuntimeError):
    """A model's loss became NaN or infinite (stopped by `TerminateOnNaN`)."""


@dataclass
class Settings:
    epochs: int = 60
    weight: float = 1.0  # λ
    alpha: float = 0.5
    data: str = "digits"
    output: str = "demo_output"
    seed: int = 0
    batch_size: int = 64
    verbose: int = 1


@dataclass
class Models:
    train: keras.Model
    inference: keras.Model
    features: keras.Model
    center: CenterLoss | None


def _build(variant: str, data: Dataset, settings: Settings) -> Models:
    inputs = keras.Input((data.x_train.shape[1],))
    hidden = keras.layers.Dense(128, activation="relu")(inputs)
    hidden = keras.layers.Dense(64, activation="relu")(hidden)
    features = keras.layers.Dense(2, name="features")(hidden)
    logits = keras.layers.Dense(data.num_classes, name="logits")(features)
    # Logged while training and evaluating; the inference models do not hold it.
    norm = keras.ops.sqrt(keras.ops.sum(keras.ops.square(features), axis=-1))
    head = Monitor("feature_norm", output_index=1)([norm, logits])
    center = None
    if variant == "softmax":
        train = keras.Model(inputs, head)
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        metrics = ["accuracy"]
    else:
        update = "gradient" if variant == "center-gradient" else "paper"
        center = CenterLoss(
            weight=settings.weight, update=update, alpha=settings.alpha, name="center"
        )
        train = keras.Model(inputs, center([head, features]))
        loss, metrics = center.loss(), [center.metric()]
    steps_per_epoch = -(-len(data.x_train) // settings.batch_size)
    warmup = max(1, settings.epochs * steps_per_epoch // 10)
    after = settings.epochs * steps_per_epoch - warmup  # Warmup shifts what follows
    learning_rate = schedules.Warmup(
        schedules.PiecewiseLinear({0: 3e-3, after // 2: 3e-3, max(after, 1): 3e-4}),
        steps=warmup,
    )
    train.compile(
        optimizer=keras.optimizers.Adam(learning_rate), loss=loss, metrics=metrics
    )
    return Models(
        train, keras.Model(inputs, logits), keras.Model(inputs, features), center
    )


class _Progress(keras.callbacks.Callback):
    """One line per model, redrawn each epoch on a terminal, plus the learning rates.

    Output that is not a terminal (a pipe, a log file) gets the final line only.
    """

    def __init__(self, label: str, epochs: int, verbose: int):
        super().__init__()
        self.label, self.epochs, self.verbose = label, epochs, verbose
        self.learning_rates: list[float] = []
        self._line_open = False

    def on_epoch_end(self, epoch, logs=None):
        self.learning_rates.append(float(self.model.optimizer.learning_rate))
        last = epoch + 1 == self.epochs
        if not self.verbose or not (last or sys.stdout.isatty()):
            return
        done = int(20 * (epoch + 1) / self.epochs)
        print(
            f"\r  {self.label:<16} [{'#' * done}{'.' * (20 - done)}] "
            f"{epoch + 1}/{self.epochs}  loss {logs['loss']:.3f}  "
            f"macro-F1 {logs['macro_f1']:.3f}  ‖f‖ {logs['feature_norm']:.2f}",
            end="\n" if last else "",
            flush=True,
        )
        self._line_open = not last

    def on_train_end(self, logs=None):
        if self._line_open:  # stopped early: end the line before what follows
            print(flush=True)


def intra_inter_ratio(features: np.ndarray, labels: np.ndarray) -> float:
    """Mean distance to the own class center ÷ mean distance between centers."""
    classes = np.unique(labels)
    centers = np.stack([features[labels == c].mean(0) for c in classes])
    own = centers[np.searchsorted(classes, labels)]
    intra = np.linalg.norm(features - own, axis=1).mean()
    pairwise = np.linalg.norm(centers[:, None] - centers[None], axis=-1)
    inter = pairwise[np.triu_indices(len(classes), 1)].mean()
    return float(intra / inter)


def _train(variant: str, data: Dataset, settings: Settings) -> dict:
    from sklearn.metrics import accuracy_score, f1_score

    keras.utils.set_random_seed(settings.seed)
    models = _build(variant, data, settings)

    def macro_f1(_model) -> float:
        predicted = models.inference.predict(data.x_test, verbose=0).argmax(-1)
        return float(f1_score(data.y_test, predicted, average="macro"))

    evaluator = Evaluator(macro_f1, name="macro_f1", mode="max", restore_best=True)
    progress = _Progress(variant, settings.epochs, settings.verbose)
    terminate = keras.callbacks.TerminateOnNaN()
    start = time.perf_counter()
    history = models.train.fit(
        data.x_train,
        data.y_train,
        batch_size=settings.batch_size,
        epochs=settings.epochs,
        verbose=0,
        callbacks=[terminate, evaluator, progress],
    )
    seconds = time.perf_counter() - start
    losses = history.history["loss"]
    if not np.isfinite(losses).all():
        raise TrainingDiverged(
            f"training diverged: the {variant} model's loss became "
            f"{losses[-1]} in epoch {len(losses)}; try a smaller --lambda or "
            f"--alpha (received --lambda {settings.weight}, --alpha {settings.alpha})"
        )

    predicted = models.inference.predict(data.x_test, verbose=0).argmax(-1)
    features = models.features.predict(data.x_test, verbose=0)
    models.inference.save(os.path.join(settings.output, f"{variant}.keras"))
    return {
        "accuracy": float(accuracy_score(data.y_test, predicted)),
        "macro_f1": float(f1_score(data.y_test, predicted, average="macro")),
        "intra_inter_ratio": intra_inter_ratio(features, data.y_test),
        "train_seconds": seconds,
        "best_epoch": evaluator.best_epoch,
        "curves": {
            "learning_rate": progress.learning_rates,
            "loss": history.history["loss"],
            "macro_f1": history.history["macro_f1"],
            "feature_norm": history.history["feature_norm"],
        },
        "features": features,
        "centers": None
        if models.center is None
        else np.asarray(keras.ops.convert_to_numpy(models.center.centers)),
    }


def _table(results: dict) -> str:
    header = ("model", "accuracy", "macro-F1", "intra/inter", "train s")
    lines = ["{:<16} {:>9} {:>9} {:>12} {:>8}".format(*header)]
    for variant, r in results.items():
        lines.append(
            f"{variant:<16} {r['accuracy']:>9.4f} {r['macro_f1']:>9.4f} "
            f"{r['intra_inter_ratio']:>12.3f} {r['train_seconds']:>8.1f}"
        )
    return "\n".join(lines)


def run(settings: Settings, data: Dataset | None = None) -> dict:
    """Trains the three models, writes the figures, models and metrics.json.

    Args:
        settings: what to train and where to write.
        data: the data, if already loaded; by default `load(settings.data)`.

    Returns:
        The content of metrics.json, with `"files"`: the absolute paths written.

    Raises:
        ValueError: for settings out of range; `DataError` for unusable data.
        TrainingDiverged: when a model's loss becomes NaN or infinite.
    """
    if not isinstance(settings.epochs, int) or settings.epochs < 1:
        raise ValueError(
            f"--epochs must be an integer >= 1. Received: {settings.epochs}"
        )
    CenterLoss(weight=settings.weight, alpha=settings.alpha)  # validates λ and α early
    if data is None:
        data = load(settings.data, settings.seed)
    output = os.path.abspath(settings.output)
    os.makedirs(output, exist_ok=True)
    paths = {name: os.path.join(output, name) for name in FILES}
    if settings.verbose:
        print(
            f"coolkeras demo on {data.name} ({len(data.x_train)} train, "
            f"{len(data.x_test)} test, {data.num_classes} classes), "
            f"backend {keras.backend.backend()}, "
            f"λ={settings.weight}, α={settings.alpha}"
        )
    results = {variant: _train(variant, data, settings) for variant in VARIANTS}
    plots.features(results, data.y_test, paths["features.png"], data.classes)
    plots.curves(results, paths["curves.png"])
    summary = {
        "settings": asdict(settings),
        "backend": keras.backend.backend(),
        "classes": list(data.classes),
        "models": {
            variant: {k: v for k, v in r.items() if k not in ("features", "centers")}
            for variant, r in results.items()
        },
    }
    with open(paths["metrics.json"], "w") as file:
        json.dump(summary, file, indent=2)
    print(_table(results))
    if settings.verbose:
        print("wrote:", *paths.values(), sep="\n")
    return {**summary, "files": list(paths.values())}
