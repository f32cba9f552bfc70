"""`LossLayer`: a layer that carries its own loss term."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from coolkeras import _keras_internals, _validation
from coolkeras.attach import attach_calling_model
from coolkeras.hyperparameter import (
    Hyperparameter,
    current_value,
    number_or_hyperparameter,
)

__all__ = ["LossLayer"]


class _TermMean(keras.metrics.Metric):
    """Reports the mean of a loss layer's term since the last metrics reset.

    The running sum and count live in the layer as non-trainable variables,
    because only those survive a JAX train step when updated inside `call`;
    this metric is a read-only view that puts the term into the logs.
    """

    def __init__(self, total: keras.Variable, count: keras.Variable, name: str):
        super().__init__(name=name)
        # Not tracked as metric variables: they belong to the layer.
        object.__setattr__(self, "_accumulators", (total, count))

    def update_state(self, *args, **kwargs) -> None:
        pass

    def reset_state(self) -> None:
        for variable in self._accumulators:
            variable.assign(ops.zeros(variable.shape, variable.dtype))

    def result(self):
        total, count = self._accumulators
        if _keras_internals.is_unmapped_in_stateless_scope(total):
            # Inside a JAX train step the layer's state is not visible here; the
            # epoch logs, computed after the step, carry the exact value.
            return ops.convert_to_tensor(float("nan"))
        return ops.divide_no_nan(total.value, count.value)


def _output_index(value: Any) -> int | list[int] | None:
    """`None`, an index, or a list of indices (negative ones count from the end)."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return _validation.integer_list("output_index", value)
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return _validation.integer("output_index", value)
    raise TypeError(
        "`output_index` must be None, an integer or a list of integers. "
        f"Received: output_index={value!r}"
    )


class LossLayer(keras.layers.Layer):
    """Base class for layers that add a loss term of their own.

    Subclasses write only `compute_loss(inputs, training)`, returning a scalar (or
    per-sample values, which are averaged). The base class multiplies it by
    `weight`, adds it with `add_loss`, reports the weighted term in the training
    logs under the layer's name, and returns a pass-through of its inputs, so the
    layer sits in a functional graph like any other. An inference model built
    from the same layers without this one carries no such loss.

    On JAX the per-batch logs show `nan` for the term (the train step cannot read
    the layer's state there); epoch logs, `History` and every epoch callback get
    the exact mean.

    Args:
        weight: non-negative factor applied to the term: a number, a schedule
            or a `coolkeras.Hyperparameter` (then call `coolkeras.attach(model)`
            after compile). Defaults to `1.0`.
        output_index: which input to return: `None` returns the inputs unchanged,
            an integer returns `inputs[output_index]`, a list of integers returns
            those inputs as a list. Defaults to `None`.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Raises:
        TypeError: if `weight` is not a number, schedule or hyperparameter, or
            `output_index` not None, an integer or a list of integers (numpy
            integers count as integers).
        ValueError: if `weight < 0` (for a schedule or hyperparameter: any of
            its values known at construction).

    Example:

    >>> import keras
    >>> from coolkeras.layers import LossLayer
    >>> class L2Activity(LossLayer):
    ...     def compute_loss(self, inputs, training=None):
    ...         return keras.ops.mean(keras.ops.square(inputs))
    >>> layer = L2Activity(weight=0.5)
    >>> _ = layer(keras.ops.ones((2, 3)))
    >>> [float(loss) for loss in layer.losses]
    [0.5]
    """

    def __init__(
        self,
        weight: float = 1.0,
        output_index: int | list[int] | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.weight = number_or_hyperparameter("weight", weight)
        self.output_index = _output_index(output_index)

    def build(self, input_shape: Any) -> None:
        # autocast=False: float32 sums under mixed precision. On PyTorch, Keras
        # 3.15 assigns into the autocast (float16) copy of an autocast variable
        # inside `call`, so the sums would silently stay at zero.
        self._term_total = self.add_weight(
            shape=(),
            initializer="zeros",
            dtype="float32",
            trainable=False,
            autocast=False,
            name="term_total",
        )
        self._term_count = self.add_weight(
            shape=(),
            initializer="zeros",
            dtype="float32",
            trainable=False,
            autocast=False,
            name="term_count",
        )
        self.term_tracker = _TermMean(self._term_total, self._term_count, self.name)

    def compute_loss(self, inputs: Any, training: bool | None = None):
        """Returns the loss term for `inputs`. Subclasses implement this."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement `compute_loss(inputs, training)`."
        )

    def call(self, inputs, training=None):
        if isinstance(self.weight, Hyperparameter):
            attach_calling_model()
        term = ops.mean(self.compute_loss(inputs, training=training))
        term = ops.cast(term, "float32") * current_value(self.weight)
        self.add_loss(term)
        self._term_total.assign_add(term)
        self._term_count.assign_add(1.0)
        return self._pass_through(inputs)

    def _pass_through(self, inputs):
        if self.output_index is None:
            return inputs
        if isinstance(self.output_index, (list, tuple)):
            return [inputs[i] for i in self.output_index]
        return inputs[self.output_index]

    def compute_output_shape(self, input_shape: Any) -> Any:
        return self._pass_through(input_shape)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LossLayer:
        config = dict(config)
        config["weight"] = keras.saving.deserialize_keras_object(config["weight"])
        return cls(**config)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "weight": keras.saving.serialize_keras_object(self.weight),
            "output_index": self.output_index,
        }
