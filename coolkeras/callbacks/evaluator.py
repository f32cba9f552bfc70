"""`Evaluator`: any Python metric, after each epoch, seen by every callback."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from typing import Any

import keras

from coolkeras import _validation
from coolkeras.callbacks import _atomic
from coolkeras.callbacks import _evaluator_utils as checks
from coolkeras.callbacks._evaluator_base import NO_BEST, EvaluatorBase

__all__ = ["Evaluator"]


class Evaluator(EvaluatorBase):
    """Computes Python metrics on held-out data and logs them for every callback.

    Two forms:

    - `Evaluator({"f1": f1}, data=(x, y), mode="max")`: one batched
      `model.predict(x)` per evaluation, shared by all metrics; each metric is
      called as `f(y_true, y_pred)` and returns a float (scikit-learn metrics
      work as they are). `y_pred` has the model's output structure (a list or
      dict for multi-output models).
    - `Evaluator(evaluate_fn, mode="max", name="bleu")`: `evaluate_fn(model)`
      returns a float (logged under `name`) or a dict of floats, for tasks
      that decode or generate.

    Each result is written into the epoch `logs` under its name, so
    `ModelCheckpoint`, `EarlyStopping`, `ReduceLROnPlateau`, `History`,
    `CSVLogger`, `TensorBoard` and the progress bar see it. Keras passes one
    logs dict to the callbacks in list order, so a value written by a callback
    reaches only the callbacks after it. The Evaluator therefore moves itself
    to the front of the `CallbackList` that `fit` builds (it finds that list
    when `fit` calls `set_model`), wherever it stands in `callbacks=[...]`.
    If it cannot find the list (a custom loop calling callbacks by hand) it
    warns at training start. Monitoring callbacks that watch one of its
    metrics with `mode="auto"` get its declared `mode`; a conflicting explicit
    mode raises `ValueError` at training start.

    The best value survives consecutive `fit` calls (as `ModelCheckpoint`'s
    does): a later `fit` replaces the `save_best` file only with a better
    model. `reset()` forgets it. `patience` counts within one `fit`, with
    `EarlyStopping`'s rules. A NaN or infinite result is logged but never
    becomes the best. `best` and `best_epoch` always describe the `save_best`
    file on disk: a failed save raises (naming `save_best` and the cause) and
    leaves both unchanged.

    With a `keras.callbacks.BackupAndRestore` in the same `fit`, the state
    (best value, counters, history, best file) is committed in step with its
    checkpoint: a `fit` resumed after an interruption at any point neither
    repeats an evaluation nor skips one, and never replaces a better
    `save_best` file with a worse one. Until the checkpoint of an epoch is
    written, that epoch's best file waits in `backup_dir`.

    Args:
        metrics: a dict mapping names to `f(y_true, y_pred) -> float`, or a
            function `evaluate_fn(model) -> float | dict`.
        data: `(x, y)` for the dict form; `None` for the function form.
        mode: `"max"` or `"min"`, for all metrics or as a dict per metric
            name. Required: a new metric's direction cannot be guessed.
        monitor: the metric that drives `save_best`, `restore_best` and
            `patience`. Defaults to the first metric.
        name: the log name of a float returned by `evaluate_fn`.
            Defaults to `"score"`.
        batch_size: batch size of the `predict` call. Defaults to `32`.
        save_best: path ending in `.keras` (whole model) or `.weights.h5`
            (weights only), written atomically each time `monitor` improves.
            It may contain `{epoch}` and names from the logs, formatted as
            `ModelCheckpoint` formats its `filepath` (`"best_{epoch:02d}.keras"`
            is `best_03.keras` after the third epoch). Defaults to `None`.
        restore_best: set the best weights back at the end of training, and
            when the Evaluator itself stops training with an error.
            Defaults to `False`.
        patience: stop training after this many evaluations without
            improvement, exactly as `EarlyStopping(patience=...)` would on the
            same values. Defaults to `None` (never).
        min_delta: smallest change of `monitor` that counts as an
            improvement. Defaults to `0.0`.
        frequency: evaluate every `frequency` epochs. Defaults to `1`.
        steps: also evaluate every `steps` training steps, mid-epoch; those
            values go to `history` only. Defaults to `None`.
        verbose: `1` prints one line per evaluation, with epochs numbered as
            the progress bar numbers them. Defaults to `0`.

    Attributes:
        history: one dict per evaluation: `{"epoch": 0-based epoch, "step":
            global step or None at epoch end, <name>: value, ...}`.
        best: best value of `monitor` so far (`None` before any).
        best_epoch: 0-based epoch of `best` (as `EarlyStopping.best_epoch`).
        best_path: the `save_best` file that holds `best` (`None` without).

    Numpy scalars are accepted wherever a number or a bool is, and stored as
    Python values.

    Raises:
        TypeError: `metrics` is neither a dict of functions nor a function, or
            another argument has the wrong type (the message names it and its
            value): `batch_size="32"`, `restore_best="no"`, `min_delta=None`.
        ValueError: a bad value (the message names it and its value): a count
            out of range, a NaN or negative `min_delta`, an unknown `monitor`
            or `mode`, a `save_best` path of the wrong kind; at
            training start, a `save_best` folder that cannot be written or
            has less free space than the model's variables take.

    Example:

    >>> import numpy as np
    >>> x, y = np.zeros((8, 2)), np.zeros((8,))
    >>> model = keras.Sequential(
    ...     [keras.Input((2,)), keras.layers.Dense(1, kernel_initializer="zeros")])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> def mae(y_true, y_pred):
    ...     return float(np.mean(np.abs(y_true - y_pred[:, 0])))
    >>> evaluator = Evaluator({"mae": mae}, data=(x, y), mode="min", patience=0)
    >>> history = model.fit(x, y, epochs=3, verbose=0, callbacks=[evaluator])
    >>> history.history["mae"], evaluator.best, evaluator.best_epoch
    ([0.0, 0.0], 0.0, 0)
    """

    def __init__(
        self,
        metrics: Mapping[str, Callable[[Any, Any], float]]
        | Callable[[keras.Model], float | Mapping[str, float]],
        data: tuple[Any, Any] | None = None,
        *,
        mode: str | Mapping[str, str],
        monitor: str | None = None,
        name: str = "score",
        batch_size: int = 32,
        save_best: str | os.PathLike | None = None,
        restore_best: bool = False,
        patience: int | None = None,
        min_delta: float = 0.0,
        frequency: int = 1,
        steps: int | None = None,
        verbose: int = 0,
    ):
        super().__init__()
        if isinstance(metrics, Mapping):
            if not metrics:
                raise ValueError("`metrics` must not be empty. Received: metrics={}")
            for key, fn in metrics.items():
                if not isinstance(key, str) or not key or not callable(fn):
                    raise TypeError(
                        "`metrics` must map names to functions "
                        f"`f(y_true, y_pred)`. Received: metrics={metrics!r}"
                    )
            if data is None:
                raise ValueError(
                    "A dict of metrics needs `data=(x, y)` to predict on. "
                    "Received: data=None"
                )
            self._x, self._y = checks.check_data(data)
            self._metric_fns = dict(metrics)
            self._evaluate_fn = None
            self._names = list(metrics)
        elif callable(metrics):
            if data is not None:
                raise ValueError(
                    "`evaluate_fn(model)` reads its own data; pass `data` only "
                    f"with a dict of metrics. Received: data of type {type(data)}"
                )
            self._metric_fns = None
            self._evaluate_fn = metrics
            self._names = None  # known after the first evaluation
            self._x = self._y = None
        else:
            raise TypeError(
                "`metrics` must be a dict of `f(y_true, y_pred)` functions or "
                f"a function `evaluate_fn(model)`. Received: metrics={metrics!r}"
            )
        self._modes = checks.check_mode(mode, self._names)
        monitor = _validation.string("monitor", monitor, allow_none=True)
        if monitor is not None and self._names is not None:
            if monitor not in self._names:
                raise ValueError(
                    f"`monitor` must be one of the metric names {self._names}. "
                    f"Received: monitor={monitor!r}"
                )
        self.monitor = (
            monitor
            if monitor is not None
            else (self._names[0] if self._names else None)
        )
        self.name = _validation.string("name", name)
        self.batch_size = _validation.integer("batch_size", batch_size, minimum=1)
        self.save_best = checks.check_save_best(save_best)
        self.restore_best = _validation.boolean("restore_best", restore_best)
        self.patience = _validation.integer(
            "patience", patience, minimum=0, allow_none=True
        )
        self.min_delta = _validation.number("min_delta", min_delta, low=0)
        self.frequency = _validation.integer("frequency", frequency, minimum=1)
        self.steps = _validation.integer("steps", steps, minimum=1, allow_none=True)
        self.verbose = _validation.integer_choice(
            "verbose", verbose, (0, 1), bools=True
        )
        if self.steps is not None:
            # Only then: a batch hook makes Keras dispatch batch callbacks
            # synchronously.
            self.on_train_batch_end = self._on_train_batch_end
        self.reset()

    def reset(self) -> None:
        """Forgets every evaluation: the next one becomes the best.

        Otherwise `best`, `best_epoch`, `best_path`, the best weights and
        `history` survive consecutive `fit` calls, and a later `fit` replaces
        the `save_best` file only with a better model.
        """
        self.history: list[dict[str, Any]] = []
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.best_path: str | None = None
        self.best_weights = None
        self.wait = 0
        self._record = dict(NO_BEST)  # the best decided so far
        self._file = None  # the file that holds `best`
        self._global_step = 0
        self._next_mid_step = self.steps or 0
        self._epoch = self._steps_in_epoch = 0

    # Evaluation -------------------------------------------------------------

    def _evaluate(self, epoch: int, step: int | None) -> dict[str, float]:
        model = self.model  # on JAX, syncs the training state into the variables
        where = f"epoch {epoch + 1}" + ("" if step is None else f", step {step}")
        if self._evaluate_fn is None:
            y_pred = model.predict(self._x, batch_size=self.batch_size, verbose=0)
            return {
                key: checks.to_float(
                    key, _call(f"The Evaluator metric '{key}'", where, fn,
                               self._y, y_pred), where
                )
                for key, fn in self._metric_fns.items()
            }
        result = _call("The Evaluator's evaluate_fn", where, self._evaluate_fn, model)
        if not isinstance(result, Mapping):
            result = {self.name: result}
        values = {str(k): checks.to_float(k, v, where) for k, v in result.items()}
        if self._names is None:
            self._names = list(values)
            self._modes = checks.check_mode(self._modes, self._names)
            if self.monitor is None:
                self.monitor = self._names[0]
            elif self.monitor not in self._names:
                raise ValueError(
                    f"`monitor` must be one of the names evaluate_fn returns "
                    f"{self._names}. Received: monitor={self.monitor!r}"
                )
            if self._callback_list is not None:
                self._align_monitoring_callbacks(self._names)
        return values

    def _mode_of(self, key: str) -> str:
        return self._modes[key] if isinstance(self._modes, dict) else self._modes

    def _is_improvement(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        best = self._record["best"]
        if best is None:
            return True
        if self._mode_of(self.monitor) == "max":
            return value - self.min_delta > best
        return value + self.min_delta < best

    def _save_best_file(self, epoch: int, value: float, logs: Mapping[str, Any]):
        """Saves the improved model; returns `(destination, staged file)`."""
        if self.save_best is not None:
            destination = checks.format_save_path(self.save_best, epoch, logs)
        elif self.restore_best and self._resume is not None:
            destination = self._resume.best_weights_path
        else:
            return None, None
        staged = None
        if self._resume is not None:  # copied to `destination` at the commit
            staged = self._resume.staged_path(epoch, destination)
        try:
            _atomic.save_model_or_weights(self.model, staged or destination)
        except Exception as e:
            before = self._record["best_epoch"]
            raise self._file_error(
                f"could not save the best model of epoch {epoch + 1} "
                f"({self.monitor}={value:.5f}) to {staged or destination!r}",
                "the previous best file is unchanged; `best` and `best_epoch` "
                "still describe it (epoch "
                f"{None if before is None else before + 1})",
                e,
            ) from e
        return destination, staged

    def _file_error(self, what: str, state: str, error: Exception) -> Exception:
        if self.save_best is not None:
            received = f"save_best={self.save_best!r}"
        else:
            received = f"backup_dir={self._resume.backup.backup_dir!r}"
        message = (
            f"The Evaluator {what}: {type(error).__name__}: {error}. "
            f"{state[0].upper()}{state[1:]}. Received: {received}"
        )
        if not isinstance(error, OSError):
            return RuntimeError(message)
        if error.errno is None:
            return OSError(message)
        return OSError(error.errno, message)


def _call(what: str, where: str, fn: Callable, *args):
    try:
        return fn(*args)
    except Exception as e:
        error = RuntimeError(f"{what} raised at {where}: {type(e).__name__}: {e}")
        # `fit` re-raises with `from None`, which hides a chained exception;
        # the original traceback keeps the failing line of `fn` in view.
        raise error.with_traceback(e.__traceback__) from e
