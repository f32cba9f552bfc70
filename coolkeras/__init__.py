"""coolkeras: the techniques of "Keras模型杂谈" as first-class Keras 3 parts."""

from coolkeras import callbacks, layers, losses, ops, schedules, testing
from coolkeras._version import __version__
from coolkeras._warnings import CoolkerasWarning
from coolkeras.attach import attach
from coolkeras.hyperparameter import Hyperparameter

__all__ = [
    "CoolkerasWarning",
    "Hyperparameter",
    "__version__",
    "attach",
    "callbacks",
    "layers",
    "losses",
    "ops",
    "schedules",
    "testing",
]
