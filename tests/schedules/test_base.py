import keras
import numpy as np
import pytest

from coolkeras import schedules
from coolkeras.schedules import Constant, Linear, PiecewiseLinear, Schedule
from tests.helpers import to_numpy


def test_every_schedule_is_a_keras_learning_rate_schedule():
    for name in schedules.__all__:
        obj = getattr(schedules, name)
        if isinstance(obj, type):
            assert issubclass(obj, keras.optimizers.schedules.LearningRateSchedule)
    optimizer = keras.optimizers.SGD(learning_rate=Linear(1.0, 0.0, 4))
    assert float(to_numpy(optimizer.learning_rate)) == 1.0


def test_steps_out_of_range_are_clamped():
    schedule = PiecewiseLinear({0: 1.0, 10: 0.0})
    assert float(to_numpy(schedule(-5))) == 1.0
    assert float(to_numpy(schedule(keras.ops.convert_to_tensor(-5, "int32")))) == 1.0
    assert float(to_numpy(schedule(-0.5))) == 1.0
    assert float(to_numpy(schedule(2**40))) == 0.0
    np.testing.assert_array_equal(schedule.values([-3, 2**40, 5.0]), [1.0, 0.0, 0.5])


def test_values_keeps_the_shape_and_returns_float32():
    values = Linear(0.0, 1.0, 4).values(np.array([[0, 1], [2, 3]]))
    assert values.dtype == np.float32 and values.shape == (2, 2)
    np.testing.assert_array_equal(values, [[0.0, 0.25], [0.5, 0.75]])


def test_bad_steps_are_refused():
    with pytest.raises(TypeError, match="Received: step=True"):
        Constant(1.0)(True)
    with pytest.raises(ValueError, match="Received: step=nan"):
        Constant(1.0)(float("nan"))
    with pytest.raises(TypeError, match="Received: steps="):
        Constant(1.0).values(["a"])


def test_a_subclass_must_implement_evaluate():
    class Incomplete(Schedule):
        pass

    with pytest.raises(NotImplementedError, match="_evaluate"):
        Incomplete()(0)


def test_repr_shows_the_arguments():
    schedule = 2.0 * schedules.Warmup(Constant(1.0), 5)
    assert repr(schedule) == (
        "Scale(schedule=Warmup(schedule=Constant(value=1.0), steps=5, start=0.0, "
        "offset=0), factor=2.0)"
    )
