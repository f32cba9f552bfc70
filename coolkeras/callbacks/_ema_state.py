"""`EMAState`: the averaged weights a model owns (see `coolkeras.callbacks.EMA`).

A model trained with an `EMA` owns one `EMAState`, a small layer it tracks (as
it tracks its `TrainingState`): its variables are state, not weights, so
`model.get_weights()` does not change, JAX threads them through every compiled
step (they are in `model.non_trainable_variables`), and `save_weights`,
`BackupAndRestore` and `model.save` keep them.

For each averaged variable `v` it holds one *slot* of the same shape and dtype.
Normally `v` holds the raw weights and the slot their average. While the
averages are *swapped in* (`swapped == 1`), the two are exchanged: `v` holds
the average and the slot the raw weights. A file written in either state
describes the model completely, and loading it gives the same state back.

- `mass`: the total weight of the averaged updates (`1 - prod(decay)` when
  debiased, so `average = sum_t (1 - d_t) prod_{s>t} d_s w_t / mass`; `1`
  otherwise);
- `swapped`: 1 while the averages are in the model's variables;
- `countdown`: train steps until the averages are swapped in at the end of an
  epoch (set by the callback at each epoch start; not saved).
"""

from __future__ import annotations

import weakref
from typing import Any

import keras
import numpy as np
from keras import ops

from coolkeras import _keras_internals

# The tracked attribute that makes a model own its averages, and the untracked
# reference through which coolkeras finds them again.
TRACKED = "_coolkeras_ema_state"
OWN = "_coolkeras_ema"
_PREFIX = "average:"


def keyed_variables(model: keras.Model, non_trainable: bool = True) -> dict:
    """The variables an `EMAState` may average, by their keys in a saved file.

    The key is the variable's position among the model's trainable variables,
    or among its float non-trainable ones that are not state: the model's
    structure, as Keras' own file layout, not its paths (`dense_3/kernel`),
    which change with the names Keras numbers in each process.
    """
    trainable = model.trainable_variables
    keys = {f"{_PREFIX}trainable.{i}": v for i, v in enumerate(trainable)}
    if non_trainable:
        excluded = coolkeras_state_ids(model)
        others = [
            v
            for v in model.non_trainable_variables
            if id(v) not in excluded and keras.backend.is_float_dtype(v.dtype)
        ]
        keys.update({f"{_PREFIX}non_trainable.{i}": v for i, v in enumerate(others)})
    return keys


