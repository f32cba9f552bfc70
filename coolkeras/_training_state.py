"""`TrainingState`: where one model keeps its hyperparameters' state.

See `docs/design/state.md`. In short: a model that trains with hyperparameters
owns one `TrainingState`, a small layer it tracks (so JAX threads its variables
through every compiled step and `save_weights`/`BackupAndRestore` keep them)
whose variables are state, not weights (`model.get_weights()` does not change).
It holds:

- `offset`: the optimizer updates made with the model's earlier optimizers;
  the model's *clock* is `offset + optimizer.iterations`, the number of
  optimizer updates the model has trained with, so it counts updates (not
  micro-batches) under gradient accumulation, is saved and restored with the
  optimizer, and is equal to the optimizer's count whatever rewinds the
  weights (`EarlyStopping(restore_best_weights=True)`);
- `clock`: the clock as of the end of the last train step, which a JAX test
  or predict step reads (the optimizer's state is not part of those steps);
- one `settings` vector `[scale, assigned, is_assigned]` per hyperparameter,
  written by `hp.scale()`, `hp.assign()` and `hp.reset()`.

Each train, test and predict step of the model reads the clock and settings
from its own state and opens a `StepValues` for the step (`_step_context`).
"""

from __future__ import annotations

import re
import weakref
from typing import Any

import keras
import numpy as np
from keras import ops

from coolkeras import _keras_internals, _step_context
from coolkeras.schedules._checks import MAX_STEP

# The tracked attribute that makes a model own its state, and the untracked
# references through which coolkeras finds it again (a Sequential model tracks
# the state on its last layer, see `_keras_internals.track_layer`).
TRACKED = "_coolkeras_training_state"
OWN = "_coolkeras_own_state"
BORROWED = "_coolkeras_outer_state"


def _variable_name(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z_.-]", "_", name) or "hyperparameter"


def _saturate(clock):
    """Counts above int32 saturate instead of wrapping to negative values."""
    if isinstance(clock, (int, np.integer)):
        return int(min(max(int(clock), 0), MAX_STEP))
    clock = ops.cast(ops.clip(clock, 0, MAX_STEP), "int32")
    return clock


class StepHook:
    """Code that runs around each train, test and predict step of a model.

    `args` are the step's arguments: `(state, data)` on JAX (the state being
    the tuple of lists Keras threads through the step: trainable,
    non-trainable, optimizer and metrics variables for a train step; without
    the optimizer's for a test step; trainable and non-trainable for a predict
    step), `(data,)` elsewhere. A hook may return changed arguments or a
    changed result (on JAX, a result is `(logs, state)` for train and test
    steps); by default it changes nothing.
    """

    def before_step(self, kind: str, args: tuple, model: keras.Model) -> tuple:
        return args

    def after_step(self, kind: str, args: tuple, result: Any, model: keras.Model):
        return result


