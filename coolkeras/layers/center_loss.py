"""`CenterLoss`: class centers for a feature layer, updated by gradient or by the
α rule of Wen et al. (ECCV 2016)."""

from __future__ import annotations

import math
import weakref
from typing import Any

import keras
import numpy as np
from keras import ops

from coolkeras.hyperparameter import current_value, number_or_hyperparameter

__all__ = ["CenterLoss", "CenterLossMetric", "CenterLossObjective"]

_UPDATES = ("gradient", "paper")

# The latest `CenterLoss` layer created under each name. `load_model` creates a
# model's layers and then, at once, its compile config: a loss read from a file
# binds to the layer of the model just loaded. (Keras' object sharing cannot do
# it: the model config is copied before the compile config is serialized.)
_LATEST_BY_NAME: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def _check_alpha(alpha: float) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)):
        raise TypeError(f"`alpha` must be a number. Received: alpha={alpha!r}")
    if not 0 < alpha <= 1:
        raise ValueError(f"`alpha` must be in (0, 1]. Received: alpha={alpha}")
    return float(alpha)


def _concrete(x: Any) -> np.ndarray | None:
    """The value of `x` in eager execution, `None` while tracing a graph."""
    try:
        return np.asarray(ops.convert_to_numpy(x))
    except Exception:  # JAX tracer, symbolic TensorFlow tensor
        return None


