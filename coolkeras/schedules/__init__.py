"""Schedules: values as pure, in-graph functions of the training step.

Each is a Keras `LearningRateSchedule` (pass it as an optimizer's learning
rate) and a schedule for `coolkeras.Hyperparameter`. Compose them: `Join`,
`Warmup`, `Restarts`, `Scale`/`Multiply`/`Add` (`2.0 * s`, `s1 * s2`,
`s1 + s2`, `s + 0.1`, `s1 - s2`) and `by_epoch`.
"""

from coolkeras.schedules.add import Add
from coolkeras.schedules.base import Schedule
from coolkeras.schedules.constant import Constant
from coolkeras.schedules.cosine import Cosine
from coolkeras.schedules.epochs import ByEpoch, by_epoch, find_by_epoch
from coolkeras.schedules.exponential import Exponential
from coolkeras.schedules.inverse_sqrt import InverseSqrt
from coolkeras.schedules.inverse_time import InverseTime
from coolkeras.schedules.join import Join
from coolkeras.schedules.linear import Linear
from coolkeras.schedules.piecewise import PiecewiseConstant, PiecewiseLinear
from coolkeras.schedules.polynomial import Polynomial
from coolkeras.schedules.restarts import Restarts
from coolkeras.schedules.scale import Multiply, Scale
from coolkeras.schedules.warmup import Warmup
from coolkeras.schedules.wsd import warmup_stable_decay

__all__ = [
    "Add",
    "ByEpoch",
    "Constant",
    "Cosine",
    "Exponential",
    "InverseSqrt",
    "InverseTime",
    "Join",
    "Linear",
    "Multiply",
    "PiecewiseConstant",
    "PiecewiseLinear",
    "Polynomial",
    "Restarts",
    "Scale",
    "Schedule",
    "Warmup",
    "by_epoch",
    "find_by_epoch",
    "warmup_stable_decay",
]
