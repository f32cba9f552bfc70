"""`Warmup`: a linear ramp up to a schedule's first value, then the schedule."""

from __future__ import annotations

import keras
import numpy as np

from coolkeras.schedules import _checks, _time
from coolkeras.schedules import _ops as ops
from coolkeras.schedules.base import Schedule

__all__ = ["Warmup"]

LearningRateSchedule = keras.optimizers.schedules.LearningRateSchedule


@keras.saving.register_keras_serializable(package="coolkeras")
class Warmup(Schedule):
    """Ramps linearly from `start` to `schedule(0)` over `steps`, then runs `schedule`.

    At step `t < steps` the value is `start + (schedule(0) - start) * t / steps`;
    from step `steps` on it is `schedule(t - steps)`: the wrapped schedule
    starts counting after the warmup, so its peak is its own first value and the
    whole run lasts `steps` plus the schedule's length (optax's and Keras'
    warmup semantics). It is `Join([ramp, schedule], [steps])`.

    To warm up without shifting the schedule, multiply by a ramp instead:
    `Linear(0.0, 1.0, steps) * schedule`.

    Args:
        schedule: the schedule to run after the warmup (wrap a number in
            `Constant`).
        steps: the length of the warmup, an integer >= 0 (0: no warmup).
        start: the value at step 0. Defaults to `0.0`.

    Raises:
        TypeError: if `schedule` is not a schedule, `steps` not an integer or
            `start` not a number.
        ValueError: if `steps < 0` or `start` is NaN or infinite.

    Example:

    >>> from coolkeras import schedules
    >>> s = schedules.Warmup(schedules.Linear(1.0, 0.5, 2), steps=4)
    >>> s.values([0, 1, 2, 3, 4, 5, 6, 7]).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0, 0.75, 0.5, 0.5]
    """

    _fields = ("schedule", "steps", "start")

    def __init__(self, schedule: LearningRateSchedule, steps: int, start: float = 0.0):
        self.schedule = _checks.schedule("schedule", schedule)
        self.steps = _checks.integer("steps", steps, minimum=0)
        self.start = _checks.number("start", start)
        # A coolkeras schedule is a pure function: its value at step 0 is known
        # now, which spares the train step a second evaluation of it.
        self._peak = None
        if isinstance(self.schedule, Schedule):
            peak = _time.evaluate(self.schedule, np.int32(0), np.float32(0.0))
            self._peak = float(peak)

    def _evaluate(self, whole, frac):
        if self.steps == 0:
            return _time.evaluate(self.schedule, whole, frac)
        peak = self._peak
        if peak is None:
            peak = _time.evaluate(
                self.schedule, ops.zeros_like(whole), ops.zeros_like(frac)
            )
        done, remaining = _time.progress(whole, frac, self.steps)
        ramp = self.start * remaining + peak * done
        after = _time.evaluate(self.schedule, *_time.shift(whole, frac, self.steps))
        return ops.where(ops.greater_equal(whole, self.steps), after, ramp)

    def _horizon(self) -> int:
        inner = getattr(self.schedule, "_horizon", lambda: None)()
        return self.steps + (inner or 0)
