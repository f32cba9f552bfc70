"""The values a schedule reaches, known before training: for range checks.

`value_range(s)` is `(lowest, highest)`: values that `s` takes or approaches
at some step >= 0, so a bound they break is broken during training (the check
never refuses a schedule that keeps it). A schedule that can tell its range
from its parameters implements `_value_range()` (`Linear`: `start` and `end`;
`PiecewiseLinear`: its points; `Scale`, `Warmup`, `Join`, `Restarts` and
`ByEpoch` from their parts); then every value lies inside it too. Any other
schedule (`Add`, `Multiply`, a Keras schedule) is evaluated at step 0 and at
the step after which it stops changing, when known: both values are reached,
other values go unchecked.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from keras import ops

__all__ = ["hull", "value_range", "window_range"]

Range = tuple[float, float]


def hull(*values: float) -> Range:
    return min(values), max(values)


def value_range(schedule: Any) -> Range | None:
    """`(lowest, highest)` values `schedule` reaches, or `None` if unknown."""
    derive = getattr(schedule, "_value_range", None)
    if derive is not None:
        derived = derive()
        if derived is not None:
            return derived
    horizon = getattr(schedule, "_horizon", lambda: None)()
    return sampled(schedule, [0] if horizon is None else [0, horizon])


def window_range(schedule: Any, length: int) -> Range | None:
    """Like `value_range`, over the steps `0 .. length - 1` only."""
    horizon = getattr(schedule, "_horizon", lambda: None)()
    if horizon is not None and horizon < length:
        return value_range(schedule)  # every value is reached in the window
    return sampled(schedule, [0, length - 1])


def union(ranges: list[Range | None]) -> Range | None:
    known = [r for r in ranges if r is not None]
    if not known:
        return None
    return min(r[0] for r in known), max(r[1] for r in known)


def sampled(schedule: Any, steps: list[int]) -> Range | None:
    """The values at `steps`, or `None` if the schedule cannot be evaluated now."""
    try:
        values = [float(np.asarray(ops.convert_to_numpy(schedule(s)))) for s in steps]
    except Exception:  # noqa: BLE001 - e.g. a by_epoch schedule before `fit`
        return None
    if any(math.isnan(v) for v in values):
        return None
    return hull(*values)
