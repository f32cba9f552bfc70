"""`Exponential`: multiplies the value by `rate` every `steps` steps, smoothly."""

from __future__ import annotations

import math

import keras

from coolkeras.schedules import _checks
from coolkeras.schedules import _ops as ops
from coolkeras.schedules.base import Schedule

__all__ = ["Exponential"]


@keras.saving.register_keras_serializable(package="coolkeras")
class Exponential(Schedule):
    """Exponential decay (or growth): `value(t) = start * rate ** (t / steps)`.

    The value is multiplied by `rate` every `steps` steps, continuously in
    between; there is no end. The exponent is split into the integer number of
    periods and the fraction of the current one, both computed from the
    integer step, so large steps keep their precision.

    Args:
        start: the value at step 0.
        rate: the factor per `steps` steps, > 0 (< 1 decays, > 1 grows).
        steps: the period, an integer > 0.

    Raises:
        TypeError: if `start` or `rate` is not a number, or `steps` is not an
            integer.
        ValueError: if a value is NaN or infinite, `rate <= 0` or `steps <= 0`.

    Example:

    >>> from coolkeras import schedules
    >>> s = schedules.Exponential(1.0, 0.5, steps=2)
    >>> [round(v, 6) for v in s.values([0, 1, 2, 4, 6]).tolist()]
    [1.0, 0.707107, 0.5, 0.25, 0.125]
    """

    _fields = ("start", "rate", "steps")

    def __init__(self, start: float, rate: float, steps: int):
        self.start = _checks.number("start", start)
        self.rate = _checks.number("rate", rate)
        if self.rate <= 0:
            raise ValueError(f"`rate` must be > 0. Received: rate={rate!r}")
        self.steps = _checks.integer("steps", steps, minimum=1)

    def _evaluate(self, whole, frac):
        periods = ops.cast(ops.floor_divide(whole, self.steps), "float32")
        offset = ops.cast(ops.mod(whole, self.steps), "float32") + frac
        exponent = periods + offset / self.steps
        return self.start * ops.exp(exponent * math.log(self.rate))

    def _horizon(self) -> int:
        return 4 * self.steps