class EMAState(keras.layers.Layer):
    """The averages of some of a model's variables (see the module doc)."""

    def __init__(self, model: keras.Model, **kwargs: Any):
        super().__init__(name="coolkeras_ema", trainable=False, **kwargs)
        object.__setattr__(self, "_model_ref", weakref.ref(model))
        self.mass = self.add_weight(
            shape=(), dtype="float32", initializer="zeros", trainable=False,
            autocast=False, name="mass",
        )
        self.swapped = self.add_weight(
            shape=(), dtype="int32", initializer="zeros", trainable=False,
            name="swapped",
        )
        self.countdown = self.add_weight(
            shape=(), dtype="int32", initializer="zeros", trainable=False,
            name="countdown",
        )
        object.__setattr__(self, "targets", [])  # the averaged model variables
        object.__setattr__(self, "slots", [])
        object.__setattr__(self, "config", None)  # set by the callback
        object.__setattr__(self, "_adopting", False)
        self.built = True

    @property
    def weights(self) -> list:
        """None: the averages are state, not weights (see the module doc)."""
        return []

    def owner(self) -> keras.Model | None:
        """The model (a method: Keras' saving walks properties)."""
        return self._model_ref()

    def pairs(self) -> list:
        return list(zip(self.targets, self.slots, strict=True))

    def cover(self, variables: list) -> None:
        """Adds a slot, holding the variable's current value, for each variable."""
        known = {id(v) for v in self.targets}
        for variable in variables:
            if id(variable) in known:
                continue
            with _keras_internals.unlocked(self):
                slot = self.add_weight(
                    shape=variable.shape,
                    dtype=variable.dtype,
                    initializer="zeros",
                    trainable=False,
                    autocast=False,
                    name=f"average_{len(self.slots)}",
                )
            slot.assign(ops.copy(variable.value))
            self.targets.append(variable)
            self.slots.append(slot)
            known.add(id(variable))

    # -- eager changes (outside the compiled steps) -----------------------------

    def is_swapped(self) -> bool:
        _keras_internals.sync_training_state(self.owner())
        return int(_keras_internals.read_eagerly(self.swapped)) == 1

    def swap(self) -> None:
        """Exchanges the model's variables and the slots (both ways)."""
        _keras_internals.sync_training_state(self.owner())
        for variable, slot in self.pairs():
            # Copies: a torch variable is overwritten in place, and on JAX two
            # variables sharing one buffer cannot both be donated to a step.
            current = ops.copy(variable.value)
            variable.assign(ops.copy(slot.value))
            slot.assign(current)
        self.swapped.assign(1 - int(_keras_internals.read_eagerly(self.swapped)))

    def adopt_variables(self) -> None:
        """Makes what the model's variables hold now the raw weights *and* the
        average (the average replaces the raw weights)."""
        _keras_internals.sync_training_state(self.owner())
        for variable, slot in self.pairs():
            slot.assign(ops.copy(variable.value))
        self.swapped.assign(0)

    def set_countdown(self, steps: int) -> None:
        _keras_internals.sync_training_state(self.owner())
        self.countdown.assign(int(steps))

    def read(self) -> tuple[list, list]:
        """(raw weights, averages) as numpy arrays, whichever is swapped in."""
        swapped = self.is_swapped()
        values = [
            (_numpy(v), _numpy(s)) for v, s in self.pairs()
        ]
        if swapped:
            return [s for _, s in values], [v for v, _ in values]
        return [v for v, _ in values], [s for _, s in values]

    # -- saving -------------------------------------------------------------

    def _scalars(self) -> dict:
        return {"mass": self.mass, "swapped": self.swapped}

    def _slot_keys(self) -> dict:
        by_id = {id(v): key for key, v in keyed_variables(self.owner()).items()}
        return {by_id[id(target)]: slot for target, slot in self.pairs()}

    def save_own_variables(self, store) -> None:
        for key, variable in {**self._scalars(), **self._slot_keys()}.items():
            store[key] = variable

    def load_own_variables(self, store) -> None:
        if self._adopting:
            self._cover_stored(store)
        for key, variable in {**self._scalars(), **self._slot_keys()}.items():
            if key in store:
                variable.assign(store[key])

    def _cover_stored(self, store) -> None:
        """Creates the slots a file holds (a model loaded from a `.keras` file)."""
        by_key = keyed_variables(self.owner())
        keys = [k for k in store.keys() if k.startswith(_PREFIX)]
        missing = [k for k in keys if k not in by_key]
        if missing:
            raise ValueError(
                "The file holds averages of variables the model does not have. "
                f"Received: {missing}"
            )
        self.cover([by_key[k] for k in keys])


def _numpy(variable: keras.Variable) -> np.ndarray:
    return np.array(_keras_internals.read_eagerly(variable))


def state_of(model: keras.Model) -> EMAState | None:
    state = model.__dict__.get(OWN)
    return state if isinstance(state, EMAState) else None


def install(model: keras.Model) -> EMAState:
    """Gives `model` an (empty) `EMAState`, tracked like its `TrainingState`."""
    state = EMAState(model)
    _keras_internals.track_layer(model, TRACKED, state)
    object.__setattr__(model, OWN, state)
    return state


def coolkeras_state_ids(model: keras.Model) -> set:
    """Ids of the variables of layers that hold state, not weights
    (`TrainingState`, `EMAState`: layers whose `weights` are empty although
    they hold variables). Never averaged."""
    ids = set()
    for layer in _keras_internals.all_layers(model):
        variables = layer.non_trainable_variables + layer.trainable_variables
        if variables and not layer.weights:
            ids.update(id(v) for v in variables)
    return ids


class Config:
    """What the average is (set by the callback; read when a step is traced)."""

    def __init__(self, decay: Any, debias: bool, start_step: int):
        self.decay, self.debias, self.start_step = decay, debias, start_step

    def same_as(self, other: Config | None) -> bool:
        return (
            other is not None
            and (
                other.decay is self.decay
                or (isinstance(other.decay, float) and other.decay == self.decay)
            )
            and other.debias == self.debias
            and other.start_step == self.start_step
        )
