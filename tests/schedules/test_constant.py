import pytest

from coolkeras.schedules import Constant, Linear
from tests.schedules.helpers import (
    LARGE_STEPS,
    assert_config_round_trip,
    assert_in_training,
    assert_values,
)


def test_values_at_every_step_and_large_steps():
    assert_values(Constant(0.3), lambda t: 0.3, list(range(10)) + LARGE_STEPS)


def test_used_in_training_and_reloaded(tmp_path):
    assert_in_training(Constant(0.5), lambda t: 0.5, tmp_path)


def test_config_round_trip():
    restored = assert_config_round_trip(Constant(-2.5))
    assert restored.value == -2.5


@pytest.mark.parametrize(
    "value, error",
    [
        (float("nan"), ValueError),
        (float("inf"), ValueError),
        ("0.1", TypeError),
        (True, TypeError),
        (Linear(0.0, 1.0, 3), TypeError),
    ],
)
def test_bad_value_is_refused(value, error):
    with pytest.raises(error, match="Received: value="):
        Constant(value)
