"""`Hyperparameter`: a number or schedule whose current value every step uses."""

from __future__ import annotations

import math
import warnings
from typing import Any

import keras
import numpy as np
from keras import ops

from coolkeras import _keras_internals
from coolkeras.schedules import _time

__all__ = ["Hyperparameter"]

LearningRateSchedule = keras.optimizers.schedules.LearningRateSchedule


def _check_number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"`{name}` must be a number. Received: {name}={value!r}")
    if not math.isfinite(value):
        raise ValueError(f"`{name}` must be finite. Received: {name}={value}")
    return float(value)


def _check_step(step: Any) -> int:
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise ValueError(f"`step` must be an integer >= 0. Received: step={step!r}")
    return step


class _State:
    """The numbers behind a hyperparameter, held in two variables.

    `step` counts training batches; `settings` packs `[scale, assigned value,
    is assigned]` into one vector, because on JAX every variable of the train
    step's state costs dispatch time at each step. They start free-standing;
    `attach` re-creates them inside the model (or the optimizer, for a learning
    rate), which is what makes JAX thread them through the train step and
    `save_weights`/`BackupAndRestore` keep them.
    """

    NAMES = ("step", "settings")

    def __init__(self, scale: float, assigned: float | None, step: int):
        self.step = keras.Variable(step, dtype="int32", trainable=False, name="step")
        self.settings = keras.Variable(
            [scale, 0.0 if assigned is None else assigned, float(assigned is not None)],
            dtype="float32",
            trainable=False,
            autocast=False,
            name="settings",
        )

    def values(self) -> dict[str, Any]:
        return {
            name: keras.ops.convert_to_numpy(getattr(self, name)) for name in self.NAMES
        }

    def read(self) -> tuple[float, float, bool]:
        """`(scale, assigned, is_assigned)` as Python values (eager)."""
        scale, assigned, is_assigned = self.values()["settings"].tolist()
        return scale, assigned, is_assigned > 0.5

    def write(self, scale: float, assigned: float, is_assigned: bool) -> None:
        self.settings.assign([scale, assigned, float(is_assigned)])

    def rebind(self, make_variable) -> None:
        for name, value in self.values().items():
            setattr(self, name, make_variable(name, value))


class _StateHolder(keras.layers.Layer):
    """A weightless-looking layer that lets a model own a hyperparameter's state."""

    def __init__(self, state: _State, **kwargs: Any):
        super().__init__(**kwargs)

        def make_variable(name, value):
            return self.add_weight(
                shape=getattr(state, name).shape,
                dtype=getattr(state, name).dtype,
                trainable=False,
                initializer=keras.initializers.Constant(value),
                autocast=False,  # full precision when read in a mixed layer
                name=name,
            )

        state.rebind(make_variable)
        self.built = True


