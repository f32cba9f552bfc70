"""Section 2 of the article: a custom layer with trainable weights.

The article's `MyLayer` (Keras 2) created its kernel in `build` with
`add_weight`, multiplied with `K.dot` in `call` and declared
`compute_output_shape`. In Keras 3 `K.dot` is gone (use `keras.ops.matmul`), and
a model holding the layer saves but does not load unless the class is registered
and `get_config` returns its arguments. `coolkeras.testing.check_layer` checks
all of that, and more, in one call.
"""

import keras
import numpy as np

from coolkeras.testing import LayerCheckError, check_layer


@keras.saving.register_keras_serializable(package="examples")
class MyLayer(keras.layers.Layer):
    """`y = x @ kernel`, the article's layer written for Keras 3."""

    def __init__(self, output_dim: int, **kwargs):
        super().__init__(**kwargs)
        self.output_dim = output_dim

    def build(self, input_shape):
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_shape[-1], self.output_dim),
            initializer="uniform",
            trainable=True,
        )

    def call(self, inputs):
        return keras.ops.matmul(inputs, self.kernel)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.output_dim,)

    def get_config(self):
        return {**super().get_config(), "output_dim": self.output_dim}


class UnregisteredLayer(MyLayer):
    """The same layer without `register_keras_serializable`: a common slip."""


def main(samples: int = 64, epochs: int = 10, verbose: int = 0) -> dict:
    report = check_layer(MyLayer(3), (4,))
    if verbose:
        print(report)
    try:
        check_layer(UnregisteredLayer(3), (4,), skip=["compiled_step", "dtype_policy"])
        caught = None
    except LayerCheckError as error:
        caught = error.check
        if verbose:
            print(str(error).splitlines()[0])

    rng = np.random.default_rng(0)
    true_kernel = rng.normal(size=(4, 1)).astype("float32")
    x = rng.normal(size=(samples, 4)).astype("float32")
    y = x @ true_kernel
    inputs = keras.Input((4,))
    model = keras.Model(inputs, MyLayer(1)(inputs))
    model.compile(optimizer=keras.optimizers.Adam(0.1), loss="mse")
    history = model.fit(x, y, epochs=epochs, batch_size=16, verbose=verbose)
    learned = keras.ops.convert_to_numpy(model.layers[-1].kernel)
    result = {
        "checks_passed": report.passed,
        "checks_skipped": sorted(report.skipped),
        "unregistered_layer_fails": caught,
        "loss": history.history["loss"],
        "kernel_error": float(np.abs(learned - true_kernel).max()),
    }
    if verbose:
        print(result)
    return result


if __name__ == "__main__":
    main(verbose=1)
