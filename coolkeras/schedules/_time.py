"""The step as (whole, frac): exact integer steps, fractions kept apart.

A schedule sees time as a pair: `whole`, an int32 tensor of completed steps
(>= 0), and `frac`, a float32 tensor in [0, 1) (non-zero only for fractional
steps such as epochs counted per batch). Segment starts are subtracted from
`whole` in integer arithmetic and only offsets inside a segment are converted
to float, so step 30,000,000 is as exact as step 3 (float32 alone cannot even
represent step 30,000,001).
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np
from keras import ops

from coolkeras.schedules._checks import MAX_STEP

# The largest float32 below 2**31, so a clipped float step casts to int32 safely.
_MAX_FLOAT_STEP = 2147483520.0


def split(step: Any):
    """Splits a step (int, float, or scalar tensor) into `(whole, frac)`.

    Negative steps count as step 0; steps beyond `2**31 - 1` as that step.
    """
    if isinstance(step, bool):
        raise TypeError(f"`step` must be a number or a tensor. Received: step={step!r}")
    if isinstance(step, int):
        whole = ops.convert_to_tensor(min(max(step, 0), MAX_STEP), "int32")
        return whole, ops.zeros_like(whole, dtype="float32")
    if isinstance(step, float):
        if math.isnan(step):
            raise ValueError(f"`step` must not be NaN. Received: step={step}")
        step = min(max(step, 0.0), _MAX_FLOAT_STEP)
        floor = math.floor(step)
        return (
            ops.convert_to_tensor(floor, "int32"),
            ops.convert_to_tensor(step - floor, "float32"),
        )
    step = ops.convert_to_tensor(step)
    dtype = keras.backend.standardize_dtype(step.dtype)
    if "int" in dtype:
        if dtype in ("int64", "uint32", "uint64"):
            step = ops.minimum(step, MAX_STEP)
        if not dtype.startswith("u"):
            step = ops.maximum(step, 0)
        whole = ops.cast(step, "int32")
        return whole, ops.zeros_like(whole, dtype="float32")
    if "float" in dtype:
        step = ops.clip(step, 0.0, _MAX_FLOAT_STEP)
        floor = ops.floor(step)
        return ops.cast(floor, "int32"), ops.cast(step - floor, "float32")
    raise TypeError(
        f"`step` must be an integer or float tensor. Received: step={step!r} "
        f"of dtype {dtype}"
    )


def split_numpy(steps: Any):
    """Like `split`, for an array of steps (used by `Schedule.values`)."""
    steps = np.asarray(steps)
    if steps.dtype.kind in "iub":
        whole = np.clip(steps.astype("int64"), 0, MAX_STEP).astype("int32")
        frac = np.zeros(whole.shape, "float32")
    elif steps.dtype.kind == "f":
        clipped = np.clip(steps.astype("float64"), 0.0, _MAX_FLOAT_STEP)
        floor = np.floor(clipped)
        whole, frac = floor.astype("int32"), (clipped - floor).astype("float32")
    else:
        raise TypeError(
            f"`steps` must be numbers. Received: steps={steps!r} of dtype {steps.dtype}"
        )
    return ops.convert_to_tensor(whole, "int32"), ops.convert_to_tensor(frac, "float32")


def shift(whole, frac, offset: int):
    """The time counted from step `offset` (step 0 before it)."""
    if offset == 0:
        return whole, frac
    started = ops.greater_equal(whole, offset)
    return ops.maximum(whole - offset, 0), ops.where(started, frac, 0.0)


def progress(whole, frac, length: int):
    """Fractions `(done, remaining)` of a segment of `length` steps, each in [0, 1].

    Both come from exact integer counts, so neither suffers from cancellation
    near the segment's ends.
    """
    done_steps = ops.minimum(whole, length)
    frac = ops.where(ops.greater_equal(whole, length), 0.0, frac)
    done = (ops.cast(done_steps, "float32") + frac) / length
    remaining = (ops.cast(length - done_steps, "float32") - frac) / length
    return done, remaining


def evaluate(schedule, whole, frac):
    """Evaluates any schedule at `(whole, frac)` as a float32 tensor.

    coolkeras schedules receive the pair; other Keras schedules get the step as
    a float (exact below 2**24).
    """
    from coolkeras.schedules.base import Schedule

    if isinstance(schedule, Schedule):
        return ops.cast(schedule._evaluate(whole, frac), "float32")
    value = schedule(ops.cast(whole, "float32") + frac)
    return ops.cast(value, "float32") + ops.zeros_like(frac)
