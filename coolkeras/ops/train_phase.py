"""`in_train_phase`: pick a value by the training flag."""

from __future__ import annotations

from typing import Any

from coolkeras import _validation

__all__ = ["in_train_phase"]


def _evaluate(branch: Any) -> Any:
    return branch() if callable(branch) else branch


def in_train_phase(train: Any, infer: Any, training: bool | None) -> Any:
    """Returns `train` while training and `infer` otherwise.

    The Keras 2 backend function `K.in_train_phase` is gone in Keras 3, where
    `training` is an explicit call argument. This helper keeps ported code short.
    Either branch may be a value or a zero-argument callable; only the chosen
    callable is called, so the other branch costs nothing.

    Args:
        train: value (or zero-argument callable) used when `training` is true.
        infer: value (or zero-argument callable) used otherwise.
        training: the `training` argument received by the layer's `call`.
            `None` means inference, as in Keras 3.

    Returns:
        The chosen branch's value.

    Raises:
        TypeError: if `training` is neither a bool (Python or numpy) nor
            `None`, e.g. the string `"yes"` or the integer `1`.

    Example:

    >>> from coolkeras.ops import in_train_phase
    >>> in_train_phase(lambda: "noisy", "clean", training=True)
    'noisy'
    >>> in_train_phase(lambda: "noisy", "clean", training=None)
    'clean'
    """
    training = _validation.boolean("training", training, allow_none=True)
    return _evaluate(train) if training else _evaluate(infer)
