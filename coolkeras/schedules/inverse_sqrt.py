"""`InverseSqrt`: `start * sqrt(timescale / (t + timescale))`, with no end."""

from __future__ import annotations

import keras

from coolkeras import _validation
from coolkeras.schedules import _ops as ops
from coolkeras.schedules import _range
from coolkeras.schedules.base import Schedule

__all__ = ["InverseSqrt"]


@keras.saving.register_keras_serializable(package="coolkeras")
class InverseSqrt(Schedule):
    """Inverse square-root decay: `start * sqrt(timescale / (t + timescale))`.

    The value is `start` at step 0 and falls as `1 / sqrt(t)`: it is halved at
    step `3 * timescale`. After a warmup it is Hugging Face's
    `get_inverse_sqrt_schedule` and the Transformer's ("Noam") schedule:

    - `Warmup(InverseSqrt(lr, timescale), warmup)`: Hugging Face's
      (`timescale` defaults to `warmup` there);
    - `Warmup(InverseSqrt(d_model**-0.5 * w**-0.5, timescale=w), w, offset=1)`:
      `d_model**-0.5 * min(n**-0.5, n * w**-1.5)` at update `n = t + 1`
      (Vaswani et al. 2017).

    Args:
        start: the value at step 0.
        timescale: the step scale of the decay, an integer > 0.

    Raises:
        TypeError: if `start` is not a number or `timescale` is not an integer.
        ValueError: if `start` is NaN or infinite, or `timescale <= 0`.

    Example:

    >>> from coolkeras import schedules
    >>> s = schedules.InverseSqrt(1.0, timescale=4)
    >>> [round(v, 6) for v in s.values([0, 4, 12, 60]).tolist()]
    [1.0, 0.707107, 0.5, 0.25]
    """

    _arguments = ("start", "timescale")
    _vector_fields = ("start", "timescale")

    def __init__(self, start: float, timescale: int):
        self.start = _validation.number("start", start)
        self.timescale = _validation.step_count("timescale", timescale, minimum=1)

    def _evaluate(self, whole, frac):
        timescale = ops.cast(self.timescale, "float32")
        later = ops.cast(whole, "float32") + frac + timescale
        return self.start * ops.sqrt(timescale / later)

    def _horizon(self) -> int:
        return 16 * self.timescale

    def _value_range(self) -> tuple[float, float]:
        return _range.hull(self.start, 0.0)  # towards 0 as the step grows
