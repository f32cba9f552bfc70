"""Section 3 of the article: a layer with two outputs.

The article's `SplitVector` halves a vector and returns both halves. coolkeras'
`Split` does it for any axis, equal parts or given sizes, with output shapes
known before any data flows.
"""

import keras
import numpy as np

from coolkeras.layers import Split


def build_model() -> keras.Model:
    inputs = keras.Input((10,))
    left, right = Split(2)(inputs)
    outputs = keras.layers.Concatenate()(
        [keras.layers.Dense(3)(left), keras.layers.Dense(3)(right)]
    )
    return keras.Model(inputs, keras.layers.Dense(1)(outputs))


def main(samples: int = 64, epochs: int = 2, verbose: int = 0) -> dict:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(samples, 10)).astype("float32")
    y = x[:, :5].sum(axis=1, keepdims=True) - x[:, 5:].sum(axis=1, keepdims=True)
    model = build_model()
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, y, epochs=epochs, batch_size=16, verbose=verbose)
    halves = Split(2)(x[:2])
    result = {
        "loss": history.history["loss"],
        "half_shapes": [tuple(half.shape) for half in halves],
    }
    if verbose:
        print(result)
    return result


if __name__ == "__main__":
    main(verbose=1)
