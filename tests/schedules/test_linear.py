import pytest

from coolkeras.schedules import Constant, Linear
from tests.schedules.helpers import (
    LARGE_STEPS,
    assert_config_round_trip,
    assert_in_training,
    assert_values,
    linear,
)


def test_values_at_every_step():
    assert_values(Linear(1.0, 0.25, 8), linear(1.0, 0.25, 8), range(12))
    assert_values(Linear(-1.0, 3.0, 1), linear(-1.0, 3.0, 1), range(4))


def test_large_steps_stay_exact():
    schedule = Linear(1.0, 0.1, 40_000_000)
    assert_values(schedule, linear(1.0, 0.1, 40_000_000), [0, 1] + LARGE_STEPS)
    # The end of a long ramp: the value is tiny and exact.
    near_end = Linear(1.0, 0.0, 30_000_001)
    assert_values(near_end, linear(1.0, 0.0, 30_000_001), LARGE_STEPS)


def test_fractional_steps():
    assert_values(Linear(0.0, 1.0, 4), linear(0.0, 1.0, 4), [0.5, 1.25, 3.75, 4.5])


def test_used_in_training_and_reloaded(tmp_path):
    assert_in_training(Linear(1.0, 0.25, 8), linear(1.0, 0.25, 8), tmp_path)


def test_config_round_trip():
    assert_config_round_trip(Linear(1e-3, 1e-5, 1000))


def test_accepts_integral_float_steps():
    assert Linear(1.0, 0.0, 1e4).steps == 10_000


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(start=Constant(1.0), end=0.0, steps=3), TypeError, "Received: start="),
        (dict(start=1.0, end=float("nan"), steps=3), ValueError, "Received: end=nan"),
        (dict(start=1.0, end=0.0, steps=0), ValueError, "Received: steps=0"),
        (dict(start=1.0, end=0.0, steps=-5), ValueError, "Received: steps=-5"),
        (dict(start=1.0, end=0.0, steps=2.5), TypeError, "Received: steps=2.5"),
        (dict(start=1.0, end=0.0, steps=2**31), ValueError, "Received: steps="),
    ],
)
def test_bad_arguments_are_refused(kwargs, error, match):
    with pytest.raises(error, match=match):
        Linear(**kwargs)
