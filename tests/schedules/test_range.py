"""`value_range`: the values a schedule reaches, known before training."""

import math

import numpy as np
import pytest

import coolkeras
from coolkeras import schedules as s
from coolkeras._validation import MAX_STEP
from coolkeras.schedules._range import value_range

STEPS = [*range(300), 10**4, 10**6, 10**8, MAX_STEP]

# (schedule, expected range); every value lies inside, both ends are reached
# or approached at the steps above.
CASES = [
    (s.Constant(0.5), (0.5, 0.5)),
    (s.Linear(1.0, -1.0, steps=4), (-1.0, 1.0)),
    (s.Cosine(1.0, 0.2, steps=8), (0.2, 1.0)),
    (s.Polynomial(2.0, 0.5, steps=5, power=2.0), (0.5, 2.0)),
    (s.Exponential(1.0, 2, 0.5), (0.0, 1.0)),
    (s.InverseTime(1.0, 2, 1.0), (0.0, 1.0)),
    (s.InverseTime(3.0, 2, 0.0), (3.0, 3.0)),
    (s.InverseSqrt(1.0, timescale=4), (0.0, 1.0)),
    (s.PiecewiseLinear({2: 1.0, 6: -0.5}, from_zero=True), (-0.5, 1.0)),
    (s.PiecewiseConstant({0: 0.3, 5: 0.9}), (0.3, 0.9)),
    (s.Scale(s.Linear(1.0, 0.0, steps=4), -2.0), (-2.0, 0.0)),
    (s.Warmup(s.Constant(1.0), 4, offset=2), (0.5, 1.0)),
    (s.Warmup(s.Linear(1.0, 0.5, steps=2), 4, start=-1.0), (-1.0, 1.0)),
    (s.by_epoch(s.Linear(1.0, 0.0, steps=3), 10), (0.0, 1.0)),
    (s.Restarts(s.Linear(1.0, 0.0, steps=2), 2), (0.5, 1.0)),
    (s.Join([s.Linear(0.1, 2.0, steps=100), s.Constant(0.5)], [10]), (0.1, 0.5)),
    (s.warmup_stable_decay(1.0, warmup=2, stable=3, decay=4, end=0.1), (0.0, 1.0)),
    (s.Add([s.Constant(0.5), s.Linear(0.0, 1.0, steps=4)]), (0.5, 1.5)),
]


@pytest.mark.parametrize("schedule, expected", CASES, ids=[repr(c[0]) for c in CASES])
def test_range_holds_every_value_and_is_reached(schedule, expected):
    low, high = value_range(schedule)
    np.testing.assert_allclose([low, high], expected, rtol=1e-6, atol=1e-7)
    values = schedule.values(STEPS)
    assert values.min() >= low - 1e-6 and values.max() <= high + 1e-6
    np.testing.assert_allclose([values.min(), values.max()], [low, high], atol=1e-3)


def test_unbounded_growth():
    assert value_range(s.Exponential(-1.0, 2, 2.0)) == (-math.inf, -1.0)
    assert value_range(s.Exponential(2.0, 2, 3.0)) == (2.0, math.inf)


def test_a_hyperparameter_range_follows_its_scale_and_assignment():
    hp = coolkeras.Hyperparameter(s.Linear(1.0, 0.0, steps=4))
    hp.scale(0.5)
    assert value_range(hp) == (0.0, 0.5)
    hp.assign(0.8)
    assert value_range(hp) == pytest.approx((0.4, 0.4))


def test_an_unbound_by_epoch_schedule_has_no_range_yet():
    assert value_range(s.Add([s.Constant(1.0), s.by_epoch(s.Constant(1.0))])) is None


def test_a_range_unknown_at_construction_is_checked_when_fit_starts():
    import keras

    from coolkeras.losses import SmoothedCrossEntropy

    # 0.5 + a by_epoch ramp 0 -> 1: its values (up to 1.5) are known only once
    # fit gives the epoch length; epsilon must stay in [0, 1].
    ramp = s.by_epoch(s.Linear(0.0, 1.0, steps=2))
    eps = coolkeras.Hyperparameter(s.Add([s.Constant(0.5), ramp]), name="eps")
    loss = SmoothedCrossEntropy(epsilon=eps, from_logits=True)  # range unknown yet
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    model.compile("sgd", loss=loss)
    coolkeras.attach(model)
    x, y = np.ones((4, 2), "float32"), np.eye(2, dtype="float32")[[0, 1, 0, 1]]
    before = [np.array(w) for w in model.get_weights()]
    with pytest.raises(ValueError, match=r"`epsilon` must be in \[0, 1\].*1\.5"):
        model.fit(x, y, epochs=2, batch_size=2, verbose=0)
    for old, new in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)  # refused before any step
    eps.assign(0.2)  # a constant in range: the model trains
    history = model.fit(x, y, epochs=1, batch_size=2, verbose=0).history
    assert np.isfinite(history["loss"][0])
