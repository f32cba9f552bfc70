"""`check_layer`: one call that checks a custom Keras layer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from coolkeras import _validation
from coolkeras.testing import _call_checks, _state_checks
from coolkeras.testing._check_support import (
    Context,
    LayerCheckError,
    LayerCheckReport,
    make_data,
    shape_of,
)

__all__ = ["CHECKS", "LayerCheckError", "LayerCheckReport", "check_layer"]

#: Names of the checks, in the order they run.
CHECKS = (
    "symbolic_call",
    "eager_call",
    "compute_output_shape",
    "training",
    "compiled_step",
    "masking",
    "config",
    "dtype_policy",
    "saving",
)


def _is_axis(d: Any) -> bool:
    return d is None or (
        isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0
    )


def _normalize_shapes(input_shape: Any) -> tuple[list[tuple], bool]:
    if isinstance(input_shape, (tuple, list)):
        if all(_is_axis(d) for d in input_shape):
            return [tuple(None if d is None else int(d) for d in input_shape)], False
        if input_shape and all(
            isinstance(s, (tuple, list)) and all(_is_axis(d) for d in s)
            for s in input_shape
        ):
            return [
                tuple(None if d is None else int(d) for d in s) for s in input_shape
            ], True
        error, problem = ValueError, "every axis must be a positive int or None."
    elif isinstance(input_shape, (int, np.integer)) and not isinstance(
        input_shape, (bool, np.bool_)
    ):
        error = TypeError
        problem = f"a shape is a tuple; did you mean input_shape=({input_shape},)?"
    else:
        error, problem = TypeError, None
    raise error(
        "`input_shape` must be the shape of one sample without the batch axis: a "
        "tuple of positive ints or None, e.g. (4,) or (None, 8), or a list of such "
        "tuples for a layer that takes several inputs"
        + (f"; {problem}" if problem else ".")
        + f" Received: input_shape={input_shape!r}"
    )


def _check_dtype(input_dtype: Any) -> str:
    if isinstance(input_dtype, (bool, np.bool_)) or input_dtype is None:
        raise TypeError(
            f"`input_dtype` must be a dtype name such as 'float32'. "
            f"Received: input_dtype={input_dtype!r}"
        )
    try:
        return keras.backend.standardize_dtype(input_dtype)
    except (TypeError, ValueError, AttributeError):
        error = ValueError if isinstance(input_dtype, str) else TypeError
        raise error(
            f"`input_dtype` must be a dtype name such as 'float32'. "
            f"Received: input_dtype={input_dtype!r}"
        ) from None


def _check_skip(skip: Any) -> set[str]:
    if isinstance(skip, str):
        skip = [skip]
    if not isinstance(skip, (list, tuple, set, frozenset)) or not all(
        isinstance(name, str) for name in skip
    ):
        raise TypeError(
            "`skip` must be a check name or a list of them, among "
            f"{list(CHECKS[2:])}. Received: skip={skip!r}"
        )
    skip = set(skip)
    unknown = sorted(skip - set(CHECKS) - {"symbolic_call", "eager_call"})
    if unknown or skip & {"symbolic_call", "eager_call"}:
        raise ValueError(
            f"`skip` must name checks among {list(CHECKS[2:])} (the symbolic and "
            f"eager calls always run). Received: skip={sorted(skip)!r}"
        )
    return {str(name) for name in skip}


def _validate(layer, batch_size, expect_training_difference, skip, seed, rtol, atol):
    if not isinstance(layer, keras.layers.Layer):
        raise TypeError(
            f"`layer` must be a keras.layers.Layer instance. Received: layer={layer!r}"
        )
    return {
        "batch_size": _validation.integer("batch_size", batch_size, minimum=2),
        "expect_training_difference": _validation.boolean(
            "expect_training_difference", expect_training_difference, allow_none=True
        ),
        "skip": _check_skip(skip),
        # numpy's generators take seeds >= 0.
        "seed": _validation.integer("seed", seed, minimum=0),
        "rtol": _validation.number("rtol", rtol, low=0),
        "atol": _validation.number("atol", atol, low=0),
    }


def check_layer(
    layer: keras.layers.Layer,
    input_shape: Sequence[int | None] | Sequence[Sequence[int | None]],
    *,
    input_dtype: str = "float32",
    batch_size: int = 2,
    expect_training_difference: bool | None = None,
    skip: Sequence[str] = (),
    seed: int = 0,
    rtol: float = 1e-5,
    atol: float = 1e-6,
) -> LayerCheckReport:
    """Checks that a custom layer works the way Keras expects, in one call.

    Runs, on seeded data, the checks a layer author otherwise forgets:

    - `symbolic_call` / `eager_call`: the layer builds and runs on
      `keras.Input` and on concrete data, with agreeing shapes and dtypes;
    - `compute_output_shape` (if defined) returns what `call()` returns, one
      shape per output for layers with several outputs;
    - `training`: `training=False` is deterministic, no random op is unseeded
      (it would fail under JAX `jit`), and whether `training=True` changes the
      output, which `expect_training_difference` can assert;
    - `compiled_step`: a compiled training step and `predict` of a model holding
      the layer run, and `predict` agrees with the eager call;
    - `masking` (if the layer supports masks and the input has a time axis):
      masked-out timesteps do not affect the output, and `compute_mask` fits it;
    - `config`: `from_config(get_config())` with the weights copied gives equal
      outputs;
    - `dtype_policy`: under `mixed_float16` outputs are float16, variables float32;
    - `saving`: a model holding the layer survives a `.keras` round trip with
      the default `safe_mode=True`, with equal outputs.

    Each failure raises `LayerCheckError` (an `AssertionError`) that names the
    check and says what was expected, what was received and how to fix it.
    The layer passed in is built and called; its trainable weights are not
    changed (statistics updated in training, like BatchNormalization's moving
    averages, may move).

    Args:
        layer: the layer to check, built or not.
        input_shape: shape of one sample without the batch axis, like
            `keras.Input(shape=...)`: a tuple of positive ints or `None`, or a
            list of such tuples for a layer that takes a list of inputs. `None`
            axes get size 3 in the concrete data.
        input_dtype: dtype of the data. Integer dtypes get values in [0, 10).
            Defaults to `"float32"`.
        batch_size: batch size of the concrete data. Defaults to `2`.
        expect_training_difference: `True` if `training=True` must change the
            output (noise, dropout), `False` if it must not, `None` to only
            report it. Defaults to `None`.
        skip: names of checks not to run, among `coolkeras.testing.CHECKS`
            (the symbolic and eager calls always run). Defaults to `()`.
        seed: seed of the numpy data generator. Defaults to `0`.
        rtol: relative tolerance of output comparisons. Defaults to `1e-5`.
        atol: absolute tolerance of output comparisons. Defaults to `1e-6`.

    Returns:
        A `LayerCheckReport`: the checks that passed, those skipped and why, the
        output shapes and whether training changes the output.

    Raises:
        LayerCheckError: when a check fails.
        TypeError: when an argument has the wrong type: `layer` is not a
            Keras layer, `input_shape` not a tuple or list, `batch_size` or
            `seed` not an integer, ... (numpy scalars count as numbers).
        ValueError: when an argument has a bad value (`batch_size < 2`, a
            negative tolerance, an unknown check in `skip`, an axis <= 0 in
            `input_shape`), or the layer rejects the input shape.

    Example:

    >>> import keras
    >>> from coolkeras.testing import check_layer
    >>> report = check_layer(keras.layers.Dense(3), (4,))
    >>> report.output_shapes, report.training_changes_output
    ([(2, 3)], False)
    """
    checked = _validate(
        layer, batch_size, expect_training_difference, skip, seed, rtol, atol
    )
    shapes, multi_input = _normalize_shapes(input_shape)
    input_dtype = _check_dtype(input_dtype)
    batch_size, skip = checked["batch_size"], checked["skip"]
    expect_training_difference = checked["expect_training_difference"]
    rtol, atol = checked["rtol"], checked["atol"]
    rng = np.random.default_rng(checked["seed"])
    ctx = Context(
        layer=layer,
        shapes=shapes,
        multi_input=multi_input,
        input_dtype=input_dtype,
        data=make_data(shapes, input_dtype, batch_size, rng),
        rtol=rtol,
        atol=atol,
        rng=rng,
    )
    report = LayerCheckReport(layer=type(layer).__name__)

    symbolic = _call_checks.symbolic_call(ctx, input_shape)
    flat = _call_checks.eager_call(ctx, symbolic)
    report.output_shapes = [shape_of(t) for t in flat]
    steps = {
        "compute_output_shape": lambda: _call_checks.compute_output_shape(ctx, flat),
        "symbolic_call": lambda: _call_checks.symbolic_agrees(ctx, symbolic, flat),
        "eager_call": lambda: None,
        "training": lambda: _training(ctx, report, expect_training_difference),
        "compiled_step": lambda: _call_checks.compiled_step(ctx),
        "masking": lambda: _call_checks.masking(ctx),
        "config": lambda: _state_checks.config(ctx) and None,
        "dtype_policy": lambda: _state_checks.dtype_policy(ctx),
        "saving": lambda: _state_checks.saving(ctx),
    }
    order = ("compute_output_shape", "symbolic_call", "eager_call") + CHECKS[3:]
    for name in order:
        if name in skip:
            report.skipped[name] = "skipped by the caller"
            continue
        why_not = steps[name]()
        if why_not:
            report.skipped[name] = why_not
        else:
            report.passed.append(name)
    report.passed.sort(key=CHECKS.index)
    return report


def _training(ctx, report: LayerCheckReport, expect: bool | None) -> None:
    report.training_changes_output = _call_checks.training(ctx, expect)
