"""`Cosine`: a cosine wave from `start` to `end` over `steps`, then flat."""

from __future__ import annotations

import math

import keras

from coolkeras import _validation
from coolkeras.schedules import _ops as ops
from coolkeras.schedules import _range, _time
from coolkeras.schedules.base import Schedule

__all__ = ["Cosine"]

# The smallest normal float32: keeps log() finite where the cosine reaches 0.
_TINY = 1.1754944e-38


@keras.saving.register_keras_serializable(package="coolkeras")
class Cosine(Schedule):
    """Cosine decay from `start` at step 0 to `end` at step `steps`, then flat.

    `value(t) = end + (start - end) * c(p) ** exponent` with
    `p = min(t, steps) / steps` and `c(p) = (1 + cos(2 * pi * cycles * p)) / 2`
    (cosine decay, Loshchilov & Hutter 2017, without restarts: for those, see
    `Restarts`). The defaults, `cycles=0.5` and `exponent=1`, are half a cosine
    from `start` to `end`; with `start < end` it rises. `exponent` is optax's
    (`cosine_decay_schedule(..., exponent=)`), `cycles` Hugging Face's
    `num_cycles`. The value is computed as
    `start * c ** exponent + end * (1 - c ** exponent)`, with `c` and `1 - c`
    from `sin(pi/2 * (1 - p))**2` and `sin(pi/2 * p)**2`: the same numbers,
    without float32 cancellation near either end. With `cycles` other than
    0.5, the float32 angle `pi * cycles * p` makes the value exact to about
    1e-6 of `start - end`, in absolute terms, near the cosine's inner zeros.

    Args:
        start: the value at step 0.
        end: the value at step `steps` (for `cycles=0.5`) and after. Defaults
            to `0.0`.
        steps: the length of the decay, an integer > 0; keyword-only and
            required.
        exponent: the power of the cosine factor, > 0. Defaults to `1.0`.
        cycles: the number of full cosine periods over `steps`, > 0. Defaults
            to `0.5`, half a cosine.

    Raises:
        TypeError: if `start`, `end`, `exponent` or `cycles` is not a number,
            or `steps` is not an integer.
        ValueError: if a value is NaN or infinite, `steps <= 0`,
            `exponent <= 0` or `cycles <= 0`.

    Example:

    >>> from coolkeras import schedules
    >>> s = schedules.Cosine(1.0, steps=4)
    >>> [round(v, 6) for v in s.values([0, 1, 2, 3, 4, 5]).tolist()]
    [1.0, 0.853553, 0.5, 0.146447, 0.0, 0.0]
    >>> squared = schedules.Cosine(1.0, steps=4, exponent=2.0)
    >>> [round(v, 6) for v in squared.values([0, 1, 2, 3, 4]).tolist()]
    [1.0, 0.728553, 0.25, 0.021447, 0.0]
    """

    _arguments = ("start", "end", "steps", "exponent", "cycles")
    _vector_fields = ("start", "end", "steps")

    def __init__(
        self,
        start: float,
        end: float = 0.0,
        *,
        steps: int,
        exponent: float = 1.0,
        cycles: float = 0.5,
    ):
        self.start = _validation.number("start", start)
        self.end = _validation.number("end", end)
        self.steps = _validation.step_count("steps", steps, minimum=1)
        self.exponent = _validation.number("exponent", exponent, low=0, low_open=True)
        self.cycles = _validation.number("cycles", cycles, low=0, low_open=True)

    def _evaluate(self, whole, frac):
        done, remaining = _time.progress(whole, frac, self.steps)
        if self.cycles == 0.5:
            keep = ops.square(ops.sin(remaining * (math.pi / 2)))
            lose = ops.square(ops.sin(done * (math.pi / 2)))
        else:
            angle = done * (math.pi * self.cycles)
            lose = ops.square(ops.sin(angle))
            keep = ops.square(ops.sin(angle + math.pi / 2))
        if self.exponent != 1.0:
            # keep ** exponent and 1 - keep ** exponent, each without cancellation.
            log_keep = ops.where(
                keep < 0.5,
                ops.log(ops.maximum(keep, _TINY)),
                ops.log1p(-ops.minimum(lose, 0.5)),
            )
            lose = -ops.expm1(self.exponent * log_keep)
            keep = ops.where(keep > 0.0, ops.exp(self.exponent * log_keep), 0.0)
        return self.start * keep + self.end * lose

    def _horizon(self) -> int:
        return self.steps

    def _value_range(self) -> tuple[float, float] | None:
        # Half a cosine reaches `end` at step `steps`; other cycles may fall
        # between steps, so they are checked by their values.
        return _range.hull(self.start, self.end) if self.cycles == 0.5 else None