@keras.saving.register_keras_serializable(package="coolkeras")
class Hyperparameter(LearningRateSchedule):
    """A number, or a schedule, used inside training and exact at every step.

    Keras 3 gives you `keras.Variable`, but a variable that a loss function reads
    and a callback changes is frozen at its first value on JAX when the model does
    not own it, and a per-batch callback only acts once per execution when
    `steps_per_execution > 1`. A `Hyperparameter` is computed inside the train
    step from its own update counter, so the value used at update `u` is
    `schedule(u)` on every backend, under `jit`, with `steps_per_execution > 1`
    and with gradient accumulation (it counts optimizer updates, not batches).

    Use `hp.value` wherever a tensor is needed: in a loss function, a layer's
    `call`, a regularizer, or pass `hp` itself as an optimizer's learning rate.
    After `model.compile(...)`, one line makes the model own it:
    `coolkeras.attach(model)` (it finds hyperparameters held by layers, by the
    compiled loss and by the optimizer; pass others explicitly). Without that
    line, reading `hp.value` during training raises an error instead of
    silently freezing the value.

    Callbacks may change it between steps: `hp.assign(v)` replaces the schedule
    by the constant `v`, `hp.scale(f)` multiplies the value by `f` from then on
    (what `coolkeras.callbacks.ReduceOnPlateau` does), `hp.reset()` undoes both.
    The step, scale and assigned value are saved with the model's weights and
    restored by `keras.callbacks.BackupAndRestore`.

    Args:
        value: a float, or a schedule (any `LearningRateSchedule`, e.g. from
            `coolkeras.schedules`) evaluated at the update count.
        name: a name used in error messages and state paths.
            Defaults to `"hyperparameter"`.
        scale: initial multiplier. Defaults to `1.0`.
        assigned: initial assigned constant replacing the schedule, or `None`.
            Defaults to `None`.
        step: initial count of training batches already seen (the saved config
            carries it, so a reloaded model resumes its schedules). Defaults to `0`.

    Example:

    >>> import coolkeras
    >>> eps = coolkeras.Hyperparameter(0.1, name="eps")
    >>> eps.scale(0.5)
    >>> round(float(eps), 6)
    0.05
    """

    def __init__(
        self,
        value: float | LearningRateSchedule,
        name: str = "hyperparameter",
        scale: float = 1.0,
        assigned: float | None = None,
        step: int = 0,
    ):
        if isinstance(value, Hyperparameter):
            raise TypeError(
                "`value` must be a number or a schedule, not another "
                f"Hyperparameter. Received: value={value!r}"
            )
        if isinstance(value, LearningRateSchedule):
            self.schedule, self.initial = value, None
        else:
            self.schedule, self.initial = None, _check_number("value", value)
        if not isinstance(name, str) or not name:
            raise ValueError(
                f"`name` must be a non-empty string. Received: name={name!r}"
            )
        self.name = name
        self._state = _State(
            _check_number("scale", scale),
            None if assigned is None else _check_number("assigned", assigned),
            _check_step(step),
        )
        self._owner: keras.Model | None = None
        self._updates_per_step = 1
        self._owned_by_optimizer = False

    # -- values ---------------------------------------------------------------

    def _base_value(self, update):
        if self.schedule is None:
            return ops.convert_to_tensor(self.initial, "float32")
        return ops.cast(self.schedule(update), "float32")

    def _value_at(self, step):
        value = self._value_on_host(step)
        if value is not None:
            return ops.convert_to_tensor(value, "float32")
        state = self._state
        update = ops.cast(step, "int32")
        if self._updates_per_step > 1:  # one op less per step without accumulation
            update = ops.floor_divide(update, self._updates_per_step)
        settings = state.settings.value
        base = ops.where(
            settings[2] > 0.5,
            settings[1],
            self._base_value(update),
        )
        return base * settings[0]

    def _value_on_host(self, step):
        """`_value_at` in numpy, when the step and the state are on the host.

        That is the case in an eager PyTorch train step, where each Keras op
        costs ~15 µs of dispatch; `None` under `jit`, `tf.function` and
        `torch.compile`, and on accelerators.
        """
        step = _keras_internals.host_value(step)
        if step is None:
            return None
        settings = _keras_internals.host_value(self._state.settings)
        if settings is None:
            return None
        scale, assigned, is_assigned = settings.tolist()
        if is_assigned > 0.5:
            base = np.float32(assigned)
        elif self.schedule is None:
            base = np.float32(self.initial)
        else:
            base = _time.value_at(self.schedule, int(step) // self._updates_per_step)
        return base * np.float32(scale)

    def _check_attached(self) -> None:
        if self._owner is None and not _keras_internals.in_symbolic_build():
            raise RuntimeError(
                f"Hyperparameter '{self.name}' is read inside a model but is not "
                "attached to it, so its value would not follow training (on JAX it "
                "would be frozen at its first value). After `model.compile(...)`, "
                "call `coolkeras.attach(model)`, passing this hyperparameter if it "
                "is not held by a layer, the compiled loss or the optimizer: "
                f"`coolkeras.attach(model, {self.name})`."
            )

    @property
    def value(self):
        """The value for the current training step, as a float32 scalar tensor."""
        self._check_attached()
        return self._value_at(self._state.step.value)

    def __call__(self, step):
        """The value at optimizer step `step` (Keras calls this for a learning rate).

        Keras passes its own step here, so an unattached learning rate still
        follows its schedule; only where its state would be frozen (inside a JAX
        train step) is `attach` required.
        """
        if _keras_internals.is_unmapped_in_stateless_scope(self._state.settings):
            self._check_attached()
        return self._value_at(step)

    def __float__(self) -> float:
        _keras_internals.sync_training_state(self._owner)
        return float(ops.convert_to_numpy(self._value_at(self._batch_counter().value)))

    def _batch_counter(self) -> keras.Variable:
        if self._owned_by_optimizer:
            return _keras_internals.optimizer_batch_counter(self._owner.optimizer)
        return self._state.step

    @property
    def step(self) -> int:
        """The number of optimizer updates counted so far: the schedule's step."""
        _keras_internals.sync_training_state(self._owner)
        return (
            int(ops.convert_to_numpy(self._batch_counter())) // self._updates_per_step
        )

    # -- changes from callbacks -------------------------------------------------

    def assign(self, value: float) -> None:
        """Uses the constant `value` (times the scale) from the next step on."""
        value = _check_number("value", value)
        _keras_internals.sync_training_state(self._owner)
        scale, _, _ = self._state.read()
        self._state.write(scale, value, True)

    def scale(self, factor: float) -> None:
        """Multiplies the value by `factor` from the next step on."""
        factor = _check_number("factor", factor)
        if factor <= 0:
            raise ValueError(f"`factor` must be > 0. Received: factor={factor}")
        _keras_internals.sync_training_state(self._owner)
        scale, assigned, is_assigned = self._state.read()
        self._state.write(scale * factor, assigned, is_assigned)

    def reset(self) -> None:
        """Drops any assigned value and scale: the schedule alone again."""
        _keras_internals.sync_training_state(self._owner)
        self._state.write(1.0, 0.0, False)

    # -- ownership (used by coolkeras.attach) ------------------------------------

    def _attach_to_model(self, model: keras.Model, updates_per_step: int):
        if self._owner is model:
            return None
        self._check_unowned(model)
        self._owner, self._updates_per_step = model, updates_per_step
        return _StateHolder(self._state, name=f"{self.name}_state")

    def _attach_to_optimizer(self, model: keras.Model, updates_per_step: int) -> None:
        if self._owner is model:
            return
        self._check_unowned(model)
        optimizer = model.optimizer

        def make_variable(name, value):
            return optimizer.add_variable(
                shape=getattr(self._state, name).shape,
                dtype=getattr(self._state, name).dtype,
                initializer=keras.initializers.Constant(value),
                name=f"{self.name}_{name}",
            )

        saved_step = int(ops.convert_to_numpy(self._state.step))
        self._state.rebind(make_variable)
        self._owner, self._updates_per_step = model, updates_per_step
        self._owned_by_optimizer = True
        counter = _keras_internals.optimizer_batch_counter(optimizer)
        if saved_step > 0 and int(ops.convert_to_numpy(counter)) == 0:
            counter.assign(saved_step)
            warnings.warn(
                f"The learning rate '{self.name}' resumes at batch {saved_step}, "
                "but the optimizer's own state (momentum, moments) was not restored: "
                "Keras skips it when loading a `.keras` file whose optimizer held a "
                "Hyperparameter learning rate. To resume exactly, use "
                "`keras.callbacks.BackupAndRestore` or `save_weights`/`load_weights`.",
                stacklevel=3,
            )

    def _check_unowned(self, model: keras.Model) -> None:
        if self._owner is not None:
            raise ValueError(
                f"Hyperparameter '{self.name}' is already attached to model "
                f"'{self._owner.name}'; a hyperparameter belongs to one model. "
                f"Received: model={model.name!r}"
            )

    # -- serialization -----------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        _keras_internals.sync_training_state(self._owner)
        scale, assigned, is_assigned = self._state.read()
        return {
            "value": self.initial
            if self.schedule is None
            else keras.saving.serialize_keras_object(self.schedule),
            "name": self.name,
            "scale": scale,
            "assigned": assigned if is_assigned else None,
            "step": int(ops.convert_to_numpy(self._batch_counter())),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Hyperparameter:
        config = dict(config)
        if isinstance(config["value"], dict):
            config["value"] = keras.saving.deserialize_keras_object(config["value"])
        return cls(**config)

    def __repr__(self) -> str:
        source = self.initial if self.schedule is None else type(self.schedule).__name__
        return f"<Hyperparameter '{self.name}' value={source}>"


def number_or_hyperparameter(
    name: str, value: Any, low: float = 0.0, high: float = math.inf
) -> float | Hyperparameter:
    """Validates an argument that may be a number, a schedule or a Hyperparameter.

    A schedule becomes a `Hyperparameter` named `name`; a number must lie in
    `[low, high]`. Layers and losses use this for weights such as λ or ε.
    """
    if isinstance(value, Hyperparameter):
        return value
    if isinstance(value, LearningRateSchedule):
        return Hyperparameter(value, name=name)
    number = _check_number(name, value)
    if not low <= number <= high:
        raise ValueError(
            f"`{name}` must be in [{low}, {high}]. Received: {name}={value}"
        )
    return number


def current_value(value: float | Hyperparameter):
    """The number to use now: `value.value` for a Hyperparameter."""
    return value.value if isinstance(value, Hyperparameter) else value
