"""`ReduceOnPlateau`: the plateau rule for any hyperparameter."""

from __future__ import annotations

import math
import warnings
from typing import Any

import keras

from coolkeras import _validation
from coolkeras._warnings import CoolkerasWarning
from coolkeras.attach import attach
from coolkeras.hyperparameter import Hyperparameter

__all__ = ["ReduceOnPlateau"]


class ReduceOnPlateau(keras.callbacks.Callback):
    """Scales a hyperparameter down when a logged value stops improving.

    Keras' `ReduceLROnPlateau` only handles a float learning rate: with a
    learning-rate schedule it raises `TypeError` at the first plateau, in the
    middle of training. This callback applies the same rule (same arguments and
    meaning) to any `coolkeras.Hyperparameter`, scheduled or not: on a plateau it
    multiplies the hyperparameter by `factor` (`hp.scale`), so a scheduled
    learning rate keeps its shape, one step lower. Pass the hyperparameter as
    the optimizer's learning rate to reduce the learning rate. The model it is
    given to by `fit` owns the hyperparameter from then on
    (`coolkeras.attach(model, hyperparameter)`).

    Args:
        hyperparameter: the `coolkeras.Hyperparameter` to reduce.
        monitor: the key in the epoch logs to watch. Defaults to `"val_loss"`.
        factor: multiplier applied on a plateau, in (0, 1). Defaults to `0.1`.
        patience: epochs without improvement before reducing. Defaults to `10`.
        mode: `"min"`, `"max"`, or `"auto"` (`"min"` for names ending in
            `loss`; any other name needs an explicit mode). Defaults to `"auto"`.
        min_delta: smallest change that counts as an improvement, >= 0.
            Defaults to `1e-4`.
        cooldown: epochs to wait after a reduction before counting again.
            Defaults to `0`.
        min_value: the value is never reduced below this, >= 0. Defaults to
            `0.0`.
        verbose: `1` (or `True`) prints a line on each reduction. Defaults to
            `0`.

    Numpy scalars are accepted wherever a number is, and stored as Python
    numbers.

    Raises:
        TypeError: if an argument has the wrong type (the message names it).
        ValueError: if a value is out of range: `factor` outside (0, 1),
            `min_delta < 0`, a negative count, an unknown `mode`, or
            `mode="auto"` with a `monitor` whose direction is unknown.
    """

    def __init__(
        self,
        hyperparameter: Hyperparameter,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_value: float = 0.0,
        verbose: int = 0,
    ):
        super().__init__()
        if not isinstance(hyperparameter, Hyperparameter):
            raise TypeError(
                "`hyperparameter` must be a `coolkeras.Hyperparameter`. "
                f"Received: hyperparameter={hyperparameter!r}"
            )
        monitor = _validation.string("monitor", monitor)
        factor = _validation.number(
            "factor", factor, low=0, high=1, low_open=True, high_open=True
        )
        patience = _validation.integer("patience", patience, minimum=0)
        mode = _validation.string_choice("mode", mode, ("auto", "min", "max"))
        if mode == "auto":
            if not monitor.endswith("loss"):
                raise ValueError(
                    f"Cannot tell whether `{monitor}` should go up or down: pass "
                    f"`mode='max'` or `mode='min'`. Received: mode='auto', "
                    f"monitor={monitor!r}"
                )
            mode = "min"
        min_delta = _validation.number("min_delta", min_delta, low=0)
        cooldown = _validation.integer("cooldown", cooldown, minimum=0)
        min_value = _validation.number("min_value", min_value, low=0)
        verbose = _validation.integer_choice("verbose", verbose, (0, 1), bools=True)
        self.hyperparameter = hyperparameter
        self.monitor = monitor
        self.factor = factor
        self.patience = patience
        self.mode = mode
        self.min_delta = min_delta
        self.cooldown = cooldown
        self.min_value = min_value
        self.verbose = verbose
        self._reset()

    def _reset(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.wait = 0
        self.cooldown_counter = 0

    def _improves(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def set_model(self, model: keras.Model) -> None:
        # Before `fit` makes its train function: the model must own the
        # hyperparameter for a change to reach the compiled step.
        super().set_model(model)
        attach(model, self.hyperparameter)

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._reset()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(
                f"ReduceOnPlateau watches `{self.monitor}`, which is not in the "
                f"logs. Available keys: {sorted(logs or {})}",
                CoolkerasWarning,
                stacklevel=2,
            )
            return
        value = float(value)
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improves(value):
            self.best, self.wait = value, 0
            return
        if self.cooldown_counter > 0:
            return
        self.wait += 1
        if self.wait >= self.patience:
            self._reduce(epoch)
            self.cooldown_counter, self.wait = self.cooldown, 0

    def _reduce(self, epoch: int) -> None:
        old = float(self.hyperparameter)
        if old <= self.min_value:
            return
        new = max(old * self.factor, self.min_value)
        self.hyperparameter.scale(new / old)
        if self.verbose:
            print(
                f"\nEpoch {epoch + 1}: ReduceOnPlateau reduced "
                f"'{self.hyperparameter.name}' from {old:.4g} to {new:.4g}."
            )

    def get_config(self) -> dict[str, Any]:
        return {
            "monitor": self.monitor,
            "factor": self.factor,
            "patience": self.patience,
            "mode": self.mode,
            "min_delta": self.min_delta,
            "cooldown": self.cooldown,
            "min_value": self.min_value,
        }
