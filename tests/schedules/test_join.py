import math

import pytest

from coolkeras.schedules import Constant, Cosine, Join, Linear
from tests.schedules.helpers import (
    LARGE_STEPS,
    assert_config_round_trip,
    assert_in_training,
    assert_values,
    linear,
)


def cosine(start, steps):
    return lambda t: start * math.cos(math.pi * min(t, steps) / steps / 2) ** 2


def join(references, boundaries):
    """optax's join_schedules: each piece counts from its own boundary."""

    def reference(t):
        starts = [0] + list(boundaries)
        i = sum(t >= b for b in boundaries)
        return references[i](t - starts[i])

    return reference


SCHEDULES = [Constant(0.5), Linear(1.0, 0.25, 3), Cosine(0.5, steps=4)]
REFERENCES = [lambda t: 0.5, linear(1.0, 0.25, 3), cosine(0.5, 4)]


def test_values_at_every_step():
    schedule = Join(SCHEDULES, boundaries=[3, 7])
    assert_values(schedule, join(REFERENCES, [3, 7]), range(14), atol=1e-30)


def test_single_schedule_is_itself():
    assert_values(Join([Linear(1.0, 0.0, 4)], []), linear(1.0, 0.0, 4), range(6))


def test_late_boundaries_stay_exact():
    schedule = Join([Constant(1.0), Linear(1.0, 0.0, 20)], boundaries=[29_999_990])
    reference = join([lambda t: 1.0, linear(1.0, 0.0, 20)], [29_999_990])
    assert_values(schedule, reference, [0, 29_999_989, 29_999_990] + LARGE_STEPS)


def test_used_in_training_and_reloaded(tmp_path):
    schedule = Join(SCHEDULES, boundaries=[3, 7])
    assert_in_training(schedule, join(REFERENCES, [3, 7]), tmp_path)


def test_config_round_trip():
    restored = assert_config_round_trip(Join(SCHEDULES, boundaries=[3, 7]))
    assert [type(s) for s in restored.schedules] == [Constant, Linear, Cosine]
    assert restored.boundaries == [3, 7]


@pytest.mark.parametrize(
    "schedules, boundaries, error, match",
    [
        (SCHEDULES, [3], ValueError, r"Received: boundaries=\[3\] of length 1"),
        (SCHEDULES, [7, 3], ValueError, r"increasing. Received: boundaries=\[7, 3\]"),
        (SCHEDULES, [3, 3], ValueError, "Received: boundaries="),
        (SCHEDULES, [0, 3], ValueError, r"Received: boundaries\[0\]=0"),
        (SCHEDULES, [-2, 3], ValueError, r"Received: boundaries\[0\]=-2"),
        ([Constant(1.0), 0.5], [3], TypeError, r"Received: schedules\[1\]=0.5"),
        ([], [], ValueError, r"Received: schedules=\[\]"),
        (Constant(1.0), [], TypeError, "Received: schedules="),
        (SCHEDULES, 3, TypeError, "Received: boundaries=3"),
    ],
)
def test_bad_arguments_are_refused(schedules, boundaries, error, match):
    with pytest.raises(error, match=match):
        Join(schedules, boundaries)