@keras.saving.register_keras_serializable(package="coolkeras")
class CenterLoss(keras.layers.Layer):
    """Center loss: pulls each sample's features toward its class center.

    Adds λ·½·mean_i ‖f_i − c_{y_i}‖² to a classifier's loss (Wen et al., "A
    Discriminative Feature Learning Approach for Deep Face Recognition", ECCV 2016;
    the ½ is the paper's, so its λ values carry over). The centers `c` are updated
    in one of two ways:

    - `update="gradient"` (the article): the centers are trainable weights and the
      optimizer moves them by the gradient of the term, so λ also sets their speed.
    - `update="paper"`: the centers are not trainable; each training step applies
      the paper's rule c_j ← c_j − α·Σ_{i: y_i=j}(c_j − f_i) / (1 + n_j), with
      `n_j` the count of class `j` in the batch, using the features of that step.
      λ then weighs only the pull on the features. `evaluate` and `predict` never
      move the centers.

    Wiring: the labels are only known to the loss, so the layer joins the
    classifier's output (logits or probabilities, width = number of classes) and
    the features into one training output, and `layer.loss()` splits it again,
    computes the classification loss and the center term, and updates the
    centers. `layer.metric()` wraps a metric to look at the classifier part only.
    Labels go to `fit` once; they may be sparse (`(B,)`, `(B, 1)`) or one-hot. For
    inference, build a second model that ends at the classifier: it needs no
    labels and carries no centers. Both models save and load with the default
    `safe_mode=True`; a loaded training model's loss updates the loaded layer.

    Args:
        weight: λ, the non-negative weight of the center term: a number, a
            schedule or a `coolkeras.Hyperparameter` (then call
            `coolkeras.attach(model)` after compile). Defaults to `0.5`.
        update: `"gradient"` or `"paper"`. Defaults to `"gradient"`.
        alpha: the paper rule's center learning rate, in (0, 1]; unused by
            `update="gradient"`. Defaults to `0.5`.
        centers_initializer: initializer of the `(classes, features)` centers.
            Defaults to `"zeros"`.
        **kwargs: base layer keyword arguments; `name` is the key of the center
            term in the training logs.

    Call arguments:
        inputs: `[head, features]`: the classifier output `(B, classes)` and the
            features `(B, dim)`.
        training: whether the call is a training step (the paper rule updates
            the centers only then).

    Returns:
        The `(B, classes + dim)` concatenation of `head` and `features`, to be the
        training model's output.

    Raises:
        ValueError: for `weight < 0`, `alpha` outside (0, 1], an unknown `update`,
            inputs that are not two rank-2 tensors, and, in eager execution
            (PyTorch, `run_eagerly=True`), labels outside `[0, classes)`.

    Example:

    >>> import keras, numpy as np
    >>> from coolkeras.layers import CenterLoss
    >>> inputs = keras.Input((4,))
    >>> features = keras.layers.Dense(2)(inputs)
    >>> logits = keras.layers.Dense(3)(features)
    >>> center = CenterLoss(weight=0.1, update="paper", alpha=0.5, name="center")
    >>> train = keras.Model(inputs, center([logits, features]))
    >>> train.compile("adam", loss=center.loss(), metrics=[center.metric()])
    >>> x, y = np.random.rand(30, 4), np.arange(30) % 3
    >>> sorted(train.fit(x, y, epochs=2, verbose=0).history)
    ['accuracy', 'center', 'loss']
    >>> model = keras.Model(inputs, logits)  # inference: no labels, no centers
    >>> model.predict(x, verbose=0).shape
    (30, 3)
    >>> np.asarray(center.centers).shape
    (3, 2)
    """

    def __init__(
        self,
        weight: float = 0.5,
        update: str = "gradient",
        alpha: float = 0.5,
        centers_initializer: Any = "zeros",
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        if update not in _UPDATES:
            raise ValueError(
                f"`update` must be one of {_UPDATES}. Received: update={update!r}"
            )
        self.weight = number_or_hyperparameter("weight", weight)
        self.update = update
        self.alpha = _check_alpha(alpha)
        self.centers_initializer = keras.initializers.get(centers_initializer)
        self.term_tracker = keras.metrics.Mean(name=self.name)
        self._training_call = False
        _LATEST_BY_NAME[self.name] = self

    def _lambda_value(self):
        """λ as used at this step (the one place that reads `weight`)."""
        return current_value(self.weight)

    def build(self, input_shape: Any) -> None:
        if (
            not isinstance(input_shape, (list, tuple))
            or len(input_shape) != 2
            or any(not isinstance(s, (list, tuple)) for s in input_shape)
            or any(len(s) != 2 or s[-1] is None for s in input_shape)
        ):
            raise ValueError(
                "`CenterLoss` expects `[head, features]`: the classifier output "
                "`(batch, classes)` and the features `(batch, dim)`, with known "
                f"last dimensions. Received: input_shape={input_shape}"
            )
        (_, classes), (_, dim) = input_shape
        if classes < 2:
            raise ValueError(
                "The classifier output must have at least 2 classes. "
                f"Received: input_shape={input_shape}"
            )
        self.num_classes, self.feature_dim = int(classes), int(dim)
        self.centers = self.add_weight(
            shape=(self.num_classes, self.feature_dim),
            initializer=self.centers_initializer,
            trainable=self.update == "gradient",
            name="centers",
        )

    def call(self, inputs, training=None):
        head, features = inputs
        # A Python flag read by the loss of the same step (never a tensor): the
        # trainers call the model, then the loss, in one trace or eager step.
        self._training_call = bool(training)
        return ops.concatenate(
            [
                ops.cast(head, self.compute_dtype),
                ops.cast(features, self.compute_dtype),
            ],
            axis=-1,
        )

    def compute_output_shape(self, input_shape: Any) -> tuple:
        head, features = input_shape
        return (head[0], head[-1] + features[-1])

    def loss(self, classification_loss: Any = None) -> CenterLossObjective:
        """The training loss for this layer's output.

        Args:
            classification_loss: a Keras loss (name, function or `Loss`) applied to
                the classifier part. `None` means cross-entropy from logits,
                sparse or categorical following the labels. Defaults to `None`.

        Returns:
            A `CenterLossObjective` bound to this layer, for `compile(loss=...)`.
        """
        self._check_built("loss")
        return CenterLossObjective(self, classification_loss)

    def metric(self, metric: Any = "accuracy") -> CenterLossMetric:
        """Wraps `metric` to read the classifier part of this layer's output.

        Args:
            metric: a Keras metric (name, function or `Metric`). `"accuracy"`
                follows the labels (sparse or one-hot). Defaults to `"accuracy"`.

        Returns:
            A `CenterLossMetric`, for `compile(metrics=[...])`.
        """
        self._check_built("metric")
        return CenterLossMetric(metric, num_classes=self.num_classes)

    def _check_built(self, what: str) -> None:
        if not self.built:
            raise ValueError(
                f"Call the layer on `[head, features]` before asking for its "
                f"{what}: its shape sets the classes. Received: layer={self.name}"
            )

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "weight": keras.saving.serialize_keras_object(self.weight),
            "update": self.update,
            "alpha": self.alpha,
            "centers_initializer": keras.initializers.serialize(
                self.centers_initializer
            ),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> CenterLoss:
        config = dict(config)
        config["weight"] = keras.saving.deserialize_keras_object(config["weight"])
        return cls(**config)


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
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        if not isinstance(layer, CenterLoss):
            raise TypeError(
                f"`layer` must be a `CenterLoss` layer. Received: layer={layer!r}"
            )
        self.layer = layer
        self.classification_loss = classification_loss
        self._classification = (
            None
            if classification_loss is None
            else keras.losses.get(classification_loss)
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
        counts = ops.sum(membership, axis=0)[:, None]
        sums = ops.matmul(ops.transpose(membership), features)
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
        num_classes: width of the classifier part.
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
        if metric in ("accuracy", "acc"):
            inner = keras.metrics.MeanMetricWrapper(_accuracy, name="accuracy")
        else:
            inner = keras.metrics.get(metric)
            if not isinstance(inner, keras.metrics.Metric):
                label = metric if isinstance(metric, str) else inner.__name__
                inner = keras.metrics.MeanMetricWrapper(inner, name=label)
        super().__init__(name=name or inner.name, dtype=dtype)
        self.metric = metric
        self.num_classes = int(num_classes)
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
