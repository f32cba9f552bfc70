"""`attach`: the one line that makes a model own its hyperparameters."""

from __future__ import annotations

from typing import Any

import keras

from coolkeras import _discovery, _keras_internals, _step_context
from coolkeras import _training_state as training_state
from coolkeras.hyperparameter import Hyperparameter
from coolkeras.schedules.epochs import ByEpoch

__all__ = ["attach"]


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


def attach(
    model: keras.Model, *hyperparameters: Hyperparameter
) -> list[Hyperparameter]:
    """Makes a model own its hyperparameters: the one extra line.

    Keras 3 threads only the state a model owns through its compiled steps:
    on JAX, a variable that a loss reads but the model does not own is frozen
    at its first value, and Keras offers no place for a value that depends on
    the training step outside the optimizer. `attach` gives the model one
    `TrainingState` (see `docs/design/state.md`): the settings of every
    hyperparameter it trains with and its clock, the number of optimizer
    updates it has made. Every train, test and predict step of the model then
    reads each hyperparameter at that clock: `schedule(u)` at update `u`, on
    every backend, with `steps_per_execution > 1` and gradient accumulation,
    in the forward pass, the loss, metrics, constraints and the optimizer.

    Call it once per model, before or after `compile`; it finds the
    hyperparameters held by layers (also in regularizers and constraints),
    compiled losses and metrics (also those a loss *function* reads as a
    global or closure variable), `loss_weights` and the optimizer's learning
    rate, and finds them again after every later `compile`. Pass others
    explicitly. A model whose layers hold hyperparameters (`AddLoss`,
    `LossLayer`, `CenterLoss` with a scheduled weight), and a model trained
    with `coolkeras.callbacks.ReduceOnPlateau` or `Evaluator`, attaches
    itself. `evaluate` and `predict` need nothing: they read the current value
    and never advance it. In a custom training loop on TensorFlow or PyTorch
    the clock follows `optimizer.apply`; in a stateless JAX loop pass the step
    yourself: `hp(step)`.

    Forgetting it raises a `RuntimeError` when `fit` or `evaluate` starts (in
    the symbolic build, before Keras changes any variable) rather than
    silently freezing the value.

    Args:
        model: a Keras model.
        *hyperparameters: hyperparameters the search would not find.

    Returns:
        The hyperparameters the model trains with.

    Raises:
        TypeError: if `model` is not a Keras model or an extra argument is not
            a `Hyperparameter`.

    Example:

    >>> import keras, coolkeras
    >>> eps = coolkeras.Hyperparameter(0.1, name="eps")
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile("sgd", loss=lambda y, p: eps * keras.ops.mean((y - p) ** 2))
    >>> [hp.name for hp in coolkeras.attach(model)]
    ['eps']
    """
    if not isinstance(model, keras.Model):
        raise TypeError(
            f"`model` must be a Keras model. Received: model={model!r}"
        )
    for i, hp in enumerate(hyperparameters):
        if not isinstance(hp, Hyperparameter):
            raise TypeError(
                "`hyperparameters` (the extra arguments to `attach`) must be "
                f"`coolkeras.Hyperparameter` objects. Received: hyperparameters[{i}]"
                f"={hp!r}"
            )
    return _attach(model, hyperparameters, retrace=True)


def _attach(model: keras.Model, hyperparameters: tuple, retrace: bool) -> list:
    state = training_state.own_state(model) or _install(model)
    extra = model.__dict__.setdefault("_coolkeras_extra_hyperparameters", [])
    extra.extend(hp for hp in hyperparameters if all(hp is not old for old in extra))
    if _bind_all(model, state) and retrace:
        _keras_internals.forget_compiled_functions(model)
    return state.hyperparameters


def attach_calling_model() -> None:
    """Attaches the compiled model whose forward pass is running, if any.

    Layers that hold hyperparameters call this from `call`. JAX and PyTorch
    run the model symbolically before `fit`, `evaluate` and `predict` compile
    anything; TensorFlow builds it while tracing the first step, where its
    variables are live, so the state made there is read from them until the
    next trace uses the model's own steps.
    """
    if _step_context.current() is not None:
        return
    in_a_step = (
        _keras_internals.in_compiled_trace()
        and not _keras_internals.in_symbolic_build()
    )
    if in_a_step and keras.backend.backend() == "jax":
        return  # too late: the step's state was gathered before the trace
    model = _keras_internals.call_entry()
    if isinstance(model, keras.Model) and getattr(model, "compiled", False):
        if training_state.own_state(model) is None:
            _attach(model, (), retrace=not in_a_step)


def _bind_all(model: keras.Model, state) -> bool:
    extra = model.__dict__.get("_coolkeras_extra_hyperparameters", [])
    roots = [*_discovery.model_roots(model), *extra]
    changed = False
    for hp in _discovery.find(roots, Hyperparameter):
        changed |= state.bind(hp)
    for inner in _discovery.nested_models(model):
        if training_state.state_for_steps(inner) is None:
            _keras_internals.track_layer(inner, training_state.BORROWED, state)
            object.__setattr__(inner, training_state.BORROWED, state)
            _wrap_steps(inner, ("test_step", "predict_step"))
            changed = True
    changed |= _count_updates_for_learning_rate(model, state)
    return changed


