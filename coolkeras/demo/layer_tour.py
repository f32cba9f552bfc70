"""A short tour of the article's layer techniques, trained and reloaded."""

from __future__ import annotations

import tempfile
from pathlib import Path

import keras
import numpy as np

from coolkeras.layers import AddLoss, Function, Split


def train_noise(x, stddev=0.1, training=False, seed=None):
    """Gaussian noise while training, identity at inference."""
    if not training:
        return x
    return x + stddev * keras.random.normal(keras.ops.shape(x), seed=seed)


def _model() -> keras.Model:
    inputs = keras.Input((8,))
    noisy = Function(train_noise, arguments={"stddev": 0.1}, seed=0)(inputs)
    left, right = Split(2)(noisy)
    features = keras.layers.Concatenate()(
        [
            keras.layers.Dense(4, activation="tanh")(left),
            keras.layers.Dense(4, activation="tanh")(right),
        ]
    )
    penalty = keras.ops.mean(keras.ops.square(features), axis=-1)
    features = AddLoss(weight=0.01, output_index=1, name="activity")(
        [penalty, features]
    )
    return keras.Model(inputs, keras.layers.Dense(1)(features))


def run(epochs: int = 3, verbose: int = 1) -> dict:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 8)).astype("float32")
    y = np.sin(x[:, :4].sum(1, keepdims=True)) + x[:, 4:].mean(1, keepdims=True)
    model = _model()
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, y, epochs=epochs, batch_size=32, verbose=verbose)
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "tour.keras")
        model.save(path)
        reloaded = keras.models.load_model(path)
    same = np.allclose(reloaded.predict(x, verbose=0), model.predict(x, verbose=0))
    result = {
        "backend": keras.backend.backend(),
        "final_loss": history.history["loss"][-1],
        "final_activity_term": history.history["activity"][-1],
        "reloaded_with_safe_mode_matches": bool(same),
    }
    for key, value in result.items():
        print(f"{key:>34}: {value}")
    return result
