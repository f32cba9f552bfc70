"""The bad-input table: one spec per public constructor, read by test_bad_input.py.

A spec names the constructor, the valid values of its required arguments, and
per argument under test: a valid value, its family (which decides the values
of each kind of bad input and whether each is a `TypeError` or a
`ValueError`), the kinds that are valid for it, and extra values, good or bad.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

KINDS = (
    "negative",
    "zero",
    "nan",
    "inf",
    "-inf",
    "bool",
    "str",
    "None",
    "empty",
    "wrong_type",
    "numpy_scalar",
    "array_0d",
    "numpy_array",
    "tensor",
)
NUMERIC = frozenset({"negative", "zero", "nan", "inf", "-inf"})
SCALAR_FAMILIES = ("number", "integer", "boolean", "string", "choice")
# Right type, wrong value: a `ValueError`; every other refusal is a `TypeError`.
VALUE_ERRORS = {
    "number": NUMERIC,
    "integer": frozenset({"negative", "zero"}),
    "boolean": frozenset(),
    "string": frozenset({"empty"}),
    "choice": frozenset({"str", "empty"}),
    "other": frozenset(),
}
ANY_ERROR = "any"  # a check made by Keras itself: its error type is Keras'


class Opaque:
    """A value of no meaningful type."""

    def __repr__(self) -> str:
        return "Opaque()"


@dataclass(frozen=True)
class Arg:
    valid: Any
    family: str = "other"
    ok: frozenset = frozenset()  # kinds that are valid values
    value_errors: frozenset = frozenset()  # more kinds refused with ValueError
    bad: tuple = ()  # (value, error class) pairs
    good: tuple = ()  # more valid values
    errors: str | None = None  # ANY_ERROR: either error type is fine

    def oks(self) -> frozenset:
        scalar = {"numpy_scalar"} if self.family in SCALAR_FAMILIES else set()
        return frozenset(self.ok) | scalar


def number(valid: Any = 0.5, *ok: str, bad=(), good=()) -> Arg:
    return Arg(valid, "number", frozenset(ok), bad=bad, good=good)


def integer(valid: Any = 2, *ok: str, bad=(), good=()) -> Arg:
    return Arg(valid, "integer", frozenset(ok), bad=bad, good=good)


def boolean(valid: Any = False, *ok: str) -> Arg:
    return Arg(valid, "boolean", frozenset({"bool", *ok}))


def string(valid: str = "name", *ok: str, value_errors=(), bad=()) -> Arg:
    """A string argument; `value_errors=("str",)` if only some strings are valid."""
    oks = frozenset({"str", *ok}) - frozenset(value_errors)
    return Arg(valid, "string", oks, frozenset(value_errors), bad)


def choice(valid: str, *ok: str) -> Arg:
    return Arg(valid, "choice", frozenset(ok))


def kind_value(arg: Arg, kind: str) -> Any:
    v, family = arg.valid, arg.family
    is_int = family == "integer" or (family == "number" and isinstance(v, int))
    scalar = family in SCALAR_FAMILIES
    values = {
        "negative": -1 if is_int or family not in ("number",) else -0.5,
        "zero": 0 if is_int or family != "number" else 0.0,
        "nan": math.nan,
        "inf": math.inf,
        "-inf": -math.inf,
        "bool": True,
        "None": None,
        "wrong_type": Opaque(),
    }
    if kind in values:
        return values[kind]
    if kind == "str":
        if family in ("number", "integer"):
            return str(v)
        return {"string": "x1", "choice": "bogus"}.get(family, "1")
    if kind == "empty":
        if isinstance(v, str):
            return ""
        return {} if isinstance(v, dict) else () if isinstance(v, tuple) else []
    if kind == "numpy_scalar":
        if family == "boolean":
            return np.bool_(v)
        if family in ("string", "choice"):
            return np.str_(v)
        if family == "integer" or (family == "number" and isinstance(v, int)):
            return np.int64(v)
        return np.float32(v) if family == "number" else np.float32(1.0)
    if kind == "array_0d":
        return np.array(v) if scalar else np.array(1.0)
    if kind == "numpy_array":
        if scalar:
            return np.array([v])
        numbers_list = isinstance(v, list) and all(isinstance(x, int) for x in v)
        return np.array(v) if numbers_list and v else np.array([1.0])
    if kind == "tensor":
        numeric = family in ("number", "integer", "boolean")
        return keras.ops.convert_to_tensor(v if numeric else 1.0)
    raise AssertionError(kind)


def expected_error(arg: Arg, kind: str):
    if arg.errors == ANY_ERROR:
        return (TypeError, ValueError)
    if kind in VALUE_ERRORS[arg.family] | arg.value_errors:
        return ValueError
    return TypeError


def public_state(obj: Any) -> Any:
    """What a constructor made, for comparing a numpy and a Python argument."""
    if hasattr(obj, "get_config"):
        config = obj.get_config()
        if isinstance(obj, keras.layers.Layer):
            config.pop("name")  # numbered: split, split_1, ...
        return config
    return {
        k: v
        for k, v in vars(obj).items()
        if not k.startswith("_")
        and not callable(v)
        and (v is None or type(v).__module__ == "builtins")
    }


def use(made: Any) -> None:
    """Uses what a constructor made, cheaply: to tell "late" from "silent".

    A schedule is evaluated at a few steps; a layer is called, a loss or a
    metric computed, on a batch of two. (Only for values that should have been
    refused: a valid value's object is not used.)
    """
    ones = keras.ops.ones
    if isinstance(made, keras.optimizers.schedules.LearningRateSchedule):
        for step in (0, 1, 100):
            if math.isnan(float(made(step))):
                raise ValueError(f"NaN at step {step}")
    elif type(made).__name__ == "CenterLoss":
        made([ones((2, 3)), ones((2, 2))])
    elif isinstance(made, keras.layers.Layer):
        inputs = ones((2, 4))
        if getattr(made, "output_index", None) is not None:
            inputs = [inputs, inputs]
        made(inputs)
    elif type(made).__name__ == "CenterLossObjective":
        _finite(made(np.array([0, 1]), ones((2, 5))))
    elif isinstance(made, keras.losses.Loss):
        _finite(made(np.eye(3)[[0, 1]], ones((2, 3))))
    elif isinstance(made, keras.metrics.Metric):
        made.update_state(np.array([0, 1]), ones((2, 5)))
        _finite(made.result())


def _finite(value: Any) -> None:
    if not np.all(np.isfinite(keras.ops.convert_to_numpy(value))):
        raise ValueError(f"not finite: {value}")


@dataclass
class Spec:
    name: str
    make: Callable[..., Any]
    required: Callable[[], dict]
    args: dict[str, Arg]
    observe: Callable[[Any], Any] = public_state
    # Uses what a bad value made, to tell an error raised only later ("late")
    # from a value accepted silently; by default a schedule is evaluated.
    use: Callable[[Any], Any] = use
