import keras
import pytest

from coolkeras.schedules import (
    ByEpoch,
    Constant,
    Join,
    Linear,
    PiecewiseConstant,
    Restarts,
    Warmup,
    by_epoch,
    find_by_epoch,
)
from coolkeras.schedules.epochs import UnknownStepsPerEpoch
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


# -- steps_per_epoch set by training code: bind_steps_per_epoch ---------------------


def test_without_steps_per_epoch_evaluation_names_the_fix():
    schedule = by_epoch(PiecewiseConstant({0: 1e-2, 50: 1e-3}))
    assert schedule.steps_per_epoch is None and schedule._horizon() is None
    with pytest.raises(ValueError, match="does not know its steps_per_epoch") as info:
        schedule(0)
    assert "Pass steps_per_epoch=" in str(info.value)
    with pytest.raises(UnknownStepsPerEpoch):
        schedule.values([0, 1])


def test_bind_sets_the_number_and_the_drops_land_on_their_epochs():
    # The article's 5b with 4 updates per epoch, the number learned from fit.
    schedule = by_epoch(PiecewiseConstant({0: 1e-2, 50: 1e-3, 80: 1e-4}))
    schedule.bind_steps_per_epoch(4, "fit(): 128 samples, batch_size=32")
    assert schedule.steps_per_epoch == 4
    steps = [0, 199, 200, 319, 320, 10**6] + LARGE_STEPS
    assert_values(schedule, lambda t: article_piecewise(t // 4), steps)
    schedule.bind_steps_per_epoch(4, "the same fit again")  # agreeing: no error


def test_a_given_number_that_disagrees_raises_with_both_numbers():
    schedule = by_epoch(PiecewiseConstant({0: 1e-2, 50: 1e-3}), 3)
    with pytest.raises(ValueError) as info:
        schedule.bind_steps_per_epoch(4, "fit(): 16 samples, batch_size=4")
    message = str(info.value)
    assert "by_epoch was given steps_per_epoch=3 but fit runs 4 optimizer" in message
    assert "16 samples, batch_size=4" in message and "Received: n=4" in message
    assert schedule.steps_per_epoch == 3  # unchanged
    schedule.bind_steps_per_epoch(3, "fit(): 12 samples, batch_size=4")


def test_a_learned_number_is_not_silently_changed():
    schedule = by_epoch(Constant(1.0))
    schedule.bind_steps_per_epoch(5, "first fit")
    with pytest.raises(ValueError, match=r"steps_per_epoch=5 \(set by first fit\)"):
        schedule.bind_steps_per_epoch(6, "second fit")
    assert schedule.steps_per_epoch == 5


@pytest.mark.parametrize(
    "n, source, error, match",
    [
        (0, "fit", ValueError, "Received: n=0"),
        (2.5, "fit", TypeError, "Received: n=2.5"),
        (True, "fit", TypeError, "Received: n=True"),
        (4, None, TypeError, "Received: source=None"),
    ],
)
def test_bind_refuses_bad_arguments(n, source, error, match):
    with pytest.raises(error, match=match):
        by_epoch(Constant(1.0)).bind_steps_per_epoch(n, source)


def test_the_learned_number_is_saved_and_reloads(tmp_path):
    schedule = by_epoch(Warmup(PiecewiseConstant({0: 1.0, 1: 0.5}), 2))
    schedule.bind_steps_per_epoch(3, "fit(): 3 batches")
    config = schedule.get_config()
    assert config["steps_per_epoch"] == 3
    assert config["steps_per_epoch_source"] == "fit(): 3 batches"
    restored = assert_config_round_trip(schedule, range(30))
    with pytest.raises(ValueError, match=r"set by fit\(\): 3 batches"):
        restored.bind_steps_per_epoch(4, "another fit")

    def reference(t):
        epoch = t / 3
        if epoch < 2:
            return epoch / 2
        return 1.0 if epoch < 3 else 0.5

    assert_in_training(schedule, reference, tmp_path)


def test_a_warmup_around_an_unbound_by_epoch_works_once_bound():
    inner = by_epoch(Constant(1e-3))
    schedule = Warmup(inner, 4)  # evaluating the peak now would raise
    inner.bind_steps_per_epoch(10, "fit")
    assert_values(schedule, lambda t: 1e-3 * min(t, 4) / 4, [0, 2, 4, 100])


def test_find_by_epoch_walks_every_composition():
    a = by_epoch(Constant(1.0))
    b = by_epoch(Linear(1.0, 0.0, 10), 7)
    c = by_epoch(Constant(0.5))
    nested = by_epoch(Join([Constant(1.0), c], [3]))
    tree = Join(
        [
            Warmup(2.0 * a, 5),
            Restarts(b * Constant(2.0), 4),
            Constant(1.0) + nested,
            a,  # the same object twice is found once
        ],
        [10, 20, 30],
    )
    assert find_by_epoch(tree) == [a, b, nested, c]
    assert find_by_epoch([b, (a,)]) == [b, a]
    assert find_by_epoch(Constant(1.0)) == []
    assert find_by_epoch(0.01) == []
    assert find_by_epoch(keras.optimizers.schedules.ExponentialDecay(1.0, 2, 0.5)) == []
    # Inside a Keras schedule that wraps one (as attach wraps a learning rate).
    assert find_by_epoch(_Wrapper(Join([a, b], [4]), 2)) == [a, b]


class _Wrapper(keras.optimizers.schedules.LearningRateSchedule):
    def __init__(self, schedule, updates_per_step):
        self.schedule = schedule
        self.updates_per_step = updates_per_step

    def __call__(self, step):
        return self.schedule(step // self.updates_per_step)
