import math

import keras
import pytest

from coolkeras.schedules import Constant, Cosine, Exponential, Join, Linear, Warmup
from tests.schedules.helpers import (
    LARGE_STEPS,
    assert_config_round_trip,
    assert_everywhere,
    assert_in_training,
    assert_values,
    count_keras_ops,
    linear,
)


def cosine(start, steps):
    return lambda t: start * math.cos(math.pi * min(t, steps) / steps / 2) ** 2


def join(references, boundaries):
    """optax's join_schedules: each piece counts from its own boundary."""

    def reference(t):
        starts = [0] + list(boundaries)
        i = sum(t >= b for b in boundaries)
        return references[i](t - starts[i])

    return reference


SCHEDULES = [Constant(0.5), Linear(1.0, 0.25, 3), Cosine(0.5, steps=4)]
REFERENCES = [lambda t: 0.5, linear(1.0, 0.25, 3), cosine(0.5, 4)]


def test_values_at_every_step():
    schedule = Join(SCHEDULES, boundaries=[3, 7])
    assert_values(schedule, join(REFERENCES, [3, 7]), range(14), atol=1e-30)


def test_single_schedule_is_itself():
    assert_values(Join([Linear(1.0, 0.0, 4)], []), linear(1.0, 0.0, 4), range(6))


def test_late_boundaries_stay_exact():
    schedule = Join([Constant(1.0), Linear(1.0, 0.0, 20)], boundaries=[29_999_990])
    reference = join([lambda t: 1.0, linear(1.0, 0.0, 20)], [29_999_990])
    assert_values(schedule, reference, [0, 29_999_989, 29_999_990] + LARGE_STEPS)


def test_used_in_training_and_reloaded(tmp_path):
    schedule = Join(SCHEDULES, boundaries=[3, 7])
    assert_in_training(schedule, join(REFERENCES, [3, 7]), tmp_path)


def test_config_round_trip():
    restored = assert_config_round_trip(Join(SCHEDULES, boundaries=[3, 7]))
    assert [type(s) for s in restored.schedules] == [Constant, Linear, Cosine]
    assert restored.boundaries == [3, 7]


@pytest.mark.parametrize(
    "schedules, boundaries, error, match",
    [
        (SCHEDULES, [3], ValueError, r"Received: boundaries=\[3\] of length 1"),
        (SCHEDULES, [7, 3], ValueError, r"increasing. Received: boundaries=\[7, 3\]"),
        (SCHEDULES, [3, 3], ValueError, "Received: boundaries="),
        (SCHEDULES, [0, 3], ValueError, r"Received: boundaries\[0\]=0"),
        (SCHEDULES, [-2, 3], ValueError, r"Received: boundaries\[0\]=-2"),
        ([Constant(1.0), 0.5], [3], TypeError, r"Received: schedules\[1\]=0.5"),
        ([], [], ValueError, r"Received: schedules=\[\]"),
        (Constant(1.0), [], TypeError, "Received: schedules="),
        (SCHEDULES, 3, TypeError, "Received: boundaries=3"),
    ],
)
def test_bad_arguments_are_refused(schedules, boundaries, error, match):
    with pytest.raises(error, match=match):
        Join(schedules, boundaries)


# -- lookup: pieces grouped by kind, found by a binary search ----------------------


def many_pieces(n):
    """`n` alternating Linear and Cosine pieces of 3 steps, and their reference."""
    pieces, references = [], []
    for k in range(n):
        start, end = 1.0 / (k + 1), 1.0 / (k + 2)
        if k % 2:
            pieces.append(Cosine(start, end, steps=3))
            references.append(
                lambda t, s=start, e=end: (
                    e + (s - e) * math.cos(math.pi * min(t, 3) / 6) ** 2
                )
            )
        else:
            pieces.append(Linear(start, end, 3))
            references.append(linear(start, end, 3))
    return pieces, references, [3 * k for k in range(1, n)]


def test_many_pieces_are_evaluated_by_kind_from_tables(monkeypatch):
    few = Join(*many_pieces(10)[::2])
    pieces, references, boundaries = many_pieces(2000)
    schedule = Join(pieces, boundaries)
    assert len(schedule._groups) == 2 and schedule._singles == []
    steps = [0, 1, 2, 3, 4, 2999, 3000, 3001, 5998, 5999, 6000, 10**6] + LARGE_STEPS
    assert_everywhere(schedule, join(references, boundaries), steps, atol=1e-30)
    assert count_keras_ops(schedule, monkeypatch) == count_keras_ops(few, monkeypatch)


def test_grouped_and_single_pieces_mix():
    # Same class, different static arguments: two groups; composites: one by one.
    pieces = [
        Cosine(1.0, 0.5, steps=4),
        Cosine(0.5, 0.25, steps=4, exponent=2.0),
        Warmup(Constant(0.25), 2),
        Cosine(0.25, 0.0, steps=4),
        Exponential(0.1, 2, 0.5, staircase=True),
    ]
    schedule = Join(pieces, [4, 8, 12, 16])
    assert len(schedule._groups) == 3 and schedule._singles == [2]

    def cosine_ref(start, end, steps, exponent=1.0):
        def reference(t):
            return (
                end
                + (start - end)
                * (math.cos(math.pi * min(t, steps) / steps / 2) ** 2) ** exponent
            )

        return reference

    references = [
        cosine_ref(1.0, 0.5, 4),
        cosine_ref(0.5, 0.25, 4, 2.0),
        lambda t: 0.25 * min(t, 2) / 2,
        cosine_ref(0.25, 0.0, 4),
        lambda t: 0.1 * 0.5 ** math.floor(t / 2),
    ]
    assert_everywhere(schedule, join(references, [4, 8, 12, 16]), range(24), atol=1e-30)


def test_keras_schedules_are_pieces_too():
    decay = keras.optimizers.schedules.ExponentialDecay(1.0, 2, 0.5)
    schedule = Join([Constant(2.0), decay, Constant(0.1)], [3, 7])
    reference = join([lambda t: 2.0, lambda t: 0.5 ** (t / 2), lambda t: 0.1], [3, 7])
    assert_values(schedule, reference, range(10))
