"""mkdocs hook: the docs' figures, drawn by coolkeras' own code at build time.

`mkdocs.yml` lists this module under `hooks:`. Before the build reads the
pages, it trains and plots with the project's code, and adds the PNGs to the
site as `figures/<name>.png` (they are never committed):

- `center-loss-features.png`: `coolkeras demo`'s three 2-D feature scatters
  (softmax, center loss with the gradient rule, with the paper's rule) on
  scikit-learn's digits, drawn by `coolkeras.demo.plots.features`, after a
  short run (`EPOCHS`).
- `schedule-*.png`: the schedules of the article's 5b and 5d and the porting
  guide's common ones, each drawn by `Schedule.plot`.
- `evaluator-curve.png`: the macro-F1 an `Evaluator` monitors, per epoch, with
  the epoch it kept marked.

Keras runs on JAX unless `KERAS_BACKEND` names another backend. The figures
are made once per process (`mkdocs serve` reuses them on rebuilds).
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import warnings
from pathlib import Path

EPOCHS = 12  # the demo's run: enough for the clusters to form, ~10 s on 2 cores
_made: Path | None = None


def schedules_to_plot() -> dict[str, tuple[object, int]]:
    """`name: (schedule, last step)`: what the schedules page shows."""
    from coolkeras.schedules import (
        Constant,
        Cosine,
        InverseSqrt,
        Join,
        Linear,
        PiecewiseConstant,
        PiecewiseLinear,
        Restarts,
        Warmup,
        by_epoch,
        warmup_stable_decay,
    )

    spe = 100  # updates per epoch
    lr = 1e-3
    return {
        # The article's 5b: 1e-2, then 1e-3 from epoch 50, 1e-4 from epoch 80.
        "5b": (
            by_epoch(PiecewiseConstant({0: 1e-2, 50: 1e-3, 80: 1e-4}), spe),
            100 * spe,
        ),
        # The article's 5d: a linear warmup over 10 epochs, batch by batch.
        "5d": (Warmup(Constant(lr), 10 * spe, offset=1), 20 * spe),
        # The porting guide's common ones.
        "warmup-cosine": (Warmup(Cosine(lr, 1e-5, steps=900), 100), 1000),
        "warmup-linear": (Warmup(Linear(lr, 0.0, 900), 100), 1000),
        "one-cycle": (
            Join(
                [Cosine(lr / 25, lr, steps=300), Cosine(lr, lr / 25e4, steps=700)],
                [300],
            ),
            1000,
        ),
        "cosine-restarts": (Restarts(Cosine(lr, steps=200), 200, 2.0), 1400),
        "cyclic-triangular2": (
            1e-4
            + Restarts(
                PiecewiseLinear({0: 0.0, 100: lr, 200: 0.0}), 200, value_factor=0.5
            ),
            1000,
        ),
        "warmup-stable-decay": (
            warmup_stable_decay(lr, warmup=100, stable=600, decay=300),
            1100,
        ),
        "inverse-sqrt": (Warmup(InverseSqrt(lr, timescale=100), 100), 1000),
    }


def _center_loss_figure(folder: Path) -> None:
    from coolkeras.demo import center_loss_demo

    settings = center_loss_demo.Settings(
        epochs=EPOCHS, output=str(folder / "demo"), verbose=0
    )
    with contextlib.redirect_stdout(io.StringIO()):  # the demo prints its table
        center_loss_demo.run(settings)
    (folder / "demo" / "features.png").rename(folder / "center-loss-features.png")


def _schedule_figures(folder: Path) -> None:
    import numpy as np

    for name, (schedule, last) in schedules_to_plot().items():
        steps = np.unique(np.linspace(0, last, 801).round().astype("int64"))
        schedule.plot(folder / f"schedule-{name}.png", steps=steps)


def evaluator_run(epochs: int = 30):
    """A digits classifier that overfits noisy labels; returns its `Evaluator`.

    300 training images, 40% of them with a random label, 400 held-out ones:
    the held-out macro-F1 rises for about ten epochs, then falls as the
    model learns the wrong labels by heart.
    """
    import keras
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.metrics import f1_score

    from coolkeras.callbacks import Evaluator

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    x_train, y_train, x_val, y_val = x[:300], y[:300].copy(), x[1000:1400], y[1000:1400]
    wrong = rng.random(len(y_train)) < 0.4
    y_train[wrong] = rng.integers(0, 10, wrong.sum())

    def macro_f1(y_true, y_pred):
        return f1_score(y_true, np.argmax(y_pred, axis=-1), average="macro")

    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dense(10),
        ]
    )
    model.compile(
        keras.optimizers.Adam(3e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    evaluator = Evaluator(
        {"val_f1": macro_f1}, data=(x_val, y_val), mode="max", restore_best=True
    )
    model.fit(
        x_train,
        y_train,
        epochs=epochs,
        batch_size=32,
        verbose=0,
        callbacks=[evaluator],
    )
    return evaluator


def _evaluator_figure(folder: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    evaluator = evaluator_run()
    epochs = [record["epoch"] + 1 for record in evaluator.history]
    scores = [record["val_f1"] for record in evaluator.history]
    kept = evaluator.best_epoch + 1
    figure = Figure(figsize=(6, 3.5), layout="tight")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.plot(epochs, scores, marker=".", label="val_f1 (macro-F1 on held-out data)")
    axes.plot(
        [kept],
        [evaluator.best],
        "o",
        markersize=10,
        fillstyle="none",
        color="C3",
        label=f"kept: epoch {kept}, {evaluator.best:.3f}",
    )
    axes.set_xlabel("epoch")
    axes.set_ylabel("val_f1")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    figure.savefig(folder / "evaluator-curve.png", format="png")


def make_figures() -> Path:
    """Draws every figure into a temporary folder (once); returns the folder."""
    global _made
    if _made is None:
        os.environ.setdefault("KERAS_BACKEND", "jax")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no start-up log
        folder = Path(tempfile.mkdtemp(prefix="coolkeras-docs-figures-"))
        with warnings.catch_warnings():
            # Third-party deprecations would fill the build log, not the site.
            warnings.simplefilter("ignore", DeprecationWarning)
            _schedule_figures(folder)
            _evaluator_figure(folder)
            _center_loss_figure(folder)
        _made = folder
    return _made


def on_files(files, config):
    """mkdocs event: adds the figures to the site as `figures/<name>.png`."""
    from mkdocs.structure.files import File

    for path in sorted(make_figures().glob("*.png")):
        files.append(
            File.generated(config, f"figures/{path.name}", abs_src_path=str(path))
        )
    return files
