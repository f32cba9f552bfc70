"""`by_epoch`: a schedule written in epochs, evaluated at every batch."""

from __future__ import annotations

import keras

from coolkeras.schedules import _checks, _time
from coolkeras.schedules import _ops as ops
from coolkeras.schedules.base import Schedule

__all__ = ["ByEpoch", "by_epoch"]

LearningRateSchedule = keras.optimizers.schedules.LearningRateSchedule

# The largest float32 below 1: keeps the fraction of an epoch inside [0, 1).
_BELOW_ONE = 0.99999994


@keras.saving.register_keras_serializable(package="coolkeras")
class ByEpoch(Schedule):
    """Evaluates a schedule written in epochs at `epoch = step / steps_per_epoch`.

    The epoch is fractional (`step // steps_per_epoch` whole epochs plus the
    fraction of the current one), so continuous pieces such as a warmup move at
    every batch, while `PiecewiseConstant` boundaries fall exactly on the
    first step of their epoch. Made by `by_epoch(schedule, steps_per_epoch)`.

    Args:
        schedule: a schedule whose steps are epochs.
        steps_per_epoch: the number of optimizer steps (batches) per epoch,
            an integer > 0.

    Raises:
        TypeError: if `schedule` is not a schedule or `steps_per_epoch` not an
            integer.
        ValueError: if `steps_per_epoch <= 0`.
    """

    _fields = ("schedule", "steps_per_epoch")

    def __init__(self, schedule: LearningRateSchedule, steps_per_epoch: int):
        self.schedule = _checks.schedule("schedule", schedule)
        self.steps_per_epoch = _checks.integer(
            "steps_per_epoch", steps_per_epoch, minimum=1
        )

    def _evaluate(self, whole, frac):
        epochs = ops.floor_divide(whole, self.steps_per_epoch)
        into = ops.cast(ops.mod(whole, self.steps_per_epoch), "float32") + frac
        fraction = ops.minimum(into / self.steps_per_epoch, _BELOW_ONE)
        return _time.evaluate(self.schedule, epochs, fraction)

    def _horizon(self) -> int | None:
        inner = getattr(self.schedule, "_horizon", lambda: None)()
        return None if inner is None else inner * self.steps_per_epoch


def by_epoch(schedule: LearningRateSchedule, steps_per_epoch: int) -> ByEpoch:
    """Makes a schedule written in epochs count optimizer steps.

    The article's two schedules, each one expression (epochs count from 0, as
    in Keras callbacks):

    1. "1e-2 until epoch 50, 1e-3 until epoch 80, then 1e-4":
       `by_epoch(PiecewiseConstant({0: 1e-2, 50: 1e-3, 80: 1e-4}), steps_per_epoch)`
    2. "linear warmup over the first 10 epochs, per batch, then 1e-3":
       `by_epoch(Warmup(Constant(1e-3), 10), steps_per_epoch)`; the schedule
       after the warmup counts epochs from the warmup's end, so
       `by_epoch(Warmup(PiecewiseConstant({0: 1e-3, 40: 1e-4}), 10), n)` drops
       to 1e-4 at epoch 50.

    Args:
        schedule: a schedule whose steps are epochs.
        steps_per_epoch: the number of optimizer steps (batches) per epoch.

    Returns:
        A `ByEpoch` schedule counting optimizer steps.

    Raises:
        TypeError: if `schedule` is not a schedule or `steps_per_epoch` not an
            integer.
        ValueError: if `steps_per_epoch <= 0`.

    Example:

    >>> from coolkeras.schedules import Constant, PiecewiseConstant, Warmup, by_epoch
    >>> steps = by_epoch(PiecewiseConstant({0: 1e-2, 50: 1e-3, 80: 1e-4}), 100)
    >>> [round(v, 6) for v in steps.values([0, 4999, 5000, 7999, 8000]).tolist()]
    [0.01, 0.01, 0.001, 0.001, 0.0001]
    >>> warmup = by_epoch(Warmup(Constant(1e-3), 10), 100)
    >>> [round(v, 6) for v in warmup.values([0, 1, 500, 1000, 5000]).tolist()]
    [0.0, 1e-06, 0.0005, 0.001, 0.001]
    """
    return ByEpoch(schedule, steps_per_epoch)
