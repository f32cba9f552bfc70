"""`attach`: the one line that makes a model own its hyperparameters."""

from __future__ import annotations

import functools
import inspect
from typing import Any

import keras

from coolkeras import _keras_internals
from coolkeras.hyperparameter import Hyperparameter

__all__ = ["attach"]

_SEARCH_DEPTH = 4
_STATES = "_coolkeras_hyperparameter_states"


@keras.saving.register_keras_serializable(package="coolkeras")
class _PerUpdate(keras.optimizers.schedules.LearningRateSchedule):
    """Evaluates a learning-rate schedule at the update count, not the batch count.

    With `gradient_accumulation_steps=k`, Keras passes the micro-batch count to a
    schedule, so update `u` would use `schedule(u * k + k - 1)`.
    """

    def __init__(self, schedule, updates_per_step: int):
        self.schedule = schedule
        self.updates_per_step = updates_per_step

    def __call__(self, step):
        return self.schedule(keras.ops.floor_divide(step, self.updates_per_step))

    def get_config(self) -> dict[str, Any]:
        return {
            "schedule": keras.saving.serialize_keras_object(self.schedule),
            "updates_per_step": self.updates_per_step,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> _PerUpdate:
        schedule = keras.saving.deserialize_keras_object(config["schedule"])
        return cls(schedule, config["updates_per_step"])


def _find_hyperparameters(obj: Any, found: dict, seen: set, depth: int) -> None:
    if id(obj) in seen or depth > _SEARCH_DEPTH:
        return
    seen.add(id(obj))
    if isinstance(obj, Hyperparameter):
        found[id(obj)] = obj
        return
    if isinstance(obj, (list, tuple)):
        children = list(obj)
    elif isinstance(obj, dict):
        children = list(obj.values())
    elif hasattr(obj, "__dict__") and not inspect.isroutine(obj):
        children = list(vars(obj).values())
    else:
        return
    for child in children:
        if isinstance(child, (keras.Variable, str, int, float)) or child is None:
            continue
        _find_hyperparameters(child, found, seen, depth + 1)


def _held_by_layers(model: keras.Model) -> list:
    layers, stack = [], list(model.layers)
    while stack:
        layer = stack.pop()
        layers.append(layer)
        stack.extend(getattr(layer, "layers", []))
    return layers


def _own(model: keras.Model, holders: list[keras.layers.Layer]) -> None:
    """Makes the model own the holders' variables, so JAX threads them through.

    Keras tracks a layer assigned as an attribute of a functional or subclassed
    model; a `Sequential` model only counts the layers of its stack, so there
    the holders ride on the stack's last layer instead. Either way they are
    saved by `save_weights` and restored by `load_weights`/`BackupAndRestore`.
    """
    if not holders:
        return
    for owner in (model, model.layers[-1] if model.layers else None):
        if owner is None:
            break
        previous = list(getattr(owner, _STATES, []))
        _keras_internals.set_tracked_attribute(owner, _STATES, previous + holders)
        owned = {id(v) for v in model.non_trainable_variables}
        if all(id(v) in owned for holder in holders for v in holder.variables):
            return
        _keras_internals.set_tracked_attribute(owner, _STATES, previous)
    raise RuntimeError(
        f"coolkeras could not make model '{model.name}' own its hyperparameters' "
        "state; please report this with the model's type."
    )


def _count_training_steps(model: keras.Model, counted: list[Hyperparameter]) -> None:
    """Wraps this model's `compute_loss` so each training step advances `counted`.

    `compute_loss` runs once per batch inside the compiled train step on every
    backend, after the forward pass and the loss read the current values, and on
    JAX the model-owned variables assigned there are carried out of the step.
    """
    wrapped = getattr(model, "_coolkeras_counted", None)
    if wrapped is not None:  # attached before: count the earlier ones too
        wrapped.extend(hp for hp in counted if all(hp is not old for old in wrapped))
        return
    original = model.compute_loss

    @functools.wraps(original)
    def compute_loss(x=None, y=None, y_pred=None, sample_weight=None, training=True):
        loss = original(x, y, y_pred, sample_weight, training=training)
        if training:
            for hp in model._coolkeras_counted:
                _keras_internals.increment(hp._state.step)
        return loss

    model._coolkeras_counted = list(counted)
    model.compute_loss = compute_loss


def attach(
    model: keras.Model, *hyperparameters: Hyperparameter
) -> list[Hyperparameter]:
    """Makes a compiled model own its hyperparameters and count its updates.

    Call it once after `model.compile(...)` (and again after loading a model to
    train it further). It finds every `coolkeras.Hyperparameter` held by the
    model's layers, its compiled loss objects and its optimizer; pass any other
    (for example one read by a plain loss function) explicitly. It also makes a
    learning-rate schedule count optimizer updates when
    `gradient_accumulation_steps` is set.

    Args:
        model: a compiled Keras model.
        *hyperparameters: hyperparameters the search would not find.

    Returns:
        The list of hyperparameters now attached to `model`.

    Example:

    >>> import keras, coolkeras
    >>> eps = coolkeras.Hyperparameter(0.1, name="eps")
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile("sgd", loss=lambda y, p: eps.value * keras.ops.mean((y - p) ** 2))
    >>> [hp.name for hp in coolkeras.attach(model, eps)]
    ['eps']
    """
    if getattr(model, "optimizer", None) is None:
        raise ValueError(
            "`attach` needs a compiled model: call `model.compile(...)` first. "
            f"Received: model={getattr(model, 'name', model)!r} (not compiled)"
        )
    for hp in hyperparameters:
        if not isinstance(hp, Hyperparameter):
            raise TypeError(
                "Extra arguments to `attach` must be `coolkeras.Hyperparameter` "
                f"objects. Received: {hp!r}"
            )
    optimizer = model.optimizer
    updates_per_step = optimizer.gradient_accumulation_steps or 1
    learning_rate = _keras_internals.optimizer_learning_rate_object(optimizer)

    found: dict[int, Hyperparameter] = {id(hp): hp for hp in hyperparameters}
    for root in [*_held_by_layers(model), model.loss, learning_rate]:
        _find_hyperparameters(root, found, set(), 0)

    counted, holders = [], []
    for hp in found.values():
        if hp is learning_rate:
            hp._attach_to_optimizer(model, updates_per_step)
            continue
        holder = hp._attach_to_model(model, updates_per_step)
        if holder is not None:
            holders.append(holder)
        counted.append(hp)
    _own(model, holders)
    _count_training_steps(model, counted)

    if (
        updates_per_step > 1
        and isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule)
        and not isinstance(learning_rate, (Hyperparameter, _PerUpdate))
    ):
        optimizer.learning_rate = _PerUpdate(learning_rate, updates_per_step)
    _keras_internals.forget_compiled_functions(model)
    return list(found.values())
