"""Shared pieces of `check_layer`: the error, the report, data and comparisons."""

from __future__ import annotations

import dataclasses
import inspect
import re
from typing import Any

import keras
import numpy as np

__all__ = ["LayerCheckError", "LayerCheckReport"]

# Size used for `None` axes of `input_shape` in the concrete (eager) data.
UNKNOWN_AXIS_SIZE = 3


class LayerCheckError(AssertionError):
    """Raised by `check_layer` when a layer fails one of its checks.

    It is an `AssertionError`, so a failing check fails a test in pytest or
    unittest like an `assert` would. `check` names the check that failed.
    """

    def __init__(self, check: str, message: str):
        super().__init__(message)
        self.check = check


@dataclasses.dataclass
class LayerCheckReport:
    """What `check_layer` checked and what it saw.

    Attributes:
        layer: class name of the checked layer.
        passed: names of the checks that ran and passed, in order.
        skipped: check name -> why it did not run.
        output_shapes: the shapes of the eager outputs (one per output).
        training_changes_output: whether `training=True` gave other outputs
            than `training=False` on the same data.
    """

    layer: str
    passed: list[str] = dataclasses.field(default_factory=list)
    skipped: dict[str, str] = dataclasses.field(default_factory=dict)
    output_shapes: list[tuple] = dataclasses.field(default_factory=list)
    training_changes_output: bool | None = None

    def __str__(self) -> str:
        lines = [f"check_layer({self.layer}): {len(self.passed)} checks passed"]
        lines += [f"  passed  {name}" for name in self.passed]
        lines += [f"  skipped {name}: {why}" for name, why in self.skipped.items()]
        return "\n".join(lines)


def fail(
    layer: keras.layers.Layer,
    check: str,
    problem: str,
    fix: str,
    expected: Any = None,
    received: Any = None,
) -> LayerCheckError:
    """Builds the error: what is wrong, expected vs received, how to fix it."""
    name = type(layer).__name__
    message = f"check_layer({name}): the `{check}` check failed. {problem}"
    if expected is not None or received is not None:
        message += f"\n  Expected: {expected}\n  Received: {received}"
    message += f"\n  How to fix: {fix}"
    return LayerCheckError(check, message)


def _first_line(error: BaseException) -> str:
    lines = [
        re.sub(r"\x1b\[[0-9;]*m|\[[0-9;]*m", "", line).strip()
        for line in str(error).splitlines()
    ]
    lines = [
        line
        for line in lines
        if line and not line.startswith("Exception encountered when calling")
    ]
    text = lines[0][:300].rstrip(".") if lines else ""
    return f"{type(error).__name__}: {text}"


def describe(error: BaseException) -> str:
    """`Type: first line` of an error, and of its root cause if there is one.

    Skips the line Keras puts before an error raised inside a layer's call.
    """
    root, depth = error, 0
    while depth < 8:
        inner = root.__cause__ or (
            None if root.__suppress_context__ else root.__context__
        )
        if inner is None:
            break
        root, depth = inner, depth + 1
    text = _first_line(error)
    if root is not error and _first_line(root) not in text:
        text += f" (caused by {_first_line(root)})"
    return text


def flatten(structure: Any) -> list:
    return list(keras.tree.flatten(structure))


def to_numpy(x: Any) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(x))


def shape_of(x: Any) -> tuple:
    return tuple(None if d is None else int(d) for d in x.shape)


def dtype_of(x: Any) -> str:
    return keras.backend.standardize_dtype(x.dtype)


def is_float(dtype: str) -> bool:
    return "float" in dtype


def shapes_agree(expected: tuple, actual: tuple) -> bool:
    """Shapes agree when ranks match and every known axis is equal."""
    return len(expected) == len(actual) and all(
        e is None or a is None or e == a for e, a in zip(expected, actual, strict=False)
    )


def max_difference(a: Any, b: Any) -> float:
    """Largest absolute difference between two nests of tensors (inf if unlike)."""
    flat_a, flat_b = flatten(a), flatten(b)
    if len(flat_a) != len(flat_b):
        return float("inf")
    worst = 0.0
    for x, y in zip(flat_a, flat_b, strict=False):
        x, y = to_numpy(x).astype("float64"), to_numpy(y).astype("float64")
        if x.shape != y.shape:
            return float("inf")
        if x.size:
            worst = max(worst, float(np.max(np.abs(x - y))))
    return worst


def all_close(a: Any, b: Any, rtol: float, atol: float) -> bool:
    flat_a, flat_b = flatten(a), flatten(b)
    if len(flat_a) != len(flat_b):
        return False
    for x, y in zip(flat_a, flat_b, strict=False):
        x, y = to_numpy(x).astype("float64"), to_numpy(y).astype("float64")
        if x.shape != y.shape or not np.allclose(
            x, y, rtol=rtol, atol=atol, equal_nan=True
        ):
            return False
    return True


def make_data(
    shapes: list[tuple], dtype: str, batch_size: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """Seeded sample data: normal floats, or integers in [0, 10)."""
    arrays = []
    for shape in shapes:
        full = (batch_size,) + tuple(
            UNKNOWN_AXIS_SIZE if d is None else d for d in shape
        )
        if is_float(dtype):
            arrays.append(rng.normal(size=full).astype(dtype))
        else:
            arrays.append(rng.integers(0, 10, size=full).astype(dtype))
    return arrays


def init_parameters(layer: keras.layers.Layer) -> dict[str, inspect.Parameter]:
    """Named `__init__` parameters of the layer's class (no self, *args, **kw)."""
    try:
        signature = inspect.signature(type(layer).__init__)
    except (TypeError, ValueError):
        return {}
    return {
        name: p
        for name, p in list(signature.parameters.items())[1:]
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }


def call_accepts(layer: keras.layers.Layer, name: str) -> bool:
    try:
        return name in inspect.signature(layer.call).parameters
    except (TypeError, ValueError):
        return False


def overrides(layer: keras.layers.Layer, method: str) -> bool:
    return getattr(type(layer), method) is not getattr(keras.layers.Layer, method)


def missing_config_args(layer: keras.layers.Layer, config: dict) -> list[str]:
    return [name for name in init_parameters(layer) if name not in config]


def config_fix(layer: keras.layers.Layer, names: list[str]) -> str:
    entries = ", ".join(f"'{n}': self.{n}" for n in names) or "'arg': self.arg"
    return (
        "make get_config() return every __init__ argument: "
        f"`return {{**super().get_config(), {entries}}}` in {type(layer).__name__}."
    )


@dataclasses.dataclass
class Context:
    layer: keras.layers.Layer
    shapes: list[tuple]  # per input, without the batch axis
    multi_input: bool
    input_dtype: str
    data: list[np.ndarray]
    rtol: float
    atol: float
    rng: np.random.Generator
    outputs: Any = None  # eager outputs with training=False

    @property
    def x(self) -> Any:
        return list(self.data) if self.multi_input else self.data[0]

    def symbolic_inputs(self) -> Any:
        inputs = [keras.Input(shape, dtype=self.input_dtype) for shape in self.shapes]
        return inputs if self.multi_input else inputs[0]

    def batch_shapes(self, batch: int | None) -> Any:
        shapes = [(batch,) + tuple(s) for s in self.shapes]
        return shapes if self.multi_input else shapes[0]
