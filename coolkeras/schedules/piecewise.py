"""`PiecewiseLinear` and `PiecewiseConstant`: a schedule as one `{step: value}` dict."""

from __future__ import annotations

import itertools
import numbers
from typing import Any

import keras

from coolkeras.schedules import _checks, _time
from coolkeras.schedules import _ops as ops
from coolkeras.schedules.base import Schedule

__all__ = ["PiecewiseConstant", "PiecewiseLinear"]


def _check_points(points: Any) -> dict[int, float]:
    if isinstance(points, keras.optimizers.schedules.LearningRateSchedule):
        raise TypeError(
            f"`points` must be a dict {{step: value}}, not a schedule. "
            f"Received: points={points!r}"
        )
    if not isinstance(points, dict) or not points:
        raise ValueError(
            "`points` must be a non-empty dict mapping integer steps to values, "
            f"e.g. {{0: 0.1, 1000: 0.01}}. Received: points={points!r}"
        )
    steps = list(points)
    for step in steps:
        if (
            isinstance(step, bool)
            or not isinstance(step, numbers.Integral)
            or not 0 <= step <= _checks.MAX_STEP
        ):
            raise ValueError(
                "`points` must map integer steps >= 0 to values. "
                f"Received: points={points!r} with step {step!r}"
            )
    if any(later <= earlier for earlier, later in itertools.pairwise(steps)):
        raise ValueError(
            "`points` must list its steps in increasing order. "
            f"Received: points={points!r}"
        )
    return {
        int(step): _checks.number(f"points[{step}]", value)
        for step, value in points.items()
    }


class _Piecewise(Schedule):
    _fields = ("points",)

    def __init__(self, points: dict[int, float]):
        self.points = _check_points(points)

    @classmethod
    def from_config(cls, config: dict[str, Any]):
        # JSON turns the integer keys into strings.
        config = dict(config)
        points = config["points"]
        config["points"] = {int(step): value for step, value in points.items()}
        return cls(**config)

    def _horizon(self) -> int:
        return max(self.points)


@keras.saving.register_keras_serializable(package="coolkeras")
class PiecewiseLinear(_Piecewise):
    """Linear interpolation between `{step: value}` points (bert4keras' form).

    The value is the first point's value before the first step, the last
    point's value after the last step, and a straight line in between:
    `{0: 0.0, 1000: 1e-3, 10000: 1e-4}` is a 1000-step warmup to 1e-3 followed
    by a linear decay to 1e-4 at step 10000.

    Args:
        points: a dict mapping integer steps >= 0, in increasing order, to
            values.

    Raises:
        ValueError: if `points` is empty, its steps are negative, not integers
            or not increasing, or a value is NaN or infinite.
        TypeError: if a value is not a number.

    Example:

    >>> from coolkeras import schedules
    >>> s = schedules.PiecewiseLinear({2: 1.0, 6: 0.0, 8: 0.5})
    >>> s.values([0, 2, 3, 6, 7, 8, 100]).tolist()
    [1.0, 1.0, 0.75, 0.0, 0.25, 0.5, 0.5]
    """

    def _evaluate(self, whole, frac):
        items = list(self.points.items())
        first, last = items[0], items[-1]
        value = ops.full_like(frac, first[1], dtype="float32")
        for (start, low), (end, high) in itertools.pairwise(items):
            shifted = _time.shift(whole, frac, start)
            done, remaining = _time.progress(*shifted, end - start)
            value = ops.where(
                ops.greater_equal(whole, start), low * remaining + high * done, value
            )
        return ops.where(ops.greater_equal(whole, last[0]), last[1], value)


@keras.saving.register_keras_serializable(package="coolkeras")
class PiecewiseConstant(_Piecewise):
    """Constant pieces: each `{step: value}` holds from its step to the next one.

    Before the first step the value is the first point's value. By epoch, the
    article's "1e-2 until epoch 50, 1e-3 until epoch 80, then 1e-4" is
    `by_epoch(PiecewiseConstant({0: 1e-2, 50: 1e-3, 80: 1e-4}), steps_per_epoch)`.

    Args:
        points: a dict mapping integer steps >= 0, in increasing order, to
            values.

    Raises:
        ValueError: if `points` is empty, its steps are negative, not integers
            or not increasing, or a value is NaN or infinite.
        TypeError: if a value is not a number.

    Example:

    >>> from coolkeras import schedules
    >>> s = schedules.PiecewiseConstant({0: 1.0, 3: 0.5, 5: 0.25})
    >>> s.values([0, 2, 3, 4, 5, 100]).tolist()
    [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    """

    def _evaluate(self, whole, frac):
        items = list(self.points.items())
        value = ops.full_like(frac, items[0][1], dtype="float32")
        for start, level in items[1:]:
            value = ops.where(ops.greater_equal(whole, start), level, value)
        return value
