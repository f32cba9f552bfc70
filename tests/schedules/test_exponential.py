import pytest

from coolkeras.schedules import Exponential
from tests.schedules.helpers import (
    LARGE_STEPS,
    assert_config_round_trip,
    assert_in_training,
    assert_values,
)


def exponential(start, rate, steps):
    return lambda t: start * rate ** (t / steps)


def test_values_at_every_step():
    assert_values(Exponential(1.0, 0.5, 4), exponential(1.0, 0.5, 4), range(12))
    assert_values(Exponential(0.1, 3.0, 7), exponential(0.1, 3.0, 7), range(12))


def test_large_steps_stay_exact():
    schedule = Exponential(1e-3, 0.1, 10_000_000)
    assert_values(schedule, exponential(1e-3, 0.1, 10_000_000), [0, 1] + LARGE_STEPS)
    slow = Exponential(1.0, 0.9, 7_000_000)
    assert_values(slow, exponential(1.0, 0.9, 7_000_000), LARGE_STEPS)


def test_fractional_steps():
    assert_values(Exponential(1.0, 0.5, 4), exponential(1.0, 0.5, 4), [0.5, 3.5, 9.25])


def test_used_in_training_and_reloaded(tmp_path):
    assert_in_training(Exponential(1.0, 0.5, 4), exponential(1.0, 0.5, 4), tmp_path)


def test_config_round_trip():
    assert_config_round_trip(Exponential(1e-3, 0.96, 1000))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(start=1.0, rate=0.0, steps=3), ValueError, "Received: rate=0.0"),
        (dict(start=1.0, rate=-0.5, steps=3), ValueError, "Received: rate=-0.5"),
        (dict(start=1.0, rate=0.5, steps=0), ValueError, "Received: steps=0"),
        (dict(start="1", rate=0.5, steps=3), TypeError, "Received: start='1'"),
    ],
)
def test_bad_arguments_are_refused(kwargs, error, match):
    with pytest.raises(error, match=match):
        Exponential(**kwargs)
