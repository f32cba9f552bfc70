"""coolkeras: the techniques of "Keras模型杂谈" as first-class Keras 3 parts."""

from coolkeras import layers, ops, testing

__version__ = "0.1.0"

__all__ = ["__version__", "layers", "ops", "testing"]
