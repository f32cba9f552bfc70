"""`CenterLoss`: class centers for a feature layer, updated by gradient or by the
α rule of Wen et al. (ECCV 2016)."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

import keras
from keras import ops

from coolkeras import _validation
from coolkeras.attach import attach_calling_model
from coolkeras.hyperparameter import (
    Hyperparameter,
    current_value,
    number_or_hyperparameter,
)

if TYPE_CHECKING:
    from coolkeras.layers.center_loss_objective import (
        CenterLossMetric,
        CenterLossObjective,
    )

__all__ = ["CenterLoss"]

_UPDATES = ("gradient", "paper")

# The latest `CenterLoss` layer created under each name. `load_model` creates a
# model's layers and then, at once, its compile config: a loss read from a file
# binds to the layer of the model just loaded. (Keras' object sharing cannot do
# it: the model config is copied before the compile config is serialized.)
_LATEST_BY_NAME: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def _initializer(value: Any) -> keras.initializers.Initializer:
    """`keras.initializers.get`, with an error that names the argument."""
    if not isinstance(value, (str, dict)) and not callable(value):
        initializer = None  # numbers, arrays (Keras' "initial value"), None
    else:
        try:
            initializer = keras.initializers.get(value)
        except (TypeError, ValueError):
            initializer = None
    if initializer is None:
        error = ValueError if isinstance(value, str) else TypeError
        raise error(
            "`centers_initializer` must be a Keras initializer or its name, such "
            f"as 'zeros'. Received: centers_initializer={value!r}"
        )
    return initializer


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
        TypeError: at construction, for an argument of the wrong type (numpy
            scalars count as numbers).
        ValueError: at construction, for `weight < 0` (a schedule's or
            hyperparameter's values too, as far as they are known), `alpha`
            outside (0, 1] or an unknown `update`; when called, for inputs
            that are not two rank-2 tensors, and, in eager execution (PyTorch,
            `run_eagerly=True`), labels outside `[0, classes)`.

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
        self.weight = number_or_hyperparameter("weight", weight)
        self.update = _validation.string_choice("update", update, _UPDATES)
        self.alpha = _validation.number("alpha", alpha, low=0, low_open=True, high=1)
        self.centers_initializer = _initializer(centers_initializer)
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
        if isinstance(self.weight, Hyperparameter):
            attach_calling_model()
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
        from coolkeras.layers.center_loss_objective import CenterLossObjective

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
        from coolkeras.layers.center_loss_objective import CenterLossMetric

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
