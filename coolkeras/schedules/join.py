"""`Join`: schedules one after another, each counting from its own start."""

from __future__ import annotations

import itertools

import keras

from coolkeras.schedules import _checks, _time
from coolkeras.schedules import _ops as ops
from coolkeras.schedules.base import Schedule

__all__ = ["Join"]

LearningRateSchedule = keras.optimizers.schedules.LearningRateSchedule


@keras.saving.register_keras_serializable(package="coolkeras")
class Join(Schedule):
    """Runs `schedules[i]` from `boundaries[i - 1]` to `boundaries[i]`.

    Each schedule sees the step counted from its own start: at step `t` with
    `boundaries[i - 1] <= t < boundaries[i]`, the value is
    `schedules[i](t - boundaries[i - 1])` (optax's `join_schedules`). The first
    schedule runs from step 0 to `boundaries[0]`, the last forever after the
    last boundary.

    Args:
        schedules: a list of `n >= 1` schedules (any `LearningRateSchedule`).
        boundaries: a list of `n - 1` increasing integer steps > 0.

    Raises:
        TypeError: if an element of `schedules` is not a schedule (wrap numbers
            in `Constant`), or a boundary is not an integer.
        ValueError: if `schedules` is empty, the lengths do not match, or the
            boundaries are not increasing and > 0.

    Example:

    >>> from coolkeras import schedules
    >>> s = schedules.Join(
    ...     [schedules.Linear(0.0, 1.0, 2), schedules.Linear(1.0, 0.5, 4)],
    ...     boundaries=[2],
    ... )
    >>> s.values([0, 1, 2, 3, 4, 5, 6, 7]).tolist()
    [0.0, 0.5, 1.0, 0.875, 0.75, 0.625, 0.5, 0.5]
    """

    _fields = ("schedules", "boundaries")

    def __init__(self, schedules: list[LearningRateSchedule], boundaries: list[int]):
        self.schedules = _checks.schedule_list("schedules", schedules)
        if not isinstance(boundaries, (list, tuple)):
            raise TypeError(
                "`boundaries` must be a list of steps. "
                f"Received: boundaries={boundaries!r}"
            )
        if len(boundaries) != len(schedules) - 1:
            raise ValueError(
                "`boundaries` must have one step fewer than `schedules` "
                f"({len(schedules)}). Received: boundaries={list(boundaries)!r} of "
                f"length {len(boundaries)}"
            )
        self.boundaries = [
            _checks.integer(f"boundaries[{i}]", b, minimum=1)
            for i, b in enumerate(boundaries)
        ]
        if any(b <= a for a, b in itertools.pairwise(self.boundaries)):
            raise ValueError(
                "`boundaries` must be increasing. "
                f"Received: boundaries={list(boundaries)!r}"
            )

    def _evaluate(self, whole, frac):
        value = _time.evaluate(self.schedules[0], whole, frac)
        for boundary, schedule in zip(self.boundaries, self.schedules[1:], strict=True):
            later = _time.evaluate(schedule, *_time.shift(whole, frac, boundary))
            value = ops.where(ops.greater_equal(whole, boundary), later, value)
        return value

    def _horizon(self) -> int | None:
        last = getattr(self.schedules[-1], "_horizon", lambda: None)()
        return (self.boundaries or [0])[-1] + (last or 0)
