"""The operations schedules are written in: `keras.ops` for tensors, numpy for numbers.

A schedule's `_evaluate` runs in two places. Inside a compiled train step its
inputs are tensors and every operation must be a `keras.ops` call, so that it
becomes part of the graph. When the step is a number already known on the host
(an eager PyTorch train step, a call like `schedule(100)`), the same code runs
on numpy scalars instead: one Keras op costs about 15 µs of dispatch on
PyTorch, a numpy scalar operation well under 1 µs, and a warmup + piecewise
schedule is some forty operations.

Each function below takes the scalar path when none of its arguments is a
tensor. Scalars keep float32 / int32 arithmetic (a Python number meeting a
numpy scalar takes the numpy scalar's type, as it takes the tensor's type in
Keras), so the two paths agree to float32 rounding: the last bit may differ
where XLA fuses arithmetic or a backend's `sin` or `exp` rounds differently
from numpy's, as the backends already differ from one another.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from keras import ops

_SCALARS = (int, float, np.generic)  # concrete types: isinstance on an ABC is slow
_SCALAR_TYPES = {"float32": np.float32, "int32": np.int32}


def _scalars(x1: Any, x2: Any = 0, x3: Any = 0) -> bool:
    return (
        isinstance(x1, _SCALARS)
        and isinstance(x2, _SCALARS)
        and isinstance(x3, _SCALARS)
    )


def _typed(value: Any, like: Any) -> Any:
    """A Python number as the numpy scalar type of `like` (a weak type, as in Keras)."""
    if isinstance(value, np.generic) or not isinstance(like, np.generic):
        return value
    return like.dtype.type(value)


def cast(x: Any, dtype: str) -> Any:
    if _scalars(x):
        return _SCALAR_TYPES[dtype](x)
    return ops.cast(x, dtype)


def where(condition: Any, x1: Any, x2: Any) -> Any:
    if isinstance(condition, bool):  # decided by the schedule's own arguments
        return x1 if condition else x2
    if _scalars(condition, x1, x2):
        return _typed(x1, x2) if condition else _typed(x2, x1)
    return ops.where(condition, x1, x2)


def greater_equal(x1: Any, x2: Any) -> Any:
    if _scalars(x1, x2):
        return np.bool_(x1 >= x2)
    return ops.greater_equal(x1, x2)


def equal(x1: Any, x2: Any) -> Any:
    if _scalars(x1, x2):
        return np.bool_(x1 == x2)
    return ops.equal(x1, x2)


def minimum(x1: Any, x2: Any) -> Any:
    if _scalars(x1, x2):
        return _typed(x1, x2) if x1 <= x2 else _typed(x2, x1)
    return ops.minimum(x1, x2)


def maximum(x1: Any, x2: Any) -> Any:
    if _scalars(x1, x2):
        return _typed(x1, x2) if x1 >= x2 else _typed(x2, x1)
    return ops.maximum(x1, x2)


def full_like(x: Any, fill_value: float, dtype: str) -> Any:
    if _scalars(x):
        return _SCALAR_TYPES[dtype](fill_value)
    return ops.full_like(x, fill_value, dtype=dtype)


def zeros_like(x: Any, dtype: str | None = None) -> Any:
    if _scalars(x):
        return _SCALAR_TYPES[dtype](0) if dtype else type(x)(0)
    return ops.zeros_like(x, dtype=dtype)


def floor_divide(x1: Any, x2: Any) -> Any:
    if _scalars(x1, x2):
        return x1 // x2
    return ops.floor_divide(x1, x2)


def mod(x1: Any, x2: Any) -> Any:
    if _scalars(x1, x2):
        return x1 % x2
    return ops.mod(x1, x2)


def _unary(keras_op, numpy_op):
    def op(x: Any) -> Any:
        return numpy_op(x) if _scalars(x) else keras_op(x)

    op.__name__ = keras_op.__name__
    return op


def power(x1: Any, x2: Any) -> Any:
    if _scalars(x1, x2):
        return _typed(x1, x2) ** _typed(x2, x1)
    return ops.power(x1, x2)


exp = _unary(ops.exp, np.exp)
expm1 = _unary(ops.expm1, np.expm1)
floor = _unary(ops.floor, np.floor)
log = _unary(ops.log, np.log)
log1p = _unary(ops.log1p, np.log1p)
sin = _unary(ops.sin, np.sin)
sqrt = _unary(ops.sqrt, np.sqrt)
square = _unary(ops.square, np.square)


# -- tables: constant arrays looked up at the step ---------------------------------


class Table:
    """A constant 1-D array that a schedule looks values up in.

    It is kept twice: as numpy for the host path, and as a tensor for the graph,
    made once when the schedule is built, outside any trace (converting a numpy
    array inside `torch.compile` breaks the graph).
    """

    def __init__(self, values: Any, dtype: str):
        self.numpy = np.asarray(values, dtype=dtype)
        self.tensor = ops.convert_to_tensor(self.numpy, dtype=dtype)

    def __len__(self) -> int:
        return len(self.numpy)


def searchsorted(table: Table, x: Any) -> Any:
    """How many entries of the sorted int32 `table` are `<= x`, as int32.

    A binary search (`side="right"`), elementwise over `x`: its cost does not
    grow with the length of the table, and neither does the trace.
    """
    if _scalars(x):
        return np.int32(np.searchsorted(table.numpy, x, side="right"))
    if isinstance(x, np.ndarray):  # a host step that torch.compile made an array
        return np.searchsorted(table.numpy, x, side="right").astype("int32")
    flat = ops.reshape(x, (-1,))  # TensorFlow searches 1-D values only
    index = ops.searchsorted(table.tensor, flat, side="right")
    return ops.reshape(ops.cast(index, "int32"), ops.shape(x))


def take(table: Table, index: Any) -> Any:
    """`table[index]`, elementwise over an int32 `index`."""
    if _scalars(index) or isinstance(index, np.ndarray):
        return table.numpy[index]
    return ops.take(table.tensor, index)
