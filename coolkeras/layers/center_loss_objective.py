"""The loss and metric that read a `CenterLoss` layer's joined output."""

from __future__ import annotations

import weakref
from typing import Any

import keras
import numpy as np
from keras import ops

from coolkeras import _keras_internals, _validation
from coolkeras.layers import _center_loss_rule as rule
from coolkeras.layers.center_loss import CenterLoss

__all__ = ["CenterLossMetric", "CenterLossObjective"]


def _class_indices(y_true, num_classes: int):
    """Labels as `(B,)` integer class indices, whether they were one-hot, and,
    for sparse labels, which of them are in `[0, num_classes)` (`None`: all are).

    Out-of-range labels are clipped into range in the indices, because gathers
    and one-hot encodings clamp or wrap them differently on each backend: the
    callers mark those samples themselves (a NaN loss), never a silent clamp.
    Two element-wise ops per step (PyTorch runs each eagerly).
    """
    shape = tuple(y_true.shape)
    if len(shape) == 2 and shape[-1] == num_classes:
        return ops.argmax(y_true, axis=-1), True, None
    if len(shape) == 1 or (len(shape) == 2 and shape[-1] == 1):
        labels = ops.reshape(y_true, (-1,))
        if "int" not in keras.backend.standardize_dtype(labels.dtype):
            labels = ops.cast(labels, "int32")
        indices = ops.clip(labels, 0, num_classes - 1)
        return indices, False, ops.equal(indices, labels)
    raise ValueError(
        "Labels must be sparse, of shape (batch,) or (batch, 1), or one-hot, of "
        f"shape (batch, {num_classes}). Received: labels of shape {shape}"
    )


def _per_sample(sample_weight, batch_like):
    """`sample_weight` as a `(B,)` float32 vector, or `None`."""
    if sample_weight is None:
        return None
    weights = ops.cast(ops.convert_to_tensor(sample_weight), "float32")
    if len(weights.shape) == 2 and weights.shape[-1] == 1:
        weights = ops.squeeze(weights, axis=-1)
    if len(weights.shape) == 0:
        weights = ops.ones_like(batch_like) * weights
    return weights


def _mark_invalid(valid, weights, *values):
    """NaN for the samples with an out-of-range label, unless their weight is 0
    (a padding or unlabelled sample, which counts for nothing)."""
    if weights is None:
        return [ops.where(valid, value, float("nan")) for value in values]
    ignored = ops.logical_or(valid, ops.equal(weights, 0.0))
    nan = ops.where(ignored, 0.0, float("nan"))
    return [ops.where(valid, value, nan) for value in values]


def _half(weight):
    """½·λ: a number stays a number (no tensor op per step)."""
    if isinstance(weight, (int, float)):
        return 0.5 * float(weight)
    return ops.cast(weight, "float32") * 0.5


def _track(tracker: keras.metrics.Mean, value) -> None:
    """Adds one batch's value to a `Mean` (two updates, where `update_state`
    runs about six ops: PyTorch runs each eagerly)."""
    _keras_internals.assign_add(tracker.total, ops.cast(value, tracker.total.dtype))
    _keras_internals.assign_add(tracker.count, 1.0)


def _batch_value(values, weights, reduction: str):
    """The batch's value of the per-sample `values` as `reduction` reduces them
    (for the logs: without the division by replicas of a distributed loss)."""
    weighted = values if weights is None else values * weights
    if reduction == "sum":
        return ops.sum(weighted)
    if reduction == "mean_with_sample_weight" and weights is not None:
        return ops.divide_no_nan(ops.sum(weighted), ops.sum(weights))
    return ops.mean(weighted)


