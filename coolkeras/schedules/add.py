"""`Add`: schedules added at each step; also written `s1 + s2`, `s + 0.1`, `s1 - s2`."""

from __future__ import annotations

import keras

from coolkeras import _validation
from coolkeras.schedules import _time
from coolkeras.schedules.base import Schedule

__all__ = ["Add"]

LearningRateSchedule = keras.optimizers.schedules.LearningRateSchedule


@keras.saving.register_keras_serializable(package="coolkeras")
class Add(Schedule):
    """The sum of schedules at each step; also written `s1 + s2` or `s + 0.1`.

    A number in a sum becomes a `Constant`, and `s1 - s2` is
    `Add([s1, -1.0 * s2])`. Sums write what other libraries build in: a
    floor under a schedule (Keras' `alpha`, torch's `eta_min`), or a cyclic
    learning rate, `base + Restarts(...)`.

    Args:
        schedules: a list of one or more schedules.

    Raises:
        TypeError: if `schedules` is not a list of schedules.
        ValueError: if `schedules` is empty.

    Example:

    >>> from coolkeras import schedules
    >>> s = 1e-5 + schedules.Linear(1e-3, 0.0, steps=4)
    >>> type(s).__name__, [round(v, 7) for v in s.values([0, 2, 4, 8]).tolist()]
    ('Add', [0.00101, 0.00051, 1e-05, 1e-05])
    """

    _arguments = ("schedules",)

    def __init__(self, schedules: list[LearningRateSchedule]):
        self.schedules = _validation.schedule_list("schedules", schedules)

    def _evaluate(self, whole, frac):
        value = _time.evaluate(self.schedules[0], whole, frac)
        for schedule in self.schedules[1:]:
            value = value + _time.evaluate(schedule, whole, frac)
        return value

    def _horizon(self) -> int | None:
        horizons = [getattr(s, "_horizon", lambda: None)() for s in self.schedules]
        known = [h for h in horizons if h is not None]
        return max(known) if known else None
