"""`Linear`: a straight line from `start` to `end` over `steps`, then flat."""

from __future__ import annotations

import keras

from coolkeras import _validation
from coolkeras.schedules import _range, _time
from coolkeras.schedules.base import Schedule

__all__ = ["Linear"]


@keras.saving.register_keras_serializable(package="coolkeras")
class Linear(Schedule):
    """Goes linearly from `start` at step 0 to `end` at step `steps`, then stays.

    `value(t) = start + (end - start) * min(t, steps) / steps`.

    Args:
        start: the value at step 0.
        end: the value at step `steps` and after.
        steps: the length of the ramp, an integer > 0.

    Raises:
        TypeError: if `start` or `end` is not a number (e.g. a schedule), or
            `steps` is not an integer.
        ValueError: if a value is NaN or infinite, or `steps <= 0`.

    Example:

    >>> from coolkeras import schedules
    >>> schedules.Linear(0.0, 1.0, steps=4).values([0, 1, 2, 4, 8]).tolist()
    [0.0, 0.25, 0.5, 1.0, 1.0]
    """

    _arguments = ("start", "end", "steps")
    _vector_fields = ("start", "end", "steps")

    def __init__(self, start: float, end: float, steps: int):
        self.start = _validation.number("start", start)
        self.end = _validation.number("end", end)
        self.steps = _validation.step_count("steps", steps, minimum=1)

    def _evaluate(self, whole, frac):
        done, remaining = _time.progress(whole, frac, self.steps)
        return self.start * remaining + self.end * done

    def _horizon(self) -> int:
        return self.steps

    def _value_range(self) -> tuple[float, float]:
        return _range.hull(self.start, self.end)
