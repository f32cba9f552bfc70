"""`Exponential`: multiplies the value by `rate` every `steps` steps."""

from __future__ import annotations

import math
import numbers

import keras
import numpy as np

from coolkeras import _validation
from coolkeras.schedules import _ops as ops
from coolkeras.schedules import _range, _time
from coolkeras.schedules.base import Schedule

__all__ = ["Exponential"]


@keras.saving.register_keras_serializable(package="coolkeras")
class Exponential(Schedule):
    """Exponential decay (or growth): `value(t) = start * rate ** (t / steps)`.

    The value is multiplied by `rate` every `steps` steps, continuously in
    between, or at once with `staircase=True` (`rate ** floor(t / steps)`:
    torch's `StepLR`, Keras' and optax' `staircase`); there is no end. The
    arguments come in Keras' and optax' order, `(start, steps, rate)`
    (`ExponentialDecay(initial_learning_rate, decay_steps, decay_rate)`,
    `exponential_decay(init_value, transition_steps, decay_rate)`). The
    exponent is split into the integer number of periods and the fraction of
    the current one, both computed from the integer step, so large steps keep
    their precision.

    Args:
        start: the value at step 0.
        steps: the period, an integer > 0.
        rate: the factor per `steps` steps, > 0 (< 1 decays, > 1 grows).
        staircase: whether the value changes only every `steps` steps.
            Defaults to `False`.
        end: a bound the value does not pass (optax' `end_value`): a floor
            when `rate < 1`, a ceiling when `rate > 1`. Defaults to `None`,
            no bound.

    Raises:
        TypeError: if `start`, `rate` or `end` is not a number, or `steps` is
            not an integer (also when the arguments come in the order of
            earlier development versions, `(start, rate, steps)`).
        ValueError: if a value is NaN or infinite, `rate <= 0` or `steps <= 0`.

    Example:

    >>> from coolkeras import schedules
    >>> s = schedules.Exponential(1.0, steps=2, rate=0.5)
    >>> [round(v, 6) for v in s.values([0, 1, 2, 4, 6]).tolist()]
    [1.0, 0.707107, 0.5, 0.25, 0.125]
    >>> step_lr = schedules.Exponential(1.0, 2, 0.5, staircase=True)
    >>> step_lr.values([0, 1, 2, 3, 4]).tolist()
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    _arguments = ("start", "steps", "rate", "staircase", "end")
    _vector_fields = ("start", "steps", "rate", "_log_rate")

    def __init__(
        self,
        start: float,
        steps: int,
        rate: float,
        staircase: bool = False,
        end: float | None = None,
    ):
        _refuse_old_order(start, steps, rate)
        self.start = _validation.number("start", start)
        self.steps = _validation.step_count("steps", steps, minimum=1)
        self.rate = _validation.number("rate", rate, low=0, low_open=True)
        self.staircase = _validation.boolean("staircase", staircase)
        self.end = _validation.number("end", end, allow_none=True)
        self._log_rate = math.log(self.rate)

    def _evaluate(self, whole, frac):
        count, fraction = _time.periods(whole, frac, self.steps)
        exponent = ops.cast(count, "float32")
        if not self.staircase:
            exponent = exponent + fraction
        if self.end is None:
            return self.start * ops.exp(exponent * self._log_rate)
        # Bounded: the exponent stops where float32 overflows, the bound decides.
        value = self.start * ops.exp(ops.minimum(exponent * self._log_rate, 88.0))
        return ops.where(
            self._log_rate < 0,
            ops.maximum(value, self.end),
            ops.minimum(value, self.end),
        )

    def _horizon(self) -> int:
        return 4 * self.steps

    def _value_range(self) -> tuple[float, float] | None:
        if self.end is not None:
            return None  # checked by its values
        if self.rate == 1 or self.start == 0:
            return self.start, self.start
        if self.rate < 1:  # towards 0
            return _range.hull(self.start, 0.0)
        return _range.hull(self.start, math.copysign(math.inf, self.start))


def _refuse_old_order(start, steps, rate) -> None:
    """Development versions took `(start, rate, steps)`: say so, never swap silently."""
    steps_is_integer = isinstance(steps, numbers.Integral) or (
        isinstance(steps, numbers.Real) and float(steps).is_integer()
    )
    rate_is_integer = isinstance(rate, numbers.Integral) and not isinstance(
        rate, (bool, np.bool_)
    )
    if isinstance(steps, numbers.Real) and not steps_is_integer and rate_is_integer:
        raise TypeError(
            "`Exponential` takes `steps` before `rate`, as Keras' `ExponentialDecay` "
            f"and optax' `exponential_decay` do: write Exponential({start!r}, "
            f"steps={rate!r}, rate={steps!r}). Received: steps={steps!r}, "
            f"rate={rate!r}"
        )
