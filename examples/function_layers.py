"""Section 1 of the article: function layers, with noise only while training.

Keras 2 code wrote `Lambda(lambda x: K.in_train_phase(x + noise, x))`. In Keras 3
that Lambda does not load with `safe_mode=True`, and unseeded random ops fail
under JAX tracing. With coolkeras the function is a plain `def`, registered
with Keras (so a model naming it loads with `safe_mode=True` wherever this
module is imported), and receives `training` and a seed generator.
"""

import tempfile
from pathlib import Path

import keras
import numpy as np

from coolkeras.layers import Function


@keras.saving.register_keras_serializable(package="coolkeras_examples")
def add_two(x):
    return x + 2.0


@keras.saving.register_keras_serializable(package="coolkeras_examples")
def gaussian_noise(x, stddev=0.1, training=False, seed=None):
    if not training:
        return x
    noise = keras.random.normal(keras.ops.shape(x), dtype=x.dtype, seed=seed)
    return x + stddev * noise


def build_model(stddev: float = 0.1) -> keras.Model:
    inputs = keras.Input((8,))
    hidden = Function(add_two)(inputs)
    hidden = Function(gaussian_noise, arguments={"stddev": stddev}, seed=1)(hidden)
    outputs = keras.layers.Dense(1)(hidden)
    return keras.Model(inputs, outputs)


def main(samples: int = 64, epochs: int = 2, verbose: int = 0) -> dict:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(samples, 8)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    model = build_model()
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, y, epochs=epochs, batch_size=16, verbose=verbose)
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "function_layers.keras")
        model.save(path)
        reloaded = keras.models.load_model(path)  # default safe_mode=True
    noisy = model.layers[2](x[:4] + 2.0, training=True)
    result = {
        "loss": history.history["loss"],
        "reload_matches": bool(
            np.allclose(reloaded.predict(x, verbose=0), model.predict(x, verbose=0))
        ),
        "noise_while_training": float(
            np.abs(keras.ops.convert_to_numpy(noisy) - (x[:4] + 2.0)).max()
        ),
    }
    if verbose:
        print(result)
    return result


if __name__ == "__main__":
    main(verbose=1)
