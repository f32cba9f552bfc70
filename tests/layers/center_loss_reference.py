"""Shared pieces of the CenterLoss tests: frozen models and numpy references.

With a learning rate of 0 the features never change, so the paper rule's
centers after every micro-batch have a short numpy reference.
"""

import keras
import numpy as np

from coolkeras.layers import CenterLoss
from tests.helpers import to_numpy

ALPHA = 0.6
CLASSES = 3


def data(samples=6, seed=0):
    x = np.random.default_rng(seed).normal(size=(samples, 4)).astype("float32")
    return x, np.arange(samples) % CLASSES


def paper_model(
    name=None, seed=3, centers_initializer=None, weight=0.7, update="paper"
):
    """Input(4) -> features(2) -> head(3) -> CenterLoss named "center"."""
    inputs = keras.Input((4,))
    features = keras.layers.Dense(2, name="features")(inputs)
    logits = keras.layers.Dense(CLASSES, name="head")(features)
    center = CenterLoss(
        weight=weight,
        update=update,
        alpha=ALPHA,
        centers_initializer=centers_initializer
        or keras.initializers.RandomNormal(seed=seed),
        name="center",
    )
    return keras.Model(inputs, center([logits, features]), name=name), center


def features_of(model, x):
    """The features a training model computes for `x` (its `features` layer)."""
    layer = model.get_layer("features")
    return to_numpy(keras.Model(model.input, layer.output)(x)).astype("float64")


def paper_centers(centers, features, labels, batch, weights=None, steps=1):
    """Centers after each micro-batch of `batch` samples (in order), with the
    counts and sums of `steps` micro-batches added up before each update."""
    centers = np.asarray(centers, "float64").copy()
    weights = np.ones(len(labels)) if weights is None else np.asarray(weights)
    counts, sums, seen = 0.0, 0.0, []
    for index, start in enumerate(range(0, len(labels), batch)):
        part = slice(start, start + batch)
        onehot = np.eye(CLASSES)[labels[part]] * weights[part][:, None]
        counts = counts + onehot.sum(0)[:, None]
        sums = sums + onehot.T @ features[part]
        if index % steps == steps - 1:
            centers = centers - ALPHA * (counts * centers - sums) / (1 + counts)
            counts, sums = 0.0, 0.0
        seen.append(centers.copy())
    return seen


class CentersAfterEachBatch(keras.callbacks.Callback):
    """Records the centers of the given layers (found by path) after each batch."""

    def __init__(self, *paths):
        super().__init__()
        self.paths = paths or ("center",)
        self.seen = {path: [] for path in self.paths}

    def on_train_batch_end(self, batch, logs=None):
        for path in self.paths:
            layer = self.model
            for name in path.split("/"):
                layer = layer.get_layer(name)
            self.seen[path].append(to_numpy(layer.centers).astype("float64"))
