"""Records values from inside the compiled train step, for exactness tests."""

import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="coolkeras_tests")
class Recorder(keras.layers.Layer):
    """Writes one scalar per training call into a buffer the model owns."""

    def __init__(self, size, **kwargs):
        super().__init__(**kwargs)
        self.size = size
        self.buffer = self.add_weight(
            shape=(size,),
            initializer="zeros",
            trainable=False,
            autocast=False,  # float32 under a mixed precision policy too
            name="buffer",
        )
        self.index = self.add_weight(
            shape=(), initializer="zeros", dtype="int32", trainable=False, name="index"
        )
        self.built = True

    def record(self, value):
        position = ops.expand_dims(self.index, 0)[None]
        update = ops.reshape(ops.cast(value, "float32"), (1,))
        self.buffer.assign(ops.scatter_update(self.buffer, position, update))
        self.index.assign_add(1)

    def call(self, inputs, training=None):
        if training:
            self.record(ops.mean(inputs))
        return inputs

    def get_config(self):
        return {**super().get_config(), "size": self.size}

    def values(self):
        count = int(ops.convert_to_numpy(self.index.value))
        return np.asarray(ops.convert_to_numpy(self.buffer.value))[:count]
