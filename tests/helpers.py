"""Shared test helpers: functions that `Function` layers reference by name."""

import keras
import numpy as np
from keras import ops


def to_numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def scale_and_shift(x, scale=3.0, shift=2.0):
    return x * scale + shift


def gaussian_noise(x, stddev=0.5, training=False, seed=None):
    if not training:
        return x
    return x + stddev * keras.random.normal(ops.shape(x), dtype=x.dtype, seed=seed)


def save_and_load(model, tmp_path, name="model.keras"):
    path = str(tmp_path / name)
    model.save(path)
    return keras.models.load_model(path)
