"""Section 6 of the article: an extra loss on a functional model, nested models.

Keras 2 wrote `model.add_loss(tensor)` on a symbolic tensor; Keras 3 raises
`NotImplementedError`. `AddLoss` puts the extra term in the graph: it is trained,
logged under its own name, and absent from the inference model built from the
same layers. The encoder is a model used as a layer (a nested model).
"""

import keras
import numpy as np

from coolkeras.layers import AddLoss


def build_models(weight: float = 0.01) -> tuple[keras.Model, keras.Model]:
    encoder_input = keras.Input((16,))
    code = keras.layers.Dense(4, activation="tanh")(encoder_input)
    encoder = keras.Model(encoder_input, code, name="encoder")

    decoder = keras.layers.Dense(16, name="decoder")
    inputs = keras.Input((16,))
    code = encoder(inputs)
    sparsity = keras.ops.mean(keras.ops.abs(code), axis=-1)
    penalized = AddLoss(weight=weight, output_index=1, name="sparsity")(
        [sparsity, code]
    )
    trainer = keras.Model(inputs, decoder(penalized))
    inference = keras.Model(inputs, decoder(code))  # same layers, no AddLoss
    return trainer, inference


def main(samples: int = 64, epochs: int = 2, verbose: int = 0) -> dict:
    x = np.random.default_rng(0).normal(size=(samples, 16)).astype("float32")
    trainer, inference = build_models()
    trainer.compile(optimizer="adam", loss="mse")
    history = trainer.fit(x, x, epochs=epochs, batch_size=16, verbose=verbose)
    inference(x)
    result = {
        "loss": history.history["loss"],
        "sparsity": history.history["sparsity"],
        "inference_losses": len(inference.losses),
        "same_predictions": bool(
            np.allclose(inference.predict(x, verbose=0), trainer.predict(x, verbose=0))
        ),
    }
    if verbose:
        print(result)
    return result


if __name__ == "__main__":
    main(verbose=1)
