"""Values of a model's state in its logs, exact at every step on every backend.

Keras puts into the logs what the model's metrics' `result()` returns. A value
that lives elsewhere (a layer's running sum of a tensor, a hyperparameter, the
optimizer's learning rate) can be reported by a read-only *view*: a
`keras.metrics.Metric` whose `result()` reads that state. On TensorFlow and
PyTorch the view reads live variables everywhere. On JAX it does not:

| where `result()` runs in a JAX `fit` | variables mapped |
|---|---|
| the step's metrics phase (the per-batch logs) | metrics variables only |
| after the epoch, after Keras' state sync (the epoch logs) | all of them (live) |

So a view returns a placeholder inside the step, and `LogsFromState`, a step
hook every attached model has, computes each view's entries again from the
arrays the step returns (the model's whole new state, mapped with a public
`keras.StatelessScope`) and writes them over the placeholders. The per-batch
logs of a JAX step are then the values of that step's own state, as they are
on the other backends; nothing is synchronized between steps.
"""

from __future__ import annotations

import contextlib
import weakref
from typing import Any

import keras
import numpy as np
from keras import ops

from coolkeras import _keras_internals, _step_context
from coolkeras._training_state import StepHook, TrainingState, state_for_steps
from coolkeras.hyperparameter import Hyperparameter
from coolkeras.schedules import _time
from coolkeras.schedules._checks import MAX_STEP


class StateView(keras.metrics.Metric):
    """A read-only metric that reports state held elsewhere.

    Subclasses implement `reads()` (the variables `result` reads) and
    `compute()` (the result from them); `placeholder()` is what the result is
    where those variables cannot be read (inside a JAX step, before
    `LogsFromState` writes the real value). `update_state` does nothing: the
    state is written where it is computed.
    """

    def reads(self) -> list:
        raise NotImplementedError

    def compute(self) -> Any:
        raise NotImplementedError

    def placeholder(self) -> Any:
        return keras.ops.convert_to_tensor(float("nan"))

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        pass

    def result(self) -> Any:
        unmapped = _keras_internals.is_unmapped_in_stateless_scope
        if any(unmapped(variable) for variable in self.reads()):
            return self.placeholder()
        return self.compute()


def views(model: keras.Model) -> list[StateView]:
    """The model's `StateView` metrics, each once."""
    seen: dict[int, StateView] = {}
    for metric in model.metrics:
        if isinstance(metric, StateView):
            seen.setdefault(id(metric), metric)
    return list(seen.values())


def _entries(view: StateView, value: Any) -> dict:
    return dict(value) if isinstance(value, dict) else {view.name: value}


class LogsFromState(StepHook):
    """On JAX, writes each view's value from the state a step returns into its logs."""

    def after_step(self, kind: str, args: tuple, result: Any, model: keras.Model):
        if keras.backend.backend() != "jax" or kind == "predict":
            return result
        found = views(model)
        if not found or not (isinstance(result, tuple) and len(result) == 2):
            return result
        logs, state = result
        if not isinstance(logs, dict):
            return result
        variables = [model.trainable_variables, model.non_trainable_variables]
        if kind == "train":
            variables.append(model.optimizer.variables)
        variables.append(model.metrics_variables)
        if len(state) != len(variables) or any(
            len(vs) != len(arrays) for vs, arrays in zip(variables, state, strict=True)
        ):
            return result  # a custom step with its own state layout
        mapping = [
            (variable, array)
            for vs, arrays in zip(variables, state, strict=True)
            for variable, array in zip(vs, arrays, strict=True)
        ]
        logs = dict(logs)
        with keras.StatelessScope(state_mapping=mapping), _in_step(kind, args, model):
            for view in found:
                for key, value in _entries(view, view.result()).items():
                    if key in logs:
                        logs[key] = value
        return logs, state


def _in_step(kind: str, args: tuple, model: keras.Model):
    """The step's values again (a schedule may hold a hyperparameter)."""
    state = state_for_steps(model)
    if state is None:
        return contextlib.nullcontext()
    return _step_context.active(state.step_values(kind, args, model))


LOGS_FROM_STATE = LogsFromState()


class Evaluating:
    """Counts the `evaluate` calls under way on one model (a validation inside
    `fit` is one), so that views can leave training-only values out of them."""

    def __init__(self) -> None:
        self.depth = 0

    def wrap(self, original):
        def evaluate(*args: Any, **kwargs: Any):
            self.depth += 1
            try:
                return original(*args, **kwargs)
            finally:
                self.depth -= 1

        return evaluate

    def __bool__(self) -> bool:
        return self.depth > 0


LEARNING_RATE = "learning_rate"  # the key Keras' `LearningRateScheduler` writes


