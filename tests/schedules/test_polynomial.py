import pytest

from coolkeras.schedules import Constant, Polynomial
from tests.schedules.helpers import (
    LARGE_STEPS,
    assert_config_round_trip,
    assert_everywhere,
    assert_in_training,
)


def polynomial(start, end, steps, power, power_of="remaining"):
    def reference(t):
        p = min(t, steps) / steps
        if power_of == "remaining":
            return end + (start - end) * (1 - p) ** power
        return start + (end - start) * p**power

    return reference


@pytest.mark.parametrize("power_of", ["remaining", "elapsed"])
@pytest.mark.parametrize("power", [0.5, 1.0, 2.5])
def test_values_at_every_step(power, power_of):
    schedule = Polynomial(1.0, 0.05, steps=10, power=power, power_of=power_of)
    reference = polynomial(1.0, 0.05, 10, power, power_of)
    assert_everywhere(schedule, reference, list(range(14)) + LARGE_STEPS)


@pytest.mark.parametrize("power_of", ["remaining", "elapsed"])
def test_large_steps_and_both_ends_stay_exact(power_of):
    steps = 40_000_000
    schedule = Polynomial(1.0, 0.0, steps=steps, power=0.5, power_of=power_of)
    at = [0, 1, 2, 10**6] + LARGE_STEPS + [steps - 1, steps]
    assert_everywhere(schedule, polynomial(1.0, 0.0, steps, 0.5, power_of), at)


def test_fractional_steps():
    schedule = Polynomial(2.0, 0.5, steps=4, power=1.5)
    assert_everywhere(schedule, polynomial(2.0, 0.5, 4, 1.5), [0, 1, 4])
    from tests.schedules.helpers import assert_values

    assert_values(schedule, polynomial(2.0, 0.5, 4, 1.5), [0.5, 2.25, 3.75])


def test_used_in_training_and_reloaded(tmp_path):
    schedule = Polynomial(1.0, 0.1, steps=8, power=0.5, power_of="elapsed")
    assert_in_training(schedule, polynomial(1.0, 0.1, 8, 0.5, "elapsed"), tmp_path)


def test_config_round_trip():
    restored = assert_config_round_trip(Polynomial(1e-3, 1e-5, steps=100, power=2.0))
    assert restored.power == 2.0 and restored.power_of == "remaining"


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(start=1.0, power=2.0), TypeError, "required keyword-only argument"),
        (dict(start=1.0, steps=0), ValueError, "Received: steps=0"),
        (dict(start=1.0, steps=5, power=-1), ValueError, "Received: power=-1"),
        (dict(start=1.0, steps=5, power=Constant(1.0)), TypeError, "Received: power="),
        (dict(start=1.0, steps=5, power_of="done"), ValueError, "power_of='done'"),
    ],
)
def test_bad_arguments_are_refused(kwargs, error, match):
    with pytest.raises(error, match=match):
        Polynomial(**kwargs)
