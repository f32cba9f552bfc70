"""`Constant`: the same value at every step."""

from __future__ import annotations

import keras

from coolkeras import _validation
from coolkeras.schedules import _ops as ops
from coolkeras.schedules.base import Schedule

__all__ = ["Constant"]


@keras.saving.register_keras_serializable(package="coolkeras")
class Constant(Schedule):
    """The same value at every step.

    Useful where a schedule is required, e.g. `Warmup(Constant(1e-3), 1000)`
    or as one piece of a `Join`.

    Args:
        value: the value.

    Raises:
        TypeError: if `value` is not a number.
        ValueError: if `value` is NaN or infinite.

    Example:

    >>> from coolkeras import schedules
    >>> float(schedules.Constant(0.5)(1000))
    0.5
    """

    _arguments = ("value",)
    _vector_fields = ("value",)

    def __init__(self, value: float):
        self.value = _validation.number("value", value)

    def _evaluate(self, whole, frac):
        return self.value + ops.zeros_like(frac, dtype="float32")

    def _horizon(self) -> int:
        return 0

    def _value_range(self) -> tuple[float, float]:
        return self.value, self.value
