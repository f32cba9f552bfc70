"""Layers: the article's function, multi-output and loss-carrying layers."""

from coolkeras.layers.add_loss import AddLoss
from coolkeras.layers.center_loss import CenterLoss
from coolkeras.layers.center_loss_objective import CenterLossMetric, CenterLossObjective
from coolkeras.layers.function import Function
from coolkeras.layers.loss_layer import LossLayer
from coolkeras.layers.monitor import Monitor
from coolkeras.layers.split import Split

__all__ = [
    "AddLoss",
    "CenterLoss",
    "CenterLossMetric",
    "CenterLossObjective",
    "Function",
    "LossLayer",
    "Monitor",
    "Split",
]
