"""One spec per public constructor: its required arguments, and per argument
which kinds of value are valid (see bad_input_specs.py)."""

from __future__ import annotations

import math

import keras
import numpy as np

import coolkeras
from coolkeras import schedules as s
from coolkeras.callbacks import EMA, Evaluator, ReduceOnPlateau
from coolkeras.layers import (
    AddLoss,
    CenterLoss,
    CenterLossMetric,
    CenterLossObjective,
    Function,
    Split,
)
from coolkeras.losses import SmoothedCrossEntropy
from coolkeras.ops import in_train_phase
from coolkeras.testing import CHECKS, check_layer
from tests.bad_input_specs import (
    ANY_ERROR,
    Arg,
    Spec,
    boolean,
    choice,
    integer,
    number,
    string,
)

V, T = ValueError, TypeError
ANY_NUMBER = ("negative", "zero")
SCHEDULE = Arg(s.Constant(1.0), "other", bad=((1.0, T), ("linear", T)))
SCHEDULES = Arg(
    [s.Constant(1.0)],
    "other",
    value_errors=frozenset({"empty"}),
    bad=(([1.0], T), ((s.Constant(1.0), 2.0), T)),
    good=((s.Constant(1.0),),),
)


def _points(**extra) -> Arg:
    return Arg(
        {0: 1.0, 4: 0.0},
        "other",
        value_errors=frozenset({"empty"}),
        bad=(
            ({-1: 0.1}, V),
            ({4: 0.1, 0: 0.2}, V),
            ({1.5: 0.1}, T),
            ({"0": 0.1}, T),
            ({True: 0.1}, T),
            ({0: "x"}, T),
            ({0: math.nan}, V),
            ({0: True}, T),
            ({2**31: 0.1}, V),
        ),
        good=({np.int64(0): np.float32(0.5), 3: 1}, {0: 1}),
        **extra,
    )


def _metric(y_true, y_pred):
    return 0.0


def _evaluator(**kwargs):
    x = np.zeros((4, 2), "float32")
    return Evaluator(**{"metrics": {"acc": _metric}, "data": (x, x), **kwargs})


class _PassThrough(coolkeras.layers.LossLayer):
    def compute_loss(self, inputs, training=None):
        return keras.ops.mean(inputs)


def _small_model():
    return keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])


def _attach(model, hyperparameters=()):
    """`attach(model, *hyperparameters)`: the battery's one extra argument."""
    extra = (
        hyperparameters if isinstance(hyperparameters, tuple) else (hyperparameters,)
    )
    return coolkeras.attach(model, *extra)


def _center_layer():
    layer = CenterLoss()
    layer.build([(None, 3), (None, 2)])
    return layer


EPSILON = Arg(
    0.1,
    "number",
    frozenset({"zero"}),
    bad=(
        (1.5, V),
        (-0.1, V),
        (coolkeras.Hyperparameter(2.0), V),
        (s.Constant(2.0), V),
        (s.Linear(0.1, 2.0, steps=10), V),
        (s.Warmup(s.Constant(1.5), 5), V),
        (s.PiecewiseLinear({0: 0.1, 9: -0.5}), V),
        (keras.Variable(0.1), T),
        (0.5 * s.Constant(4.0), V),
        (s.Constant(0.5) + s.Constant(0.7), V),
    ),
    good=(
        coolkeras.Hyperparameter(0.5),
        s.Linear(0.1, 0.0, steps=10),
        1,
        s.Join([s.Linear(0.1, 2.0, steps=100), s.Constant(0.5)], [10]),
    ),
)
WEIGHT = Arg(
    0.5,
    "number",
    frozenset({"zero"}),
    bad=((coolkeras.Hyperparameter(-1.0), V), (s.Linear(1.0, -1.0, steps=4), V)),
    good=(coolkeras.Hyperparameter(0.5), s.Linear(1.0, 0.0, steps=4)),
)

