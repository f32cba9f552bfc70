"""`by_epoch`: a schedule written in epochs, evaluated at every batch."""

from __future__ import annotations

from typing import Any

import keras

from coolkeras import _validation
from coolkeras.schedules import _ops as ops
from coolkeras.schedules import _range, _time
from coolkeras.schedules.base import Schedule

__all__ = ["ByEpoch", "UnknownStepsPerEpoch", "by_epoch", "find_by_epoch"]

LearningRateSchedule = keras.optimizers.schedules.LearningRateSchedule

# The largest float32 below 1: keeps the fraction of an epoch inside [0, 1).
_BELOW_ONE = 0.99999994


class UnknownStepsPerEpoch(ValueError):
    """A `ByEpoch` schedule was evaluated before its `steps_per_epoch` was known."""


@keras.saving.register_keras_serializable(package="coolkeras")
class ByEpoch(Schedule):
    """Evaluates a schedule written in epochs at `epoch = step / steps_per_epoch`.

    The epoch is fractional (`step // steps_per_epoch` whole epochs plus the
    fraction of the current one), so continuous pieces such as a warmup move at
    every batch, while `PiecewiseConstant` boundaries fall exactly on the
    first step of their epoch. Made by `by_epoch(schedule, steps_per_epoch)`.

    The steps are optimizer updates. Without `steps_per_epoch`, the number is
    set once it is known, by `bind_steps_per_epoch` (which training code calls
    when `fit` starts); until then evaluating the schedule raises
    `UnknownStepsPerEpoch` (a `ValueError`). The number, given or set, is part
    of `get_config`, so a saved model reloads with it.

    Args:
        schedule: a schedule whose steps are epochs.
        steps_per_epoch: the number of optimizer updates per epoch, an
            integer > 0, or `None` to have it set when training starts.
            Defaults to `None`.

    Raises:
        TypeError: if `schedule` is not a schedule or `steps_per_epoch` not an
            integer.
        ValueError: if `steps_per_epoch <= 0`.
    """

    _arguments = ("schedule", "steps_per_epoch")

    def __init__(
        self, schedule: LearningRateSchedule, steps_per_epoch: int | None = None
    ):
        self.schedule = _validation.schedule("schedule", schedule)
        self.steps_per_epoch = None
        self._source = None  # where a set number came from; None when given
        if steps_per_epoch is not None:
            self.steps_per_epoch = _validation.step_count(
                "steps_per_epoch", steps_per_epoch, minimum=1
            )

    def bind_steps_per_epoch(self, n: int, source: str) -> None:
        """Sets the number of optimizer updates per epoch, or checks it.

        Training code calls this when `fit` starts, before the first step, with
        the number of optimizer updates each epoch will run. If the schedule
        has no number yet, it takes `n`; if it has one (given to `by_epoch`,
        or set by an earlier call), a different `n` raises, so the epochs of
        the schedule never silently fall on the wrong steps.

        Args:
            n: the number of optimizer updates per epoch, an integer > 0.
            source: where `n` comes from, for error messages (e.g.
                `"fit(): 128 samples, batch_size=32"`).

        Raises:
            TypeError: if `n` is not an integer or `source` not a string.
            ValueError: if `n <= 0`, or the schedule already counts a different
                number of steps per epoch.
        """
        n = _validation.step_count("n", n, minimum=1)
        source = _validation.string("source", source)
        if self.steps_per_epoch is None:
            self.steps_per_epoch, self._source = n, source
            return
        if n == self.steps_per_epoch:
            return
        if self._source is None:
            raise ValueError(
                f"by_epoch was given steps_per_epoch={self.steps_per_epoch} but "
                f"fit runs {n} optimizer updates per epoch ({source}). Pass "
                f"steps_per_epoch={n}, or leave it out and fit sets it. "
                f"Received: n={n!r}"
            )
        raise ValueError(
            f"by_epoch counts steps_per_epoch={self.steps_per_epoch} (set by "
            f"{self._source}) but fit runs {n} optimizer updates per epoch "
            f"({source}); the schedule's epochs cannot change length in the middle "
            "of training. Use a new `by_epoch` schedule for a run with another "
            f"number of steps per epoch. Received: n={n!r}"
        )

    def _evaluate(self, whole, frac):
        steps = self.steps_per_epoch
        if steps is None:
            raise UnknownStepsPerEpoch(
                f"by_epoch({self.schedule!r}) does not know its steps_per_epoch "
                "yet. Pass steps_per_epoch= (optimizer updates per epoch) to "
                "`by_epoch` (needed when the data's length is unknown), or let "
                "fit set it when training starts. Received: steps_per_epoch=None"
            )
        epochs = ops.floor_divide(whole, steps)
        into = ops.cast(ops.mod(whole, steps), "float32") + frac
        fraction = ops.minimum(into / steps, _BELOW_ONE)
        return _time.evaluate(self.schedule, epochs, fraction)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        if self._source is not None:
            config["steps_per_epoch_source"] = self._source
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]):
        config = dict(config)
        source = config.pop("steps_per_epoch_source", None)
        if source is None:
            return super().from_config(config)
        steps = config.pop("steps_per_epoch")
        schedule = super().from_config(config)
        schedule.bind_steps_per_epoch(steps, source)
        return schedule

    def _horizon(self) -> int | None:
        inner = getattr(self.schedule, "_horizon", lambda: None)()
        if inner is None or self.steps_per_epoch is None:
            return None
        return inner * self.steps_per_epoch

    def _value_range(self) -> tuple[float, float] | None:
        return _range.value_range(self.schedule)  # the same values, at other steps


