"""Every bad argument of the Evaluator is refused at construction, naming it."""

import math

import numpy as np
import pytest

from coolkeras.callbacks import Evaluator
from tests.callbacks.evaluator_helpers import Scripted, tiny_data, tiny_model

BAD_VALUES = {
    "batch_size": [0, -1, 1.5, 32.0, "32", True, None, math.nan,
                   np.float32(32), np.array(32), np.array([32])],
    "patience": [-1, 1.5, "2", True, math.inf, np.array(2)],
    "min_delta": [-0.1, math.nan, math.inf, -math.inf, "0.1", True, None,
                  np.float64(math.nan), np.array(0.1), [0.1]],
    "frequency": [0, -1, 2.0, "1", None, False],
    "steps": [0, -3, 1.5, "5", False],
    "verbose": [2, -1, "1", 0.5, None],
    "restore_best": ["no", "yes", 1, 0, None, np.array(True)],
    "save_best": ["best.h5", "best", "", 3, b"best.keras", "best_{epoch.keras",
                  "best_{}.keras", "best_{0}.keras"],
    "monitor": [3, "", "f1"],
    "name": ["", 3, None],
    "mode": ["auto", "up", None, 1, {"acc": "up"}, {}, {3: "max"}],
}
CASES = [(arg, value) for arg, values in BAD_VALUES.items() for value in values]


@pytest.mark.parametrize(
    "arg, value", CASES, ids=[f"{a}={v!r}" for a, v in CASES]
)
def test_bad_value_is_refused_naming_the_argument_and_the_value(arg, value):
    x, y = tiny_data()
    kwargs = {"mode": "max", arg: value}
    # TypeError for a wrong type, ValueError for a bad value (tests/test_bad_input.py
    # checks which is which).
    with pytest.raises((TypeError, ValueError)) as info:
        Evaluator({"acc": lambda t, p: 0.0}, data=(x, y), **kwargs)
    received = f"Received: {arg}={value!r}"
    if arg == "mode" and isinstance(value, dict):
        received = f"Received: mode={value!r}"
    assert received in str(info.value)
    assert f"`{arg}`" in str(info.value)


def test_numpy_scalars_are_accepted_where_python_numbers_are():
    x, y = tiny_data()
    evaluator = Evaluator(
        {"s": Scripted([0.5, 0.25, 0.25])},
        data=(x, y),
        mode="max",
        batch_size=np.int64(8),
        patience=np.int32(1),
        min_delta=np.float32(0.125),
        frequency=np.int16(1),
        steps=np.uint8(100),
        verbose=np.int64(0),
        restore_best=np.bool_(True),
    )
    settings = (evaluator.batch_size, evaluator.patience, evaluator.min_delta,
                evaluator.frequency, evaluator.steps, evaluator.verbose,
                evaluator.restore_best)
    assert settings == (8, 1, 0.125, 1, 100, 0, True)
    assert [type(v) for v in settings] == [int, int, float, int, int, int, bool]
    history = tiny_model().fit(
        x, y, epochs=3, batch_size=8, verbose=0, callbacks=[evaluator]
    )
    assert len(history.history["s"]) == 2  # patience 1 stopped after epoch 2


def test_python_defaults_and_bools_where_numbers_are_meant():
    x, y = tiny_data()
    evaluator = Evaluator({"acc": lambda t, p: 0.0}, data=(x, y), mode="max",
                          verbose=True, min_delta=0)
    assert evaluator.verbose == 1 and evaluator.min_delta == 0.0



def test_bad_metrics_and_data():
    x, y = tiny_data()
    with pytest.raises(TypeError, match="metrics"):
        Evaluator(42, mode="max")
    with pytest.raises(ValueError, match="data=None"):
        Evaluator({"a": lambda t, p: 0.0}, mode="max")
    with pytest.raises(ValueError, match=r"x sizes \[32\], y sizes \[31\]"):
        Evaluator({"a": lambda t, p: 0.0}, data=(x, y[:31]), mode="max")
    with pytest.raises(ValueError, match=r"x sizes \[32, 30\]"):
        Evaluator({"a": lambda t, p: 0.0}, data=([x, x[:30]], y), mode="max")
    with pytest.raises(ValueError, match=r"y sizes \[5\]"):
        Evaluator({"a": lambda t, p: 0.0}, data=(x, ["ref"] * 5), mode="max")
    with pytest.raises(ValueError, match=r"must be a tuple `\(x, y\)`"):
        Evaluator({"a": lambda t, p: 0.0}, data=(x, y, y), mode="max")