class TrainingLog(StateView):
    """The hyperparameters a model trains with and its learning rate, for the logs.

    Its `result()` is a dict: each hyperparameter of the model's
    `TrainingState` under its name, and the optimizer's learning rate under
    `"learning_rate"`, each at the last train step (the value that step used:
    `schedule(u)` for the last update `u`, scale and assigned value
    included). In a train step that is the step's own value; after an epoch,
    the value of its last step. Evaluation logs get none of them (no
    `val_learning_rate`; `evaluate` returns what it returns without
    coolkeras).

    `enabled`: `None` logs when the model trains with a hyperparameter,
    `True` always (an explicit `attach(model)`), `False` never.
    """

    def __init__(self, state: TrainingState, evaluating: Evaluating):
        super().__init__(name="coolkeras_training_log")
        object.__setattr__(self, "_state_ref", weakref.ref(state))
        object.__setattr__(self, "_evaluating", evaluating)
        self.enabled: bool | None = None
        # Where the model was attached, if from inside an unwrapped step (the
        # first TensorFlow trace): "train" when gradients were being recorded.
        self.unwrapped_kind: str | None = None

    def reset_state(self) -> None:
        pass

    def _state(self) -> TrainingState | None:
        return self._state_ref()

    def _optimizer(self):
        state = self._state()
        model = None if state is None else state.owner()
        return getattr(model, "optimizer", None)

    def entries(self) -> list[tuple[str, Any]]:
        """`(log name, source)` pairs; a source is a hyperparameter or
        `LEARNING_RATE`. Names are unique; `"loss"` is never used."""
        if not self._logs_anything():
            return []
        state = self._state()
        hyperparameters = state.hyperparameters
        entries, used = [], {"loss"}
        optimizer = self._optimizer()
        learning_rate = None
        if optimizer is not None:
            learning_rate = _keras_internals.optimizer_learning_rate_object(optimizer)
            entries.append((LEARNING_RATE, LEARNING_RATE))
            used.add(LEARNING_RATE)
        for hp in hyperparameters:
            if hp is learning_rate and hp.name == LEARNING_RATE:
                continue
            name, suffix = hp.name, 0
            while name in used:
                suffix += 1
                name = f"{hp.name}_{suffix}"
            used.add(name)
            entries.append((name, hp))
        return entries

    def _logs_anything(self) -> bool:
        state = self._state()
        if state is None or self.enabled is False:
            return False
        return bool(self.enabled or state.hyperparameters)

    def _active(self) -> bool:
        values = _step_context.current()
        if values is not None:
            return values.kind == "train"
        return not self._evaluating and self.unwrapped_kind != "test"

    def reads(self) -> list:
        state = self._state()
        if state is None:
            return []
        reads = [state.offset, *state._settings_variables]
        counter = state._counter()[0]
        if counter is not None:
            reads.append(counter)
            learning_rate = _keras_internals.optimizer_learning_rate_object(
                self._optimizer()
            )
            if isinstance(learning_rate, keras.Variable):
                reads.append(learning_rate)
        return reads

    def result(self) -> dict:
        if not self._active() or not self._logs_anything():
            return {}  # read per batch: nothing else to do for most models
        return super().result()

    def placeholder(self) -> dict:
        nan = ops.convert_to_tensor(float("nan"))
        return {name: nan for name, _ in self.entries()}

    def compute(self) -> dict:
        entries = self.entries()
        if not entries:
            return {}
        if _keras_internals.in_symbolic_build():
            zero = ops.zeros((), "float32")
            return {name: zero for name, _ in entries}
        state = self._state()
        last, update = self._last_step(state)
        values = {}
        for name, source in entries:
            if source is LEARNING_RATE:
                values[name] = self._learning_rate(state, last, update)
            else:
                values[name] = source._evaluate(
                    update, state.settings_variable(source).value
                )
        return values

    @staticmethod
    def _last_step(state: TrainingState):
        """The optimizer's raw count at the last train step, and its update."""
        counter, per_update = state._counter()
        offset = state.offset.value
        raw = 0 if counter is None else counter.value
        host_offset = _keras_internals.host_value(offset)
        host_raw = _keras_internals.host_value(raw)
        if host_offset is not None and host_raw is not None:
            last = max(int(host_raw) - 1, 0)
            update = min(max(int(host_offset) + last // per_update, 0), MAX_STEP)
            return last, np.int32(update)
        last = ops.maximum(ops.cast(raw, "int32") - 1, 0)
        return last, TrainingState._clock_from(offset, last, per_update)

    def _learning_rate(self, state: TrainingState, last, update):
        learning_rate = _keras_internals.optimizer_learning_rate_object(
            self._optimizer()
        )
        if isinstance(learning_rate, Hyperparameter):
            if state.learning_rate() is learning_rate:
                value = learning_rate._evaluate(
                    update, state.settings_variable(learning_rate).value
                )
            else:
                value = learning_rate(last)
        elif isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
            value = _time.value_at(learning_rate, last)
        elif isinstance(learning_rate, keras.Variable):
            value = learning_rate.value
        else:
            value = learning_rate()  # a callable without arguments
        return ops.cast(value, "float32")


def install(model: keras.Model, state: TrainingState) -> TrainingLog:
    """Gives an attached model its logs: the JAX step hook, the training log,
    and a count of its `evaluate` calls."""
    state.add_step_hook(LOGS_FROM_STATE)
    evaluating = Evaluating()
    log = TrainingLog(state, evaluating)
    if (
        _keras_internals.call_entry() is model
        and not _keras_internals.in_symbolic_build()
    ):
        recording = _keras_internals.recording_gradients(None)
        log.unwrapped_kind = "train" if recording else "test"
    _keras_internals.set_tracked_attribute(state, "training_log", log)
    _keras_internals.wrap_method(model, "evaluate", evaluating.wrap)
    return log


def training_log(state: TrainingState) -> TrainingLog | None:
    log = getattr(state, "training_log", None)
    return log if isinstance(log, TrainingLog) else None


def set_logging(model: keras.Model, state: TrainingState, log: bool) -> None:
    """`attach(model, log=...)`: logs the training values, or not."""
    training = training_log(state)
    if training is not None and training.enabled is not log:
        training.enabled = log
        _keras_internals.forget_compiled_functions(model)
