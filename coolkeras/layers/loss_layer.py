"""`LossLayer`: a layer that carries its own loss term."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from coolkeras import _validation
from coolkeras.attach import attach_calling_model
from coolkeras.hyperparameter import current_value, number_or_hyperparameter
from coolkeras.layers._accumulator import (
    Accumulator,
    AccumulatorView,
    AccumulatorWeights,
    recording,
)

__all__ = ["LossLayer"]


class LossLayer(AccumulatorWeights, keras.layers.Layer):
    """Base class for layers that add a loss term of their own.

    Subclasses write only `compute_loss(inputs, training)`, returning a scalar (or
    per-sample values, which are averaged). The base class multiplies it by
    `weight`, adds it with `add_loss`, reports the weighted term in the training
    logs under the layer's name, and returns a pass-through of its inputs, so the
    layer sits in a functional graph like any other. An inference model built
    from the same layers without this one carries no such loss.

    The term is logged as `coolkeras.layers.Monitor` logs a tensor: per batch
    and per epoch, exact on every backend. The running sum and count are
    state, not weights: they are not in `get_weights()`.

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
        self.output_index = _validation.index_or_indices("output_index", output_index)

    def build(self, input_shape: Any) -> None:
        self._accumulator = Accumulator(
            self, "mean", names=("term_total", "term_count")
        )
        self.term_tracker = AccumulatorView(self._accumulator, self.name)

    def compute_loss(self, inputs: Any, training: bool | None = None):
        """Returns the loss term for `inputs`. Subclasses implement this."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement `compute_loss(inputs, training)`."
        )

    def call(self, inputs, training=None):
        attach_calling_model()  # also for a fixed weight: the logs need the model
        term = ops.mean(self.compute_loss(inputs, training=training))
        term = ops.cast(term, "float32") * current_value(self.weight)
        self.add_loss(term)
        if recording():
            self._accumulator.update(term)
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
