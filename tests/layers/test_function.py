import keras
import numpy as np
import pytest

from coolkeras.layers import Function
from tests.helpers import gaussian_noise, save_and_load, scale_and_shift, to_numpy


def _noise_model():
    inputs = keras.Input((6,))
    outputs = Function(gaussian_noise, arguments={"stddev": 0.5}, seed=7)(inputs)
    return keras.Model(inputs, outputs)


def test_def_with_default_arguments_round_trips_with_safe_mode(tmp_path):
    inputs = keras.Input((3,))
    hidden = Function(scale_and_shift, arguments={"shift": -1.0})(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2)(hidden))
    x = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")

    reloaded = save_and_load(model, tmp_path)

    np.testing.assert_allclose(to_numpy(model.layers[1](x)), x * 3.0 - 1.0, rtol=1e-6)
    np.testing.assert_allclose(
        reloaded.predict(x, verbose=0), model.predict(x, verbose=0)
    )
    assert reloaded.layers[1].arguments == {"shift": -1.0}


def test_noise_only_while_training():
    model = _noise_model()
    x = np.ones((8, 6), "float32")

    assert np.abs(to_numpy(model(x, training=True)) - x).max() > 0.05
    np.testing.assert_array_equal(to_numpy(model(x)), x)
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)


def test_noise_is_seen_by_fit_and_not_by_evaluate():
    # The model is the identity plus training noise; mse against y = x is zero
    # exactly when no noise is applied. fit is jit-compiled on every backend.
    model = _noise_model()
    model.compile(optimizer="sgd", loss="mse", jit_compile=True)
    x = np.ones((16, 6), "float32")

    history = model.fit(x, x, epochs=2, batch_size=4, verbose=0)

    assert min(history.history["loss"]) > 0.1  # ~ stddev**2 = 0.25
    assert model.evaluate(x, x, verbose=0) == 0.0


def test_noise_layer_round_trips_with_safe_mode(tmp_path):
    model = _noise_model()
    x = np.ones((2, 6), "float32")
    reloaded = save_and_load(model, tmp_path)
    np.testing.assert_array_equal(reloaded.predict(x, verbose=0), x)
    assert np.abs(to_numpy(reloaded(x, training=True)) - x).max() > 0.05


def test_keras_ops_function_by_reference(tmp_path):
    inputs = keras.Input((2,))
    model = keras.Model(inputs, Function(keras.ops.add, arguments={"x2": 2.0})(inputs))
    reloaded = save_and_load(model, tmp_path)
    np.testing.assert_allclose(
        reloaded.predict(np.zeros((1, 2)), verbose=0), [[2.0, 2.0]]
    )


def test_lambda_is_refused_with_an_explanation():
    with pytest.raises(ValueError, match=r"lambda.*Received: function="):
        Function(lambda x: x + 2)


def test_closure_is_refused_with_an_explanation():
    offset = 2.0

    def shift(x):
        return x + offset

    with pytest.raises(ValueError, match=r"closure.*Received: function="):
        Function(shift)


def test_non_callable_is_refused():
    with pytest.raises(TypeError, match="Received: function=3"):
        Function(3)


def test_arguments_must_be_a_dict():
    with pytest.raises(TypeError, match=r"Received: arguments=\[1\]"):
        Function(scale_and_shift, arguments=[1])


def test_standard_library_function_is_refused_in_safe_mode():
    config = Function(scale_and_shift).get_config()
    config["function"] = {"module": "os", "name": "system"}
    with pytest.raises(ValueError, match="safe_mode"):
        Function.from_config(config)


def test_missing_module_names_the_module():
    config = Function(scale_and_shift).get_config()
    config["function"] = {"module": "no_such_module_xyz", "name": "f"}
    with pytest.raises(ValueError, match="no_such_module_xyz"):
        Function.from_config(config)
