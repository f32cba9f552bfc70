"""The step as (whole, frac): exact integer steps, fractions kept apart.

A schedule sees time as a pair: `whole`, an int32 tensor of completed steps
(>= 0), and `frac`, a float32 tensor in [0, 1) (non-zero only for fractional
steps such as epochs counted per batch). Segment starts are subtracted from
`whole` in integer arithmetic and only offsets inside a segment are converted
to float, so step 30,000,000 is as exact as step 3 (float32 alone cannot even
represent step 30,000,001).
"""

from __future__ import annotations

import numbers
from typing import Any

import keras
import numpy as np
from keras import ops

from coolkeras import _keras_internals
from coolkeras._validation import MAX_STEP
from coolkeras.schedules import _ops

# The largest float32 below 2**31, so a clipped float step casts to int32 safely.
_MAX_FLOAT_STEP = 2147483520.0


def split(step: Any):
    """Splits a step (a number or a scalar tensor) into `(whole, frac)`.

    Negative steps count as step 0; steps beyond `2**31 - 1` as that step. A
    step known on the host (a number, or an eager CPU tensor) gives numpy
    scalars, so the schedule runs on the fast path of `_ops`; any other tensor
    gives tensors.
    """
    if isinstance(step, (bool, np.bool_)):
        raise TypeError(f"`step` must be a number or a tensor. Received: step={step!r}")
    if isinstance(step, numbers.Integral):  # Python ints may exceed int64
        return _split_integer(int(step))
    host = _keras_internals.host_value(step)
    if host is not None and host.ndim == 0:
        if host.dtype.kind in "iu":
            return _split_integer(int(host))
        whole, frac = split_numpy(host)
        return whole[()], frac[()]
    return _split_tensor(ops.convert_to_tensor(step))


def _split_integer(step: int):
    return np.int32(min(max(step, 0), MAX_STEP)), np.float32(0.0)


def _split_tensor(step):
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
    """Like `split`, for an array of steps, as numpy arrays (int32, float32)."""
    steps = np.asarray(steps)
    if steps.dtype.kind in "iub":
        whole = np.clip(steps.astype("int64"), 0, MAX_STEP).astype("int32")
        return whole, np.zeros(whole.shape, "float32")
    if steps.dtype.kind != "f":
        raise TypeError(
            f"`steps` must be numbers. Received: steps={steps!r} of dtype {steps.dtype}"
        )
    if np.isnan(steps).any():
        raise ValueError(f"`step` must not be NaN. Received: step={steps.tolist()!r}")
    clipped = np.clip(steps.astype("float64"), 0.0, _MAX_FLOAT_STEP)
    floor = np.floor(clipped)
    return floor.astype("int32"), (clipped - floor).astype("float32")


def shift(whole, frac, offset: int):
    """The time counted from step `offset` (step 0 before it)."""
    if offset == 0:
        return whole, frac
    started = _ops.greater_equal(whole, offset)
    return _ops.maximum(whole - offset, 0), _ops.where(started, frac, 0.0)


def progress(whole, frac, length):
    """Fractions `(done, remaining)` of a segment of `length` steps, each in [0, 1].

    Both come from exact integer counts, so neither suffers from cancellation
    near the segment's ends. `length` is an int, or int32 values looked up in a
    table (one per element of `whole`).
    """
    done_steps = _ops.minimum(whole, length)
    frac = _ops.where(_ops.greater_equal(whole, length), 0.0, frac)
    divisor = length if isinstance(length, int) else _ops.cast(length, "float32")
    done = (_ops.cast(done_steps, "float32") + frac) / divisor
    remaining = (_ops.cast(length - done_steps, "float32") - frac) / divisor
    return done, remaining


def periods(whole, frac, length):
    """`(whole + frac) / length` as `(count, fraction)`: whole periods and the rest.

    `count` is int32 and exact; `fraction` in [0, 1) is computed from the exact
    remainder, so neither loses precision late in training.
    """
    count = _ops.floor_divide(whole, length)
    divisor = length if isinstance(length, int) else _ops.cast(length, "float32")
    fraction = (_ops.cast(_ops.mod(whole, length), "float32") + frac) / divisor
    return count, fraction


def evaluate(schedule, whole, frac):
    """Evaluates any schedule at `(whole, frac)` as a float32 tensor.

    coolkeras schedules receive the pair; other Keras schedules get the step as
    a float (exact below 2**24). On numpy scalars the result is a numpy scalar.
    """
    from coolkeras.schedules.base import Schedule

    if isinstance(schedule, Schedule):
        return _ops.cast(schedule._evaluate(whole, frac), "float32")
    if isinstance(whole, np.generic):
        value = _keras_internals.host_value(schedule(np.float32(whole) + frac))
        if value is None:
            raise _SymbolicValue
        return np.float32(value)
    value = schedule(ops.cast(whole, "float32") + frac)
    return ops.cast(value, "float32") + ops.zeros_like(frac)


class _SymbolicValue(Exception):
    """A Keras schedule gave a symbolic tensor for a step known on the host.

    It happens inside a trace (JAX traces everything under `jit`, even constants,
    and Keras infers shapes under `jax.eval_shape`); `value_at` then starts over
    on tensors.
    """


def value_at(schedule, step: Any):
    """`schedule` at `step`: a numpy float32 if computed on the host, else a tensor."""
    whole, frac = split(step)
    if isinstance(whole, np.generic):
        try:
            return evaluate(schedule, whole, frac)
        except _SymbolicValue:
            # From the step itself: under torch.compile the numpy scalars would
            # stay ndarrays that Keras' ops cannot trace.
            if isinstance(step, numbers.Integral):
                step = min(max(int(step), 0), MAX_STEP)
            whole, frac = _split_tensor(ops.convert_to_tensor(step))
    return evaluate(schedule, whole, frac)
