import keras
import pytest

from coolkeras.schedules import Add, Constant, Linear, Scale
from tests.schedules.helpers import (
    LARGE_STEPS,
    assert_config_round_trip,
    assert_everywhere,
    assert_in_training,
    linear,
)

STEPS = list(range(12)) + LARGE_STEPS


def test_add_and_the_operators():
    ramp = Linear(1.0, 0.0, 8)
    reference = linear(1.0, 0.0, 8)
    cases = {
        "Add": (Add([ramp, Constant(0.25)]), lambda t: reference(t) + 0.25),
        "s + s": (ramp + Linear(0.0, 1.0, 4), lambda t: reference(t) + min(t, 4) / 4),
        "s + x": (ramp + 0.25, lambda t: reference(t) + 0.25),
        "x + s": (0.25 + ramp, lambda t: 0.25 + reference(t)),
        "s - x": (ramp - 0.25, lambda t: reference(t) - 0.25),
        "x - s": (1.0 - ramp, lambda t: 1.0 - reference(t)),
        "s - s": (ramp - 0.5 * ramp, lambda t: 0.5 * reference(t)),
        "-s": (-ramp, lambda t: -reference(t)),
    }
    for name, (schedule, want) in cases.items():
        assert isinstance(schedule, Add if name != "-s" else Scale), name
        assert_everywhere(schedule, want, STEPS)


def test_keras_schedules_add_too():
    decay = keras.optimizers.schedules.ExponentialDecay(1.0, 4, 0.5)
    for schedule in (
        Constant(0.5) + decay,
        decay + Constant(0.5),
        decay - Constant(0.5),
    ):
        assert isinstance(schedule, Add)
    want = lambda t: 0.5 + 0.5 ** (t / 4)  # noqa: E731
    assert_everywhere(Constant(0.5) + decay, want, range(9), rtol=1e-6)


def test_used_in_training_and_reloaded(tmp_path):
    schedule = 0.1 + Linear(1.0, 0.0, 8)
    assert_in_training(schedule, lambda t: 0.1 + linear(1.0, 0.0, 8)(t), tmp_path)


def test_config_round_trip():
    restored = assert_config_round_trip(Linear(1.0, 0.0, 4) - 0.5)
    assert [type(s) for s in restored.schedules] == [Linear, Constant]


def test_bad_arguments_are_refused():
    with pytest.raises(TypeError, match=r"Received: schedules\[1\]=2.0"):
        Add([Constant(1.0), 2.0])
    with pytest.raises(ValueError, match=r"Received: schedules=\[\]"):
        Add([])
    with pytest.raises(TypeError):
        Constant(1.0) + "2"
    with pytest.raises(TypeError):
        Constant(1.0) - True
