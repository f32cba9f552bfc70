"""`Schedule`: a value as a pure function of the training step, computed in-graph."""

from __future__ import annotations

import numbers
from typing import Any

import keras
import numpy as np
from keras import ops

from coolkeras.schedules import _time

__all__ = ["Schedule"]

LearningRateSchedule = keras.optimizers.schedules.LearningRateSchedule


class Schedule(LearningRateSchedule):
    """Base class of coolkeras schedules: a value as a pure function of the step.

    A schedule is computed with `keras.ops` from the step alone, so it runs
    inside the compiled train step (under `jax.jit`, `tf.function` and torch)
    and is exact at every step. Every schedule is a Keras
    `LearningRateSchedule`: pass it as an optimizer's `learning_rate`, or to
    `coolkeras.Hyperparameter` to drive any other number.

    Build new schedules by composition rather than by subclassing: `Join`
    chains schedules, `Warmup` prepends a linear ramp, `Restarts` repeats one,
    `Scale` and `Multiply` (also written `2.0 * s` and `s1 * s2`) rescale,
    `Add` (`s1 + s2`, `s + 0.1`, `s1 - s2`) adds, `by_epoch` counts in epochs.

    Calling `schedule(step)` accepts a Python int or float, or a scalar integer
    (int32 or int64) or float tensor, and returns a float32 scalar tensor.
    Steps before 0 count as step 0. Large steps stay exact: segment starts are
    subtracted in integer arithmetic before any conversion to float.

    Example:

    >>> from coolkeras import schedules
    >>> s = schedules.Linear(1.0, 0.0, steps=4)
    >>> s.values([0, 1, 2, 3, 4, 5]).tolist()
    [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    >>> float(s(2)), float((0.5 * s)(2)), float((s + 1.0)(2)), float((1.0 - s)(2))
    (0.5, 0.25, 1.5, 0.5)
    """

    # The protocol of coolkeras' own subclasses (not public API):
    # - `_evaluate(whole, frac)` computes the value, where `whole` is an int32
    #   tensor of completed steps and `frac` a float32 tensor in [0, 1) (the
    #   fractional part, for per-epoch schedules). Both may be arrays: the
    #   computation is elementwise, with no Python branch on their values. When
    #   the step is known on the host (an eager PyTorch step, `schedule(100)`)
    #   they are numpy scalars, and the schedules compute in numpy, which keeps
    #   them cheap in an eager train step.
    # - `_arguments` lists the constructor arguments: it gives `get_config`,
    #   `from_config` (nested schedules through
    #   `keras.saving.serialize_keras_object`) and `repr`.
    # - `_vector_fields` lists the numeric attributes `_evaluate` also accepts
    #   as arrays shaped like `whole` (looked up per element): `Join` then
    #   evaluates all its pieces of that class together, from tables.
    _arguments: tuple[str, ...] = ()
    _vector_fields: tuple[str, ...] = ()

    def __call__(self, step: Any):
        """The value at `step`, as a float32 scalar tensor."""
        return ops.convert_to_tensor(_time.value_at(self, step), "float32")

    def _evaluate(self, whole, frac):
        raise NotImplementedError(
            f"Schedule '{type(self).__name__}' must implement "
            "`_evaluate(self, whole, frac)`."
        )

    def values(self, steps: Any) -> np.ndarray:
        """Evaluates the schedule eagerly at each of `steps` (ints or floats).

        Args:
            steps: a list or array of steps.

        Returns:
            A float32 numpy array of the values, shaped like `steps`.
        """
        whole, frac = _time.split_numpy(steps)
        result = self._evaluate(
            ops.convert_to_tensor(whole, "int32"),
            ops.convert_to_tensor(frac, "float32"),
        )
        return np.asarray(ops.convert_to_numpy(ops.cast(result, "float32")))

    def plot(self, path: Any, steps: Any = None) -> Any:
        """Writes a PNG plot of the value against the step to `path`.

        Needs matplotlib (`pip install coolkeras[plot]`).

        Args:
            path: where to write the PNG.
            steps: the steps to plot: a list or array, or an int `n` for steps
                `0..n`. Defaults to a range that covers the schedule's changes.

        Returns:
            `path`.
        """
        from coolkeras.schedules.plot import plot

        return plot(self, path, steps=steps)

    def _horizon(self) -> int | None:
        """The step after which nothing new happens, if known (for `plot`)."""
        return None

    # -- composition -------------------------------------------------------------

    def __mul__(self, other: Any):
        from coolkeras.schedules.scale import Multiply, Scale

        if isinstance(other, LearningRateSchedule):
            return Multiply([self, other])
        if isinstance(other, numbers.Real) and not isinstance(other, bool):
            return Scale(self, other)
        return NotImplemented

    def __rmul__(self, other: Any):
        from coolkeras.schedules.scale import Multiply, Scale

        if isinstance(other, LearningRateSchedule):
            return Multiply([other, self])
        if isinstance(other, numbers.Real) and not isinstance(other, bool):
            return Scale(self, other)
        return NotImplemented

    def __add__(self, other: Any):
        from coolkeras.schedules.add import Add

        other = _as_schedule(other)
        return NotImplemented if other is None else Add([self, other])

    def __radd__(self, other: Any):
        from coolkeras.schedules.add import Add

        other = _as_schedule(other)
        return NotImplemented if other is None else Add([other, self])

    def __neg__(self):
        from coolkeras.schedules.scale import Scale

        return Scale(self, -1.0)

    def __sub__(self, other: Any):
        negated = _negated(other)
        return NotImplemented if negated is None else self + negated

    def __rsub__(self, other: Any):
        other = _as_schedule(other)
        return NotImplemented if other is None else other + (-self)

    def __truediv__(self, other: Any):
        from coolkeras.schedules.scale import Scale

        if isinstance(other, numbers.Real) and not isinstance(other, bool):
            if other == 0:
                raise ZeroDivisionError(
                    f"Cannot divide a schedule by zero. Received: divisor={other!r}"
                )
            return Scale(self, 1.0 / other)
        return NotImplemented

    # -- serialization ------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        return {name: _serialize(getattr(self, name)) for name in self._arguments}

    @classmethod
    def from_config(cls, config: dict[str, Any]):
        return cls(**{name: _deserialize(value) for name, value in config.items()})

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._arguments)
        return f"{type(self).__name__}({args})"


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _as_schedule(value: Any):
    """A schedule as itself, a number as `Constant(number)`, anything else None."""
    from coolkeras.schedules.constant import Constant

    if isinstance(value, LearningRateSchedule):
        return value
    return Constant(value) if _is_number(value) else None


def _negated(value: Any):
    from coolkeras.schedules.constant import Constant
    from coolkeras.schedules.scale import Scale

    if isinstance(value, LearningRateSchedule):
        return Scale(value, -1.0)
    return Constant(-value) if _is_number(value) else None


def _serialize(value: Any) -> Any:
    if isinstance(value, LearningRateSchedule):
        return keras.saving.serialize_keras_object(value)
    if isinstance(value, (list, tuple)):
        return [_serialize(item) for item in value]
    return value


def _deserialize(value: Any) -> Any:
    if isinstance(value, dict) and "class_name" in value:
        return keras.saving.deserialize_keras_object(value)
    if isinstance(value, list):
        return [_deserialize(item) for item in value]
    return value
