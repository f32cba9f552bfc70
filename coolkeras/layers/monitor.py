"""`Monitor`: any tensor of the model in the training logs."""

from __future__ import annotations

from typing import Any

import keras

from coolkeras import _validation
from coolkeras.attach import attach_calling_model
from coolkeras.layers._accumulator import (
    REDUCTIONS,
    Accumulator,
    AccumulatorView,
    AccumulatorWeights,
    recording,
)

__all__ = ["Monitor"]


@keras.saving.register_keras_serializable(package="coolkeras")
class Monitor(AccumulatorWeights, keras.layers.Layer):
    """Logs any tensor of the model as a metric, on every backend.

    Keras 2 had `layer.add_metric(tensor)`; Keras 3 raises
    `NotImplementedError` for it, and its documented replacement, a
    `keras.metrics.Mean` updated inside `call()`, fails on JAX (`TypeError:
    'NoneType' object is not callable`). `Monitor` is a pass-through layer
    that records a reduction of the tensor it sees in every training and
    evaluation step, exactly per step on every backend (also with
    `steps_per_execution > 1` and under `keras.distribution`). The value is
    logged under the layer's `name` (and `val_<name>` for validation), per
    batch and per epoch, so the progress bar, `History`, `CSVLogger`,
    `TensorBoard`, `EarlyStopping`, `ModelCheckpoint` and
    `coolkeras.callbacks.ReduceOnPlateau` all see it. It adds nothing to the
    loss, and `predict` does not record.

    Use it in the functional API on a tensor of the graph, or as a sublayer
    inside a layer of your own: create it in `__init__`, call it in `call`
    (`self.norm(ops.norm(h, axis=-1))`). Like a Keras metric, it is reset at
    the start of every epoch and of every evaluation. Its two variables (the
    running value and count) are state, not weights: they are not in
    `get_weights()`.

    Args:
        name: the name in the logs. Defaults to a unique `"monitor"` name.
        reduction: what to log over the epoch: `"mean"` of all elements seen,
            their `"sum"`, `"max"` or `"min"`, or the mean of the tensor at
            the `"last"` step. Defaults to `"mean"`.
        output_index: what to return: `None` returns the inputs unchanged; with
            a list input `[monitored, carried]`, `1` returns `carried`, which
            keeps a tensor computed only for the logs on the path to the
            outputs. A list of integers returns those inputs. The monitored
            tensor is the input, or the first of a list. Defaults to `None`.
        **kwargs: base layer keyword arguments (`dtype`, ...).

    Call arguments:
        inputs: a tensor of any shape and numeric dtype, or a list whose first
            element is the tensor to monitor.

    Returns:
        The inputs, or those `output_index` selects, unchanged.

    Raises:
        ValueError: if `reduction` is not one of the names above.
        TypeError: if `output_index` is not `None`, an integer or a list of
            integers.

    Example:

    >>> import keras, numpy as np
    >>> from coolkeras.layers import Monitor
    >>> x = keras.Input((2,))
    >>> h = keras.layers.Dense(2, kernel_initializer="ones")(x)
    >>> norm = keras.ops.sqrt(keras.ops.sum(keras.ops.square(h), axis=-1))
    >>> h = Monitor("norm", output_index=1)([norm, h])
    >>> model = keras.Model(x, keras.layers.Dense(1)(h))
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> history = model.fit(np.ones((4, 2)), np.zeros((4, 1)), verbose=0)
    >>> sorted(history.history), round(history.history["norm"][0], 4)
    (['loss', 'norm'], 2.8284)
    """

    def __init__(
        self,
        name: str | None = None,
        reduction: str = "mean",
        output_index: int | list[int] | None = None,
        **kwargs: Any,
    ):
        name = _validation.string("name", name, allow_none=True)
        super().__init__(name=name, **kwargs)
        self.reduction = _validation.string_choice("reduction", reduction, REDUCTIONS)
        self.output_index = _validation.index_or_indices("output_index", output_index)
        self.supports_masking = True

    def build(self, input_shape: Any) -> None:
        self._accumulator = Accumulator(self, self.reduction)
        self.tracker = AccumulatorView(self._accumulator, self.name)

    def call(self, inputs):
        attach_calling_model()
        if recording():
            monitored = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
            self._accumulator.update(monitored)
        return self._pass_through(inputs)

    def result(self):
        """The value that would be logged now (eagerly; a float32 scalar)."""
        return self.tracker.result()

    def _pass_through(self, inputs):
        if self.output_index is None:
            return inputs
        if isinstance(self.output_index, list):
            return [inputs[i] for i in self.output_index]
        return inputs[self.output_index]

    def compute_output_spec(self, inputs):
        # New tensors of the same shape and dtype (the dtype is kept, also an
        # integer one): returning the inputs would leave the layer out of a
        # functional graph.
        return keras.tree.map_structure(
            lambda t: keras.KerasTensor(t.shape, t.dtype, sparse=t.sparse),
            self._pass_through(inputs),
        )

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "reduction": self.reduction,
            "output_index": self.output_index,
        }
