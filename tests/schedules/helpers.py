"""Shared checks for schedules: values, in-graph training use, serialization."""

import json

import keras
import numpy as np

from coolkeras.schedules import _ops
from tests.helpers import to_numpy, traced

# Late steps that float32 cannot all represent (30_000_001 rounds to 30_000_000).
LARGE_STEPS = [29_999_999, 30_000_000, 30_000_001]
TRAIN_STEPS = 12


def linear(start, end, steps):
    """Reference of a linear ramp from `start` to `end` over `steps`, then flat."""
    return lambda t: start + (end - start) * min(t, steps) / steps


def assert_values(schedule, reference, steps, rtol=1e-6, atol=0.0):
    """`schedule` equals the float64 `reference` at every step, however called."""
    steps = list(steps)
    expected = np.array([reference(float(t)) for t in steps], dtype="float64")
    np.testing.assert_allclose(schedule.values(steps), expected, rtol=rtol, atol=atol)
    # One value at a time, through each kind of step Keras or a user may pass.
    pairs = list(zip(steps, expected, strict=True))
    for t, want in {pairs[0], pairs[len(pairs) // 2], pairs[-1]}:
        for step in _step_kinds(t):
            value = schedule(step)
            assert keras.backend.standardize_dtype(value.dtype) == "float32"
            assert tuple(value.shape) == ()
            np.testing.assert_allclose(to_numpy(value), want, rtol=rtol, atol=atol)


def _step_kinds(t):
    if t != int(t):  # a fractional step: a Python float or a float tensor
        return [t, keras.ops.convert_to_tensor(t, "float32")]
    t = int(t)
    # What Keras passes: `optimizer.iterations` (int64 on TensorFlow).
    iterations = keras.optimizers.SGD().iterations
    iterations.assign(t)
    kinds = [t, float(t), keras.ops.convert_to_tensor(t, "int32"), iterations]
    if keras.backend.backend() != "jax":  # JAX has no int64 without x64
        kinds.append(keras.ops.convert_to_tensor(t, "int64"))
    return kinds


def assert_config_round_trip(schedule, steps=range(20)):
    """`from_config(get_config())`, through JSON, gives the same schedule."""
    serialized = json.loads(json.dumps(keras.saving.serialize_keras_object(schedule)))
    restored = keras.saving.deserialize_keras_object(serialized)
    assert type(restored) is type(schedule)
    assert restored.get_config() == schedule.get_config()
    steps = list(steps)
    np.testing.assert_array_equal(restored.values(steps), schedule.values(steps))
    return restored


@keras.saving.register_keras_serializable(package="coolkeras_tests")
def _prediction_mean(y_true, y_pred):
    return keras.ops.mean(y_pred)


class _RecordKernel(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.kernels = []

    def on_train_batch_end(self, batch, logs=None):
        self.kernels.append(float(to_numpy(self.model.layers[-1].kernel)[0, 0]))


def train_with_schedule(schedule, steps=TRAIN_STEPS):
    """Trains `steps` SGD steps whose gradient is 1, so each update is `-lr(step)`.

    Returns the model and the learning rate applied at each step, read back
    from the weight updates (so it is the value computed inside the compiled
    train step, not an eager re-evaluation).
    """
    dense = keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")
    model = keras.Sequential([keras.Input((1,)), dense])
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=schedule),
        loss=_prediction_mean,
        steps_per_execution=1,
    )
    recorder = _RecordKernel()
    x = np.ones((steps, 1), "float32")
    model.fit(
        x,
        np.zeros((steps, 1), "float32"),
        batch_size=1,
        epochs=1,
        shuffle=False,
        verbose=0,
        callbacks=[recorder],
    )
    kernels = np.array([0.0] + recorder.kernels)
    return model, -np.diff(kernels)


def assert_in_training(schedule, reference, tmp_path):
    """Each step trains with `reference(step)`; the saved model reloads the same."""
    model, used = train_with_schedule(schedule)
    expected = np.array([reference(float(t)) for t in range(TRAIN_STEPS)])
    np.testing.assert_allclose(used, expected, rtol=1e-5, atol=1e-7)
    after = float(to_numpy(model.optimizer.learning_rate))
    want = reference(float(TRAIN_STEPS))
    np.testing.assert_allclose(after, want, rtol=1e-6, atol=1e-12)

    path = str(tmp_path / f"{type(schedule).__name__}_{id(schedule)}.keras")
    model.save(path)
    loaded = keras.models.load_model(path)  # default safe_mode=True
    config = loaded.optimizer.get_config()["learning_rate"]
    assert config == keras.saving.serialize_keras_object(schedule)
    restored = keras.saving.deserialize_keras_object(config)
    steps = list(range(2 * TRAIN_STEPS)) + LARGE_STEPS
    np.testing.assert_array_equal(restored.values(steps), schedule.values(steps))
    assert int(to_numpy(loaded.optimizer.iterations)) == TRAIN_STEPS
    np.testing.assert_allclose(
        float(to_numpy(loaded.optimizer.learning_rate)), after, rtol=1e-7
    )


def assert_traced(schedule, reference, steps, rtol=1e-6, atol=0.0):
    """Inside a compiled function (jax.jit, tf.function, torch.compile), the
    schedule at int32 step tensors equals the float64 `reference`."""
    steps = list(steps)
    expected = np.array([reference(float(t)) for t in steps], dtype="float64")
    compiled = traced(lambda step: schedule(step))
    got = to_numpy(compiled(keras.ops.convert_to_tensor(np.array(steps), "int32")))
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)


def assert_everywhere(schedule, reference, steps, rtol=1e-6, atol=0.0):
    """`assert_values` (eager tensors and the host path) and `assert_traced`."""
    assert_values(schedule, reference, steps, rtol=rtol, atol=atol)
    assert_traced(schedule, reference, steps, rtol=rtol, atol=atol)


def count_keras_ops(schedule, monkeypatch):
    """How many keras.ops calls one evaluation on tensors makes (= its trace)."""
    calls = []

    class Counting:
        def __getattr__(self, name):
            calls.append(name)
            return getattr(keras.ops, name)

    with monkeypatch.context() as patch:
        patch.setattr(_ops, "ops", Counting())
        schedule.values([7])
    return len(calls)