SPECS = [
    Spec(
        "Split",
        lambda **k: Split(**k),
        lambda: {"num_or_sizes": 2},
        {
            "num_or_sizes": Arg(
                2,
                "integer",
                value_errors=frozenset({"empty"}),
                bad=(([0], V), ([1.5], T), ([2, True], T), (4.0, T)),
                good=([2, 2], [np.int64(1), 3], (1, 1)),
            ),
            "axis": integer(-1, *ANY_NUMBER),
        },
    ),
    Spec(
        "Function",
        lambda **k: Function(**k),
        lambda: {"function": keras.ops.add},
        {
            "function": Arg(keras.ops.add, bad=((lambda x: x, V),)),
            "arguments": Arg(
                {"x2": 2.0}, ok=frozenset({"None", "empty"}), bad=(({1: 2.0}, T),)
            ),
            "seed": integer(1, "zero", "None", bad=((2**32, V),)),
        },
    ),
    Spec(
        "Constant",
        lambda **k: s.Constant(**k),
        dict,
        {"value": number(0.5, *ANY_NUMBER, bad=((10**400, V),))},
    ),
    Spec(
        "Linear",
        lambda **k: s.Linear(**k),
        lambda: {"start": 1.0, "end": 0.0, "steps": 4},
        {
            "start": number(1.0, *ANY_NUMBER),
            "end": number(0.0, *ANY_NUMBER),
            "steps": integer(
                4, bad=((2.5, T), (2**31, V), (10**400, V)), good=(4.0, np.float32(8.0))
            ),
        },
    ),
    Spec(
        "Cosine",
        lambda **k: s.Cosine(**k),
        lambda: {"start": 1.0, "steps": 4},
        {
            "start": number(1.0, *ANY_NUMBER),
            "end": number(0.0, *ANY_NUMBER),
            "steps": integer(4),
            "exponent": number(1.0),
            "cycles": number(0.5),
        },
    ),
    Spec(
        "Exponential",
        lambda **k: s.Exponential(**k),
        lambda: {"start": 1.0, "steps": 2, "rate": 0.5},
        {
            "start": number(1.0, *ANY_NUMBER),
            "steps": integer(2),
            "rate": number(0.5, good=(2.0,)),
            "staircase": boolean(),
            "end": number(0.1, *ANY_NUMBER, "None"),
        },
    ),
    Spec(
        "Polynomial",
        lambda **k: s.Polynomial(**k),
        lambda: {"start": 1.0, "steps": 4},
        {
            "start": number(1.0, *ANY_NUMBER),
            "end": number(0.0, *ANY_NUMBER),
            "steps": integer(4),
            "power": number(1.0),
            "power_of": choice("remaining"),
        },
    ),
    Spec(
        "InverseTime",
        lambda **k: s.InverseTime(**k),
        lambda: {"start": 1.0, "steps": 2, "rate": 1.0},
        {
            "start": number(1.0, *ANY_NUMBER),
            "steps": integer(2),
            "rate": number(1.0, "zero"),
            "staircase": boolean(),
        },
    ),
    Spec(
        "InverseSqrt",
        lambda **k: s.InverseSqrt(**k),
        lambda: {"start": 1.0, "timescale": 4},
        {
            "start": number(1.0, *ANY_NUMBER),
            "timescale": integer(4),
        },
    ),
    Spec(
        "Restarts",
        lambda **k: s.Restarts(**k),
        lambda: {"schedule": s.Linear(1.0, 0.0, steps=2), "period": 2},
        {
            "schedule": SCHEDULE,
            "period": integer(2),
            "period_factor": number(1.0, bad=((0.5, V),), good=(1.5,)),
            "value_factor": number(1.0),
        },
    ),
    Spec(
        "PiecewiseLinear",
        lambda **k: s.PiecewiseLinear(**k),
        lambda: {"points": {0: 1.0, 4: 0.0}},
        {
            "points": _points(),
            "from_zero": boolean(),
        },
    ),
    Spec(
        "PiecewiseConstant",
        lambda **k: s.PiecewiseConstant(**k),
        lambda: {"points": {0: 1.0, 4: 0.0}},
        {"points": _points()},
    ),
    Spec(
        "Warmup",
        lambda **k: s.Warmup(**k),
        lambda: {"schedule": s.Constant(1.0), "steps": 4},
        {
            "schedule": SCHEDULE,
            "steps": integer(4, "zero"),
            "start": number(0.0, *ANY_NUMBER),
            "offset": integer(1, "zero", bad=((5, V),)),
        },
    ),
    Spec(
        "Join",
        lambda **k: s.Join(**k),
        lambda: {"schedules": [s.Constant(1.0), s.Constant(0.5)], "boundaries": [2]},
        {
            "schedules": Arg(
                [s.Constant(1.0), s.Constant(0.5)],
                value_errors=frozenset({"empty"}),
                bad=(([s.Constant(1.0), 0.5], T),),
            ),
            "boundaries": Arg(
                [2],
                value_errors=frozenset({"empty"}),
                bad=(([0], V), ([2.5], T), ([True], T), ([2, 3], V)),
                good=((np.int64(3),),),
            ),
        },
    ),
    Spec(
        "Scale",
        lambda **k: s.Scale(**k),
        lambda: {"schedule": s.Constant(1.0), "factor": 2.0},
        {
            "schedule": SCHEDULE,
            "factor": number(2.0, *ANY_NUMBER),
        },
    ),
    Spec("Multiply", lambda **k: s.Multiply(**k), dict, {"schedules": SCHEDULES}),
    Spec("Add", lambda **k: s.Add(**k), dict, {"schedules": SCHEDULES}),
    Spec(
        "ByEpoch",
        lambda **k: s.ByEpoch(**k),
        lambda: {"schedule": s.Constant(1.0)},
        {
            "schedule": SCHEDULE,
            "steps_per_epoch": integer(10, "None"),
        },
    ),
    Spec(
        "by_epoch",
        lambda **k: s.by_epoch(**k),
        lambda: {"schedule": s.Constant(1.0)},
        {
            "schedule": SCHEDULE,
            "steps_per_epoch": integer(10, "None"),
        },
    ),
    Spec(
        "warmup_stable_decay",
        lambda **k: s.warmup_stable_decay(**k),
        lambda: {"peak": 1.0, "warmup": 2, "stable": 3, "decay": 4},
        {
            "peak": number(1.0, *ANY_NUMBER),
            "warmup": integer(2, "zero"),
            "stable": integer(3, "zero"),
            "decay": integer(4, "zero"),
            "start": number(0.0, *ANY_NUMBER),
            "end": number(0.0, *ANY_NUMBER),
            "warmup_shape": choice("linear"),
            "decay_shape": choice("cosine"),
        },
    ),
    Spec(
        "Hyperparameter",
        lambda **k: coolkeras.Hyperparameter(**k),
        lambda: {"value": 0.5},
        {
            "value": number(
                0.5,
                *ANY_NUMBER,
                bad=((coolkeras.Hyperparameter(0.1), T),),
                good=(s.Constant(0.5),),
            ),
            "name": string("eps"),
        },
    ),
    Spec(
        "EMA",
        lambda **k: EMA(**k),
        dict,
        {
            "decay": number(
                0.9,
                "zero",
                bad=(
                    (1.0, V),
                    (s.Constant(1.5), V),
                    (coolkeras.Hyperparameter(-1.0), V),
                ),
                good=(s.Constant(0.5), s.Constant(1.0)),
            ),
            "debias": boolean(True),
            "start_step": integer(0, "zero"),
            "include_non_trainable": boolean(),
            "on_train_end": choice("keep_raw"),
        },
    ),
    Spec(
        "ReduceOnPlateau",
        lambda **k: ReduceOnPlateau(**k),
        lambda: {"hyperparameter": coolkeras.Hyperparameter(1.0), "mode": "min"},
        {
            "hyperparameter": Arg(
                coolkeras.Hyperparameter(1.0), bad=((s.Constant(1.0), T),)
            ),
            "monitor": string("val_loss"),
            "factor": number(0.1, bad=((1.0, V), (1.5, V))),
            "patience": integer(10, "zero"),
            "mode": choice("min"),
            "min_delta": number(1e-4, "zero"),
            "cooldown": integer(0, "zero"),
            "min_value": number(0.0, "zero"),
            "verbose": integer(0, "zero", "bool", bad=((2, V),)),
        },
    ),
    Spec(
        "SmoothedCrossEntropy",
        lambda **k: SmoothedCrossEntropy(**k),
        dict,
        {
            "epsilon": EPSILON,
            "from_logits": boolean(),
            "sparse": boolean(False, "None"),
            "reduction": Arg(
                "sum_over_batch_size", "choice", frozenset({"None"}), errors=ANY_ERROR
            ),
            "name": string("loss", "None"),
        },
    ),
    Spec(
        "Evaluator",
        _evaluator,
        lambda: {"mode": "max"},
        {
            "metrics": Arg(
                {"acc": _metric},
                value_errors=frozenset({"empty"}),
                bad=(({"": _metric}, T), ({"acc": 1}, T)),
            ),
            "data": Arg(
                (np.zeros((4, 2)), np.zeros(4)),
                value_errors=frozenset({"empty", "None"}),
                bad=(((np.zeros((4, 2)), np.zeros(3)), V),),
            ),
            "mode": Arg(
                "max",
                "choice",
                bad=(({"acc": "up"}, V), ({3: "max"}, T)),
                good=({"acc": "min"},),
            ),
            "monitor": string("acc", "None", value_errors=("str",)),
            "name": string("score"),
            "batch_size": integer(32, bad=((32.0, T),)),
            "save_best": string("best.keras", "None", value_errors=("str",)),
            "restore_best": boolean(),
            "patience": integer(2, "zero", "None"),
            "min_delta": number(0.1, "zero"),
            "frequency": integer(1),
            "steps": integer(5, "None"),
            "verbose": integer(0, "zero", "bool", bad=((2, V),)),
        },
    ),
    Spec(
        "check_layer",
        lambda **k: check_layer(**k),
        lambda: {
            "layer": keras.layers.Activation("relu"),
            "input_shape": (2,),
            "skip": CHECKS[2:],
        },
        {
            "layer": Arg(
                keras.layers.Activation("relu"), bad=((keras.layers.Dense, T),)
            ),
            "input_shape": Arg(
                (2,), ok=frozenset({"empty"}), bad=(((0,), V), ((2.5,), V), (4, T))
            ),
            "input_dtype": string("float32", value_errors=("str",)),
            "batch_size": integer(2, bad=((1, V),)),
            "expect_training_difference": boolean(False, "None"),
            "skip": string("saving", value_errors=("str",), bad=(([1], T),)),
            "seed": integer(0, "zero"),
            "rtol": number(1e-5, "zero"),
            "atol": number(1e-6, "zero"),
        },
        observe=lambda report: (report.passed, sorted(report.skipped)),
    ),
    Spec(
        "in_train_phase",
        lambda **k: in_train_phase(**k),
        lambda: {"train": 1, "infer": 0},
        {"training": boolean(False, "None")},
        observe=lambda value: value,
    ),
    Spec(
        "CenterLoss",
        lambda **k: CenterLoss(**k),
        dict,
        {
            "weight": WEIGHT,
            "update": choice("gradient"),
            "alpha": number(0.5, bad=((1.5, V),), good=(1,)),
            "centers_initializer": Arg(
                "zeros",
                value_errors=frozenset({"str", "empty"}),
                good=(keras.initializers.Constant(0.5),),
            ),
        },
    ),
    Spec(
        "CenterLossMetric",
        lambda **k: CenterLossMetric(**k),
        dict,
        {
            "metric": Arg(
                "accuracy",
                value_errors=frozenset({"str", "empty"}),
                good=("mae", keras.metrics.MeanSquaredError(), _metric),
            ),
            "num_classes": integer(3, bad=((1, V),)),
            "name": string("acc", "None"),
        },
    ),
    Spec(
        "CenterLossObjective",
        lambda **k: CenterLossObjective(**k),
        lambda: {"layer": _center_layer()},
        {
            # A string is the layer's path in the model: a loss read from a
            # file binds to that layer when the model first runs.
            "layer": Arg(
                _center_layer(),
                ok=frozenset({"str"}),
                bad=((keras.layers.Dense(1), T), (CenterLoss(), V)),
            ),
            "classification_loss": Arg(
                None,
                ok=frozenset({"None"}),
                value_errors=frozenset({"str"}),
                good=("mse", keras.losses.Hinge()),
            ),
            "name": string("center_loss_objective"),
            "reduction": Arg(
                "sum_over_batch_size", "choice", frozenset({"None"}), errors=ANY_ERROR
            ),
        },
        observe=lambda loss: {
            k: v for k, v in loss.get_config().items() if k != "layer"
        },
    ),
    Spec(
        "LossLayer",
        lambda **k: _PassThrough(**k),
        dict,
        {
            "weight": WEIGHT,
            "output_index": Arg(
                0,
                "integer",
                frozenset({"negative", "zero", "None"}),
                value_errors=frozenset({"empty"}),
                good=([0], (1, -1)),
                bad=(([0.5], T), ([True], T), ("0", T)),
            ),
        },
    ),
    Spec(
        "Monitor",
        lambda **k: coolkeras.layers.Monitor(**k),
        dict,
        {
            "name": string("h", "None"),
            "reduction": choice("mean"),
            "output_index": Arg(
                0,
                "integer",
                frozenset({"negative", "zero", "None"}),
                value_errors=frozenset({"empty"}),
                good=([0], (1, -1)),
                bad=(([0.5], T), ([True], T), ("0", T)),
            ),
        },
    ),
    Spec(
        "AddLoss",
        lambda **k: AddLoss(**k),
        dict,
        {
            "weight": WEIGHT,
            "output_index": Arg(
                1,
                "integer",
                frozenset({"negative", "zero", "None"}),
                value_errors=frozenset({"empty"}),
                good=([0, 1],),
            ),
        },
    ),
]

SPECS.append(
    Spec(
        "attach",
        _attach,
        lambda: {"model": _small_model()},
        {
            "model": Arg(_small_model(), bad=((keras.layers.Dense(1), T),)),
            "hyperparameters": Arg(
                coolkeras.Hyperparameter(0.5), good=(coolkeras.Hyperparameter(0.1),)
            ),
        },
        observe=lambda found: [hp.name for hp in found],
    )
)

# Public names that take no configuration to check, and why.
NOT_CONSTRUCTORS = {
    "CoolkerasWarning": "a warning category",
    "Schedule": "the abstract base class of schedules",
    "find_by_epoch": "a search over any object; returns [] for non-schedules",
    "CHECKS": "a tuple of check names",
    "LayerCheckError": "raised by check_layer, not made by users",
    "LayerCheckReport": "returned by check_layer, not made by users",
}
