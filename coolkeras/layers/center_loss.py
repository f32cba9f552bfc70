"""`CenterLoss`: class centers for a feature layer, updated by gradient or by the
α rule of Wen et al. (ECCV 2016)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import keras
from keras import ops

from coolkeras import _keras_internals, _validation
from coolkeras.attach import attach_calling_model
from coolkeras.hyperparameter import (
    Hyperparameter,
    current_value,
    number_or_hyperparameter,
)
from coolkeras.layers import _center_loss_wiring as wiring
from coolkeras.layers._center_loss_rule import PaperRuleState

if TYPE_CHECKING:
    from coolkeras.layers.center_loss_objective import (
        CenterLossMetric,
        CenterLossObjective,
    )

__all__ = ["CenterLoss"]

_UPDATES = ("gradient", "paper")


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
      move the centers: a training step is one that records gradients of the
      loss (`fit`, `train_on_batch`, a custom loop under a gradient tape).

    `sample_weight` (and `class_weight`) weigh the center term like the
    classification loss, and the paper rule's counts and sums: `n_j` is the sum
    of the weights of class `j`, and a sample of weight 0 moves no center. With
    `gradient_accumulation_steps=k`, the optimizer updates once per k
    micro-batches and so do the paper rule's centers: the counts and sums of the
    k micro-batches are added up (in the layer's state, not its weights) and
    the centers move once, on the micro-batch where the weights move, as if the
    k micro-batches were one batch; until then every micro-batch sees the same
    centers. Such a model is attached (`coolkeras.attach`), so its schedules
    count updates as the rule does.

    A sparse label outside `[0, classes)` (of a sample whose weight is not 0)
    makes the loss NaN on every backend, also inside a compiled JAX or
    TensorFlow step, which cannot raise: that sample adds nothing to the
    gradients or the centers, and `keras.callbacks.TerminateOnNaN` stops
    training at that batch. Labels are never clamped into range.

    Wiring: the labels are only known to the loss, so the layer joins the
    classifier's output (logits or probabilities, width = number of classes) and
    the features into one training output, and `layer.loss()` splits it again,
    computes the classification loss and the center term, and updates the
    centers. `layer.metric()` wraps a metric to look at the classifier part only.
    Labels go to `fit` once; they may be sparse (`(B,)`, `(B, 1)`) or one-hot. For
    inference, build a second model that ends at the classifier: it needs no
    labels and carries no centers. Both models save and load with the default
    `safe_mode=True`. The loss holds its layer; a loaded loss is bound to the
    layer whose output it is compiled on, in the model it is compiled with (two
    same-named layers in two sub-models each get their own), the first time
    that model runs. Miswiring is refused before anything trains: the inputs in
    the wrong order (features computed from the head) when the layer is called,
    and, at the first run of the compiled model, a joined output compiled with
    any loss other than its layer's `loss()`.

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
        training: unused: the loss knows a training step by its gradients.

    Returns:
        The `(B, classes + dim)` concatenation of `head` and `features`, to be the
        training model's output.

    Raises:
        TypeError: at construction, for an argument of the wrong type (numpy
            scalars count as numbers).
        ValueError: at construction, for `weight < 0` (a schedule's or
            hyperparameter's values too, as far as they are known), `alpha`
            outside (0, 1] or an unknown `update`; when called, for inputs
            that are not two rank-2 tensors or are in the wrong order; when
            the compiled model first runs, for a joined output whose loss is
            not this layer's `loss()`.

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
        if self.update == "paper":
            self.paper_state = PaperRuleState(
                self.num_classes, self.feature_dim, name="paper_state", dtype="float32"
            )

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any):
        if (
            isinstance(inputs, (list, tuple))
            and len(inputs) == 2
            and all(isinstance(x, keras.KerasTensor) for x in inputs)
        ):
            wiring.check_order(self, *inputs)
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs, training=None):
        if isinstance(self.weight, Hyperparameter):
            attach_calling_model()
        model = _keras_internals.call_entry()
        if isinstance(model, keras.Model) and getattr(model, "compiled", False):
            wiring.bind(self, model)
        head, features = inputs
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
