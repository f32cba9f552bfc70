import keras
import numpy as np
import pytest

from coolkeras.layers import Function, LossLayer, Split
from coolkeras.testing import CHECKS, LayerCheckError, check_layer
from tests import helpers
from tests.testing import broken_layers as broken

# Checks not under test are skipped to keep each test fast.
ONLY_CONFIG = ("compiled_step", "dtype_policy", "saving")


@keras.saving.register_keras_serializable(package="coolkeras_tests")
class L2Activity(LossLayer):
    def compute_loss(self, inputs, training=None):
        return keras.ops.mean(keras.ops.square(inputs))


def fails(layer, input_shape, check, *fragments, **kwargs):
    with pytest.raises(LayerCheckError) as info:
        check_layer(layer, input_shape, **kwargs)
    message = str(info.value)
    assert info.value.check == check, message
    assert f"the `{check}` check failed" in message
    for fragment in fragments:
        assert fragment in message, message
    return message


# Correct layers pass every check that applies to them.


def test_dense_passes_every_check():
    report = check_layer(keras.layers.Dense(3), (4,))
    assert report.passed == [
        "symbolic_call",
        "eager_call",
        "compute_output_shape",
        "training",
        "compiled_step",
        "config",
        "dtype_policy",
        "saving",
    ]
    assert "masking" in report.skipped
    assert report.output_shapes == [(2, 3)]
    assert report.training_changes_output is False
    assert "8 checks passed" in str(report)


def test_split_multi_output_passes():
    report = check_layer(Split([1, 3], axis=-1), (None, 4), batch_size=3)
    assert report.output_shapes == [(3, 3, 1), (3, 3, 3)]
    assert {"compute_output_shape", "config", "saving", "dtype_policy"} <= set(
        report.passed
    )


def test_loss_layer_subclass_passes():
    report = check_layer(L2Activity(weight=0.5), (3,), skip=["dtype_policy"])
    assert {
        "compute_output_shape",
        "training",
        "compiled_step",
        "config",
        "saving",
    } <= set(report.passed)
    assert report.skipped == {
        "masking": report.skipped["masking"],
        "dtype_policy": "skipped by the caller",
    }


def test_function_noise_layer_passes_and_reports_training_difference():
    layer = Function(broken.noise_in_input_dtype, arguments={"stddev": 0.5}, seed=3)
    report = check_layer(layer, (5,), expect_training_difference=True)
    assert report.training_changes_output is True
    assert report.passed == [
        "symbolic_call",
        "eager_call",
        "training",
        "compiled_step",
        "config",
        "dtype_policy",
        "saving",
    ]
    assert report.skipped["compute_output_shape"].startswith("the layer does not")


def test_float32_noise_upcasts_float16_while_training():
    # Noise drawn in float32 is fine in float32, but under mixed_float16 the
    # training output becomes float32. Everything else passes.
    layer = Function(broken.float32_noise, seed=3)
    report = check_layer(
        layer, (5,), skip=["dtype_policy"], expect_training_difference=True
    )
    assert {"training", "compiled_step", "config", "saving"} <= set(report.passed)
    # float16 + float32: TensorFlow raises, JAX and PyTorch promote to float32.
    message = fails(
        Function(broken.float32_noise, seed=3),
        (5,),
        "dtype_policy",
        "mixed_float16, with training=True",
        "dtype=x.dtype",
        skip=("compiled_step", "saving"),
    )
    assert "Received: float32" in message or "InvalidArgumentError" in message


def test_multi_input_layer_passes():
    report = check_layer(keras.layers.Add(), [(4,), (4,)], skip=["saving"])
    assert report.output_shapes == [(2, 4)]
    assert "config" in report.passed


def test_layers_that_honour_masks_pass_the_masking_check():
    # One pooling layer that consumes the mask, Keras' own pooling, and a layer
    # applied per timestep that passes the mask on.
    for layer in [
        broken.MaskedMean(),
        keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dense(2),
    ]:
        report = check_layer(layer, (4, 3), skip=ONLY_CONFIG + ("config",))
        assert "masking" in report.passed, type(layer).__name__


