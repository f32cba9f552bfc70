"""`Restarts`: a schedule run again and again, each cycle possibly longer."""

from __future__ import annotations

import math

import keras
import numpy as np

from coolkeras import _validation
from coolkeras.schedules import _ops as ops
from coolkeras.schedules import _range, _time
from coolkeras.schedules.base import Schedule

__all__ = ["Restarts"]

LearningRateSchedule = keras.optimizers.schedules.LearningRateSchedule

# The largest float32 below 1: keeps the fraction of a step inside [0, 1).
_BELOW_ONE = 0.99999994


@keras.saving.register_keras_serializable(package="coolkeras")
class Restarts(Schedule):
    """Runs `schedule` over its first `period` steps, again and again, forever.

    Cycle `i` (from 0) lasts `period * period_factor ** i` steps; inside it
    `schedule` is stretched to fill the cycle, so it sees its own steps
    `0 .. period` whatever the cycle's length, and the value is multiplied by
    `value_factor ** i`. This is SGDR's warm restarts (Loshchilov & Hutter
    2017) and the cyclic learning rates:

    - `Restarts(Cosine(lr, eta_min, steps=T_0), T_0, T_mult)`: torch's
      `CosineAnnealingWarmRestarts(T_0, T_mult, eta_min)`;
    - `Restarts(Cosine(lr, steps=n), n, t_mul, m_mul)`: Keras'
      `CosineDecayRestarts(lr, n, t_mul, m_mul)` (add `alpha` as a floor:
      `alpha * lr + Restarts(Cosine((1 - alpha) * lr, steps=n), n, t_mul, m_mul)`);
    - `base + Restarts(PiecewiseLinear({0: 0.0, up: top - base, up + down: 0.0}),
      up + down)`: torch's `CyclicLR` (`mode="triangular"`; `value_factor=0.5`
      is `"triangular2"`).

    The cycle and the step inside it are found in integer arithmetic (for a
    non-integer `period_factor`, the step inside a cycle is a float32), so the
    restarts fall on exact steps at step 30,000,000 as at step 3.

    Args:
        schedule: the schedule of one cycle (any `LearningRateSchedule`).
        period: the length of the first cycle, an integer > 0.
        period_factor: how much longer each cycle is than the one before,
            >= 1. Defaults to `1.0`: all cycles are `period` steps.
        value_factor: the factor applied to the values of each cycle over
            the one before, > 0. Defaults to `1.0`.

    Raises:
        TypeError: if `schedule` is not a schedule, `period` not an integer, or
            a factor not a number.
        ValueError: if `period <= 0`, `period_factor < 1` or `value_factor <= 0`.

    Example:

    >>> from coolkeras import schedules
    >>> s = schedules.Restarts(schedules.Linear(1.0, 0.0, steps=2), period=2)
    >>> s.values([0, 1, 2, 3, 4, 5]).tolist()
    [1.0, 0.5, 1.0, 0.5, 1.0, 0.5]
    >>> longer = schedules.Restarts(schedules.Linear(1.0, 0.0, 2), 2, period_factor=2)
    >>> longer.values([0, 1, 2, 3, 4, 5, 6]).tolist()
    [1.0, 0.5, 1.0, 0.75, 0.5, 0.25, 1.0]
    """

    _arguments = ("schedule", "period", "period_factor", "value_factor")

    def __init__(
        self,
        schedule: LearningRateSchedule,
        period: int,
        period_factor: float = 1.0,
        value_factor: float = 1.0,
    ):
        self.schedule = _validation.schedule("schedule", schedule)
        self.period = _validation.step_count("period", period, minimum=1)
        self.period_factor = _validation.number("period_factor", period_factor, low=1)
        self.value_factor = _validation.number(
            "value_factor", value_factor, low=0, low_open=True
        )
        if self.period_factor != 1:
            self._cycle_tables()

    def _cycle_tables(self) -> None:
        """Where each cycle starts and how much it is stretched, up to step 2**31."""
        factor, integral = self.period_factor, self.period_factor.is_integer()
        floors, fractions, stretches = [], [], []
        start, stretch = 0, 1  # exact: ints for an integral factor
        if not integral:
            start, stretch = 0.0, 1.0
        while start <= _validation.MAX_STEP:
            floors.append(math.floor(start))
            fractions.append(start - math.floor(start))
            stretches.append(stretch)
            start += self.period * stretch
            stretch = stretch * (int(factor) if integral else factor)
        self._floors = ops.Table(floors, "int32")
        self._fractions = ops.Table(fractions, "float32")
        if integral:
            clipped = np.array(stretches, dtype="int64").clip(max=2**31 - 1)
            self._stretches = ops.Table(clipped, "int32")
        else:
            self._stretches = ops.Table(stretches, "float32")

    def _evaluate(self, whole, frac):
        if self.period_factor == 1:
            cycle, inner = (
                ops.floor_divide(whole, self.period),
                ops.mod(whole, self.period),
            )
            inner_frac = frac  # whole cycles: the fraction of a step is unchanged
        elif self.period_factor.is_integer():
            cycle = ops.searchsorted(self._floors, whole) - 1
            offset = whole - ops.take(self._floors, cycle)
            inner, inner_frac = _time.periods(
                offset, frac, ops.take(self._stretches, cycle)
            )
        else:  # cycles start between steps: the step inside one is a float32
            cycle = ops.searchsorted(self._floors, whole) - 1
            floor = ops.take(self._floors, cycle)
            before_start = ops.equal(whole, floor) & (
                frac < ops.take(self._fractions, cycle)
            )
            cycle = ops.maximum(cycle - ops.where(before_start, 1, 0), 0)
            offset = ops.cast(whole - ops.take(self._floors, cycle), "float32")
            offset = offset + frac - ops.take(self._fractions, cycle)
            position = ops.maximum(offset / ops.take(self._stretches, cycle), 0.0)
            inner = ops.minimum(ops.cast(ops.floor(position), "int32"), self.period - 1)
            inner_frac = ops.minimum(position - ops.cast(inner, "float32"), _BELOW_ONE)
        value = _time.evaluate(self.schedule, inner, inner_frac)
        if self.value_factor == 1:
            return value
        return value * ops.exp(ops.cast(cycle, "float32") * math.log(self.value_factor))

    def _horizon(self) -> int:
        return int(self.period * sum(self.period_factor**i for i in range(3)))

    def _value_range(self) -> tuple[float, float] | None:
        # The first cycle runs the schedule's steps 0 .. period - 1 as they are.
        return _range.window_range(self.schedule, self.period)
