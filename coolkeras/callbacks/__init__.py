"""Callbacks that read and steer training."""

from coolkeras.callbacks.reduce_on_plateau import ReduceOnPlateau

__all__ = ["ReduceOnPlateau"]
