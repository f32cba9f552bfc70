"""Cross-entropy with a label-smoothing epsilon that may follow a schedule."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from coolkeras import _validation
from coolkeras.hyperparameter import (
    Hyperparameter,
    current_value,
    number_or_hyperparameter,
)

__all__ = ["SmoothedCrossEntropy"]

LearningRateSchedule = keras.optimizers.schedules.LearningRateSchedule


@keras.saving.register_keras_serializable(package="coolkeras")
class SmoothedCrossEntropy(keras.losses.Loss):
    """Cross-entropy against labels smoothed by an epsilon that can change.

    Keras' `CategoricalCrossentropy(label_smoothing=...)` takes a fixed float
    (and the sparse loss has no smoothing at all). Here `epsilon` may also be a
    schedule or a `coolkeras.Hyperparameter`, the article's section 5c
    ("ε from 0.1 to 0.01 after epoch 100") in one line. The target is
    `(1 - ε) · onehot(y) + ε / num_classes`. A scheduled epsilon needs
    `coolkeras.attach(model)` after compile, like any hyperparameter.

    Args:
        epsilon: a float in [0, 1], a schedule, or a `Hyperparameter`, whose
            values must stay in [0, 1]: checked here as far as they are known
            (a constant, a schedule's range), and for a `Hyperparameter` at
            every later `assign`, `scale` or `reset`. Defaults to `0.1`.
        from_logits: whether `y_pred` holds logits. Defaults to `False`.
        sparse: `True` for integer labels, `False` for one-hot labels, `None`
            to decide from the label shape. Defaults to `None`.
        reduction: Keras loss reduction. Defaults to `"sum_over_batch_size"`.
        name: loss name. Defaults to `"smoothed_cross_entropy"`.

    Raises:
        TypeError: if an argument has the wrong type (a `keras.Variable` as
            `epsilon`, too: use a `Hyperparameter`).
        ValueError: if `epsilon`, or a known value of its schedule, is outside
            [0, 1], or `reduction` is not one of Keras' reductions.

    Example:

    >>> import numpy as np
    >>> from coolkeras.losses import SmoothedCrossEntropy
    >>> loss = SmoothedCrossEntropy(epsilon=0.2, from_logits=True)
    >>> round(float(loss(np.array([0]), np.zeros((1, 2)))), 4)
    0.6931
    """

    def __init__(
        self,
        epsilon: float | LearningRateSchedule | Hyperparameter = 0.1,
        from_logits: bool = False,
        sparse: bool | None = None,
        reduction: str = "sum_over_batch_size",
        name: str = "smoothed_cross_entropy",
        dtype: str | None = None,
    ):
        epsilon = number_or_hyperparameter("epsilon", epsilon, low=0.0, high=1.0)
        from_logits = _validation.boolean("from_logits", from_logits)
        sparse = _validation.boolean("sparse", sparse, allow_none=True)
        # Keras checks the value of `reduction`; its type is checked here.
        reduction = _validation.string("reduction", reduction, allow_none=True)
        name = _validation.string("name", name, allow_none=True)
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.epsilon = epsilon
        self.from_logits = from_logits
        self.sparse = sparse

    def call(self, y_true, y_pred):
        num_classes = y_pred.shape[-1]
        sparse = self.sparse
        if sparse is None:
            sparse = len(y_true.shape) < len(y_pred.shape) or y_true.shape[-1] == 1
        if sparse:
            labels = ops.reshape(ops.cast(y_true, "int32"), ops.shape(y_pred)[:-1])
            y_true = ops.one_hot(labels, num_classes, dtype=y_pred.dtype)
        if isinstance(self.epsilon, Hyperparameter):
            self.epsilon.check_trained_with(y_pred)
        epsilon = ops.cast(current_value(self.epsilon), y_pred.dtype)
        target = (
            ops.cast(y_true, y_pred.dtype) * (1.0 - epsilon) + epsilon / num_classes
        )
        if self.from_logits:
            log_probabilities = ops.log_softmax(y_pred, axis=-1)
        else:
            probabilities = y_pred / ops.sum(y_pred, axis=-1, keepdims=True)
            log_probabilities = ops.log(
                ops.clip(probabilities, keras.backend.epsilon(), 1.0)
            )
        return -ops.sum(target * log_probabilities, axis=-1)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "epsilon": keras.saving.serialize_keras_object(self.epsilon),
            "from_logits": self.from_logits,
            "sparse": self.sparse,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> SmoothedCrossEntropy:
        config = dict(config)
        config["epsilon"] = keras.saving.deserialize_keras_object(config["epsilon"])
        return cls(**config)
