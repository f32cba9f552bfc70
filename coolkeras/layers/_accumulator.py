"""A running reduction of a tensor, held by a layer and reported as a metric.

Used by `Monitor` and `LossLayer`. The running value and count are two
non-trainable variables of the layer: the only place where a value computed
in the forward pass survives a JAX train step, which maps the model's
trainable and non-trainable variables there (not its metrics' variables).
The `AccumulatorView` metric puts the result into the logs; on JAX the
`LogsFromState` step hook fills in the per-batch value (see
`coolkeras/_monitoring.py`).
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import ops

from coolkeras import _keras_internals, _step_context, _validation
from coolkeras._monitoring import StateView

REDUCTIONS = ("mean", "sum", "max", "min", "last")

_EMPTY = {
    "mean": 0.0,
    "sum": 0.0,
    "max": float("-inf"),
    "min": float("inf"),
    "last": 0.0,
}


def recording() -> bool:
    """False in a predict step: `predict` updates no metric."""
    values = _step_context.current()
    return values is None or values.kind != "predict"


class Accumulator:
    """A running `reduction` of every element of the tensors given to `update`.

    Args:
        layer: the layer that owns the two variables (built or being built).
        reduction: one of `REDUCTIONS`: `"mean"` and `"sum"` of all elements
            seen, their `"max"` or `"min"`, or the mean of the `"last"` tensor.
        names: the names of the value and count variables.
    """

    def __init__(
        self,
        layer: keras.layers.Layer,
        reduction: str,
        names: tuple[str, str] = ("monitor_value", "monitor_count"),
    ):
        self.reduction = _validation.string_choice("reduction", reduction, REDUCTIONS)
        # autocast=False: float32 sums under mixed precision. On PyTorch, Keras
        # 3.15 assigns into the autocast (float16) copy of an autocast variable
        # inside `call`, so the sums would silently stay at zero.
        self.value, self.count = (
            layer.add_weight(
                shape=(),
                initializer=keras.initializers.Constant(initial),
                dtype="float32",
                trainable=False,
                autocast=False,
                name=name,
            )
            for name, initial in zip(names, (_EMPTY[reduction], 0.0), strict=True)
        )

    def excluded_from(self, weights: list) -> list:
        """`weights` without this accumulator's variables (state, not weights)."""
        return [w for w in weights if w is not self.value and w is not self.count]

    def update(self, tensor: Any) -> None:
        x = ops.cast(ops.convert_to_tensor(tensor), "float32")
        reduction = self.reduction
        if reduction == "last":
            self.value.assign(ops.mean(x))
            _keras_internals.assign_add(self.count, 1.0)
            return
        if reduction in ("mean", "sum"):
            _keras_internals.assign_add(self.value, ops.sum(x))
        elif reduction == "max":
            self.value.assign(ops.maximum(self.value, ops.max(x)))
        else:
            self.value.assign(ops.minimum(self.value, ops.min(x)))
        _keras_internals.assign_add(self.count, _element_count(x))

    def reset(self) -> None:
        self.value.assign(ops.full((), _EMPTY[self.reduction], "float32"))
        self.count.assign(ops.zeros((), "float32"))

    def result(self):
        """The reduction so far; `0.0` before any element."""
        value, count = self.value.value, self.count.value
        if self.reduction == "mean":
            # The value is 0 while the count is: 0 / 1 (cheaper than
            # `divide_no_nan` on eager PyTorch, where results are read per batch).
            return value / ops.maximum(count, 1.0)
        if self.reduction in ("sum", "last"):
            # Starts at 0. A copy: the logs keep the result, and the variable
            # is updated in place afterwards.
            return ops.copy(value)
        return ops.where(count > 0, value, ops.zeros_like(value))


def _element_count(x: Any) -> Any:
    """The number of elements of `x`: a Python number when its shape is static."""
    if all(isinstance(dim, int) for dim in x.shape):
        return float(math.prod(x.shape))
    return ops.cast(ops.size(x), "float32")


class AccumulatorWeights:
    """Mixin for a layer that holds an `Accumulator` as `self._accumulator`:
    its running value and count are state, so `weights` (and `get_weights()`)
    leave them out."""

    @property
    def weights(self) -> list:
        """The layer's weights; the accumulator's value and count are state."""
        weights = super().weights
        accumulator = self.__dict__.get("_accumulator")
        return weights if accumulator is None else accumulator.excluded_from(weights)


class AccumulatorView(StateView):
    """The metric that reports an `Accumulator` under `name` (read-only; its
    variables belong to the layer, and `reset_state` resets them)."""

    def __init__(self, accumulator: Accumulator, name: str):
        super().__init__(name=name)
        # Not tracked as metric variables: they belong to the layer.
        object.__setattr__(self, "_accumulator", accumulator)

    def reads(self) -> list:
        return [self._accumulator.value, self._accumulator.count]

    def compute(self):
        return self._accumulator.result()

    def reset_state(self) -> None:
        self._accumulator.reset()
