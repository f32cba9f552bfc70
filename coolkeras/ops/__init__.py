"""Small helpers for code ported from the Keras 2 backend."""

from coolkeras.ops.train_phase import in_train_phase

__all__ = ["in_train_phase"]
