"""`Cosine`: half a cosine wave from `start` to `end` over `steps`, then flat."""

from __future__ import annotations

import math

import keras

from coolkeras.schedules import _checks, _time
from coolkeras.schedules import _ops as ops
from coolkeras.schedules.base import Schedule

__all__ = ["Cosine"]


@keras.saving.register_keras_serializable(package="coolkeras")
class Cosine(Schedule):
    """Half a cosine from `start` at step 0 to `end` at step `steps`, then flat.

    `value(t) = end + (start - end) * (1 + cos(pi * p)) / 2` with
    `p = min(t, steps) / steps` (cosine decay, Loshchilov & Hutter 2017,
    without restarts). It is computed as
    `start * sin(pi/2 * (1 - p))**2 + end * sin(pi/2 * p)**2`, which is the same
    value without float32 cancellation near either end.

    Args:
        start: the value at step 0.
        end: the value at step `steps` and after. Defaults to `0.0`.
        steps: the length of the decay, an integer > 0 (required).

    Raises:
        TypeError: if `start` or `end` is not a number, or `steps` is missing
            or not an integer.
        ValueError: if a value is NaN or infinite, or `steps <= 0`.

    Example:

    >>> from coolkeras import schedules
    >>> s = schedules.Cosine(1.0, steps=4)
    >>> [round(v, 6) for v in s.values([0, 1, 2, 3, 4, 5]).tolist()]
    [1.0, 0.853553, 0.5, 0.146447, 0.0, 0.0]
    """

    _fields = ("start", "end", "steps")

    def __init__(self, start: float, end: float = 0.0, steps: int | None = None):
        self.start = _checks.number("start", start)
        self.end = _checks.number("end", end)
        if steps is None:
            raise TypeError(
                "`steps` is required: the number of steps of the decay, e.g. "
                "Cosine(1e-3, steps=10_000). Received: steps=None"
            )
        self.steps = _checks.integer("steps", steps, minimum=1)

    def _evaluate(self, whole, frac):
        done, remaining = _time.progress(whole, frac, self.steps)
        keep = ops.square(ops.sin(remaining * (math.pi / 2)))
        lose = ops.square(ops.sin(done * (math.pi / 2)))
        return self.start * keep + self.end * lose

    def _horizon(self) -> int:
        return self.steps
