"""Callbacks that read and steer training."""

from coolkeras.callbacks.ema import EMA
from coolkeras.callbacks.evaluator import Evaluator
from coolkeras.callbacks.reduce_on_plateau import ReduceOnPlateau

__all__ = ["EMA", "Evaluator", "ReduceOnPlateau"]
