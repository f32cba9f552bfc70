"""The loss and metric that read a `CenterLoss` layer's joined output."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from coolkeras import _keras_internals, _validation
from coolkeras.layers.center_loss import _LATEST_BY_NAME, CenterLoss

__all__ = ["CenterLossMetric", "CenterLossObjective"]


def _concrete(x: Any) -> np.ndarray | None:
    """The value of `x` in eager execution, `None` while tracing a graph."""
    try:
        return np.asarray(ops.convert_to_numpy(x))
    except Exception:  # JAX tracer, symbolic TensorFlow tensor
        return None


def _class_indices(y_true, num_classes: int):
    """Labels as `(B,)` int32 class indices, and whether they were one-hot."""
    shape = tuple(y_true.shape)
    if len(shape) == 2 and shape[-1] == num_classes:
        return ops.argmax(y_true, axis=-1), True
    if len(shape) == 1 or (len(shape) == 2 and shape[-1] == 1):
        labels = ops.cast(ops.reshape(y_true, (-1,)), "int32")
        values = _concrete(labels)
        if (
            values is not None
            and values.size
            and (values.min() < 0 or values.max() >= num_classes)
        ):
            raise ValueError(
                f"Labels must be class indices in [0, {num_classes}). Received: "
                f"labels with values in [{values.min()}, {values.max()}]"
            )
        return labels, False
    raise ValueError(
        "Labels must be sparse, of shape (batch,) or (batch, 1), or one-hot, of "
        f"shape (batch, {num_classes}). Received: labels of shape {shape}"
    )


@keras.saving.register_keras_serializable(package="coolkeras")
class CenterLossObjective(keras.losses.Loss):
    """Classification loss plus a `CenterLoss` layer's center term.

    Made by `CenterLoss.loss()`; see there. It reads the layer's centers and,
    for `update="paper"` in a training step, updates them. Its config names the
    layer; loading a compiled model binds the loss to the layer of that model.

    Args:
        layer: the `CenterLoss` layer whose output this loss receives.
        classification_loss: loss applied to the classifier part; `None` means
            cross-entropy from logits. Defaults to `None`.
        name: the loss name. Defaults to `"center_loss_objective"`.
        reduction: Keras reduction of the per-sample values.
            Defaults to `"sum_over_batch_size"`.
        dtype: the loss dtype. Defaults to `None`.
    """

    def __init__(
        self,
        layer: CenterLoss,
        classification_loss: Any = None,
        name: str = "center_loss_objective",
        reduction: str = "sum_over_batch_size",
        dtype: Any = None,
    ):
        if not isinstance(layer, CenterLoss):
            raise TypeError(
                f"`layer` must be a `CenterLoss` layer. Received: layer={layer!r}"
            )
        if not layer.built:
            raise ValueError(
                "`layer` must be built (called on `[head, features]`): its shape "
                f"sets the classes. Received: layer={layer!r}"
            )
        name = _validation.string("name", name)
        # Keras checks the value of `reduction`; its type is checked here.
        reduction = _validation.string("reduction", reduction, allow_none=True)
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.layer = layer
        self.classification_loss = classification_loss
        self._classification = (
            None
            if classification_loss is None
            else _keras_object(
                "classification_loss", classification_loss, keras.losses.get, "loss"
            )
        )

    def call(self, y_true, y_pred):
        layer = self.layer
        classes = layer.num_classes
        head, features = y_pred[:, :classes], ops.cast(y_pred[:, classes:], "float32")
        labels, one_hot = _class_indices(y_true, classes)
        membership = ops.one_hot(labels, classes, dtype="float32")
        centers = ops.cast(layer.centers.value, "float32")
        distance = ops.sum(ops.square(features - ops.matmul(membership, centers)), -1)
        term = ops.cast(layer._lambda_value(), "float32") * 0.5 * distance
        layer.term_tracker.update_state(ops.mean(term))
        if layer.update == "paper" and layer._training_call:
            self._paper_update(membership, ops.stop_gradient(features), centers)
        return ops.cast(self._classify(y_true, labels, one_hot, head), "float32") + term

    def _classify(self, y_true, labels, one_hot, head):
        if self._classification is None:
            if one_hot:
                return keras.losses.categorical_crossentropy(
                    y_true, head, from_logits=True
                )
            return keras.losses.sparse_categorical_crossentropy(
                labels, head, from_logits=True
            )
        if isinstance(self._classification, keras.losses.Loss):
            return self._classification.call(y_true, head)
        return self._classification(y_true, head)

    def _paper_update(self, membership, features, centers):
        # Global-batch statistics: under tf.distribute each replica sees a slice
        # of the batch and would otherwise move its own copy of the centers.
        counts, sums = _keras_internals.sum_over_replicas(
            [
                ops.sum(membership, axis=0)[:, None],
                ops.matmul(ops.transpose(membership), features),
            ]
        )
        delta = (counts * centers - sums) / (1.0 + counts)
        self.layer.centers.assign(
            ops.cast(centers - self.layer.alpha * delta, self.layer.centers.dtype)
        )

    def get_config(self) -> dict[str, Any]:
        classification = self.classification_loss
        if classification is not None and not isinstance(classification, str):
            classification = keras.saving.serialize_keras_object(classification)
        return {
            **super().get_config(),
            "layer": self.layer.name,
            "classification_loss": classification,
            "dtype": self._dtype_policy.name,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> CenterLossObjective:
        config = dict(config)
        layer = _LATEST_BY_NAME.get(config["layer"])
        if layer is None or not layer.built:
            raise ValueError(
                f"No built `CenterLoss` layer named {config['layer']!r} exists for "
                "this loss to read: load the model that contains it, or create the "
                f"loss with `layer.loss()`. Received: layer={config['layer']!r}"
            )
        config["layer"] = layer
        if isinstance(config.get("classification_loss"), dict):
            config["classification_loss"] = keras.saving.deserialize_keras_object(
                config["classification_loss"]
            )
        return cls(**config)


def _keras_object(name: str, value: Any, get: Any, what: str) -> Any:
    """`get(value)` (`keras.losses.get` or `keras.metrics.get`), naming `name`."""
    if not isinstance(value, (bool, np.bool_)) and value is not None:
        try:
            found = get(value)
        except (TypeError, ValueError):
            found = None
        if found is not None:
            return found
    error = ValueError if isinstance(value, str) else TypeError
    raise error(
        f"`{name}` must be a Keras {what} (a name such as {_EXAMPLE[what]!r}, a "
        f"function or a `{what.capitalize()}`). Received: {name}={value!r}"
    )


_EXAMPLE = {"loss": "mse", "metric": "accuracy"}


def _accuracy(y_true, y_pred):
    if len(y_true.shape) == 2 and y_true.shape[-1] == y_pred.shape[-1] > 1:
        return keras.metrics.categorical_accuracy(y_true, y_pred)
    return keras.metrics.sparse_categorical_accuracy(y_true, y_pred)


@keras.saving.register_keras_serializable(package="coolkeras")
class CenterLossMetric(keras.metrics.Metric):
    """A metric of the classifier part of a `CenterLoss` layer's output.

    Made by `CenterLoss.metric()`; see there.

    Args:
        metric: the wrapped Keras metric (name, function or `Metric`);
            `"accuracy"` follows the labels (sparse or one-hot).
        num_classes: width of the classifier part, an integer >= 2.
        name: the name in the logs. Defaults to the wrapped metric's name.
        dtype: the metric dtype. Defaults to `None`.
    """

    def __init__(
        self,
        metric: Any = "accuracy",
        num_classes: int = 2,
        name: str | None = None,
        dtype: Any = None,
    ):
        num_classes = _validation.integer("num_classes", num_classes, minimum=2)
        name = _validation.string("name", name, allow_none=True)
        if isinstance(metric, str) and metric in ("accuracy", "acc"):
            inner = keras.metrics.MeanMetricWrapper(_accuracy, name="accuracy")
        else:
            inner = _keras_object("metric", metric, keras.metrics.get, "metric")
            if not isinstance(inner, keras.metrics.Metric):
                label = (
                    metric
                    if isinstance(metric, str)
                    else getattr(inner, "__name__", type(inner).__name__)
                )
                inner = keras.metrics.MeanMetricWrapper(inner, name=label)
        super().__init__(name=name or inner.name, dtype=dtype)
        self.metric = metric
        self.num_classes = num_classes
        self.inner = inner

    def update_state(self, y_true, y_pred, sample_weight=None):
        head = y_pred[:, : self.num_classes]
        return self.inner.update_state(y_true, head, sample_weight=sample_weight)

    def result(self):
        return self.inner.result()

    def reset_state(self) -> None:
        self.inner.reset_state()

    def get_config(self) -> dict[str, Any]:
        metric = self.metric
        if not isinstance(metric, str):
            metric = keras.saving.serialize_keras_object(metric)
        return {
            **super().get_config(),
            "metric": metric,
            "num_classes": self.num_classes,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> CenterLossMetric:
        config = dict(config)
        if isinstance(config.get("metric"), dict):
            config["metric"] = keras.saving.deserialize_keras_object(config["metric"])
        return cls(**config)
