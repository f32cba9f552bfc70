import math

import pytest

from coolkeras.schedules import Constant, Cosine
from tests.schedules.helpers import (
    LARGE_STEPS,
    assert_config_round_trip,
    assert_everywhere,
    assert_in_training,
    assert_values,
)


def cosine(start, end, steps):
    def reference(t):
        p = min(t, steps) / steps
        # (1 + cos(pi * p)) / 2 written as cos(pi * p / 2) ** 2: the same number,
        # without float64 cancellation at p -> 1 (where 1 + cos loses 5 digits).
        return end + (start - end) * math.cos(math.pi * p / 2) ** 2

    return reference


def assert_cosine(schedule, start, end, steps, at):
    # atol: cos(pi / 2) ** 2 is 3.7e-33 in float64, not 0.
    assert_values(schedule, cosine(start, end, steps), at, atol=1e-30)


def test_values_at_every_step():
    assert_cosine(Cosine(1.0, 0.125, steps=8), 1.0, 0.125, 8, range(12))
    assert_cosine(Cosine(2.0, steps=5), 2.0, 0.0, 5, range(8))


def test_values_near_both_ends_have_no_cancellation():
    # 1 + cos(pi * p) near p = 1 loses every digit in float32.
    steps = 1_000_000
    near_ends = [1, 2, steps - 2, steps - 1, steps]
    assert_cosine(Cosine(1.0, steps=steps), 1.0, 0.0, steps, near_ends)


def test_large_steps_stay_exact():
    long = Cosine(1.0, 0.01, steps=40_000_000)
    assert_cosine(long, 1.0, 0.01, 40_000_000, [0] + LARGE_STEPS)
    assert_cosine(Cosine(1.0, 0.01, steps=100), 1.0, 0.01, 100, LARGE_STEPS)


def test_used_in_training_and_reloaded(tmp_path):
    assert_in_training(Cosine(1.0, 0.125, steps=8), cosine(1.0, 0.125, 8), tmp_path)


def test_config_round_trip():
    assert_config_round_trip(Cosine(1e-3, 1e-5, steps=1000))


def test_steps_is_required_and_keyword_only():
    with pytest.raises(TypeError, match="required keyword-only argument: 'steps'"):
        Cosine(1.0)
    with pytest.raises(TypeError, match="positional"):
        Cosine(1.0, 0.0, 10)
    with pytest.raises(ValueError, match="Received: steps=0"):
        Cosine(1.0, steps=0)
    with pytest.raises(TypeError, match="Received: start="):
        Cosine(Constant(1.0), steps=3)
    with pytest.raises(ValueError, match="Received: end=inf"):
        Cosine(1.0, float("inf"), steps=3)


def cosine_power(start, end, steps, exponent=1.0, cycles=0.5):
    def reference(t):
        p = min(t, steps) / steps
        if cycles == 0.5:  # (1 + cos(pi p)) / 2, exact at p = 1 too
            factor = math.sin(math.pi / 2 * (1 - p)) ** 2
        else:  # (1 + cos(2 pi c p)) / 2
            factor = math.cos(math.pi * cycles * p) ** 2
        return end + (start - end) * factor**exponent

    return reference


@pytest.mark.parametrize("exponent", [0.5, 2.0, 3.7])
def test_exponent_near_both_ends_and_late(exponent):
    steps = 40_000_000
    schedule = Cosine(1.0, 0.0, steps=steps, exponent=exponent)
    reference = cosine_power(1.0, 0.0, steps, exponent)
    assert_everywhere(schedule, reference, [0, 1, 2, 10**6] + LARGE_STEPS)
    # The last steps: values down to 1e-60 computed as exp(exponent * log(c)) in
    # float32, whose relative error is about exponent * |log c| * 6e-8.
    end = [steps - 2, steps - 1, steps]
    assert_everywhere(schedule, reference, end, rtol=1e-5, atol=1e-38)
    rising = Cosine(0.0, 1.0, steps=12, exponent=exponent)  # 1 - c**e near step 0
    assert_everywhere(rising, cosine_power(0.0, 1.0, 12, exponent), range(14))


@pytest.mark.parametrize("cycles", [1.0, 1.5, 3.0])
def test_cycles(cycles):
    schedule = Cosine(2.0, 0.5, steps=12, cycles=cycles)
    reference = cosine_power(2.0, 0.5, 12, cycles=cycles)
    # The float32 angle pi * cycles * p: ~1e-6 of the amplitude, in absolute terms.
    assert_everywhere(schedule, reference, range(15), atol=1e-6)
    both = Cosine(1.0, 0.1, steps=12, exponent=2.0, cycles=cycles)
    assert_everywhere(
        both, cosine_power(1.0, 0.1, 12, 2.0, cycles), range(15), atol=1e-6
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(exponent=0.0), "Received: exponent=0.0"),
        (dict(cycles=-1), "Received: cycles=-1"),
    ],
)
def test_bad_exponent_or_cycles(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Cosine(1.0, steps=4, **kwargs)
