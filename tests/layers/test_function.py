import functools
import warnings

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


def test_missing_module_names_the_module_with_safe_mode_false():
    config = Function(scale_and_shift).get_config()
    config["function"] = {"module": "no_such_module_xyz", "name": "f"}
    with pytest.raises(ValueError, match="Could not import the module `no_such_m"):
        Function.from_config(config, safe_mode=False)


def test_from_config_outside_a_load_is_safe():
    config = Function(scale_and_shift).get_config()
    config["function"] = {"module": "tests.helpers", "name": "to_numpy"}
    with pytest.raises(ValueError, match="Refusing to load .*tests.helpers.to_numpy"):
        Function.from_config(config)
    assert Function.from_config(config, safe_mode=False).function is to_numpy


def _define_in_main(source: str, name: str):
    namespace = {"__name__": "__main__", "keras": keras}
    exec(source, namespace)
    return namespace[name]


def test_main_module_function_warns_and_suggests_registering(tmp_path):
    double = _define_in_main("def double(x):\n    return x * 2.0\n", "double")
    with pytest.warns(UserWarning, match=r"`__main__`.*register_keras_serializable"):
        layer = Function(double)
    assert layer.get_config()["function"] == {"module": "__main__", "name": "double"}

    # It still loads in the script that has it, when asked; and then without
    # warning again: the warning is for the script that builds the layer.
    inputs = keras.Input((2,))
    with pytest.warns(UserWarning):
        model = keras.Model(inputs, Function(double)(inputs))
    path = tmp_path / "main.keras"
    model.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        loaded = keras.models.load_model(path, custom_objects={"double": double})
    np.testing.assert_allclose(loaded.predict(np.ones((1, 2)), verbose=0), [[2, 2]])


def test_registered_main_module_function_does_not_warn():
    source = (
        '@keras.saving.register_keras_serializable(package="coolkeras_tests")\n'
        "def main_double(x):\n"
        "    return x * 2.0\n"
    )
    double = _define_in_main(source, "main_double")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        layer = Function(double)
    assert layer.get_config()["function"] == {
        "module": "__main__",
        "name": "main_double",
        "registered_name": "coolkeras_tests>main_double",
    }


class _Scaler:
    def __init__(self, factor):
        self.factor = factor

    def scale(self, x):
        return x * self.factor

    def __call__(self, x):
        return x * self.factor


@pytest.mark.parametrize(
    "function, match",
    [
        (_Scaler(2.0).scale, r"bound method.*Received: function=<bound method"),
        (functools.partial(scale_and_shift, shift=1.0), r"partial.*functools.partial"),
        (_Scaler(2.0), r"Callable objects.*Received: function=<tests"),
        (_Scaler, r"classes.*Received: function=<class"),
        (np.tanh, r"built-in.*Received: function=<ufunc 'tanh'>"),
        (len, r"built-in.*Received: function=<built-in function len>"),
    ],
    ids=["bound_method", "partial", "callable_object", "class", "ufunc", "builtin"],
)
def test_non_function_callables_are_refused(function, match):
    with pytest.raises(TypeError, match=match):
        Function(function)


def test_registered_function_is_saved_under_its_registered_name():
    reference = Function(scale_and_shift).get_config()["function"]
    assert reference == {
        "module": "tests.helpers",
        "name": "scale_and_shift",
        "registered_name": "coolkeras_tests>scale_and_shift",
    }


def test_registered_name_is_found_without_importing_the_saved_module():
    config = Function(scale_and_shift).get_config()
    config["function"]["module"] = "no_such_module_xyz"
    assert Function.from_config(config).function is scale_and_shift


def test_custom_objects_argument_of_from_config():
    config = Function(scale_and_shift).get_config()
    config["function"] = {"module": "tests.helpers", "name": "to_numpy"}
    layer = Function.from_config(config, custom_objects={"to_numpy": to_numpy})
    assert layer.function is to_numpy


@pytest.mark.parametrize(
    "op, path",
    [
        (keras.ops.tanh, "keras.ops.tanh"),
        (keras.ops.nn.relu, "keras.ops.relu"),
        (keras.activations.relu, "keras.activations.relu"),
    ],
)
def test_keras_op_is_saved_under_its_public_path_and_loads(op, path, tmp_path):
    inputs = keras.Input((3,))
    model = keras.Model(inputs, Function(op)(inputs))
    module, name = path.rsplit(".", 1)
    assert model.layers[1].get_config()["function"] == {"module": module, "name": name}
    x = np.array([[-1.0, 0.5, 2.0]], "float32")

    reloaded = save_and_load(model, tmp_path)

    assert reloaded.layers[1].function is op
    np.testing.assert_allclose(
        reloaded.predict(x, verbose=0), to_numpy(op(x)), rtol=1e-6
    )


def test_arguments_holding_a_lambda_are_refused_in_safe_mode():
    config = Function(scale_and_shift).get_config()
    with pytest.warns(UserWarning, match="lambda"):
        shift = keras.saving.serialize_keras_object(lambda: print("ran"))
    config["arguments"] = {"shift": shift}
    with pytest.raises(ValueError, match="deserialization of a Python lambda"):
        Function.from_config(config)
