"""Argument checks shared by the schedules: clear errors at construction."""

from __future__ import annotations

import math
import numbers
from typing import Any

import keras

LearningRateSchedule = keras.optimizers.schedules.LearningRateSchedule

# Steps are counted in int32 inside the graph (JAX has no int64 by default).
MAX_STEP = 2**31 - 1


def number(name: str, value: Any) -> float:
    """Returns `value` as a finite float, or raises naming `name`."""
    if isinstance(value, LearningRateSchedule):
        raise TypeError(
            f"`{name}` must be a number, not a schedule; to combine schedules use "
            f"`Join`, `Warmup`, `Scale` or `Multiply`. Received: {name}={value!r}"
        )
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a number. Received: {name}={value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"`{name}` must be finite. Received: {name}={value}")
    return value


def integer(name: str, value: Any, minimum: int = 0) -> int:
    """Returns `value` as an int in `[minimum, MAX_STEP]`, or raises naming `name`.

    Integral floats such as `1e4` are accepted.
    """
    if isinstance(value, LearningRateSchedule):
        raise TypeError(
            f"`{name}` must be an integer number of steps, not a schedule. "
            f"Received: {name}={value!r}"
        )
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        result = int(value)
    elif (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and float(value).is_integer()
    ):
        result = int(value)
    else:
        raise TypeError(f"`{name}` must be an integer. Received: {name}={value!r}")
    if not minimum <= result <= MAX_STEP:
        raise ValueError(
            f"`{name}` must be an integer in [{minimum}, {MAX_STEP}]. "
            f"Received: {name}={value!r}"
        )
    return result


def schedule(name: str, value: Any) -> LearningRateSchedule:
    """Returns `value` if it is a schedule, or raises naming `name`."""
    if isinstance(value, LearningRateSchedule):
        return value
    hint = ""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        hint = f" Wrap a number in `Constant`: Constant({value!r})."
    raise TypeError(
        f"`{name}` must be a schedule (a `LearningRateSchedule`).{hint} "
        f"Received: {name}={value!r}"
    )


def schedule_list(name: str, value: Any) -> list[LearningRateSchedule]:
    """Returns `value` as a non-empty list of schedules, or raises naming `name`."""
    if isinstance(value, LearningRateSchedule) or not isinstance(value, (list, tuple)):
        raise TypeError(
            f"`{name}` must be a list of schedules. Received: {name}={value!r}"
        )
    if not value:
        raise ValueError(
            f"`{name}` must hold at least one schedule. Received: {name}={value!r}"
        )
    return [schedule(f"{name}[{i}]", item) for i, item in enumerate(value)]
