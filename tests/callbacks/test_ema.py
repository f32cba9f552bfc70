"""`EMA`: the average after every step equals a numpy reference of the
bias-corrected EMA, per optimizer update, on the backend under test."""

import numpy as np
import pytest

from coolkeras import Hyperparameter, schedules
from coolkeras.callbacks import EMA
from tests.callbacks.ema_helpers import (
    RawTrajectory,
    Snapshots,
    assert_close,
    assert_far,
    execution_settings,
    fit,
    make_model,
    reference,
)


def _timm_warmup(gamma):
    # timm's ModelEmaV3 warm-up `1 - (1 + t / gamma) ** -power`, power 1.
    return 1.0 - schedules.InverseTime(1.0, steps=gamma, rate=1.0)


CASES = {
    # name: (EMA arguments, reference decay, accumulation)
    "constant": ({"decay": 0.8}, lambda c: 0.8, None),
    "timm_warmup_schedule": (
        {"decay": _timm_warmup(2)}, lambda c: 1 - 1 / (1 + c / 2), None
    ),
    "hyperparameter": (
        {"decay": Hyperparameter(schedules.Linear(0.5, 0.9, steps=6), name="d")},
        lambda c: 0.5 + 0.4 * min(c, 6) / 6,
        None,
    ),
    "accumulation": ({"decay": 0.7}, lambda c: 0.7, 2),
    "accumulation_schedule": ({"decay": _timm_warmup(1)}, lambda c: 1 - 1 / (1 + c), 2),
    "no_debias": ({"decay": 0.8, "debias": False}, lambda c: 0.8, None),
    "start_step": ({"decay": 0.6, "start_step": 3}, lambda c: 0.6, None),
}


def _raw_trajectory(accumulation, include_non_trainable=False, batch_norm=False):
    model = make_model(accumulation=accumulation, batch_norm=batch_norm)
    raw = RawTrajectory(include_non_trainable)
    fit(model, [raw])
    return raw


@pytest.mark.parametrize("steps_per_execution", execution_settings())
@pytest.mark.parametrize("case", list(CASES))
def test_average_after_each_step_matches_the_reference(case, steps_per_execution):
    arguments, decay, accumulation = CASES[case]
    raw = _raw_trajectory(accumulation)
    model = make_model(steps_per_execution, accumulation)
    ema = EMA(**arguments)
    snapshots = Snapshots(ema)
    fit(model, [ema, snapshots])

    expected = reference(
        raw.initial,
        raw.steps,
        decay,
        accumulation=accumulation or 1,
        debias=arguments.get("debias", True),
        start_step=arguments.get("start_step", 0),
    )
    seen = [batch for batch, _, _ in snapshots.batches]
    per_execution = steps_per_execution
    assert seen == list(range(per_execution - 1, 12, per_execution))
    for batch, weights, average in snapshots.batches:
        assert_close(weights, raw.steps[batch])  # training is unchanged
        assert_close(average, expected[batch])
    # The raw weights are what training continues from.
    assert_close(model.get_weights(), raw.steps[-1])
    assert_far(expected[-1], raw.steps[-1])


def test_gradient_accumulation_averages_once_per_update():
    arguments, decay, _ = CASES["accumulation"]
    raw = _raw_trajectory(2)
    model = make_model(accumulation=2)
    ema = EMA(**arguments)
    snapshots = Snapshots(ema)
    fit(model, [ema, snapshots])
    per_update = reference(raw.initial, raw.steps, decay, accumulation=2)
    # What averaging each micro-batch (Keras' `use_ema`) would give instead.
    per_batch = reference(raw.initial, raw.steps, decay, accumulation=1)
    _, _, average = snapshots.batches[-1]
    assert_close(average, per_update[-1])
    assert_far(average, per_batch[-1], rtol=1e-4)


def test_batch_norm_statistics_are_averaged_only_when_asked():
    raw = _raw_trajectory(None, include_non_trainable=True, batch_norm=True)
    expected = reference(raw.initial, raw.steps, lambda c: 0.8)
    for include in (False, True):
        model = make_model(batch_norm=True)
        ema = EMA(0.8, include_non_trainable=include)
        snapshots = Snapshots(ema)
        fit(model, [ema, snapshots])
        _, weights, average = snapshots.batches[-1]
        if include:
            assert len(average) == 8  # 6 trainable + moving mean and variance
            assert_close(average, expected[-1])
            assert_far(average[-2:], raw.steps[-1][-2:])
        else:
            assert len(average) == 6
            assert_close(average, expected[-1][:6])
    # coolkeras' own training state is never averaged.
    paths = [v.path for v in ema._state.targets]
    assert not any("coolkeras" in path for path in paths), paths


def test_weights_and_their_count_are_unchanged_by_the_callback():
    model = make_model()
    before = model.get_weights()
    ema = EMA()
    ema.set_model(model)
    after = model.get_weights()
    assert len(after) == len(before)
    for a, b in zip(after, before, strict=True):
        np.testing.assert_array_equal(a, b)
    averaged = {id(v) for v in ema._state.slots}
    assert averaged <= {id(v) for v in model.non_trainable_variables}
    assert not averaged & {id(v) for v in model.weights}


def test_decay_one_at_the_start_keeps_the_raw_weights_until_it_falls():
    # A schedule may start at 1 (no weight on the first updates): the average
    # follows the raw weights until a decay below 1 gives it mass.
    decay = schedules.PiecewiseConstant({0: 1.0, 4: 0.5})
    raw = _raw_trajectory(None)
    model = make_model()
    ema = EMA(decay)
    snapshots = Snapshots(ema)
    fit(model, [ema, snapshots])
    for batch, _, average in snapshots.batches[:4]:
        assert_close(average, raw.steps[batch])
    expected = reference(raw.steps[3], raw.steps[4:], lambda c: 0.5)
    assert_close(snapshots.batches[-1][2], expected[-1])


def test_decay_schedules_and_hyperparameters_are_held_to_zero_one():
    with pytest.raises(ValueError, match=r"`decay` must be in \[0, 1\] at every step"):
        EMA(schedules.PiecewiseConstant({0: 0.9, 4: 1.5}))
    with pytest.raises(ValueError, match=r"`decay` must be in \[0, 1\] at every step"):
        EMA(Hyperparameter(1.5, "d"))
    decay = Hyperparameter(0.9, "d")
    ema = EMA(decay)
    assert ema.decay is decay
    with pytest.raises(ValueError, match=r"used as `decay`.*Received: value=1.5"):
        decay.assign(1.5)
    decay.assign(1.0)  # the average holds still: allowed
    assert EMA(schedules.PiecewiseConstant({0: 0.9, 4: 0.5})).decay.name == "ema_decay"
