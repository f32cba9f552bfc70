import math

import pytest

from coolkeras.schedules import Constant, Join, warmup_stable_decay
from tests.schedules.helpers import (
    LARGE_STEPS,
    assert_config_round_trip,
    assert_everywhere,
    assert_in_training,
)


def wsd(peak, warmup, stable, decay, start=0.0, end=0.0):
    """Linear warmup, stable, then the 1 - sqrt cool-down (Hägele et al. 2024)."""

    def reference(t):
        if t < warmup:
            return start + (peak - start) * t / warmup
        if t < warmup + stable:
            return peak
        p = min(t - warmup - stable, decay) / decay
        return end + (peak - end) * (1 - math.sqrt(p))

    return reference


def test_values_at_every_step_and_late():
    schedule = warmup_stable_decay(
        1e-3, warmup=3, stable=5, decay=8, start=1e-5, end=1e-5
    )
    assert isinstance(schedule, Join)
    reference = wsd(1e-3, 3, 5, 8, 1e-5, 1e-5)
    assert_everywhere(schedule, reference, list(range(20)) + LARGE_STEPS)


def test_a_long_cool_down_late_in_training_is_exact():
    schedule = warmup_stable_decay(1.0, warmup=10, stable=29_000_000, decay=2_000_000)
    steps = [0, 5, 29_000_009, 29_000_010, 29_000_011] + LARGE_STEPS + [31_000_009]
    assert_everywhere(schedule, wsd(1.0, 10, 29_000_000, 2_000_000), steps, atol=1e-12)


def test_stages_of_zero_steps_are_left_out():
    no_warmup = warmup_stable_decay(1.0, warmup=0, stable=2, decay=2)
    assert no_warmup.boundaries == [2]
    assert_everywhere(no_warmup, wsd(1.0, 0, 2, 2), range(6))
    no_decay = warmup_stable_decay(1.0, warmup=2, stable=2, decay=0, end=0.1)
    assert isinstance(no_decay.schedules[-1], Constant)
    assert no_decay.values([0, 1, 3, 4, 9]).tolist() == pytest.approx(
        [0, 0.5, 1, 0.1, 0.1]
    )


def test_used_in_training_and_reloaded(tmp_path):
    schedule = warmup_stable_decay(1.0, warmup=2, stable=3, decay=4)
    assert_in_training(schedule, wsd(1.0, 2, 3, 4), tmp_path)
    assert_config_round_trip(schedule)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(warmup=-1, stable=1, decay=1), ValueError, "Received: warmup=-1"),
        (dict(warmup=1, stable=1.5, decay=1), TypeError, "Received: stable=1.5"),
        (
            dict(warmup=1, stable=1, decay=1, decay_shape="sqrt"),
            ValueError,
            "decay_shape='sqrt'",
        ),
        (
            dict(warmup=1, stable=1, decay=1, warmup_shape="exp"),
            ValueError,
            "warmup_shape='exp'",
        ),
    ],
)
def test_bad_arguments_are_refused(kwargs, error, match):
    with pytest.raises(error, match=match):
        warmup_stable_decay(1.0, **kwargs)
