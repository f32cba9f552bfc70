import math

import pytest

from coolkeras.schedules import Constant, Cosine, Linear, Restarts
from tests.schedules.helpers import (
    LARGE_STEPS,
    assert_config_round_trip,
    assert_everywhere,
    assert_in_training,
    assert_values,
)


def restarts(inner, period, period_factor=1.0, value_factor=1.0):
    """Cycle i: `period * period_factor**i` steps of `inner`, stretched, times
    `value_factor**i`; found by walking the cycles in exact fractions."""

    def reference(t):
        start, length, i = 0.0, float(period), 0
        while t >= start + length:
            start, length, i = start + length, length * period_factor, i + 1
        return value_factor**i * inner((t - start) * period / length)

    return reference


def cosine(start, end, steps):
    return lambda t: (
        end + (start - end) * math.cos(math.pi * min(t, steps) / steps / 2) ** 2
    )


def test_equal_cycles_are_unbounded_and_exact_late():
    schedule = Restarts(Cosine(1.0, 0.1, steps=7), 7)
    steps = list(range(30)) + [10**6] + LARGE_STEPS
    assert_everywhere(schedule, restarts(cosine(1.0, 0.1, 7), 7), steps)


def test_growing_cycles_and_a_value_factor():
    schedule = Restarts(Linear(1.0, 0.0, 3), 3, period_factor=2, value_factor=0.5)
    reference = restarts(lambda t: 1.0 - min(t, 3) / 3, 3, 2, 0.5)
    steps = list(range(50)) + [3 * (2**20 - 1), 3 * (2**20 - 1) + 1]
    assert_everywhere(schedule, reference, steps, atol=1e-30)
    # Late in training, a cycle of 3 * 2**23 steps: its first and middle steps.
    start = 3 * (2**23 - 1)
    late = [start - 1, start, start + 3 * 2**22]
    assert_everywhere(schedule, reference, late, atol=1e-30)


def test_non_integer_period_factor_starts_cycles_between_steps():
    schedule = Restarts(Linear(1.0, 0.0, 4), 4, period_factor=1.5)
    reference = restarts(lambda t: 1.0 - min(t, 4) / 4, 4, 1.5)
    # Cycles start at 0, 4, 10, 19, 32.5, ...: step 33 is the first of cycle 4.
    assert_everywhere(schedule, reference, range(60), rtol=2e-6)
    assert_values(schedule, reference, [32.25, 32.5, 32.75], rtol=2e-6)


def test_fractional_steps_move_inside_a_cycle():
    schedule = Restarts(Linear(1.0, 0.0, 4), 4)
    assert_values(schedule, restarts(lambda t: 1.0 - t / 4, 4), [0.5, 3.5, 4.25, 9.75])


def test_used_in_training_and_reloaded(tmp_path):
    schedule = Restarts(Linear(1.0, 0.0, 2), 2, period_factor=2, value_factor=0.5)
    reference = restarts(lambda t: 1.0 - min(t, 2) / 2, 2, 2, 0.5)
    assert_in_training(schedule, reference, tmp_path)


def test_config_round_trip_and_plot(tmp_path):
    schedule = Restarts(Cosine(1e-3, 1e-5, steps=10), 10, 2, 0.8)
    restored = assert_config_round_trip(schedule, range(100))
    assert (restored.period, restored.period_factor, restored.value_factor) == (
        10,
        2,
        0.8,
    )
    assert schedule._horizon() == 70  # three cycles
    schedule.plot(tmp_path / "restarts.png")


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(schedule=1.0, period=3), TypeError, "Received: schedule=1.0"),
        (dict(schedule=Constant(1.0), period=0), ValueError, "Received: period=0"),
        (
            dict(schedule=Constant(1.0), period=3, period_factor=0.5),
            ValueError,
            "Received: period_factor=0.5",
        ),
        (
            dict(schedule=Constant(1.0), period=3, value_factor=0.0),
            ValueError,
            "Received: value_factor=0.0",
        ),
        (
            dict(schedule=Constant(1.0), period=3, value_factor="x"),
            TypeError,
            "Received: value_factor='x'",
        ),
    ],
)
def test_bad_arguments_are_refused(kwargs, error, match):
    with pytest.raises(error, match=match):
        Restarts(**kwargs)