def test_every_check_can_be_skipped_but_the_calls():
    report = check_layer(keras.layers.Dense(2), (3,), skip=CHECKS[2:])
    assert report.passed == ["symbolic_call", "eager_call"]
    assert set(report.skipped) == set(CHECKS[2:])


# Broken layers: each defect is caught by its check, with a message that helps.


def test_config_missing_required_argument():
    message = fails(
        broken.ConfigMissingUnits(3),
        (4,),
        "config",
        "get_config() does not include `units`",
        "return {**super().get_config(), 'units': self.units}",
        skip=ONLY_CONFIG,
    )
    assert "TypeError" in message


def test_config_missing_argument_with_default():
    fails(
        broken.ConfigMissingScale(3, scale=2.0),
        (4,),
        "config",
        "get_config() does not include `scale`",
        "Expected: scale=2.0",
        "Received: scale=1.0",
        "return {**super().get_config(), 'scale': self.scale}",
        skip=ONLY_CONFIG,
    )


def test_config_not_serializable():
    fails(
        broken.ConfigNotSerializable(3),
        (4,),
        "config",
        "cannot be serialized",
        "set",
        skip=ONLY_CONFIG,
    )


def test_function_of_an_unregistered_function_fails_config_with_loading_advice():
    message = fails(
        Function(broken.unregistered_double),
        (4,),
        "config",
        "Refusing to load the function `tests.testing.broken_layers.unregistered",
        "register_keras_serializable",
        "fix what from_config() reports",
        skip=ONLY_CONFIG,
    )
    assert "make get_config() return every" not in message


def test_state_outside_weights_changes_outputs_after_from_config():
    fails(
        broken.ProjectionNotAWeight(3),
        (4,),
        "config",
        "gives other outputs",
        "self.add_weight(",
        skip=ONLY_CONFIG,
    )


def test_wrong_compute_output_shape():
    fails(
        broken.WrongOutputShape(3),
        (4,),
        "compute_output_shape",
        "compute_output_shape((2, 4)) does not match",
        "Expected: (2, 3)",
        "Received: (2, 4)",
    )


def test_wrong_symbolic_dtype():
    fails(
        broken.WrongSymbolicDtype(),
        (4,),
        "symbolic_call",
        "dtype int32 (eager)",
        "dtype float32 (symbolic)",
        "compute_output_spec",
    )


def test_unregistered_layer_is_not_loadable():
    fails(
        broken.Unregistered(3),
        (4,),
        "saving",
        "Unregistered is not registered",
        "@keras.saving.register_keras_serializable(package=",
        skip=("compiled_step", "dtype_policy"),
    )


def test_mask_ignored():
    fails(
        broken.IgnoresMask(),
        (4, 3),
        "masking",
        "the layer ignores the mask",
        "accept `mask=None` in call()",
        skip=ONLY_CONFIG,
    )


def test_mask_passed_to_pooled_output():
    fails(
        broken.PassesMaskThroughPooling(),
        (4, 3),
        "masking",
        "does not fit output 0",
        "Expected: a mask of shape (2, 3)",
        "Received: a mask of shape (2, 4) for an output of shape (2, 3)",
        "return None",
        skip=ONLY_CONFIG,
    )


def test_output_forced_to_float32():
    fails(
        broken.ForcesFloat32(3),
        (4,),
        "dtype_policy",
        "with training=False, output 0 is not float16",
        "Expected: float16",
        "Received: float32",
        "self.compute_dtype",
        skip=("compiled_step", "saving"),
    )


def test_variable_created_in_compute_dtype():
    fails(
        broken.Float16Kernel(3),
        (4,),
        "dtype_policy",
        "kernel",
        "is not float32",
        "Received: float16",
        "without a dtype",
        skip=("compiled_step", "saving"),
    )