def by_epoch(
    schedule: LearningRateSchedule, steps_per_epoch: int | None = None
) -> ByEpoch:
    """Makes a schedule written in epochs count optimizer steps.

    The article's two schedules, each one expression (epochs count from 0, as
    in Keras callbacks):

    1. "1e-2 until epoch 50, 1e-3 until epoch 80, then 1e-4":
       `by_epoch(PiecewiseConstant({0: 1e-2, 50: 1e-3, 80: 1e-4}))`
    2. "linear warmup over the first 10 epochs, per batch, then 1e-3":
       `by_epoch(Warmup(Constant(1e-3), 10))`; the schedule after the warmup
       counts epochs from the warmup's end, so
       `by_epoch(Warmup(PiecewiseConstant({0: 1e-3, 40: 1e-4}), 10))` drops
       to 1e-4 at epoch 50.

    Without `steps_per_epoch`, the number of optimizer updates per epoch is
    set when training starts (`ByEpoch.bind_steps_per_epoch`); given, it is
    checked then. The steps are optimizer updates: with
    `gradient_accumulation_steps=k` an epoch of `n` batches has `n / k` of
    them; `steps_per_execution` changes nothing. When the number of batches is
    not known before training (a dataset or generator of unknown length), pass
    `steps_per_epoch`: the schedule is needed from the first step on.

    Args:
        schedule: a schedule whose steps are epochs.
        steps_per_epoch: the number of optimizer updates per epoch, or `None`
            to have it set when training starts. Defaults to `None`.

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
    >>> warmup = by_epoch(Warmup(Constant(1e-3), 10))
    >>> warmup.bind_steps_per_epoch(100, "100 batches per epoch")
    >>> [round(v, 6) for v in warmup.values([0, 1, 500, 1000, 5000]).tolist()]
    [0.0, 1e-06, 0.0005, 0.001, 0.001]
    """
    return ByEpoch(schedule, steps_per_epoch)


def find_by_epoch(obj: Any) -> list[ByEpoch]:
    """Every `ByEpoch` inside `obj`: a schedule, or a list or tuple of them.

    Walks the schedule tree through every nested schedule (`Join`, `Warmup`,
    `Scale`, `Multiply`, `Add`, `Restarts`, `ByEpoch` itself, ...), depth
    first, each object once; inside any other `LearningRateSchedule` (a
    wrapper), through the schedules among its attributes. Training code calls
    `bind_steps_per_epoch` on each; numbers hold none.

    Args:
        obj: anything; typically an optimizer's learning rate or a
            hyperparameter's schedule.

    Returns:
        The `ByEpoch` schedules found, outermost first.

    Example:

    >>> from coolkeras import schedules
    >>> inner = schedules.by_epoch(schedules.Constant(1.0))
    >>> lr = 1e-3 * schedules.Join([schedules.Constant(0.0), inner], [10])
    >>> schedules.find_by_epoch(lr) == [inner]
    True
    """
    found: list[ByEpoch] = []
    seen: set[int] = set()

    def walk(value: Any) -> None:
        if isinstance(value, (list, tuple)):
            for item in value:
                walk(item)
            return
        if not isinstance(value, LearningRateSchedule) or id(value) in seen:
            return
        seen.add(id(value))
        if isinstance(value, ByEpoch):
            found.append(value)
        if isinstance(value, Schedule):
            children = [getattr(value, name) for name in value._arguments]
        else:  # a wrapper, e.g. one that counts updates instead of batches
            children = list(vars(value).values())
        for child in children:
            walk(child)

    walk(obj)
    return found
