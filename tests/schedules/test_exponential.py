import math

import pytest

from coolkeras.schedules import Exponential
from tests.schedules.helpers import (
    LARGE_STEPS,
    assert_config_round_trip,
    assert_everywhere,
    assert_in_training,
    assert_values,
)


def exponential(start, steps, rate, staircase=False, end=None):
    def reference(t):
        exponent = math.floor(t / steps) if staircase else t / steps
        value = start * math.exp(min(exponent * math.log(rate), 700.0))
        if end is None:
            return value
        return max(value, end) if rate < 1 else min(value, end)

    return reference


def test_values_at_every_step():
    assert_values(Exponential(1.0, 4, 0.5), exponential(1.0, 4, 0.5), range(12))
    assert_values(Exponential(0.1, 7, 3.0), exponential(0.1, 7, 3.0), range(12))


def test_large_steps_stay_exact():
    schedule = Exponential(1e-3, 10_000_000, 0.1)
    assert_values(schedule, exponential(1e-3, 10_000_000, 0.1), [0, 1] + LARGE_STEPS)
    slow = Exponential(1.0, 7_000_000, 0.9)
    assert_values(slow, exponential(1.0, 7_000_000, 0.9), LARGE_STEPS)


def test_staircase_changes_every_period_only():
    # torch's StepLR(step_size=3, gamma=0.5), with no horizon.
    schedule = Exponential(1.0, 3, 0.5, staircase=True)
    steps = list(range(13)) + [10**6, 30_000_000]
    reference = exponential(1.0, 3, 0.5, staircase=True)
    assert_everywhere(schedule, reference, steps, atol=1e-38)
    assert_values(schedule, reference, [2.5, 3.5, 5.75])
    long = Exponential(1.0, 10**6, 0.9, staircase=True)
    steps = [0, 999_999, 10**6, 29_999_999, 30_000_000]
    assert_everywhere(long, exponential(1.0, 10**6, 0.9, staircase=True), steps)


@pytest.mark.parametrize("rate, end", [(0.5, 0.2), (2.0, 5.0)])
def test_end_bounds_the_value(rate, end):
    schedule = Exponential(1.0, 2, rate, end=end)
    reference = exponential(1.0, 2, rate, end=end)
    assert_everywhere(schedule, reference, list(range(12)) + LARGE_STEPS)


def test_fractional_steps():
    assert_values(Exponential(1.0, 4, 0.5), exponential(1.0, 4, 0.5), [0.5, 3.5, 9.25])


def test_used_in_training_and_reloaded(tmp_path):
    assert_in_training(Exponential(1.0, 4, 0.5), exponential(1.0, 4, 0.5), tmp_path)


def test_config_round_trip():
    assert_config_round_trip(Exponential(1e-3, 1000, 0.96))
    restored = assert_config_round_trip(Exponential(1.0, 3, 0.5, True, end=0.1))
    assert restored.staircase is True and restored.end == 0.1


def test_the_earlier_argument_order_is_refused_not_swapped():
    with pytest.raises(TypeError, match=r"Exponential\(1.0, steps=4, rate=0.5\)"):
        Exponential(1.0, 0.5, 4)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(start=1.0, steps=3, rate=0.0), ValueError, "Received: rate=0.0"),
        (dict(start=1.0, steps=3, rate=-0.5), ValueError, "Received: rate=-0.5"),
        (dict(start=1.0, steps=0, rate=0.5), ValueError, "Received: steps=0"),
        (dict(start="1", steps=3, rate=0.5), TypeError, "Received: start='1'"),
        (dict(start=1.0, steps=3, rate=0.5, staircase=1), TypeError, "staircase=1"),
        (dict(start=1.0, steps=3, rate=0.5, end="0"), TypeError, "Received: end='0'"),
    ],
)
def test_bad_arguments_are_refused(kwargs, error, match):
    with pytest.raises(error, match=match):
        Exponential(**kwargs)
