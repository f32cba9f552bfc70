"""`in_train_phase`: pick a value by the training flag."""

from __future__ import annotations

from typing import Any

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

    Example:

    >>> from coolkeras.ops import in_train_phase
    >>> in_train_phase(lambda: "noisy", "clean", training=True)
    'noisy'
    >>> in_train_phase(lambda: "noisy", "clean", training=None)
    'clean'
    """
    if training is not None and not isinstance(training, bool):
        raise TypeError(
            "`training` must be a Python boolean or None, as Keras 3 passes it to "
            f"`call`. Received: training={training!r}"
        )
    return _evaluate(train) if training else _evaluate(infer)
