import pytest

from coolkeras.schedules import Constant, Cosine, Linear, PiecewiseConstant, Warmup
from tests.schedules.helpers import (
    LARGE_STEPS,
    assert_config_round_trip,
    assert_everywhere,
    assert_in_training,
    assert_values,
    linear,
)


def warmup(inner, steps, start=0.0):
    """Linear from `start` to inner(0) over `steps`, then inner(t - steps)."""

    def reference(t):
        if t < steps:
            return start + (inner(0.0) - start) * t / steps
        return inner(t - steps)

    return reference


def test_values_at_every_step():
    schedule = Warmup(Linear(1.0, 0.5, 4), steps=4, start=0.25)
    assert_values(schedule, warmup(linear(1.0, 0.5, 4), 4, 0.25), range(12))


def test_peak_is_the_schedules_first_value_and_the_schedule_then_starts():
    schedule = Warmup(Cosine(1e-3, 1e-5, steps=9000), steps=1000)
    values = schedule.values([0, 500, 1000, 10_000])
    assert values[0] == 0.0
    assert abs(values[1] - 5e-4) < 1e-9
    assert abs(values[2] - 1e-3) < 1e-9  # the peak: Cosine's step 0
    assert abs(values[3] - 1e-5) < 1e-9  # Cosine's end, 9000 steps after warmup


def test_zero_steps_is_no_warmup():
    inner = Linear(1.0, 0.5, 4)
    assert_values(Warmup(inner, 0), linear(1.0, 0.5, 4), range(6))


def test_large_steps_stay_exact():
    long = Warmup(Linear(1.0, 0.0, 10), steps=30_000_000, start=0.5)
    assert_values(
        long,
        warmup(linear(1.0, 0.0, 10), 30_000_000, 0.5),
        [0, 1] + LARGE_STEPS + [30_000_005],
    )


def test_used_in_training_and_reloaded(tmp_path):
    schedule = Warmup(PiecewiseConstant({0: 1.0, 3: 0.5}), steps=5, start=0.1)
    reference = warmup(lambda t: 1.0 if t < 3 else 0.5, 5, 0.1)
    assert_in_training(schedule, reference, tmp_path)


def test_config_round_trip():
    restored = assert_config_round_trip(Warmup(Cosine(1e-3, steps=100), 10, 1e-5))
    assert isinstance(restored.schedule, Cosine)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (
            dict(schedule=1e-3, steps=10),
            TypeError,
            r"Constant\(0.001\).*Received: schedule=0.001",
        ),
        (dict(schedule=Constant(1.0), steps=-1), ValueError, "Received: steps=-1"),
        (
            dict(schedule=Constant(1.0), steps=10, start=Constant(0.0)),
            TypeError,
            "Received: start=",
        ),
        (
            dict(schedule=Constant(1.0), steps=10, start=float("nan")),
            ValueError,
            "Received: start=nan",
        ),
    ],
)
def test_bad_arguments_are_refused(kwargs, error, match):
    with pytest.raises(error, match=match):
        Warmup(**kwargs)


def test_offset_moves_everything_earlier():
    inner = Linear(1.0, 0.5, 4)
    schedule = Warmup(inner, steps=4, start=0.25, offset=1)
    plain = warmup(linear(1.0, 0.5, 4), 4, 0.25)
    assert_everywhere(schedule, lambda t: plain(t + 1), list(range(12)) + LARGE_STEPS)
    # The article: lr * (n + 1) / N for n < N, so the first update learns.
    article = Warmup(Constant(1e-3), 10, offset=1)
    assert_everywhere(article, lambda t: 1e-3 * min(t + 1, 10) / 10, range(14))
    assert_values(article, lambda t: 1e-3 * min(t + 1, 10) / 10, [2**31 - 1])
    assert assert_config_round_trip(article).offset == 1


@pytest.mark.parametrize(
    "offset, error", [(-1, ValueError), (5, ValueError), (1.5, TypeError)]
)
def test_offset_must_lie_inside_the_warmup(offset, error):
    with pytest.raises(error, match="Received: offset="):
        Warmup(Constant(1.0), 4, offset=offset)
