"""Losses whose parameters may be scheduled."""

from coolkeras.losses.smoothed_cross_entropy import SmoothedCrossEntropy

__all__ = ["SmoothedCrossEntropy"]
