"""Shared test helpers: functions that `Function` layers reference by name.

The layer functions are registered, as a user's would be, so that models holding
them load with `safe_mode=True` wherever this module is imported.
"""

import keras
import numpy as np
from keras import ops


def to_numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def traced(function):
    """`function` compiled by the backend's tracer: `jax.jit`, `tf.function` or
    `torch.compile` (its graph-capturing "eager" backend, no code generation)."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.jit(function)
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(function)
    import torch

    return torch.compile(function, backend="eager")


@keras.saving.register_keras_serializable(package="coolkeras_tests")
def scale_and_shift(x, scale=3.0, shift=2.0):
    return x * scale + shift


@keras.saving.register_keras_serializable(package="coolkeras_tests")
def gaussian_noise(x, stddev=0.5, training=False, seed=None):
    if not training:
        return x
    return x + stddev * keras.random.normal(ops.shape(x), dtype=x.dtype, seed=seed)


def save_and_load(model, tmp_path, name="model.keras"):
    path = str(tmp_path / name)
    model.save(path)
    return keras.models.load_model(path)
