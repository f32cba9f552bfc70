import keras
import pytest

from coolkeras.schedules import Constant, Linear, Multiply, PiecewiseConstant, Scale
from tests.schedules.helpers import (
    LARGE_STEPS,
    assert_config_round_trip,
    assert_in_training,
    assert_values,
    linear,
)


def test_scale_values_and_operators():
    reference = lambda t: 2.0 * linear(0.5, 0.25, 10)(t)  # noqa: E731
    for schedule in (
        Scale(Linear(0.5, 0.25, 10), 2.0),
        2.0 * Linear(0.5, 0.25, 10),
        Linear(0.5, 0.25, 10) * 2.0,
        Linear(1.0, 0.5, 10) / 1.0,
        Linear(2.0, 1.0, 10) / 2,
    ):
        assert isinstance(schedule, Scale)
        assert_values(schedule, reference, list(range(12)) + LARGE_STEPS)


def test_multiply_values_and_operator():
    ramp, pieces = Linear(0.0, 1.0, 4), PiecewiseConstant({0: 1.0, 6: 0.5})

    def reference(t):
        return linear(0.0, 1.0, 4)(t) * (1.0 if t < 6 else 0.5)

    for schedule in (Multiply([ramp, pieces]), ramp * pieces):
        assert isinstance(schedule, Multiply)
        assert_values(schedule, reference, list(range(10)) + LARGE_STEPS)


def test_keras_schedules_compose_too():
    keras_decay = keras.optimizers.schedules.ExponentialDecay(1.0, 4, 0.5)
    for schedule in (Constant(2.0) * keras_decay, keras_decay * Constant(2.0)):
        assert isinstance(schedule, Multiply)
        assert_values(schedule, lambda t: 2.0 * 0.5 ** (t / 4), range(9))


def test_used_in_training_and_reloaded(tmp_path):
    assert_in_training(
        2.0 * Linear(0.5, 0.25, 10),
        lambda t: 2.0 * linear(0.5, 0.25, 10)(t),
        tmp_path,
    )
    assert_in_training(
        Linear(0.0, 1.0, 4) * PiecewiseConstant({0: 1.0, 6: 0.5}),
        lambda t: linear(0.0, 1.0, 4)(t) * (1.0 if t < 6 else 0.5),
        tmp_path,
    )


def test_config_round_trip():
    assert assert_config_round_trip(3.0 * Constant(0.5)).factor == 3.0
    restored = assert_config_round_trip(Linear(0.0, 1.0, 4) * Constant(0.5))
    assert [type(s) for s in restored.schedules] == [Linear, Constant]


def test_bad_arguments_are_refused():
    with pytest.raises(TypeError, match="Received: schedule=0.5"):
        Scale(0.5, 2.0)
    with pytest.raises(TypeError, match="Received: factor="):
        Scale(Constant(1.0), Constant(2.0))
    with pytest.raises(ValueError, match="Received: factor=nan"):
        Constant(1.0) * float("nan")
    with pytest.raises(TypeError, match=r"Received: schedules\[1\]=2.0"):
        Multiply([Constant(1.0), 2.0])
    with pytest.raises(ZeroDivisionError, match="Received: divisor=0"):
        Constant(1.0) / 0
    with pytest.raises(TypeError):
        Constant(1.0) * "2"