def _count_updates_for_learning_rate(model: keras.Model, state) -> bool:
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return False
    inner = _keras_internals.inner_optimizer(optimizer)
    per_update = int(inner.gradient_accumulation_steps or 1)
    learning_rate = _keras_internals.optimizer_learning_rate_object(optimizer)
    if (
        per_update > 1
        and isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule)
        and not isinstance(learning_rate, (Hyperparameter, _PerUpdate))
    ):
        _keras_internals.set_learning_rate_object(
            inner, _PerUpdate(learning_rate, per_update)
        )
        return True
    return False


def _install(model: keras.Model):
    # No `assign` here: inside the symbolic build (a layer attaching its model)
    # assignments would go to Keras' stateless scope, while initial values are
    # set when the scope ends, as for any layer built there.
    state = training_state.TrainingState(model, clock=_updates(model))
    _keras_internals.track_layer(model, training_state.TRACKED, state)
    object.__setattr__(model, training_state.OWN, state)
    _wrap_steps(model, ("train_step", "test_step", "predict_step"))
    _keras_internals.wrap_method(
        model, "compile", lambda original: _compile(model, original)
    )
    _keras_internals.wrap_method(
        model, "fit", lambda original: _fit_telling_epoch_length(model, original)
    )
    return state


def _updates(model: keras.Model) -> int:
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return 0
    _keras_internals.sync_training_state(model)
    counter = _keras_internals.optimizer_batch_counter(optimizer)
    per_update = _keras_internals.inner_optimizer(optimizer).gradient_accumulation_steps
    return int(_keras_internals.read_eagerly(counter)) // int(per_update or 1)


def _compile(model: keras.Model, original):
    def compile(*args, **kwargs):
        state = training_state.own_state(model)
        previous = _previous_optimizer(model)
        updates = state.updates_now() if previous is not None else None
        original(*args, **kwargs)
        if previous is not None and _previous_optimizer(model) is not previous:
            state.optimizer_changed(updates)
        _bind_all(model, state)
        if model.optimizer is not None:
            state.refresh_clock()

    return compile


class _EpochLength(keras.callbacks.Callback):
    """Tells every `by_epoch` schedule of the model how many updates an epoch has.

    `fit` gives its callbacks the number of batches per epoch (`params`) when it
    builds their list, before it compiles anything.
    """

    def __init__(self, model: keras.Model):
        super().__init__()
        self._target = model

    def set_params(self, params: dict) -> None:
        super().set_params(params)
        steps = params.get("steps")
        if steps is None:
            return  # unknown length: `by_epoch` needs `steps_per_epoch`
        optimizer = getattr(self._target, "optimizer", None)
        per_update = 1
        if optimizer is not None:
            inner = _keras_internals.inner_optimizer(optimizer)
            per_update = int(inner.gradient_accumulation_steps or 1)
        schedules = _discovery.find(_discovery.model_roots(self._target), ByEpoch)
        if schedules and steps % per_update:
            raise ValueError(
                f"`fit` runs {steps} batches per epoch with "
                f"gradient_accumulation_steps={per_update}, which is not a whole "
                "number of optimizer updates, so the epochs of `by_epoch` would "
                "not fall on updates: pass `steps_per_epoch` (updates) to "
                f"`by_epoch`. Received: steps={steps}"
            )
        for schedule in schedules:
            schedule.bind_steps_per_epoch(
                steps // per_update,
                f"fit(): {steps} batches per epoch"
                + (f", {per_update} per update" if per_update > 1 else ""),
            )
        state = training_state.own_state(self._target)
        for hyperparameter in state.hyperparameters if state is not None else ():
            hyperparameter._check_known_range()  # before anything compiles


def _fit_telling_epoch_length(model: keras.Model, original):
    def fit(*args, **kwargs):
        if len(args) > 5:  # x, y, batch_size, epochs, verbose, callbacks
            args = (*args[:5], _with_epoch_length(model, args[5]), *args[6:])
        else:
            kwargs["callbacks"] = _with_epoch_length(model, kwargs.get("callbacks"))
        return original(*args, **kwargs)

    return fit


def _with_epoch_length(model: keras.Model, callbacks):
    if isinstance(callbacks, keras.callbacks.CallbackList):
        return callbacks  # built by the caller: its params are set already
    return [*(callbacks or []), _EpochLength(model)]


def _previous_optimizer(model: keras.Model):
    optimizer = getattr(model, "optimizer", None)
    return None if optimizer is None else _keras_internals.inner_optimizer(optimizer)


_KINDS = {"train_step": "train", "test_step": "test", "predict_step": "predict"}


def _wrap_steps(model: keras.Model, names: tuple) -> None:
    for name in names:
        _keras_internals.wrap_method(model, name, _step_wrapper(model, name))


def _step_wrapper(model: keras.Model, name: str):
    kind = _KINDS[name]

    def make(original):
        def step(*args):
            state = training_state.state_for_steps(model)
            if state is None:
                return original(*args)
            for hook in state.step_hooks:
                args = hook.before_step(kind, args, model)
            values = state.step_values(kind, args, model)
            with _step_context.active(values):
                result = original(*args)
            if kind == "train" and state.owner() is model:
                result = state.after_train_step(result)
            for hook in reversed(state.step_hooks):
                result = hook.after_step(kind, args, result, model)
            return result

        return step

    return make
