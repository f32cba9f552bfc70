"""A schedule's two paths: numpy for steps known on the host, keras.ops for tensors."""

import keras
import numpy as np
import pytest

from coolkeras import schedules
from coolkeras.schedules import _ops, _time
from tests.helpers import to_numpy, traced

CATALOG = {
    "constant": schedules.Constant(0.3),
    "linear": schedules.Linear(1.0, 0.1, 7),
    "cosine": schedules.Cosine(1.0, 0.01, steps=9),
    "exponential": schedules.Exponential(0.5, 4, 0.3),
    "piecewise linear": schedules.PiecewiseLinear({2: 1.0, 6: 0.0, 8: 0.5}),
    "piecewise constant": schedules.PiecewiseConstant({0: 1.0, 3: 0.5, 5: 0.25}),
    "warmup": schedules.Warmup(schedules.PiecewiseLinear({0: 1e-3, 10: 1e-4}), 5),
    "join": schedules.Join(
        [schedules.Cosine(1.0, 0.0, steps=4), schedules.Exponential(1.0, 3, 0.5)], [4]
    ),
    "scale and multiply": 0.5
    * schedules.Linear(0.0, 1.0, 6)
    * schedules.Cosine(1.0, 0.2, steps=12),
    "by epoch": schedules.by_epoch(
        schedules.Warmup(schedules.PiecewiseConstant({0: 1e-2, 3: 1e-3}), 2), 4
    ),
    "polynomial": schedules.Polynomial(1.0, 0.1, steps=9, power=0.5),
    "polynomial elapsed": schedules.Polynomial(
        1.0, 0.1, steps=9, power=1.5, power_of="elapsed"
    ),
    "cosine exponent cycles": schedules.Cosine(
        1.0, 0.1, steps=9, exponent=2.0, cycles=1.5
    ),
    "exponential staircase end": schedules.Exponential(1.0, 2, 0.5, True, end=0.1),
    "inverse time": schedules.InverseTime(1.0, 3, 0.5),
    "inverse sqrt": schedules.Warmup(schedules.InverseSqrt(1.0, 4), 4, offset=1),
    "restarts": schedules.Restarts(schedules.Cosine(1.0, 0.1, steps=3), 3),
    "restarts growing": schedules.Restarts(schedules.Linear(1.0, 0.0, 3), 3, 2, 0.5),
    "restarts non-integer": schedules.Restarts(schedules.Linear(1.0, 0.0, 4), 4, 1.5),
    "add": 0.1 + schedules.Linear(1.0, 0.0, 8) - schedules.Constant(0.05),
    "wsd": schedules.warmup_stable_decay(1.0, warmup=2, stable=3, decay=5),
    "piecewise from zero": schedules.PiecewiseLinear({4: 1.0, 9: 0.5}, from_zero=True),
    "keras schedule inside": schedules.Join(
        [
            schedules.Constant(0.2),
            keras.optimizers.schedules.PolynomialDecay(0.1, 8, 0.01),
        ],
        [3],
    ),
}
STEPS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 13, 17, 40, 29_999_999, 30_000_001]
FRACTIONAL_STEPS = [0.5, 2.25, 5.75, 13.5]


@pytest.mark.parametrize("name", list(CATALOG))
def test_host_numbers_and_tensors_give_the_same_float32(name):
    schedule = CATALOG[name]
    steps = STEPS + FRACTIONAL_STEPS
    on_tensors = schedule.values(steps)  # keras.ops on step tensors
    on_host = np.array([to_numpy(schedule(step)) for step in steps])
    # Float32 rounding apart: XLA may fuse or reorder the arithmetic, and the
    # backends' sin and exp differ from numpy's by an ulp or two.
    np.testing.assert_allclose(on_host, on_tensors, rtol=1e-6, atol=0.0)


def test_a_step_known_on_the_host_is_split_into_numpy_scalars():
    counter = keras.Variable(7, dtype="int32", trainable=False)
    for step in (7, np.int64(7), keras.ops.convert_to_tensor(7, "int32"), counter):
        whole, frac = _time.split(step)
        assert isinstance(whole, np.int32) and whole == 7
        assert isinstance(frac, np.float32) and frac == 0.0
    whole, frac = _time.split(keras.ops.convert_to_tensor(2.75, "float32"))
    assert (whole, frac) == (np.int32(2), np.float32(0.75))
    assert isinstance(whole, np.int32)


def test_the_scalar_ops_keep_keras_types():
    whole, frac = np.int32(5), np.float32(0.25)
    assert isinstance(_ops.minimum(whole, 9), np.int32)
    assert isinstance(_ops.where(np.bool_(True), 0.5, frac), np.float32)
    assert isinstance(_ops.cast(whole, "float32"), np.float32)
    assert isinstance(_ops.full_like(frac, 3, dtype="float32"), np.float32)
    # A tensor anywhere sends the op to keras.ops.
    tensor = keras.ops.convert_to_tensor(5, "int32")
    assert not isinstance(_ops.minimum(tensor, 9), np.generic)


@pytest.mark.parametrize("name", ["warmup", "keras schedule inside"])
def test_a_host_step_inside_a_trace_gives_the_tensor_path_value(name):
    # Inside a trace even a Keras schedule of a constant is symbolic: the
    # evaluation starts over on tensors instead of failing.
    schedule = CATALOG[name]
    traced_call = traced(lambda: schedule(7))
    np.testing.assert_allclose(
        to_numpy(traced_call()), schedule.values([7])[0], rtol=1e-7
    )


class _NoKerasOps:
    def __getattr__(self, name):
        raise AssertionError(f"keras.ops.{name} called for a step known on the host")


@pytest.mark.parametrize("name", [n for n in CATALOG if n != "keras schedule inside"])
def test_a_host_step_calls_no_keras_op(name, monkeypatch):
    # The point of the host path: an eager PyTorch step pays ~15 µs per Keras op.
    schedule = CATALOG[name]
    expected = schedule.values([13.5, 29_999_999])
    monkeypatch.setattr(_ops, "ops", _NoKerasOps())
    steps = [keras.ops.convert_to_tensor(13.5, "float32"), 29_999_999]
    for step, want in zip(steps, expected, strict=True):
        value = schedule._evaluate(*_time.split(step))
        assert isinstance(value, np.generic)  # numpy all the way, no tensor made
        assert value == pytest.approx(want, rel=1e-6)
