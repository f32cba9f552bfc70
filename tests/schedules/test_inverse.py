"""`InverseTime` and `InverseSqrt`: unbounded decays in 1 / t and 1 / sqrt(t)."""

import math

import pytest

from coolkeras.schedules import InverseSqrt, InverseTime
from tests.schedules.helpers import (
    LARGE_STEPS,
    assert_config_round_trip,
    assert_everywhere,
    assert_in_training,
    assert_values,
)

STEPS = list(range(20)) + [10**6] + LARGE_STEPS + [2**31 - 1]


def inverse_time(start, steps, rate, staircase=False):
    def reference(t):
        p = math.floor(t / steps) if staircase else t / steps
        return start / (1 + rate * p)

    return reference


def inverse_sqrt(start, timescale):
    return lambda t: start * math.sqrt(timescale / (t + timescale))


@pytest.mark.parametrize("staircase", [False, True])
def test_inverse_time_values_late_steps_included(staircase):
    schedule = InverseTime(0.5, 3, 0.8, staircase=staircase)
    assert_everywhere(schedule, inverse_time(0.5, 3, 0.8, staircase), STEPS)
    assert_values(schedule, inverse_time(0.5, 3, 0.8, staircase), [0.5, 2.75, 3.25])


def test_inverse_sqrt_values_late_steps_included():
    assert_everywhere(InverseSqrt(2.0, 10), inverse_sqrt(2.0, 10), STEPS)
    assert_values(InverseSqrt(2.0, 10), inverse_sqrt(2.0, 10), [0.5, 7.25])


def test_used_in_training_and_reloaded(tmp_path):
    assert_in_training(InverseTime(1.0, 2, 0.5), inverse_time(1.0, 2, 0.5), tmp_path)
    assert_in_training(InverseSqrt(1.0, 3), inverse_sqrt(1.0, 3), tmp_path)


def test_config_round_trip():
    assert assert_config_round_trip(InverseTime(1.0, 2, 0.5, True)).staircase
    assert assert_config_round_trip(InverseSqrt(1e-3, 4000)).timescale == 4000


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: InverseTime(1.0, 0, 0.5), ValueError, "Received: steps=0"),
        (lambda: InverseTime(1.0, 2, -0.5), ValueError, "Received: rate=-0.5"),
        (lambda: InverseTime(1.0, 2, 0.5, staircase="no"), TypeError, "staircase='no'"),
        (lambda: InverseSqrt(1.0, 0), ValueError, "Received: timescale=0"),
        (lambda: InverseSqrt(1.0, 2.5), TypeError, "Received: timescale=2.5"),
        (lambda: InverseSqrt(float("nan"), 3), ValueError, "Received: start=nan"),
    ],
)
def test_bad_arguments_are_refused(make, error, match):
    with pytest.raises(error, match=match):
        make()
