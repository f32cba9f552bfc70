"""`Hyperparameter`: a number or schedule whose current value every step uses."""

from __future__ import annotations

import math
import warnings
import weakref
from typing import Any

import keras
import numpy as np
from keras import ops

from coolkeras import _keras_internals, _step_context, _validation
from coolkeras._hyperparameter_parts import Arithmetic, RequiredRanges
from coolkeras._warnings import CoolkerasWarning
from coolkeras.schedules import _time

__all__ = ["Hyperparameter"]

LearningRateSchedule = keras.optimizers.schedules.LearningRateSchedule


@keras.saving.register_keras_serializable(package="coolkeras")
class Hyperparameter(Arithmetic, RequiredRanges, LearningRateSchedule):
    """A number, or a schedule, used inside training and exact at every step.

    Keras 3 gives you `keras.Variable`, but a variable that a loss function reads
    and a callback changes is frozen at its first value on JAX when the model does
    not own it, and a per-batch callback only acts once per execution when
    `steps_per_execution > 1`. A `Hyperparameter` is a schedule of the model's
    optimizer updates: the value used at update `u` is `schedule(u)`, computed
    inside each compiled step on every backend, with `steps_per_execution > 1`
    and with gradient accumulation (it counts updates, not batches).

    Use it where the article used `K.variable`: in a loss function
    (`(1 - eps) * loss1 + eps * loss2`), a layer's `call`, a regularizer, a
    constraint, a metric, or pass it as an optimizer's learning rate. `hp.value`
    is the value as a float32 tensor, `float(hp)` as a Python float. A model
    trains with it after one line, `coolkeras.attach(model)` (see there); a
    model whose coolkeras layers hold it attaches itself.

    Callbacks may change it between steps: `hp.assign(v)` replaces the schedule
    by the constant `v`, `hp.scale(f)` multiplies the value by `f` from then on
    (what `coolkeras.callbacks.ReduceOnPlateau` does), `hp.reset()` undoes both.
    These changes belong to the hyperparameter (every model it is used by sees
    them); the clock belongs to each model, so a second model (a k-fold run)
    starts its schedule at update 0. Both are saved with the model, and
    restored by `keras.callbacks.BackupAndRestore`.

    Args:
        value: a float, or a schedule (any `LearningRateSchedule`, e.g. from
            `coolkeras.schedules`) of the optimizer update count.
        name: a name used in logs, error messages and state paths.
            Defaults to `"hyperparameter"`.

    Example:

    >>> import coolkeras
    >>> from coolkeras import schedules
    >>> eps = coolkeras.Hyperparameter(schedules.Linear(0.1, 0.0, steps=10))
    >>> round(float(eps), 6), round(float(eps(5)), 6)
    (0.1, 0.05)
    >>> eps.scale(0.5)
    >>> round(float(eps), 6), round(float(1 - eps), 6)
    (0.05, 0.95)
    """

    def __init__(
        self, value: float | LearningRateSchedule, name: str = "hyperparameter"
    ):
        if isinstance(value, Hyperparameter):
            raise TypeError(
                "`value` must be a number or a schedule, not another "
                f"Hyperparameter. Received: value={value!r}"
            )
        if isinstance(value, LearningRateSchedule):
            self.schedule, self.initial = value, None
        else:
            self.schedule, self.initial = None, _validation.number("value", value)
        self.name = _validation.string("name", name)
        self._scale, self._assigned = 1.0, None
        self._position = 0  # the step when no model holds the hyperparameter
        self._restored = False  # made from a saved config
        self._baked = False  # read as a constant inside a compiled function
        self._refused = False  # read, unowned, while a compiled model was built
        self._baked_warned = False  # a fixed-value warning was given
        self._states: list = []  # weak references to the `TrainingState`s
        # name -> (low, high): ranges its users need (a loss's `epsilon` in [0, 1]).
        self._bounds: dict[str, tuple[float | None, float | None]] = {}

    # -- values ---------------------------------------------------------------

    def _settings(self) -> np.ndarray:
        assigned = self._assigned
        return np.array(
            [self._scale, 0.0 if assigned is None else assigned, assigned is not None],
            dtype="float32",
        )

    def _evaluate(self, update, settings):
        """The value at update `update` with `settings` (tensors or numpy)."""
        host = self._evaluate_on_host(update, settings)
        if host is not None:
            return _keras_internals.scalar_tensor(host)
        settings = ops.convert_to_tensor(settings, "float32")
        if self.schedule is None:
            base = ops.convert_to_tensor(self.initial, "float32")
        else:
            base = ops.cast(self.schedule(ops.cast(update, "int32")), "float32")
        return ops.where(settings[2] > 0.5, settings[1], base) * settings[0]

    def _evaluate_on_host(self, update, settings):
        """`_evaluate` in numpy when the update and settings are known on the host.

        That is the case in an eager PyTorch step, where each Keras op costs
        ~15 µs of dispatch; `None` under `jit`, `tf.function`, `torch.compile`
        and on accelerators.
        """
        update = _keras_internals.host_value(update)
        settings = _keras_internals.host_value(settings)
        if update is None or settings is None:
            return None
        scale, assigned, is_assigned = settings.tolist()
        if is_assigned > 0.5:
            base = np.float32(assigned)
        elif self.schedule is None:
            base = np.float32(self.initial)
        else:
            base = _time.value_at(self.schedule, int(update))
            if not isinstance(base, np.generic):  # a Keras schedule inside a trace
                return None
        return np.float32(base * np.float32(scale))

    @property
    def value(self):
        """The value for the current training step, as a float32 scalar tensor."""
        values = _step_context.current()
        if values is not None and values.has(self):
            return values.value(self)
        update, settings = self._outside_a_step()
        if _keras_internals.in_symbolic_build():
            # Shapes only: a `by_epoch` schedule may not know its epoch length
            # before `fit` tells it.
            return ops.zeros((), "float32")
        return self._evaluate(update, settings)

    def __call__(self, step):
        """The value at update `step` (Keras calls this for a learning rate).

        As an optimizer's learning rate inside a step of an attached model, it is
        the value at the model's clock, which counts updates under gradient
        accumulation and continues across optimizers; elsewhere `step` is taken
        as given, the way a schedule inside another schedule is called.
        """
        values = _step_context.current()
        if values is not None and values.has(self):
            if values.learning_rate is self:
                return values.value(self)
            return self._evaluate(step, values.settings[self])
        update, settings = self._outside_a_step()
        if _keras_internals.in_symbolic_build():
            return ops.zeros((), "float32")
        state = self._primary_state()
        if state is not None and state.learning_rate() is self:
            step = ops.floor_divide(step, state.updates_per_step())
            step = step + ops.cast(state.offset.value, step.dtype)
        return self._evaluate(step, settings)

    def _outside_a_step(self):
        """The `(update, settings)` to read when no step of a model holds it."""
        self._check_readable()
        state = self._primary_state()
        if _keras_internals.in_symbolic_build():  # shapes only
            return self._position, self._settings()
        if state is None and self._refused:
            self._refuse_in_a_compiled_step()
        if not _keras_internals.in_compiled_trace():
            if state is not None:
                self._position = state.updates_now()
            return self._position, self._settings()
        if state is None:
            if not self._restored:
                self._refuse_in_a_compiled_step()
            self._baked = True
            return self._position, self._settings()
        if keras.backend.backend() == "jax":
            self._warn_once(
                f"Hyperparameter '{self.name}' is read inside a JAX function that "
                "is not a step of its model (a training loop of your own, or a "
                "model it is not attached to): its value is fixed there at the "
                "value of the moment it was compiled. In your own loop, pass the "
                f"step: `{self.name}(step)`."
            )
        return state.updates_tensor(), state.settings_variable(self).value

    def _unowned_message(self, where: str) -> str:
        return (
            f"Hyperparameter '{self.name}' is read {where}, but no model owns it, "
            "so its value could not follow training (on JAX it would be frozen at "
            "its first value). Call `coolkeras.attach(model)` once, before or "
            "after `model.compile(...)`; if it still cannot find this "
            f"hyperparameter, pass it: `coolkeras.attach(model, {self.name})`."
        )

    def _check_readable(self) -> None:
        if self._states or self._restored or not _keras_internals.in_symbolic_build():
            return
        entry = _keras_internals.call_entry()
        if entry is not None and not (
            isinstance(entry, keras.Model) and getattr(entry, "compiled", False)
        ):
            return  # a layer called on symbolic inputs while a model is defined
        self._refused = True
        raise RuntimeError(
            self._unowned_message(
                "while a compiled model is built for training or evaluation"
            )
        )

    def _refuse_in_a_compiled_step(self) -> None:
        """An unowned read in a compiled step: an error, or on JAX a warning.

        On JAX, Keras has emptied the model's variables when its compiled step
        is traced; an error there would lose the weights, so the value stays
        fixed and a warning says why.
        """
        message = self._unowned_message("inside a compiled step")
        if keras.backend.backend() != "jax" or not _keras_internals.in_compiled_trace():
            raise RuntimeError(message)
        self._warn_once(
            message + " Its value stays fixed in this compiled step: an error "
            "here would lose the model's weights, which Keras has moved out of "
            "its variables for the step."
        )

    def check_trained_with(self, tensor) -> None:
        """Refuses training with this hyperparameter when no model owns it.

        Losses that hold a hyperparameter call this with their `y_pred`: a
        loaded model evaluates with the saved value and no extra line, but
        training it without `coolkeras.attach(model)` would freeze the value.
        """
        if self._live_states() or not _keras_internals.recording_gradients(tensor):
            return
        self._refuse_in_a_compiled_step()

    def _warn_once(self, message: str) -> None:
        if not self._baked_warned:
            self._baked_warned = True
            warnings.warn(message, CoolkerasWarning, stacklevel=5)

    def __float__(self) -> float:
        update, settings = self._outside_a_step()
        value = self._evaluate_on_host(update, settings)
        if value is None:
            value = _keras_internals.host_value(self._evaluate(update, settings))
        return float(value)

    @property
    def step(self) -> int:
        """The number of optimizer updates counted so far: the schedule's step."""
        state = self._primary_state()
        if state is not None:
            self._position = state.updates_now()
        return self._position

    __hash__ = object.__hash__

    # -- changes from callbacks -------------------------------------------------

    def assign(self, value: float) -> None:
        """Uses the constant `value` (times the scale) from the next step on.

        Raises:
            ValueError: if the value would leave a range that a user of this
                hyperparameter requires (a loss's `epsilon` in [0, 1]).
        """
        number = _validation.number("value", value)
        self._check_changeable()
        self._check_bounds(self._scale, number, f"Received: value={value!r}")
        self._assigned = number
        self._write()

    def scale(self, factor: float) -> None:
        """Multiplies the value by `factor` (> 0) from the next step on.

        Raises:
            ValueError: if `factor <= 0`, or the values would leave a range
                that a user of this hyperparameter requires.
        """
        number = _validation.number("factor", factor, low=0, low_open=True)
        self._check_changeable()
        scale = self._scale * number
        self._check_bounds(scale, self._assigned, f"Received: factor={factor!r}")
        self._scale = scale
        self._write()

    def reset(self) -> None:
        """Drops any assigned value and scale: the schedule alone again."""
        self._check_changeable()
        self._check_bounds(1.0, None, "Received: reset()")
        self._scale, self._assigned = 1.0, None
        self._write()

    def _check_changeable(self) -> None:
        if self._baked and not self._live_states():
            raise RuntimeError(
                f"Hyperparameter '{self.name}' was compiled into a step of a model "
                "that does not own it, so this change would not reach that step. "
                "Call `coolkeras.attach(model)` on the model that trains with it."
            )

    def _write(self) -> None:
        settings = self._settings()
        for state in self._live_states():
            state.write_settings(self, settings)

    # -- ownership (see coolkeras/_training_state.py) ---------------------------

    def _bind(self, state) -> None:
        self._states.append(weakref.ref(state))

    def _live_states(self) -> list:
        live = [ref() for ref in self._states]
        live = [s for s in live if s is not None and s.owner() is not None]
        self._states = [weakref.ref(state) for state in live]
        return live

    def _primary_state(self):
        """The state of the model that most recently took this hyperparameter."""
        live = self._live_states()
        return live[-1] if live else None

    def _settings_loaded(self, settings: np.ndarray) -> None:
        scale, assigned, is_assigned = settings.tolist()
        self._scale = scale
        self._assigned = assigned if is_assigned > 0.5 else None

    # -- serialization -----------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        return {
            "value": self.initial
            if self.schedule is None
            else keras.saving.serialize_keras_object(self.schedule),
            "name": self.name,
            "scale": self._scale,
            "assigned": self._assigned,
            "step": self.step,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Hyperparameter:
        """Restores a hyperparameter with its scale, assigned value and step."""
        config = dict(config)
        value = config.pop("value")
        if isinstance(value, dict):
            value = keras.saving.deserialize_keras_object(value)
        hyperparameter = cls(value, name=config.pop("name", "hyperparameter"))
        hyperparameter._scale = _validation.number(
            "scale", config.pop("scale", 1.0), low=0, low_open=True
        )
        hyperparameter._assigned = _validation.number(
            "assigned", config.pop("assigned", None), allow_none=True
        )
        hyperparameter._position = _validation.integer(
            "step", config.pop("step", 0), minimum=0
        )
        hyperparameter._restored = True
        return hyperparameter

    def __repr__(self) -> str:
        source = self.initial if self.schedule is None else type(self.schedule).__name__
        return f"<Hyperparameter '{self.name}' value={source}>"


def number_or_hyperparameter(
    name: str,
    value: Any,
    low: float | None = 0.0,
    high: float | None = math.inf,
    *,
    hyperparameter_name: str | None = None,
) -> float | Hyperparameter:
    """Validates an argument that may be a number, a schedule or a Hyperparameter.

    A number must lie in `[low, high]`, and so must a schedule's or a
    hyperparameter's values as far as they are known
    (see `coolkeras._validation.schedule_or_number`); a schedule becomes a
    `Hyperparameter` named `hyperparameter_name` (default: `name`), and a
    hyperparameter keeps the range, so a later `assign` or `scale` out of it
    is refused. Layers, losses and callbacks use this for weights such as λ,
    ε or an EMA decay.
    """
    high = None if high == math.inf else high
    checked = _validation.schedule_or_number(name, value, low=low, high=high)
    if isinstance(checked, LearningRateSchedule) and not isinstance(
        checked, Hyperparameter
    ):
        checked = Hyperparameter(checked, name=hyperparameter_name or name)
        checked._constrain(name, low, high)
    return checked


def current_value(value: float | Hyperparameter):
    """The number to use now: `value.value` for a Hyperparameter."""
    return value.value if isinstance(value, Hyperparameter) else value
