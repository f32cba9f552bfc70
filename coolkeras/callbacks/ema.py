"""`EMA`: an exponential moving average of the weights, used where it matters."""

from __future__ import annotations

import contextlib
import numbers
import os
from collections.abc import Iterator
from typing import Any

import keras

from coolkeras import _keras_internals, _validation
from coolkeras import _training_state as training_state
from coolkeras.attach import attach
from coolkeras.callbacks import _ema_state
from coolkeras.callbacks._ema_update import AverageUpdate
from coolkeras.hyperparameter import Hyperparameter, number_or_hyperparameter

__all__ = ["EMA"]

LearningRateSchedule = keras.optimizers.schedules.LearningRateSchedule
_ON_TRAIN_END = ("keep_raw", "use_average")
_WEIGHTS = ("average", "raw")


class EMA(keras.callbacks.Callback):
    """Keeps an exponential moving average of the weights and evaluates with it.

    After each optimizer update `t` (once per update, also under
    `gradient_accumulation_steps`, computed inside the compiled train step on
    every backend and with any `steps_per_execution`), the average of the
    weights `w_t` is, with the decay `d_t` at that update:

        m_t = d_t * m_{t-1} + (1 - d_t) * w_t,   m_0 = 0
        average_t = m_t / (1 - d_1 * ... * d_t)

    the bias-corrected average of bert4keras (zero start, divided by the
    weight of the terms so far), so early averages are not pulled towards the
    initial weights; it is stored already divided, as `average_t =
    average_{t-1} + (1 - d_t) / (1 - d_1...d_t) * (w_t - average_{t-1})`.
    With `debias=False` it is the plain average started at the weights
    (`average_t = d * average_{t-1} + (1 - d) * w_t`, as timm and Keras'
    `use_ema` do). Updates before `start_step` are not averaged: the average
    follows the raw weights until then.

    The averages are state of the model (a layer it tracks, like
    `coolkeras.attach`'s training state): not in `model.get_weights()`, but
    threaded through every JAX step and kept by `save_weights`, `model.save`
    and `BackupAndRestore`, so a resumed run continues exactly.

    The model's variables hold the raw weights while it trains. The last
    train step of each epoch swaps the averages in, so validation, and every
    callback at the epoch end (`ModelCheckpoint`, `Evaluator`, `EarlyStopping`,
    `BackupAndRestore`), see and save the averaged model, wherever this
    callback stands in the list; the next epoch starts by swapping the raw
    weights back. A file saved in that state holds the averages as the
    model's weights and the raw weights as its state: `keras.models.load_model`
    gives the averaged model, and training it again with an `EMA` continues
    from the raw weights. `model.evaluate(..., callbacks=[ema])` and
    `model.predict(..., callbacks=[ema])` use the averages too; `with
    ema.averaged():` does it for any code.

    Args:
        decay: the decay `d`: a float in `[0, 1)`, a schedule of the
            optimizer update count (any `LearningRateSchedule`, e.g. timm's
            warm-up `1 - (1 + t / gamma) ** -power`, for `power=1`
            `1.0 - coolkeras.schedules.InverseTime(1.0, steps=gamma, rate=1.0)`)
            or a `coolkeras.Hyperparameter`, whose values may reach 1 (the
            average stays put) but not leave `[0, 1]`: one whose known values
            do is refused, and so is a later `assign` or `scale` that would
            make them; values not known ahead are clipped to `[0, 1]` where
            used. Defaults to `0.999`.
        debias: divide by the weight of the averaged terms (see above).
            Defaults to `True`.
        start_step: the number of optimizer updates after which averaging
            starts. Defaults to `0`.
        include_non_trainable: also average the model's non-trainable float
            variables (BatchNormalization's moving statistics). coolkeras'
            own training state is never averaged. Defaults to `False`.
        on_train_end: what the model holds after `fit`: `"keep_raw"` (the
            raw weights; a later `fit` continues from them exactly) or
            `"use_average"` (the averages become the model's weights).
            Defaults to `"keep_raw"`.

    Raises:
        TypeError: if `decay` is neither a number nor a schedule, a flag is
            not a bool, or `start_step` is not an integer.
        ValueError: if an argument is out of range (the message names it and
            its value); at training start, if the model already averages
            other variables.

    Example:

    >>> import numpy as np
    >>> model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(
    ...     1, use_bias=False, kernel_initializer="zeros")])
    >>> model.compile(keras.optimizers.SGD(0.1), loss="mse")
    >>> ema = EMA(decay=0.5)
    >>> x = np.ones((4, 1))
    >>> _ = model.fit(x, x, batch_size=1, verbose=0, shuffle=False, callbacks=[ema])
    >>> round(float(model.get_weights()[0][0, 0]), 4)  # raw: 0.2, 0.36, ...
    0.5904
    >>> with ema.averaged():
    ...     round(float(model.get_weights()[0][0, 0]), 4)
    0.5063
    """

    def __init__(
        self,
        decay: float | LearningRateSchedule = 0.999,
        *,
        debias: bool = True,
        start_step: int = 0,
        include_non_trainable: bool = False,
        on_train_end: str = "keep_raw",
    ):
        super().__init__()
        self.decay = _decay(decay)
        self.debias = _validation.boolean("debias", debias)
        self.start_step = _validation.integer("start_step", start_step, minimum=0)
        self.include_non_trainable = _validation.boolean(
            "include_non_trainable", include_non_trainable
        )
        on_train_end = _validation.string_choice(
            "on_train_end", on_train_end, _ON_TRAIN_END
        )
        self.on_train_end_choice = on_train_end
        self._state = None
        self._in_fit = False
        self._swapped_here = False

    # -- the model's state ------------------------------------------------------

    def set_model(self, model: keras.Model) -> None:
        super().set_model(model)
        if model.built:
            self._prepare(model)

    def _prepare(self, model: keras.Model) -> _ema_state.EMAState:
        if not model.built:
            raise ValueError(
                "EMA needs the model's variables: build the model (call it on "
                "a batch, or `model.build(input_shape)`) before training. "
                f"Received: an unbuilt model '{model.name}'"
            )
        extra = [self.decay] if isinstance(self.decay, Hyperparameter) else []
        attach(model, *extra)  # the clock, and the decay's settings
        state = _ema_state.state_of(model)
        changed = state is None
        if state is None:
            state = _ema_state.install(model)
            state.mass.assign(0.0 if self.debias else 1.0)
        wanted = list(
            _ema_state.keyed_variables(model, self.include_non_trainable).values()
        )
        if state.slots:
            if {id(v) for v in state.targets} != {id(v) for v in wanted}:
                raise ValueError(
                    "The model already averages other variables (an EMA with "
                    "another `include_non_trainable`, or averages loaded from "
                    "a file). Received: include_non_trainable="
                    f"{self.include_non_trainable}"
                )
        else:
            state.cover(wanted)
            changed = True
        config = _ema_state.Config(self.decay, self.debias, self.start_step)
        if not config.same_as(state.config):
            object.__setattr__(state, "config", config)
            changed = True
        hook = state.__dict__.get("_hook")
        if hook is None:
            hook = AverageUpdate(state)
            object.__setattr__(state, "_hook", hook)
        clock = training_state.own_state(model)
        if all(h is not hook for h in clock.step_hooks):
            clock.add_step_hook(hook)
            changed = True
        if changed:
            _keras_internals.forget_compiled_functions(model)
        self._state = state
        return state

    def _require_state(self) -> _ema_state.EMAState:
        if self.model is None:
            raise RuntimeError(
                "This EMA has no model yet: pass it to `fit(callbacks=[...])` "
                "or call `ema.set_model(model)` first."
            )
        return self._state or self._prepare(self.model)

    # -- fit ---------------------------------------------------------------

    def on_train_begin(self, logs: dict | None = None) -> None:
        state = self._require_state()
        self._in_fit = True
        state.set_countdown(0)
        if state.is_swapped():
            state.swap()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        state = self._require_state()
        if state.is_swapped():  # a new epoch trains the raw weights
            state.swap()
        # The last train step of the epoch swaps the averages in.
        state.set_countdown((self.params or {}).get("steps") or 0)

    def on_test_begin(self, logs: dict | None = None) -> None:
        self._swap_in(keep=self._in_fit)

    def on_test_end(self, logs: dict | None = None) -> None:
        self._swap_out_if_swapped_here()

    def on_predict_begin(self, logs: dict | None = None) -> None:
        self._swap_in(keep=self._in_fit)

    def on_predict_end(self, logs: dict | None = None) -> None:
        self._swap_out_if_swapped_here()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        # Normally done by the epoch's last step; not when the epoch's length
        # is unknown or training stopped within it (then only the callbacks
        # after this one see the averages).
        self._swap_in(keep=True)

    def on_train_end(self, logs: dict | None = None) -> None:
        self._in_fit = False
        state = self._require_state()
        state.set_countdown(0)
        swapped = state.is_swapped()
        if self.on_train_end_choice == "keep_raw":
            if swapped:
                state.swap()
        else:
            if not swapped:
                state.swap()
            state.adopt_variables()

    def _swap_in(self, keep: bool) -> None:
        state = self._require_state()
        if not state.is_swapped():
            state.swap()
            self._swapped_here = not keep

    def _swap_out_if_swapped_here(self) -> None:
        if self._swapped_here:
            self._swapped_here = False
            if self._state.is_swapped():
                self._state.swap()

    # -- custom code ---------------------------------------------------------

    @contextlib.contextmanager
    def averaged(self) -> Iterator[keras.Model]:
        """A context in which the model's variables hold the averages.

        The raw weights are back when the block ends (also on an error). For
        evaluation, prediction or saving in your own code: `with
        ema.averaged(): model.evaluate(x, y)`. Where the averages are in already
        (in a callback at an epoch end of `fit`), it changes nothing.

        Yields:
            The model.
        """
        state = self._require_state()
        if state.is_swapped():
            yield self.model
            return
        state.swap()
        try:
            yield self.model
        finally:
            if state.is_swapped():
                state.swap()

    # -- loading ------------------------------------------------------------

    @staticmethod
    def load_weights(
        model: keras.Model, filepath: str | os.PathLike, weights: str = "average"
    ) -> keras.Model:
        """Loads a file written by a model trained with an `EMA` into `model`.

        The model's variables then hold the averaged (default) or the raw
        weights, and the model keeps the other copy as its state: training it
        with an `EMA` continues from the raw weights.

        Args:
            model: a built model with the architecture of the saved one.
            filepath: a `.weights.h5` or `.keras` file.
            weights: `"average"` or `"raw"`. Defaults to `"average"`.

        Returns:
            `model`.

        Raises:
            ValueError: if the file holds no averages, or `weights` is not one
                of the two names.
        """
        if weights not in _WEIGHTS:
            raise ValueError(
                f"`weights` must be one of {_WEIGHTS}. Received: weights={weights!r}"
            )
        state = _ema_state.state_of(model) or _ema_state.install(model)
        object.__setattr__(state, "_adopting", True)
        try:
            model.load_weights(filepath)
        finally:
            object.__setattr__(state, "_adopting", False)
        if not state.slots:
            raise ValueError(
                "The file holds no averaged weights (it was not saved by a model "
                f"trained with an EMA). Received: filepath={str(filepath)!r}"
            )
        if state.is_swapped() != (weights == "average"):
            state.swap()
        return model

    @staticmethod
    def load_model(
        filepath: str | os.PathLike, weights: str = "average", **kwargs: Any
    ) -> keras.Model:
        """Loads a `.keras` file of a model trained with an `EMA`.

        The one call for inference with the averaged weights, whenever the
        file was written (at an epoch end, after `fit`, inside `averaged()`).
        The raw weights stay with the model, so `fit` with an `EMA` continues
        the run exactly.

        Args:
            filepath: a `.keras` file.
            weights: `"average"` or `"raw"`: what the model's variables hold.
                Defaults to `"average"`.
            **kwargs: passed to `keras.models.load_model` (`custom_objects`,
                `compile`, `safe_mode`).

        Returns:
            The model.
        """
        model = keras.models.load_model(filepath, **kwargs)
        return EMA.load_weights(model, filepath, weights=weights)


def _decay(decay: Any) -> float | Hyperparameter:
    """A number in `[0, 1)` (a constant 1 would never average), or a schedule
    or hyperparameter whose values stay in `[0, 1]` (1 for a while holds the
    average), logged as `ema_decay`."""
    if isinstance(decay, numbers.Real) and not isinstance(decay, bool):
        return _validation.number("decay", decay, low=0.0, high=1.0, high_open=True)
    return number_or_hyperparameter(
        "decay", decay, 0.0, 1.0, hyperparameter_name="ema_decay"
    )
