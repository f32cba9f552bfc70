"""`Warmup`: a linear ramp up to a schedule's first value, then the schedule."""

from __future__ import annotations

import keras
import numpy as np

from coolkeras import _validation
from coolkeras.schedules import _ops as ops
from coolkeras.schedules import _range, _time
from coolkeras.schedules.base import Schedule
from coolkeras.schedules.epochs import UnknownStepsPerEpoch

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

    `offset` moves the whole schedule `offset` steps earlier: the value at step
    `t` is that of the plain warmup at `t + offset`. With `offset=1` the first
    update already learns (the article's `(n + 1) / N` warmup, which reaches
    the peak at step `N - 1`), and the Transformer's schedule is
    `Warmup(InverseSqrt(peak, timescale=w), w, offset=1)`.

    To warm up without shifting the schedule, multiply by a ramp instead:
    `Linear(0.0, 1.0, steps) * schedule`.

    Args:
        schedule: the schedule to run after the warmup (wrap a number in
            `Constant`).
        steps: the length of the warmup, an integer >= 0 (0: no warmup).
        start: the value at step `-offset`. Defaults to `0.0`.
        offset: how many steps earlier everything happens, an integer in
            `[0, steps]`. Defaults to `0`.

    Raises:
        TypeError: if `schedule` is not a schedule, `steps` or `offset` not an
            integer or `start` not a number.
        ValueError: if `steps < 0`, `offset` is outside `[0, steps]`, or
            `start` is NaN or infinite.

    Example:

    >>> from coolkeras import schedules
    >>> s = schedules.Warmup(schedules.Linear(1.0, 0.5, 2), steps=4)
    >>> s.values([0, 1, 2, 3, 4, 5, 6, 7]).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0, 0.75, 0.5, 0.5]
    >>> article = schedules.Warmup(schedules.Constant(1.0), steps=4, offset=1)
    >>> article.values([0, 1, 2, 3, 4, 5]).tolist()
    [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    """

    _arguments = ("schedule", "steps", "start", "offset")

    def __init__(
        self,
        schedule: LearningRateSchedule,
        steps: int,
        start: float = 0.0,
        offset: int = 0,
    ):
        self.schedule = _validation.schedule("schedule", schedule)
        self.steps = _validation.step_count("steps", steps, minimum=0)
        self.start = _validation.number("start", start)
        self.offset = _validation.step_count("offset", offset, minimum=0)
        if self.offset > self.steps:
            raise ValueError(
                f"`offset` must be in [0, steps={self.steps}]. Received: "
                f"offset={offset!r}"
            )
        # A coolkeras schedule is a pure function: its value at step 0 is known
        # now, which spares the train step a second evaluation of it.
        self._peak = None
        self._known_peak()

    def _known_peak(self) -> float | None:
        if self._peak is None and isinstance(self.schedule, Schedule):
            try:
                zero = (np.int32(0), np.float32(0.0))
                self._peak = float(_time.evaluate(self.schedule, *zero))
            except (UnknownStepsPerEpoch, _time._SymbolicValue):
                pass  # known later (a by_epoch bound by fit), or in-graph
        return self._peak

    def _evaluate(self, whole, frac):
        if self.offset:
            whole = ops.minimum(whole, _validation.MAX_STEP - self.offset) + self.offset
        if self.steps == 0:
            return _time.evaluate(self.schedule, whole, frac)
        peak = self._known_peak()
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

    def _value_range(self) -> tuple[float, float] | None:
        inner = _range.value_range(self.schedule)  # all of it runs after the ramp
        peak = self._known_peak()
        if inner is None or peak is None or self.steps == 0:
            return inner
        first = self.start + (peak - self.start) * self.offset / self.steps
        return _range.hull(first, *inner)  # the ramp goes from `first` to `peak`
