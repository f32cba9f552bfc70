"""The porting guide's expressions equal optax, Keras, torch and Hugging Face.

Each case (in `porting_optax`, `porting_keras`, `porting_torch`, `porting_hf`) is
an expression from `docs/porting.md`, checked to appear there verbatim, built with
the case's arguments, and compared at steps 0..N, 10**6 and 3 * 10**7 with the
reference library's float64 values (optax and torch themselves; Keras' and
Hugging Face's formulas, transcribed from their source), eagerly, on the host path
and inside a compiled function.
"""

import math

import keras
import numpy as np
import pytest

from coolkeras import schedules
from tests.helpers import to_numpy
from tests.schedules import porting_hf, porting_keras, porting_optax, porting_torch
from tests.schedules.helpers import assert_everywhere
from tests.schedules.porting_cases import CASES, GUIDE, KERAS

assert porting_hf and porting_keras and porting_optax and porting_torch  # registered


def build(expression, arguments):
    namespace = {name: getattr(schedules, name) for name in schedules.__all__}
    return eval(expression, namespace, dict(arguments))  # noqa: S307


@pytest.mark.parametrize("name", list(CASES))
def test_guide_expression_equals_the_reference(name):
    expression, arguments, reference, steps, atol = CASES[name]
    assert f"`{expression}`" in GUIDE, f"not in docs/porting.md: {expression}"
    expected = dict(zip(steps, reference(arguments, steps), strict=True))
    schedule = build(expression, arguments)
    assert_everywhere(schedule, lambda t: expected[int(t)], steps, rtol=1e-6, atol=atol)


@pytest.mark.parametrize("name", list(KERAS))
def test_keras_formulas_are_keras(name):
    # The float64 transcriptions above are Keras' own schedules (float32 here).
    formula, make, arguments = KERAS[name]
    keras_schedule = make(keras.optimizers.schedules, arguments)
    steps = list(range(41)) + [10**6]
    if arguments.get("t_mul", 1.0) != 1.0:
        # Keras finds the cycle with a float32 log, which can put a restart one
        # step late (measured on PyTorch: step 10 for t_mul=1.5): leave the first
        # step of each cycle out of this check.
        starts, length, start = set(), arguments["first_decay_steps"], 0.0
        while start < 50:
            starts.add(math.ceil(start))
            start, length = start + length, length * arguments["t_mul"]
        steps = [t for t in steps if t not in starts]
    got = [float(to_numpy(keras_schedule(float(t)))) for t in steps]
    want = [formula(arguments, t) for t in steps]
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-7)