class TrainingState(keras.layers.Layer):
    """A model's clock and its hyperparameters' settings (see the module doc)."""

    def __init__(self, model: keras.Model, clock: int = 0, **kwargs: Any):
        super().__init__(name="coolkeras_training_state", trainable=False, **kwargs)
        object.__setattr__(self, "_model_ref", weakref.ref(model))
        self.offset = self.add_weight(
            shape=(), dtype="int32", initializer="zeros", trainable=False, name="offset"
        )
        self.clock = self.add_weight(
            shape=(),
            dtype="int32",
            initializer=keras.initializers.Constant(_saturate(clock)),
            trainable=False,
            name="clock",
        )
        object.__setattr__(self, "_hyperparameters", [])
        self._settings_variables: list = []
        object.__setattr__(self, "step_hooks", [])
        self.built = True

    # -- what the model owns ----------------------------------------------------

    @property
    def weights(self) -> list:
        """None: the training state is state, not weights (see the module doc)."""
        return []

    def owner(self) -> keras.Model | None:
        """The model this state belongs to (a method: Keras' saving walks
        properties, and the model would lead it back here)."""
        return self._model_ref()

    @property
    def hyperparameters(self) -> list:
        return list(self._hyperparameters)

    def bind(self, hyperparameter: Any) -> bool:
        """Gives `hyperparameter` settings in this model; False if it had them."""
        if any(hp is hyperparameter for hp in self._hyperparameters):
            return False
        with _keras_internals.unlocked(self):
            variable = self.add_weight(
                shape=(3,),
                dtype="float32",
                initializer=keras.initializers.Constant(hyperparameter._settings()),
                trainable=False,
                autocast=False,  # full precision when read in a mixed layer
                name=_variable_name(hyperparameter.name),
            )
        self._hyperparameters.append(hyperparameter)
        self._settings_variables.append(variable)
        hyperparameter._bind(self)
        return True

    def settings_variable(self, hyperparameter: Any) -> keras.Variable:
        for hp, variable in zip(
            self._hyperparameters, self._settings_variables, strict=True
        ):
            if hp is hyperparameter:
                return variable
        raise KeyError(hyperparameter.name)

    def write_settings(self, hyperparameter: Any, settings: np.ndarray) -> None:
        _keras_internals.sync_training_state(self.owner())
        self.settings_variable(hyperparameter).assign(settings)

    def add_step_hook(self, hook: StepHook) -> None:
        """Lets `hook` see every step of the model (other training state: EMA
        weights, monitored values). Hooks run in the order added before the
        step, and in reverse order after it."""
        if all(hook is not other for other in self.step_hooks):
            self.step_hooks.append(hook)

    # -- the clock ------------------------------------------------------------

    def _counter(self):
        """The optimizer's raw update counter and micro-batches per update."""
        model = self.owner()
        optimizer = getattr(model, "optimizer", None)
        if optimizer is None:
            return None, 1
        inner = _keras_internals.inner_optimizer(optimizer)
        counter = _keras_internals.optimizer_batch_counter(optimizer)
        return counter, int(inner.gradient_accumulation_steps or 1)

    def updates_now(self) -> int:
        """The clock, eagerly (syncs a JAX `fit` first)."""
        _keras_internals.sync_training_state(self.owner())
        return self._updates_on_host()

    def _updates_on_host(self) -> int:
        offset = _keras_internals.host_int(self.offset)
        counter, per_update = self._counter()
        if counter is None:
            return _saturate(offset)
        raw = _keras_internals.host_int(counter)
        if raw < 0:  # a JAX int32 counter that wrapped after 2**31 micro-batches
            return MAX_STEP
        return _saturate(offset + raw // per_update)

    def updates_tensor(self):
        """The clock from the live variables, in the graph (TF/torch traces)."""
        counter, per_update = self._counter()
        if counter is None:
            return self.offset.value
        raw = ops.cast(counter.value, "int32")
        return self._clock_from(self.offset.value, raw, per_update)

    @staticmethod
    def _clock_from(offset, raw, per_update: int):
        wrapped = ops.less(raw, 0)
        updates = raw if per_update == 1 else ops.floor_divide(raw, per_update)
        clock = ops.where(wrapped, MAX_STEP, _saturate(offset + updates))
        return ops.cast(clock, "int32")

    def refresh_clock(self) -> None:
        self.clock.assign(self.updates_now())

    def learning_rate(self):
        """The hyperparameter the model's optimizer uses as learning rate, if any."""
        optimizer = getattr(self.owner(), "optimizer", None)
        if optimizer is None:
            return None
        learning_rate = _keras_internals.optimizer_learning_rate_object(optimizer)
        return next((hp for hp in self._hyperparameters if hp is learning_rate), None)

    def updates_per_step(self) -> int:
        return self._counter()[1]

    def optimizer_changed(self, previous_updates: int) -> None:
        """A new optimizer continues the clock where the previous one left it."""
        counter, per_update = self._counter()
        raw = 0 if counter is None else int(_keras_internals.host_value(counter))
        self.offset.assign(previous_updates - raw // per_update)

    # -- saving ---------------------------------------------------------------

    def _entries(self) -> dict:
        entries = {"offset": self.offset, "clock": self.clock}
        for hyperparameter, variable in zip(
            self._hyperparameters, self._settings_variables, strict=True
        ):
            key = "settings:" + hyperparameter.name
            while key in entries:
                key += "'"
            entries[key] = variable
        return entries

    def save_own_variables(self, store) -> None:
        entries = self._entries()
        # Only JAX steps keep `clock` current; a file saved on another backend
        # still holds the clock of the moment it was saved.
        entries["clock"] = np.asarray(self.updates_now(), "int32")
        for key, value in entries.items():
            store[key] = value

    def load_own_variables(self, store) -> None:
        entries = self._entries()
        for key, variable in entries.items():
            if key in store:
                variable.assign(store[key])
        for hyperparameter, variable in zip(
            self._hyperparameters, self._settings_variables, strict=True
        ):
            hyperparameter._settings_loaded(
                np.asarray(keras.ops.convert_to_numpy(variable.value))
            )

    # -- the steps -----------------------------------------------------------

    def step_values(
        self, kind: str, args: tuple, model: keras.Model
    ) -> _step_context.StepValues:
        """The values of a `kind` step ("train", "test", "predict") of `model`
        (the owner, or a nested model whose own steps run), from `args`, the
        step's arguments."""
        eager = not _keras_internals.in_compiled_trace()
        if keras.backend.backend() == "jax":  # from the arrays the step threads
            clock, settings = self._jax_step_state(kind, args[0], model)
        elif eager:  # an eager step (PyTorch): numbers, computed with numpy
            settings = {hp: hp._settings() for hp in self._hyperparameters}
            clock = self._updates_on_host()
        else:
            settings = {
                hp: variable.value
                for hp, variable in zip(
                    self._hyperparameters, self._settings_variables, strict=True
                )
            }
            clock = self._eager_or_graph_clock(kind)
        return _step_context.StepValues(
            self,
            clock,
            settings,
            learning_rate=self.learning_rate() if kind == "train" else None,
            precompute=not eager,
        )

    def _eager_or_graph_clock(self, kind: str):
        if kind == "train" or self._counter()[0] is not None:
            return self.updates_tensor()
        return self.clock.value

    def _jax_step_state(self, kind: str, state: tuple, model: keras.Model):
        index = {id(v): i for i, v in enumerate(model.non_trainable_variables)}
        non_trainable = state[1]
        settings = {
            hp: non_trainable[index[id(variable)]]
            for hp, variable in zip(
                self._hyperparameters, self._settings_variables, strict=True
            )
        }
        if kind == "train" and self._counter()[0] is not None:
            counter, per_update = self._counter()
            optimizer_index = [id(v) for v in self.owner().optimizer.variables].index(
                id(counter)
            )
            raw = ops.cast(state[2][optimizer_index], "int32")
            offset = non_trainable[index[id(self.offset)]]
            return self._clock_from(offset, raw, per_update), settings
        return non_trainable[index[id(self.clock)]], settings

    def after_train_step(self, result):
        """Records the clock at the end of a JAX train step, for its test and
        predict steps (whose state has no optimizer variables)."""
        counter, per_update = self._counter()
        if counter is None:
            return result
        if keras.backend.backend() != "jax":
            return result  # test and predict steps read the optimizer's counter
        logs, state = result
        model = self.owner()
        index = {id(v): i for i, v in enumerate(model.non_trainable_variables)}
        optimizer_index = [id(v) for v in model.optimizer.variables].index(id(counter))
        non_trainable = list(state[1])
        offset = non_trainable[index[id(self.offset)]]
        raw = ops.cast(state[2][optimizer_index], "int32")
        non_trainable[index[id(self.clock)]] = self._clock_from(offset, raw, per_update)
        return logs, (state[0], non_trainable, *state[2:])


def own_state(model: keras.Model) -> TrainingState | None:
    state = model.__dict__.get(OWN)
    return state if isinstance(state, TrainingState) else None


def state_for_steps(model: keras.Model) -> TrainingState | None:
    """The state whose values `model`'s steps use: its own, or its outer model's."""
    return own_state(model) or model.__dict__.get(BORROWED)
