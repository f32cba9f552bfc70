import pytest

from coolkeras.schedules import (
    ByEpoch,
    Constant,
    Linear,
    PiecewiseConstant,
    Warmup,
    by_epoch,
)
from tests.schedules.helpers import (
    LARGE_STEPS,
    assert_config_round_trip,
    assert_in_training,
    assert_values,
)


def article_piecewise(epoch):
    """Section 5b: 1e-2 until epoch 50, 1e-3 until epoch 80, then 1e-4."""
    if epoch < 50:
        return 1e-2
    if epoch < 80:
        return 1e-3
    return 1e-4


def article_warmup(epoch):
    """Section 5d: linear warmup over the first 10 epochs, per batch, then 1e-3."""
    return 1e-3 * min(epoch, 10) / 10


def test_article_piecewise_by_epoch_is_one_expression():
    steps_per_epoch = 37
    schedule = by_epoch(
        PiecewiseConstant({0: 1e-2, 50: 1e-3, 80: 1e-4}), steps_per_epoch
    )
    steps = [0, 1, 50 * 37 - 1, 50 * 37, 80 * 37 - 1, 80 * 37, 100 * 37] + LARGE_STEPS
    assert_values(schedule, lambda t: article_piecewise(t // steps_per_epoch), steps)


def test_article_warmup_moves_at_every_batch():
    steps_per_epoch = 7
    schedule = by_epoch(Warmup(Constant(1e-3), 10), steps_per_epoch)
    steps = list(range(0, 80)) + [500] + LARGE_STEPS
    assert_values(schedule, lambda t: article_warmup(t / steps_per_epoch), steps)


def test_warmup_then_piecewise_by_epoch():
    # The schedule after the warmup counts from the warmup's end: 40 + 10 = 50.
    schedule = by_epoch(Warmup(PiecewiseConstant({0: 1e-3, 40: 1e-4}), 10), 5)
    expected = lambda t: article_warmup(t / 5) if t < 250 else 1e-4  # noqa: E731
    assert_values(schedule, expected, [0, 3, 49, 50, 51, 249, 250, 10_000])


def test_fractional_epochs_are_exact_late_in_training():
    steps_per_epoch = 7
    schedule = by_epoch(Linear(1.0, 0.0, 5_000_000), steps_per_epoch)

    def reference(t):
        return 1.0 - min(t / steps_per_epoch, 5_000_000) / 5_000_000

    assert_values(schedule, reference, [0, 1, 6, 7, 29_999_993] + LARGE_STEPS)


def test_used_in_training_and_reloaded(tmp_path):
    schedule = by_epoch(Warmup(PiecewiseConstant({0: 1.0, 1: 0.5}), 2), 3)

    def reference(t):
        epoch = t / 3
        if epoch < 2:
            return epoch / 2
        return 1.0 if epoch < 3 else 0.5

    assert_in_training(schedule, reference, tmp_path)


def test_config_round_trip():
    schedule = by_epoch(Linear(1.0, 0.0, 10), 100)
    restored = assert_config_round_trip(schedule, range(0, 2000, 7))
    assert isinstance(restored, ByEpoch) and restored.steps_per_epoch == 100


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="Received: steps_per_epoch=0"):
        by_epoch(Constant(1.0), 0)
    with pytest.raises(TypeError, match="Received: steps_per_epoch=2.5"):
        by_epoch(Constant(1.0), 2.5)
    with pytest.raises(TypeError, match="Received: schedule=0.01"):
        by_epoch(0.01, 10)
    with pytest.raises(TypeError, match="Received: steps_per_epoch="):
        by_epoch(Constant(1.0), Constant(10.0))
