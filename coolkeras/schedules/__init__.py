"""Schedules: values as pure, in-graph functions of the training step.

Each is a Keras `LearningRateSchedule` (pass it as an optimizer's learning
rate) and a schedule for `coolkeras.Hyperparameter`. Compose them: `Join`,
`Warmup`, `Scale`/`Multiply` (`2.0 * s`, `s1 * s2`) and `by_epoch`.
"""

from coolkeras.schedules.base import Schedule
from coolkeras.schedules.constant import Constant
from coolkeras.schedules.cosine import Cosine
from coolkeras.schedules.epochs import ByEpoch, by_epoch
from coolkeras.schedules.exponential import Exponential
from coolkeras.schedules.join import Join
from coolkeras.schedules.linear import Linear
from coolkeras.schedules.piecewise import PiecewiseConstant, PiecewiseLinear
from coolkeras.schedules.scale import Multiply, Scale
from coolkeras.schedules.warmup import Warmup

__all__ = [
    "ByEpoch",
    "Constant",
    "Cosine",
    "Exponential",
    "Join",
    "Linear",
    "Multiply",
    "PiecewiseConstant",
    "PiecewiseLinear",
    "Scale",
    "Schedule",
    "Warmup",
    "by_epoch",
]
