"""The Evaluator's own argument checks (`save_best`, `mode`, `data`) and helpers.

The checks of numbers, flags and names are `coolkeras._validation`'s. Each
check here raises `TypeError` for a value of the wrong type and `ValueError`
for a bad value, with a message that names the argument and the value.
"""

from __future__ import annotations

import logging
import os
import reprlib
import string
import sys
from collections.abc import Mapping
from typing import Any

import keras
import numpy as np

MODES = ("max", "min")
SAVE_SUFFIXES = (".keras", ".weights.h5")


def check_save_best(value: Any) -> str | None:
    """A `.keras` / `.weights.h5` path, with ModelCheckpoint-style placeholders."""
    if value is None:
        return None
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(
            f"`save_best` must be a path or None. Received: save_best={value!r}"
        )
    path = os.fspath(value)
    if not isinstance(path, str):
        raise TypeError(
            f"`save_best` must be a text path or None. Received: save_best={path!r}"
        )
    path = str(path)  # a `np.str_` too
    if not path.endswith(SAVE_SUFFIXES):
        raise ValueError(
            "`save_best` must end in `.keras` (whole model) or `.weights.h5` "
            f"(weights only). Received: save_best={path!r}"
        )
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(path) if f is not None]
    except ValueError as e:
        raise ValueError(
            f"`save_best` is not a valid format string ({e}). "
            f"Received: save_best={path!r}"
        ) from e
    if any(not field or field[0].isdigit() for field in fields):
        raise ValueError(
            "`save_best` placeholders must be named, like `{epoch:02d}` or "
            f"`{{val_f1:.3f}}`. Received: save_best={path!r}"
        )
    return path


def format_save_path(pattern: str, epoch: int, logs: Mapping[str, Any]) -> str:
    """`pattern` formatted as ModelCheckpoint formats its `filepath`.

    `epoch` is 0-based, as Keras passes it to callbacks; the file name shows it
    1-based (`{epoch}` is 1 after the first epoch), as the progress bar does.
    """
    try:
        return pattern.format(**{**logs, "epoch": epoch + 1})
    except (KeyError, AttributeError, IndexError, ValueError) as e:
        raise ValueError(
            f"`save_best` could not be formatted at epoch {epoch + 1} "
            f"({type(e).__name__}: {e}); the names available are 'epoch' and "
            f"the logs {sorted(logs)}. Received: save_best={pattern!r}"
        ) from e


def check_mode(mode: Any, names: list[str] | None) -> str | dict[str, str]:
    """A single mode for every metric, or one per metric name."""
    if isinstance(mode, str):
        mode = str(mode)  # a `np.str_` too
        if mode not in MODES:
            raise ValueError(
                "`mode` must be 'max' or 'min' (a new metric's direction cannot "
                f"be guessed). Received: mode={mode!r}"
            )
        return mode
    if isinstance(mode, Mapping):
        for key, value in mode.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise TypeError(
                    f"`mode` must map metric names to 'max' or 'min'. "
                    f"Received: mode={dict(mode)!r} ({key!r}: {value!r})"
                )
            if value not in MODES:
                raise ValueError(
                    f"`mode` must map metric names to 'max' or 'min'. "
                    f"Received: mode={dict(mode)!r} ({key!r}: {value!r})"
                )
        if names is not None:
            missing = [n for n in names if n not in mode]
            if missing:
                raise ValueError(
                    f"`mode` must declare 'max' or 'min' for every metric; missing "
                    f"{missing}. Received: mode={dict(mode)!r}"
                )
        return {str(key): str(value) for key, value in mode.items()}
    raise TypeError(
        f"`mode` must be 'max', 'min' or a dict of them. Received: mode={mode!r}"
    )


def _leading_sizes(struct: Any) -> list[int]:
    if hasattr(struct, "shape") and len(struct.shape) > 0:
        return [int(struct.shape[0])]
    if isinstance(struct, Mapping):
        return [n for value in struct.values() for n in _leading_sizes(value)]
    if isinstance(struct, (list, tuple)):
        if struct and all(hasattr(item, "shape") for item in struct):
            return [n for item in struct for n in _leading_sizes(item)]
        return [len(struct)]
    return []


def check_data(data: Any) -> tuple[Any, Any]:
    """`(x, y)` whose arrays all have the same number of samples."""
    if not isinstance(data, (tuple, list)):
        raise TypeError(
            f"`data` must be a tuple `(x, y)`. Received: data={reprlib.repr(data)} "
            f"of type {type(data).__name__}"
        )
    if len(data) != 2:
        raise ValueError(
            f"`data` must be a tuple `(x, y)`. Received: data={reprlib.repr(data)} "
            f"of length {len(data)}"
        )
    x, y = data
    x_sizes, y_sizes = _leading_sizes(x), _leading_sizes(y)
    if not x_sizes:
        raise TypeError(
            "`data` must be `(x, y)` with x an array or a list/dict of arrays. "
            f"Received: data=(x, y) with x={reprlib.repr(x)} of type "
            f"{type(x).__name__}"
        )
    sizes = set(x_sizes + y_sizes)
    if len(sizes) != 1:
        raise ValueError(
            "All arrays in `data=(x, y)` must have the same number of samples. "
            f"Received: data=(x, y) with x sizes {x_sizes}, y sizes {y_sizes}"
        )
    if 0 in sizes:
        raise ValueError(
            "`data` must hold at least one sample. Received: data=(x, y) with 0 samples"
        )
    return x, y


def to_float(name: str, value: Any, where: str) -> float:
    """The metric's value as a Python float, or a clear error."""
    problem = None
    if isinstance(value, (str, bytes)):
        problem = "a string"
    else:
        try:
            array = np.asarray(value)
        except Exception:  # noqa: BLE001 - any unconvertible object
            array = None
        if array is None or array.dtype.kind not in "biuf":
            problem = f"a {type(value).__name__}"
        elif array.size != 1:
            problem = f"a non-scalar of shape {array.shape}"
        else:
            return float(array.reshape(()))
    raise TypeError(
        f"The Evaluator metric '{name}' must return a float number, but at "
        f"{where} it returned {problem}. Received: {name}={value!r:.200}"
    )


def print_line(message: str) -> None:
    """Prints as Keras' callbacks print: stdout, or logging when not interactive."""
    if keras.config.is_interactive_logging_enabled():
        sys.stdout.write(message + "\n")
        sys.stdout.flush()
    else:
        logging.getLogger("coolkeras").info(message)


def shown(values: Mapping[str, float]) -> str:
    return ", ".join(f"{key}={value:.5f}" for key, value in values.items())


def epoch_line(
    epoch: int,
    values: Mapping[str, float],
    monitor: str,
    before: float | None,
    improved: bool,
    saved_to: str | None,
    best_epoch: int | None,
    stop: bool,
) -> str:
    """One line per evaluation, in the words of ModelCheckpoint and EarlyStopping.

    Epochs are 1-based, as the progress bar numbers them.
    """
    before_text = "None" if before is None else f"{before:.5f}"
    if improved:
        action = f"{monitor} improved from {before_text} to {values[monitor]:.5f}"
        if saved_to is not None:
            action += f", saving model to {saved_to}"
    else:
        action = f"{monitor} did not improve from {before_text}"
        if best_epoch is not None:
            action += f" (epoch {best_epoch + 1})"
    stopping = "; early stopping" if stop else ""
    return f"\nEpoch {epoch + 1}: Evaluator {shown(values)}; {action}{stopping}"
