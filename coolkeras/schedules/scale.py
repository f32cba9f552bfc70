"""`Scale` and `Multiply`: a schedule times a number, or schedules multiplied."""

from __future__ import annotations

import keras

from coolkeras import _validation
from coolkeras.schedules import _range, _time
from coolkeras.schedules.base import Schedule

__all__ = ["Multiply", "Scale"]

LearningRateSchedule = keras.optimizers.schedules.LearningRateSchedule


@keras.saving.register_keras_serializable(package="coolkeras")
class Scale(Schedule):
    """A schedule multiplied by a constant `factor`; also written `factor * s`.

    Args:
        schedule: the schedule.
        factor: the number to multiply by.

    Raises:
        TypeError: if `schedule` is not a schedule or `factor` not a number.
        ValueError: if `factor` is NaN or infinite.

    Example:

    >>> from coolkeras import schedules
    >>> s = 1e-3 * schedules.Linear(1.0, 0.0, steps=10)
    >>> type(s).__name__, round(float(s(5)), 8)
    ('Scale', 0.0005)
    """

    _arguments = ("schedule", "factor")

    def __init__(self, schedule: LearningRateSchedule, factor: float):
        self.schedule = _validation.schedule("schedule", schedule)
        self.factor = _validation.number("factor", factor)

    def _evaluate(self, whole, frac):
        return self.factor * _time.evaluate(self.schedule, whole, frac)

    def _horizon(self) -> int | None:
        return getattr(self.schedule, "_horizon", lambda: None)()

    def _value_range(self) -> tuple[float, float] | None:
        inner = _range.value_range(self.schedule)
        return None if inner is None else _range.hull(*(self.factor * v for v in inner))


@keras.saving.register_keras_serializable(package="coolkeras")
class Multiply(Schedule):
    """The product of schedules at each step; also written `s1 * s2`.

    `Linear(0.0, 1.0, 100) * s` warms `s` up over its first 100 steps without
    shifting it (unlike `Warmup`, which starts `s` after the warmup).

    Args:
        schedules: a list of one or more schedules.

    Raises:
        TypeError: if `schedules` is not a list of schedules.
        ValueError: if `schedules` is empty.

    Example:

    >>> from coolkeras import schedules
    >>> ramp = schedules.Linear(0.0, 1.0, steps=2)
    >>> s = ramp * schedules.PiecewiseConstant({0: 1.0, 3: 0.5})
    >>> s.values([0, 1, 2, 3, 4]).tolist()
    [0.0, 0.5, 1.0, 0.5, 0.5]
    """

    _arguments = ("schedules",)

    def __init__(self, schedules: list[LearningRateSchedule]):
        self.schedules = _validation.schedule_list("schedules", schedules)

    def _evaluate(self, whole, frac):
        value = _time.evaluate(self.schedules[0], whole, frac)
        for schedule in self.schedules[1:]:
            value = value * _time.evaluate(schedule, whole, frac)
        return value

    def _horizon(self) -> int | None:
        horizons = [getattr(s, "_horizon", lambda: None)() for s in self.schedules]
        known = [h for h in horizons if h is not None]
        return max(known) if known else None