def test_unseeded_random_op_is_caught_on_every_backend():
    fails(
        broken.UnseededNoise(),
        (4,),
        "training",
        "random op without `seed=`",
        "JAX jit",
        "keras.random.SeedGenerator(seed)",
    )


def test_noise_at_inference():
    fails(
        broken.NoiseAtInference(seed=1),
        (4,),
        "training",
        "Two calls with training=False",
        "only when training=True",
    )


def test_expect_training_difference_both_ways():
    fails(
        keras.layers.Dense(2),
        (3,),
        "training",
        "training=True equal those with training=False",
        "Expected: outputs differ: True",
        "Received: outputs differ: False",
        expect_training_difference=True,
    )
    fails(
        broken.TrainOnlyNoise(seed=2),
        (3,),
        "training",
        "training=True differ from training=False",
        "expect_training_difference=True",
        expect_training_difference=False,
    )
    report = check_layer(
        broken.TrainOnlyNoise(seed=2),
        (3,),
        skip=ONLY_CONFIG,
        expect_training_difference=True,
    )
    assert report.training_changes_output is True


def test_untraceable_call(backend):
    layer = broken.NumpyInCallWithShape()
    if backend == "torch":  # PyTorch runs the step eagerly: nothing to trace.
        assert "compiled_step" in check_layer(layer, (3,), skip=ONLY_CONFIG[1:]).passed
    else:
        fails(
            layer,
            (3,),
            "compiled_step",
            "compiled training step",
            "keep call() traceable",
            skip=ONLY_CONFIG[1:],
        )


def test_call_that_fails_on_keras_input(backend):
    if backend == "torch":  # Keras traces the torch symbolic call with real tensors.
        assert (
            "symbolic_call"
            in check_layer(broken.NumpyInCall(), (3,), skip=ONLY_CONFIG).passed
        )
        return
    fails(
        broken.NumpyInCall(),
        (3,),
        "symbolic_call",
        "runs on data but fails on keras.Input",
        "use keras.ops only",
    )


def test_check_does_not_change_weights():
    layer = keras.layers.Dense(2)
    layer.build((None, 3))
    before = [helpers.to_numpy(w) for w in layer.weights]
    check_layer(layer, (3,), skip=("dtype_policy", "saving"))
    for old, new in zip(before, layer.weights, strict=True):
        np.testing.assert_array_equal(old, helpers.to_numpy(new))


# Bad input to check_layer itself.


@pytest.mark.parametrize(
    "bad, error",
    [(4, TypeError), ("4", TypeError), (None, TypeError), ((4.0,), ValueError),
     ((0,), ValueError), ((-1, 3), ValueError), ((True,), ValueError),
     ([(4,), "x"], ValueError)],
)
def test_input_shape_not_a_shape(bad, error):
    with pytest.raises(error, match="`input_shape` must be the") as info:
        check_layer(keras.layers.Dense(2), bad)
    assert f"Received: input_shape={bad!r}" in str(info.value)


def test_input_shape_int_suggests_tuple():
    with pytest.raises(TypeError, match=r"did you mean input_shape=\(4,\)\?"):
        check_layer(keras.layers.Dense(2), 4)


def test_input_shape_the_layer_rejects():
    with pytest.raises(ValueError) as info:
        check_layer(Split(3), (4,))
    message = str(info.value)
    assert "Received: input_shape=(4,)" in message
    assert "cannot be split into 3 equal parts" in message


def test_other_bad_arguments():
    with pytest.raises(TypeError, match="Received: layer="):
        check_layer(lambda x: x, (3,))
    with pytest.raises(ValueError, match=r"Received: batch_size=1"):
        check_layer(keras.layers.Dense(2), (3,), batch_size=1)
    with pytest.raises(TypeError, match=r"Received: expect_training_difference='y"):
        check_layer(keras.layers.Dense(2), (3,), expect_training_difference="yes")
    with pytest.raises(ValueError, match=r"Received: skip=\['saveing'\]"):
        check_layer(keras.layers.Dense(2), (3,), skip=["saveing"])