@keras.saving.register_keras_serializable(package="coolkeras")
class CenterLossObjective(keras.losses.Loss):
    """Classification loss plus a `CenterLoss` layer's center term.

    Made by `CenterLoss.loss()`; see there. Per sample: the classification
    loss plus λ·½·‖f − c_y‖², weighted by `sample_weight` and reduced like any
    Keras loss. In a training step (one that records gradients) of
    `update="paper"` it also moves the layer's centers, with the same sample
    weights. A sample whose sparse label is outside `[0, classes)` makes its
    loss NaN (on every backend, also inside a compiled step, which cannot
    raise), adds nothing to the gradients and does not move any center;
    `keras.callbacks.TerminateOnNaN` stops training at such a batch.

    The loss holds its layer. Its config holds the layer's path inside the
    model (names joined by "/", or only the layer's name if the loss is saved
    before its model ever ran); a loss read from a file is bound to the
    `CenterLoss` layer whose output it is compiled on the first time that
    model runs (`fit`, `evaluate`, `predict` or a call), before anything
    changes.

    Args:
        layer: the `CenterLoss` layer whose output this loss receives, or the
            path of that layer inside the model the loss will be compiled with.
        classification_loss: loss applied to the classifier part; `None` means
            cross-entropy from logits. Defaults to `None`.
        name: the loss name. Defaults to `"center_loss_objective"`.
        reduction: Keras reduction of the per-sample values.
            Defaults to `"sum_over_batch_size"`.
        dtype: the loss dtype. Defaults to `None`.

    Raises:
        TypeError: if `layer` is neither a `CenterLoss` layer nor a path.
    """

    def __init__(
        self,
        layer: CenterLoss | str,
        classification_loss: Any = None,
        name: str = "center_loss_objective",
        reduction: str = "sum_over_batch_size",
        dtype: Any = None,
    ):
        if isinstance(layer, CenterLoss):
            if not layer.built:
                raise ValueError(
                    "`layer` must be built (called on `[head, features]`): its "
                    f"shape sets the classes. Received: layer={layer!r}"
                )
            self._layer, self.path = layer, layer.name
        elif isinstance(layer, str) and layer:
            self._layer, self.path = None, layer
        else:
            raise TypeError(
                "`layer` must be a `CenterLoss` layer or its path in the model. "
                f"Received: layer={layer!r}"
            )
        name = _validation.string("name", name)
        # Keras checks the value of `reduction`; its type is checked here.
        reduction = _validation.string("reduction", reduction, allow_none=True)
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self._model = None  # weak reference to the model it is compiled with
        self._steps = 1  # the model's gradient accumulation steps
        self.classification_loss = classification_loss
        self._classification = (
            None
            if classification_loss is None
            else _keras_object(
                "classification_loss", classification_loss, keras.losses.get, "loss"
            )
        )

    @property
    def layer(self) -> CenterLoss | None:
        """The layer this loss reads, `None` until a loaded loss is bound."""
        return self._layer

    def _bind(self, layer: CenterLoss, model: keras.Model, path, steps: int):
        self._layer = layer
        self.path = path or layer.name
        self._model = weakref.ref(model)
        self._steps = int(steps)

    def _bound_layer(self) -> CenterLoss:
        if self._layer is None:
            raise ValueError(
                f"This loss reads `CenterLoss` layer '{self.path}' and was read "
                "from a file: it is bound to the layer the first time the model "
                "compiled with it runs (`fit`, `evaluate`, `predict` or a call). "
                "Run that model first, or use `layer.loss()`. "
                f"Received: layer={self.path!r}"
            )
        return self._layer

    def __call__(self, y_true, y_pred, sample_weight=None):
        with keras.name_scope(self.name):
            y_pred = ops.convert_to_tensor(y_pred, dtype=self.dtype)
            # Sparse labels stay integers (no float round trip per step).
            y_true = ops.convert_to_tensor(y_true)
            values = self._values(y_true, y_pred, sample_weight, in_a_step=True)
            return _keras_internals.reduce_loss(
                values, sample_weight, self.reduction, self.dtype
            )

    def call(self, y_true, y_pred):
        """The per-sample loss values (no center update, nothing logged)."""
        return self._values(y_true, y_pred, None, in_a_step=False)

    def _values(self, y_true, y_pred, sample_weight, in_a_step: bool):
        layer = self._bound_layer()
        classes, dim = layer.num_classes, layer.feature_dim
        if y_pred.shape[-1] is not None and y_pred.shape[-1] != classes + dim:
            raise ValueError(
                f"The loss of `CenterLoss` layer '{self.path}' expects that "
                f"layer's joined output, of width {classes + dim} ({classes} "
                f"classes + {dim} features): compile the model that ends with the "
                f"layer. Received: y_pred of shape {tuple(y_pred.shape)}"
            )
        head, features = y_pred[:, :classes], ops.cast(y_pred[:, classes:], "float32")
        labels, one_hot, valid = _class_indices(y_true, classes)
        centers = ops.cast(layer.centers.value, "float32")
        offset = features - ops.take(centers, labels, 0)
        distance = ops.sum(offset * offset, axis=-1)
        term = distance * _half(layer._lambda_value())
        values = ops.cast(self._classify(y_true, labels, one_hot, head), "float32")
        values = values + term
        weights = _per_sample(sample_weight, distance)
        if valid is not None:
            values, term = _mark_invalid(valid, weights, values, term)
        if not in_a_step:
            return values
        _track(layer.term_tracker, _batch_value(term, weights, self.reduction))
        if layer.update == "paper" and _keras_internals.recording_gradients(y_pred):
            self._paper_update(layer, y_true, labels, one_hot, weights, features)
        return values

    def _paper_update(self, layer, y_true, labels, one_hot, weights, features):
        if one_hot:
            membership = ops.one_hot(labels, layer.num_classes, dtype="float32")
        else:
            # The labels as given: an out-of-range one matches no class, so
            # it counts for nothing (no one-hot op, no mask: fewer eager ops).
            given = ops.reshape(y_true, (-1, 1))
            if "int" not in keras.backend.standardize_dtype(given.dtype):
                given = ops.cast(given, "int32")
            classes = np.arange(layer.num_classes, dtype="int32")
            membership = ops.cast(ops.equal(given, classes), "float32")
        if weights is not None:
            membership = membership * weights[:, None]
        counts, sums = rule.batch_statistics(membership, ops.stop_gradient(features))
        steps = self._steps
        rule.apply(layer, counts, sums, self._micro_batch(layer, steps), steps)

    def _micro_batch(self, layer, steps: int):
        """The optimizer's raw counter at the start of this step (`steps > 1`)."""
        if steps == 1:
            return None
        if keras.backend.backend() == "jax":
            return layer.paper_state.micro_batch.value  # written by the step hook
        model = self._model() if self._model is not None else None
        counter = _keras_internals.optimizer_batch_counter(model.optimizer)
        return ops.cast(counter.value, "int32")

    def _classify(self, y_true, labels, one_hot, head):
        if self._classification is None and not one_hot:
            return keras.losses.sparse_categorical_crossentropy(
                labels, head, from_logits=True
            )
        y_true = ops.cast(y_true, self.dtype)  # as `Loss.__call__` gives it
        if self._classification is None:
            return keras.losses.categorical_crossentropy(y_true, head, from_logits=True)
        if isinstance(self._classification, keras.losses.Loss):
            return self._classification.call(y_true, head)
        return self._classification(y_true, head)

    def get_config(self) -> dict[str, Any]:
        classification = self.classification_loss
        if classification is not None and not isinstance(classification, str):
            classification = keras.saving.serialize_keras_object(classification)
        return {
            **super().get_config(),
            "layer": self.path,
            "classification_loss": classification,
            "dtype": self._dtype_policy.name,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> CenterLossObjective:
        config = dict(config)
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
