"""`InverseTime`: `start / (1 + rate * t / steps)`, with no end."""

from __future__ import annotations

import keras

from coolkeras import _validation
from coolkeras.schedules import _ops as ops
from coolkeras.schedules import _range, _time
from coolkeras.schedules.base import Schedule

__all__ = ["InverseTime"]


@keras.saving.register_keras_serializable(package="coolkeras")
class InverseTime(Schedule):
    """Inverse-time decay: `value(t) = start / (1 + rate * t / steps)`.

    Keras' `InverseTimeDecay(initial_learning_rate, decay_steps, decay_rate)`,
    with the arguments in the same order. With `staircase=True`, `t / steps`
    is rounded down, so the value changes every `steps` steps.

    Args:
        start: the value at step 0.
        steps: the period of `rate`, an integer > 0.
        rate: how fast the value falls, >= 0: it is halved at step
            `steps / rate`.
        staircase: whether the value changes only every `steps` steps.
            Defaults to `False`.

    Raises:
        TypeError: if `start` or `rate` is not a number, or `steps` is not an
            integer.
        ValueError: if a value is NaN or infinite, `rate < 0` or `steps <= 0`.

    Example:

    >>> from coolkeras import schedules
    >>> s = schedules.InverseTime(1.0, steps=2, rate=1.0)
    >>> [round(v, 6) for v in s.values([0, 1, 2, 4, 6]).tolist()]
    [1.0, 0.666667, 0.5, 0.333333, 0.25]
    """

    _arguments = ("start", "steps", "rate", "staircase")
    _vector_fields = ("start", "steps", "rate")

    def __init__(self, start: float, steps: int, rate: float, staircase: bool = False):
        self.start = _validation.number("start", start)
        self.steps = _validation.step_count("steps", steps, minimum=1)
        self.rate = _validation.number("rate", rate, low=0)
        self.staircase = _validation.boolean("staircase", staircase)

    def _evaluate(self, whole, frac):
        count, fraction = _time.periods(whole, frac, self.steps)
        elapsed = ops.cast(count, "float32")
        if not self.staircase:
            elapsed = elapsed + fraction
        return self.start / (1.0 + self.rate * elapsed)

    def _horizon(self) -> int:
        return 4 * self.steps

    def _value_range(self) -> tuple[float, float]:
        # Towards 0 as the step grows, unless `rate` is 0.
        return _range.hull(self.start, self.start if self.rate == 0 else 0.0)
