"""Deliberately broken custom layers, one defect each, for `check_layer` tests.

Every class except `Unregistered`, and every function for `Function` except
`unregistered_double`, is registered, so each one fails only the check that its
defect targets. The correct layers at the end pass everything.
"""

import keras
import numpy as np
from keras import ops

register = keras.saving.register_keras_serializable(package="coolkeras_tests")


@register
class Linear(keras.layers.Layer):
    """A correct dense layer without bias, the base of several broken ones."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.units),
            initializer="glorot_uniform",
            name="kernel",
        )

    def call(self, inputs):
        return ops.matmul(inputs, self.kernel)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@register
class ConfigMissingUnits(Linear):
    """Defect: get_config() leaves out the required argument `units`."""

    def get_config(self):
        config = super().get_config()
        del config["units"]
        return config


@register
class ConfigMissingScale(Linear):
    """Defect: get_config() leaves out `scale`, which has a default."""

    def __init__(self, units, scale=1.0, **kwargs):
        super().__init__(units, **kwargs)
        self.scale = scale

    def call(self, inputs):
        return super().call(inputs) * self.scale


@register
class ConfigNotSerializable(Linear):
    """Defect: get_config() returns a set, which is not serializable."""

    def __init__(self, units, vocabulary=("a", "b"), **kwargs):
        super().__init__(units, **kwargs)
        self.vocabulary = set(vocabulary)

    def get_config(self):
        return {**super().get_config(), "vocabulary": self.vocabulary}


@register
class WrongOutputShape(Linear):
    """Defect: compute_output_shape forgets that the last axis becomes `units`."""

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


@register
class WrongSymbolicDtype(keras.layers.Layer):
    """Defect: returns int32 but compute_output_shape makes Keras assume float."""

    def call(self, inputs):
        return ops.cast(ops.argmax(inputs, axis=-1), "int32")

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1])


class Unregistered(Linear):
    """Defect: not registered with `register_keras_serializable`."""


@register
class IgnoresMask(keras.layers.Layer):
    """Defect: claims mask support but averages over masked timesteps too."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        return ops.mean(inputs, axis=1)

    def compute_mask(self, inputs, mask=None):
        return None


@register
class PassesMaskThroughPooling(keras.layers.Layer):
    """Defect: uses the mask, but passes the (batch, time) mask to a pooled output."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        weights = (
            ops.ones(ops.shape(inputs)[:2])
            if mask is None
            else ops.cast(mask, inputs.dtype)
        )
        weights = ops.expand_dims(weights, -1)
        return ops.sum(inputs * weights, axis=1) / ops.sum(weights, axis=1)


@register
class MaskedMean(PassesMaskThroughPooling):
    """Correct: a masked mean over time that consumes the mask."""

    def compute_mask(self, inputs, mask=None):
        return None


@register
class ForcesFloat32(Linear):
    """Defect: casts its output to float32 whatever the dtype policy."""

    def call(self, inputs):
        return ops.cast(super().call(inputs), "float32")


@register
class Float16Kernel(Linear):
    """Defect: creates its kernel in the compute dtype (float16 when mixed)."""

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.units),
            initializer="glorot_uniform",
            dtype=self.compute_dtype,
            name="kernel",
        )


@register
class ProjectionNotAWeight(Linear):
    """Defect: a random projection made in __init__ as a plain array, not a weight."""

    def __init__(self, units, **kwargs):
        super().__init__(units, **kwargs)
        self.projection = np.random.normal(size=(units, units)).astype("float32")

    def call(self, inputs):
        return ops.matmul(super().call(inputs), self.projection)


@register
class UnseededNoise(keras.layers.Layer):
    """Defect: random op without `seed=` (fails under JAX jit)."""

    def call(self, inputs, training=None):
        if training:
            return inputs + keras.random.normal(ops.shape(inputs))
        return inputs


@register
class NoiseAtInference(keras.layers.Layer):
    """Defect: seeded noise, but also at inference."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        return inputs + keras.random.normal(ops.shape(inputs), seed=self.seed_generator)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


@register
class NumpyInCall(keras.layers.Layer):
    """Defect: converts tensors to numpy in call(): fails on keras.Input."""

    def call(self, inputs):
        return inputs * float(ops.convert_to_numpy(ops.max(inputs)))


@register
class NumpyInCallWithShape(NumpyInCall):
    """Defect: as above; the symbolic call works (Keras uses compute_output_shape
    for it), but the call cannot be traced by jit or tf.function."""

    def compute_output_shape(self, input_shape):
        return input_shape


@register
class TrainOnlyNoise(keras.layers.Layer):
    """Correct layer with noise only in training (for expect_training_difference)."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        if training:
            noise = keras.random.normal(ops.shape(inputs), seed=self.seed_generator)
            return inputs + 0.1 * noise
        return inputs

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


@register
def float32_noise(x, stddev=0.5, training=False, seed=None):
    """Train-only noise drawn in float32 whatever the input dtype (a defect)."""
    if not training:
        return x
    return x + stddev * keras.random.normal(ops.shape(x), seed=seed)


def unregistered_double(x):
    """Defect for `Function`: not registered, so it does not load in safe mode."""
    return x * 2.0


@register
def noise_in_input_dtype(x, stddev=0.5, training=False, seed=None):
    """Correct train-only noise for `Function`: stays in the input's dtype."""
    if not training:
        return x
    return x + stddev * keras.random.normal(ops.shape(x), dtype=x.dtype, seed=seed)
