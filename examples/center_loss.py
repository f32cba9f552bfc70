"""Section 4 of the article: a layer coupled with a loss (center loss).

The article's `Dense_with_Center_loss` kept its traced input in `self.inputs` and
read it in a bound-method loss; here `CenterLoss` joins the logits and the 2-D
features into the training output, and its `loss()` reads the labels from `fit`.
The article's `lamb=0.5` on ‖f − c_y‖² is `weight=1.0` here (λ·½·‖f − c_y‖²).

Run: `KERAS_BACKEND=jax python examples/center_loss.py`.
"""

from __future__ import annotations

import keras
import numpy as np

from coolkeras.layers import CenterLoss


def build(weight: float = 1.0, update: str = "gradient", alpha: float = 0.5):
    """The article's model: Input(784) -> Dense(2) -> 10 classes, with center loss.

    Returns the compiled training model, the inference model and the layer.
    """
    x_in = keras.Input((784,))
    f = keras.layers.Dense(2)(x_in)
    logits = keras.layers.Dense(10)(f)
    center = CenterLoss(weight, update=update, alpha=alpha)
    train = keras.Model(x_in, center([logits, f]))
    train.compile("adam", loss=center.loss(), metrics=[center.metric()])
    return train, keras.Model(x_in, logits), center


def load_digits_784() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8x8 digits, scaled up to MNIST's 28x28 layout."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.kron(digits.images, np.ones((3, 3))) / 16.0  # 24 x 24
    images = np.pad(images, ((0, 0), (2, 2), (2, 2)))  # 28 x 28
    return images.reshape(len(images), 784).astype("float32"), digits.target


def main(
    epochs: int = 2,
    samples: int | None = 512,
    update: str = "gradient",
    weight: float = 1.0,
    seed: int = 0,
    verbose: int = 0,
) -> dict:
    """Trains the article's model on digits; returns losses, accuracy, centers."""
    keras.utils.set_random_seed(seed)
    x, y = load_digits_784()
    x, y = x[:samples], y[:samples]
    train, model, center = build(weight, update=update)
    history = train.fit(x, y, epochs=epochs, batch_size=64, verbose=verbose)
    predicted = np.argmax(model.predict(x, verbose=0), axis=-1)
    return {
        "loss": history.history["loss"],
        "center_loss": history.history[center.name],
        "accuracy": float(np.mean(predicted == y)),
        "centers": np.asarray(keras.ops.convert_to_numpy(center.centers)),
    }


if __name__ == "__main__":
    for rule in ("gradient", "paper"):
        result = main(epochs=20, samples=None, update=rule)
        print(
            f"{rule}: accuracy {result['accuracy']:.3f}, loss {result['loss'][-1]:.3f}"
        )
