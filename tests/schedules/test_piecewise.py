import json

import numpy as np
import pytest

from coolkeras.schedules import Constant, PiecewiseConstant, PiecewiseLinear
from tests.schedules.helpers import (
    LARGE_STEPS,
    assert_config_round_trip,
    assert_everywhere,
    assert_in_training,
    assert_values,
    count_keras_ops,
)


def interpolate(points):
    steps, values = list(points), list(points.values())
    return lambda t: float(np.interp(t, steps, values))  # flat outside, like bert4keras


def constant_pieces(points):
    steps, values = list(points), list(points.values())
    return lambda t: values[max(0, int(np.searchsorted(steps, t, side="right")) - 1)]


LINEAR_POINTS = {2: 1.0, 6: 0.25, 9: 0.5}
CONSTANT_POINTS = {0: 1.0, 3: 0.5, 7: 0.25}


def test_linear_values_at_every_step():
    assert_values(PiecewiseLinear(LINEAR_POINTS), interpolate(LINEAR_POINTS), range(14))
    single = {5: 0.3}
    assert_values(PiecewiseLinear(single), interpolate(single), range(8))


def test_linear_bert4keras_warmup_then_decay():
    points = {0: 0.0, 1000: 1e-3, 10000: 1e-4}
    steps = [0, 1, 500, 999, 1000, 1001, 5500, 9999, 10000, 20000]
    assert_values(PiecewiseLinear(points), interpolate(points), steps)


def test_linear_segments_late_in_training_stay_exact():
    # float32 cannot tell 30_000_001 from 30_000_000: segment starts are
    # subtracted in integers first.
    points = {0: 1.0, 30_000_000: 0.5, 30_000_010: 0.0, 30_000_011: 0.25}
    steps = [0, 15_000_000] + LARGE_STEPS + [30_000_005, 30_000_010, 30_000_011]
    assert_values(PiecewiseLinear(points), interpolate(points), steps)


def test_linear_fractional_steps():
    points = {0: 0.0, 4: 1.0}
    assert_values(PiecewiseLinear(points), interpolate(points), [0.5, 2.25, 3.75, 7.5])


def test_constant_values_at_every_step():
    schedule = PiecewiseConstant(CONSTANT_POINTS)
    assert_values(schedule, constant_pieces(CONSTANT_POINTS), range(10))
    late = {1: 2.0, 30_000_000: 1.0, 30_000_001: 0.5}
    assert_values(PiecewiseConstant(late), constant_pieces(late), [0, 1] + LARGE_STEPS)


def test_used_in_training_and_reloaded(tmp_path):
    assert_in_training(
        PiecewiseLinear(LINEAR_POINTS), interpolate(LINEAR_POINTS), tmp_path
    )
    assert_in_training(
        PiecewiseConstant(CONSTANT_POINTS), constant_pieces(CONSTANT_POINTS), tmp_path
    )


def test_config_round_trip_turns_json_string_keys_back_into_steps():
    for cls in (PiecewiseLinear, PiecewiseConstant):
        restored = assert_config_round_trip(cls({0: 0.1, 1000: 0.01}))
        assert restored.points == {0: 0.1, 1000: 0.01}
        config = json.loads(json.dumps(restored.get_config()))
        assert config["points"] == {"0": 0.1, "1000": 0.01}
        assert cls.from_config(config).points == {0: 0.1, 1000: 0.01}


@pytest.mark.parametrize("cls", [PiecewiseLinear, PiecewiseConstant])
@pytest.mark.parametrize(
    "points, error",
    [
        ({}, ValueError),
        ({0: 1.0, 100: 0.5, 50: 0.1}, ValueError),  # unsorted
        ({0: 1.0, -10: 0.5}, ValueError),  # negative
        ({0: 1.0, 2.5: 0.5}, TypeError),  # not an integer step
        ({"0": 1.0}, TypeError),
        ({0: float("nan")}, ValueError),
        ({0: float("inf")}, ValueError),
        ({0: Constant(1.0)}, TypeError),
        ([(0, 1.0)], TypeError),
        (Constant(1.0), TypeError),
    ],
)
def test_bad_points_are_refused(cls, points, error):
    with pytest.raises(error, match=r"Received: points"):
        cls(points)


def test_from_zero_is_bert4keras_default():
    points = {1000: 1.0, 2000: 0.1}
    warm = PiecewiseLinear(points, from_zero=True)
    assert_everywhere(
        warm, interpolate({0: 0.0, **points}), [0, 1, 500, 1000, 1500, 2000, 10**6]
    )
    flat = PiecewiseLinear(points)  # as written: flat before the first point
    assert_values(flat, interpolate(points), [0, 500, 1000, 1500])
    # A dict that starts at 0 is the same either way.
    assert_values(
        PiecewiseLinear({0: 0.5, 4: 1.0}, from_zero=True),
        interpolate({0: 0.5, 4: 1.0}),
        range(6),
    )
    restored = assert_config_round_trip(warm, range(0, 3000, 100))
    assert restored.from_zero is True and restored.points == points
    with pytest.raises(TypeError, match="Received: from_zero=1"):
        PiecewiseLinear(points, from_zero=1)


@pytest.mark.parametrize(
    "cls, reference",
    [(PiecewiseLinear, interpolate), (PiecewiseConstant, constant_pieces)],
)
def test_ten_thousand_points_cost_what_ten_cost(cls, reference, monkeypatch):
    rng = np.random.default_rng(0)
    counts = {}
    for n in (10, 10_000):
        steps = np.cumsum(rng.integers(1, 4000, size=n))
        points = dict(
            zip(steps.tolist(), rng.uniform(0, 1, size=n).tolist(), strict=True)
        )
        schedule = cls(points)
        at = [
            0,
            int(steps[0]),
            int(steps[n // 2]) + 1,
            int(steps[-1]) - 1,
            int(steps[-1]) + 5,
        ]
        assert_everywhere(schedule, reference(points), at, atol=1e-7)
        counts[n] = count_keras_ops(schedule, monkeypatch)
    assert counts[10] == counts[10_000] > 0  # the trace does not grow
