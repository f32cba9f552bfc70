"""`Evaluator`: any Python metric, after each epoch, seen by every callback."""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import keras

from coolkeras import _keras_internals
from coolkeras.callbacks import _atomic
from coolkeras.callbacks._evaluator_utils import (
    check_data,
    check_mode,
    to_float,
)

__all__ = ["Evaluator"]

_STATE_PREFIX = "coolkeras_evaluator"


class Evaluator(keras.callbacks.Callback):
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

    A NaN or infinite result is logged but never becomes the best. With a
    `keras.callbacks.BackupAndRestore` in the same `fit`, the best value,
    counters and history are saved in its `backup_dir` after each evaluation
    and restored by a resumed `fit`, so a resumed run never replaces a better
    `save_best` file with a worse one.

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
            Defaults to `None`.
        restore_best: set the best weights back at the end of training.
            Defaults to `False`.
        patience: stop training after this many evaluations without
            improvement (`EarlyStopping` rules). Defaults to `None` (never).
        min_delta: smallest change of `monitor` that counts as an
            improvement. Defaults to `0.0`.
        frequency: evaluate every `frequency` epochs. Defaults to `1`.
        steps: also evaluate every `steps` training steps, mid-epoch; those
            values go to `history` only. Defaults to `None`.
        verbose: `1` shows the prediction progress bar and one line per
            evaluation. Defaults to `0`.

    Attributes:
        history: one dict per evaluation: `{"epoch": 0-based epoch, "step":
            global step or None at epoch end, <name>: value, ...}`.
        best: best value of `monitor` so far (`None` before any).
        best_epoch: 0-based epoch of `best`.

    Raises:
        TypeError: `metrics` is neither a dict of functions nor a function.
        ValueError: a bad `mode`, `monitor`, `data`, `save_best` or counter;
            an unwritable `save_best` (at training start).

    Example:

    >>> import numpy as np
    >>> x, y = np.zeros((8, 2)), np.zeros((8,))
    >>> model = keras.Sequential(
    ...     [keras.Input((2,)), keras.layers.Dense(1, kernel_initializer="zeros")])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> def mae(y_true, y_pred):
    ...     return float(np.mean(np.abs(y_true - y_pred[:, 0])))
    >>> evaluator = Evaluator({"mae": mae}, data=(x, y), mode="min")
    >>> history = model.fit(x, y, epochs=2, verbose=0, callbacks=[evaluator])
    >>> history.history["mae"]
    [0.0, 0.0]
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
            self._x, self._y = check_data(data)
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
        self._modes = check_mode(mode, self._names)
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
        self.name = name
        if save_best is not None:
            save_best = os.fspath(save_best)
            if not save_best.endswith((_atomic.MODEL_SUFFIX, _atomic.WEIGHTS_SUFFIX)):
                raise ValueError(
                    "`save_best` must end in `.keras` (whole model) or "
                    f"`.weights.h5` (weights only). Received: save_best={save_best!r}"
                )
        for arg, value, low in (
            ("batch_size", batch_size, 1),
            ("frequency", frequency, 1),
            ("steps", steps, 1),
            ("patience", patience, 0),
        ):
            if value is None and arg in ("steps", "patience"):
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise ValueError(
                    f"`{arg}` must be an integer >= {low}. Received: {arg}={value!r}"
                )
        if not isinstance(min_delta, (int, float)) or min_delta < 0:
            raise ValueError(
                f"`min_delta` must be a number >= 0. Received: min_delta={min_delta!r}"
            )
        self.batch_size = batch_size
        self.save_best = save_best
        self.restore_best = bool(restore_best)
        self.patience = patience
        self.min_delta = float(min_delta)
        self.frequency = frequency
        self.steps = steps
        self.verbose = verbose
        if steps is not None:
            # Only then: a batch hook makes Keras dispatch batch callbacks
            # synchronously.
            self.on_train_batch_end = self._on_train_batch_end
        self._callback_list = None
        self._backup = None
        self._resumed = False
        self._reset()

    # State ------------------------------------------------------------------

    def _reset(self):
        self.history: list[dict[str, Any]] = []
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.wait = 0
        self.best_weights = None
        self._global_step = 0
        self._steps_in_epoch = 0
        self._epoch = 0
        self._next_mid_step = self.steps or 0

    def _state_path(self, suffix=".json"):
        if self._backup is None:
            return None
        evaluators = [
            c for c in self._callback_list.callbacks if isinstance(c, Evaluator)
        ]
        index = next(i for i, c in enumerate(evaluators) if c is self)
        return os.path.join(self._backup.backup_dir, f"{_STATE_PREFIX}_{index}{suffix}")

    def _save_state(self, epoch):
        path = self._state_path()
        if path is None:
            return
        os.makedirs(os.path.dirname(path), exist_ok=True)
        state = {
            "epoch": epoch,
            "best": self.best,
            "best_epoch": self.best_epoch,
            "wait": self.wait,
            "global_step": self._global_step,
            "history": self.history,
        }
        _atomic.write_json(path, state)

    def _load_state(self):
        path = self._state_path()
        if path is None or not os.path.exists(path):
            return False
        state = _atomic.read_json(path)
        self.best = state["best"]
        self.best_epoch = state["best_epoch"]
        self.wait = state["wait"]
        self._global_step = state["global_step"]
        self.history = state["history"]
        if self.steps:
            self._next_mid_step = (self._global_step // self.steps + 1) * self.steps
        return True

    # Placement ----------------------------------------------------------------

    def set_model(self, model):
        super().set_model(model)
        self._take_first_place()

    def _take_first_place(self):
        callback_list = _keras_internals.calling_callback_list(self, max_depth=4)
        if callback_list is None:
            return
        self._callback_list = callback_list
        callbacks = callback_list.callbacks
        index = next(i for i, c in enumerate(callbacks) if c is self)
        target = 0
        while target < index and isinstance(callbacks[target], Evaluator):
            target += 1
        if index > target:
            # Safe while the list is iterated: the elements before `index` have
            # been visited and shift by one; the next one visited is unchanged.
            callbacks.insert(target, callbacks.pop(index))

    def _align_monitoring_callbacks(self, names):
        for callback in self._callback_list.callbacks:
            monitor = getattr(callback, "monitor", None)
            if callback is self or monitor not in names:
                continue
            ours = self._mode_of(monitor)
            theirs = getattr(callback, "mode", None)
            if theirs == "auto":
                callback.mode = ours
            elif theirs in ("min", "max") and theirs != ours:
                raise ValueError(
                    f"{type(callback).__name__} monitors '{monitor}' with "
                    f"mode='{theirs}', but the Evaluator declares mode='{ours}' "
                    f"for it. Received: mode={theirs!r}"
                )

    # Hooks --------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        if self._callback_list is None:
            self._take_first_place()
        if self._callback_list is None:
            warnings.warn(
                "The Evaluator was not called by a keras.callbacks.CallbackList, "
                "so it cannot move itself first: only callbacks called after it "
                "see its values.",
                stacklevel=2,
            )
        self._reset()
        self._backup = None
        if self._callback_list is not None:
            if self._names is not None:
                self._align_monitoring_callbacks(self._names)
            self._backup = next(
                (
                    c
                    for c in self._callback_list.callbacks
                    if isinstance(c, keras.callbacks.BackupAndRestore)
                ),
                None,
            )
        if self.save_best is not None:
            try:
                _atomic.check_writable(self.save_best)
            except OSError as e:
                raise ValueError(
                    f"`save_best` is not writable ({e}). "
                    f"Received: save_best={self.save_best!r}"
                ) from e
        self._resumed = self._load_state()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._steps_in_epoch = 0

    def _on_train_batch_end(self, batch, logs=None):
        self._steps_in_epoch = batch + 1
        step = self._global_step + self._steps_in_epoch
        if step >= self._next_mid_step:
            self._next_mid_step = (step // self.steps + 1) * self.steps
            epoch = self._epoch
            values = self._evaluate(epoch, step)
            self.history.append({"epoch": epoch, "step": step, **values})

    def on_epoch_end(self, epoch, logs=None):
        self._global_step += self._steps_in_epoch
        if (epoch + 1) % self.frequency:
            return
        values = self._evaluate(epoch, None)
        if logs is not None:
            for key, value in values.items():
                if key in logs:
                    raise ValueError(
                        f"The Evaluator metric '{key}' would overwrite the value "
                        "Keras logs under the same name; rename the metric. "
                        f"Received: metric name {key!r}"
                    )
                logs[key] = value
        self.history.append({"epoch": epoch, "step": None, **values})
        self._track_best(epoch, values[self.monitor])
        if self.verbose:
            shown = ", ".join(f"{k}={v:.4f}" for k, v in values.items())
            print(
                f"\nEpoch {epoch + 1}: Evaluator {shown} "
                f"(best {self.monitor}={self.best} at epoch "
                f"{None if self.best_epoch is None else self.best_epoch + 1})"
            )
        self._save_state(epoch)

    def on_train_end(self, logs=None):
        if self.restore_best and self.best is not None:
            if self.best_weights is not None:
                self.model.set_weights(self.best_weights)
            elif self._resumed:
                self._restore_from_file()
        if self._backup is not None and self._backup.delete_checkpoint:
            for suffix in (".json", ".best" + _atomic.WEIGHTS_SUFFIX):
                path = self._state_path(suffix)
                if os.path.exists(path):
                    os.remove(path)

    # Evaluation -------------------------------------------------------------

    def _evaluate(self, epoch, step):
        model = self.model  # on JAX, syncs the training state into the variables
        where = f"epoch {epoch + 1}" + ("" if step is None else f", step {step}")
        if self._evaluate_fn is None:
            y_pred = model.predict(
                self._x, batch_size=self.batch_size, verbose=1 if self.verbose else 0
            )
            values = {}
            for key, fn in self._metric_fns.items():
                try:
                    result = fn(self._y, y_pred)
                except Exception as e:
                    raise RuntimeError(
                        f"The Evaluator metric '{key}' raised at {where}: "
                        f"{type(e).__name__}: {e}"
                    ) from e
                values[key] = to_float(key, result, where)
            return values
        try:
            result = self._evaluate_fn(model)
        except Exception as e:
            raise RuntimeError(
                f"The Evaluator's evaluate_fn raised at {where}: "
                f"{type(e).__name__}: {e}"
            ) from e
        if not isinstance(result, Mapping):
            result = {self.name: result}
        values = {str(k): to_float(k, v, where) for k, v in result.items()}
        if self._names is None:
            self._names = list(values)
            self._modes = check_mode(self._modes, self._names)
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

    def _mode_of(self, key):
        return self._modes[key] if isinstance(self._modes, dict) else self._modes

    def _is_improvement(self, value):
        if not math.isfinite(value):
            return False
        if self.best is None:
            return True
        if self._mode_of(self.monitor) == "max":
            return value - self.min_delta > self.best
        return value + self.min_delta < self.best

    def _track_best(self, epoch, value):
        self.wait += 1
        if self._is_improvement(value):
            self.best = value
            self.best_epoch = epoch
            self.wait = 0
            if self.save_best is not None:
                _atomic.save_model_or_weights(self.model, self.save_best)
            if self.restore_best:
                self.best_weights = self.model.get_weights()
                if self._backup is not None and self.save_best is None:
                    path = self._state_path(".best" + _atomic.WEIGHTS_SUFFIX)
                    os.makedirs(os.path.dirname(path), exist_ok=True)
                    _atomic.save_model_or_weights(self.model, path)
        if self.patience is not None and self.wait >= self.patience and epoch > 0:
            self.model.stop_training = True

    def _restore_from_file(self):
        path = self.save_best or self._state_path(".best" + _atomic.WEIGHTS_SUFFIX)
        if path is not None and os.path.exists(path):
            self.model.load_weights(path)
        else:
            warnings.warn(
                "restore_best: the best weights of the interrupted run were not "
                f"found at {path}; keeping the last weights.",
                stacklevel=2,
            )
