"""`PiecewiseLinear` and `PiecewiseConstant`: a schedule as one `{step: value}` dict."""

from __future__ import annotations

import itertools
from typing import Any

import keras
import numpy as np

from coolkeras import _validation
from coolkeras.schedules import _ops as ops
from coolkeras.schedules import _range, _time
from coolkeras.schedules.base import Schedule

__all__ = ["PiecewiseConstant", "PiecewiseLinear"]


def _check_points(points: Any) -> dict[int, float]:
    if not isinstance(points, dict):
        raise TypeError(
            "`points` must be a dict mapping integer steps to values, e.g. "
            f"{{0: 0.1, 1000: 0.01}}. Received: points={points!r}"
        )
    if not points:
        raise ValueError(
            "`points` must be a non-empty dict mapping integer steps to values, "
            f"e.g. {{0: 0.1, 1000: 0.01}}. Received: points={points!r}"
        )
    checked = {}
    for step, value in points.items():
        try:
            whole = _validation.integer(
                "step", step, minimum=0, maximum=_validation.MAX_STEP
            )
        except (TypeError, ValueError) as e:
            raise type(e)(
                "`points` must map integer steps in "
                f"[0, {_validation.MAX_STEP}] to values; {step!r} is not one. "
                f"Received: points={points!r}"
            ) from None
        checked[whole] = _validation.number(f"points[{whole}]", value)
    steps = list(checked)
    if any(later <= earlier for earlier, later in itertools.pairwise(steps)):
        raise ValueError(
            "`points` must list its steps in increasing order. "
            f"Received: points={points!r}"
        )
    return checked


class _Piecewise(Schedule):
    _arguments = ("points",)

    def __init__(self, points: dict[int, float]):
        self.points = _check_points(points)
        self._tables(self.points)

    def _tables(self, points: dict[int, float]) -> None:
        # Looked up by a binary search at each step: neither the trace nor the
        # per-step cost grows with the number of points.
        self._steps = ops.Table(list(points), "int32")
        self._values = ops.Table(list(points.values()), "float32")

    @classmethod
    def from_config(cls, config: dict[str, Any]):
        # JSON turns the integer keys into strings.
        config = dict(config)
        points = config["points"]
        config["points"] = {int(step): value for step, value in points.items()}
        return cls(**config)

    def _segment(self, whole):
        """The index of the last point at or before `whole` (0 before the first)."""
        return ops.maximum(ops.searchsorted(self._steps, whole) - 1, 0)

    def _horizon(self) -> int:
        return max(self.points)

    def _value_range(self) -> tuple[float, float]:
        # Every value is a point's, or between two points (from_zero's included).
        return _range.hull(*self._values.numpy.tolist())


@keras.saving.register_keras_serializable(package="coolkeras")
class PiecewiseLinear(_Piecewise):
    """Linear interpolation between `{step: value}` points, as in bert4keras.

    The value is the first point's value before the first step, the last
    point's value after the last step, and a straight line in between:
    `{0: 0.0, 1000: 1e-3, 10000: 1e-4}` is a 1000-step warmup to 1e-3 followed
    by a linear decay to 1e-4 at step 10000.

    bert4keras' `piecewise_linear(t, schedule, from_zero=True)` adds the point
    `(0, 0.0)` in front when the first step is not 0, so its `{1000: 1, 2000:
    0.1}` is a warmup from 0; here that is `from_zero=True`. Without it
    (the default) that dict is a flat 1.0 up to step 1000.

    Each step is one binary search over the points: a schedule of 10,000 points
    costs what one of 10 costs, to trace and per step.

    Args:
        points: a dict mapping integer steps >= 0, in increasing order, to
            values.
        from_zero: whether to start from the point `(0, 0.0)` when `points`
            has no step 0 (bert4keras' default). Defaults to `False`.

    Raises:
        ValueError: if `points` is empty, its steps are negative, not integers
            or not increasing, or a value is NaN or infinite.
        TypeError: if a value is not a number or `from_zero` not a bool.

    Example:

    >>> from coolkeras import schedules
    >>> s = schedules.PiecewiseLinear({2: 1.0, 6: 0.0, 8: 0.5})
    >>> s.values([0, 2, 3, 6, 7, 8, 100]).tolist()
    [1.0, 1.0, 0.75, 0.0, 0.25, 0.5, 0.5]
    >>> bert4keras = schedules.PiecewiseLinear({4: 1.0, 8: 0.5}, from_zero=True)
    >>> bert4keras.values([0, 1, 4, 6, 8, 9]).tolist()
    [0.0, 0.25, 1.0, 0.75, 0.5, 0.5]
    """

    _arguments = ("points", "from_zero")

    def __init__(self, points: dict[int, float], from_zero: bool = False):
        super().__init__(points)
        self.from_zero = _validation.boolean("from_zero", from_zero)
        if from_zero and 0 not in self.points:
            self._tables({0: 0.0, **self.points})
        self._lengths = ops.Table(np.diff(self._steps.numpy), "int32")

    def _evaluate(self, whole, frac):
        if len(self._steps) == 1:
            return ops.full_like(frac, float(self._values.numpy[0]), dtype="float32")
        index = ops.minimum(self._segment(whole), len(self._steps) - 2)
        start = ops.take(self._steps, index)
        offset = ops.maximum(whole - start, 0)  # > 0 except before the first point
        frac = ops.where(ops.greater_equal(whole, start), frac, 0.0)
        done, remaining = _time.progress(offset, frac, ops.take(self._lengths, index))
        low = ops.take(self._values, index)
        high = ops.take(self._values, index + 1)
        return low * remaining + high * done


@keras.saving.register_keras_serializable(package="coolkeras")
class PiecewiseConstant(_Piecewise):
    """Constant pieces: each `{step: value}` holds from its step to the next one.

    Before the first step the value is the first point's value. By epoch, the
    article's "1e-2 until epoch 50, 1e-3 until epoch 80, then 1e-4" is
    `by_epoch(PiecewiseConstant({0: 1e-2, 50: 1e-3, 80: 1e-4}))`. Each step
    is one binary search over the points, however many there are.

    Keras' `PiecewiseConstantDecay(boundaries, values)` switches one step
    later, after each boundary: it is
    `PiecewiseConstant({0: values[0], boundaries[0] + 1: values[1], ...})`.

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
        value = ops.take(self._values, self._segment(whole))
        return value + ops.zeros_like(frac, dtype="float32")
