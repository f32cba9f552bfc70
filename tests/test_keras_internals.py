"""One test per function of `coolkeras._keras_internals`."""

import keras
import numpy as np

from coolkeras import _keras_internals


class _Finder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.found = []

    def set_model(self, model):
        super().set_model(model)
        self.found.append(_keras_internals.calling_callback_list(self))

    def on_train_begin(self, logs=None):
        self.found.append(_keras_internals.calling_callback_list(self))


def test_calling_callback_list_finds_the_list_fit_builds():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    finder = _Finder()
    model.fit(np.zeros((4, 2)), np.zeros((4, 1)), epochs=1, verbose=0,
              callbacks=[finder])
    assert len(finder.found) == 2
    for found in finder.found:
        assert isinstance(found, keras.callbacks.CallbackList)
        assert any(c is finder for c in found.callbacks)
    # Called directly, outside a CallbackList: nothing to find.
    finder.on_train_begin()
    assert finder.found[-1] is None
