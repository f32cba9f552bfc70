"""`AddLoss`: the functional-API form of `model.add_loss(tensor)`."""

from __future__ import annotations

import keras
from keras import ops

from coolkeras.layers.loss_layer import LossLayer

__all__ = ["AddLoss"]


@keras.saving.register_keras_serializable(package="coolkeras")
class AddLoss(LossLayer):
    """Adds a tensor computed in the graph as an extra training loss.

    Keras 2 let a functional model call `model.add_loss(tensor)` on a symbolic
    tensor; Keras 3 raises `NotImplementedError` for it. `AddLoss` is the layer
    form: the mean of its first input, times `weight`, is added to the loss of
    every training step and reported in the logs under the layer's `name`.

    Args:
        weight: non-negative factor applied to the term. Defaults to `1.0`.
        output_index: `None` returns the input unchanged; with a list input
            `[loss, carried]`, `output_index=1` returns `carried`, which puts the
            layer on the path to the model's outputs. Defaults to `None`.
        **kwargs: base layer keyword arguments; `name` is the key in the logs.

    Example:

    >>> import keras, numpy as np
    >>> from coolkeras.layers import AddLoss
    >>> x = keras.Input((4,))
    >>> h = keras.layers.Dense(4)(x)
    >>> penalty = keras.ops.mean(keras.ops.square(h), axis=-1)
    >>> y = AddLoss(weight=0.1, output_index=1, name="l2")([penalty, h])
    >>> train = keras.Model(x, keras.layers.Dense(1)(y))
    >>> train.compile("sgd", "mse")
    >>> logs = train.fit(np.ones((8, 4)), np.ones((8, 1)), verbose=0).history
    >>> sorted(logs)
    ['l2', 'loss']
    """

    def compute_loss(self, inputs, training=None):
        loss = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
        return ops.mean(loss)
