"""`warmup_stable_decay`: warmup, a long constant stage, then a short cool-down."""

from __future__ import annotations

from coolkeras import _validation
from coolkeras.schedules.base import Schedule
from coolkeras.schedules.constant import Constant
from coolkeras.schedules.cosine import Cosine
from coolkeras.schedules.join import Join
from coolkeras.schedules.linear import Linear
from coolkeras.schedules.polynomial import Polynomial

__all__ = ["warmup_stable_decay"]

_SHAPES = ("linear", "cosine", "1-sqrt")


def _ramp(shape: str, start: float, end: float, steps: int, rises: bool) -> Schedule:
    if shape == "linear":
        return Linear(start, end, steps)
    if shape == "cosine":
        return Cosine(start, end, steps=steps)
    # "1-sqrt": 1 - sqrt(1 - p) rising, 1 - sqrt(p) falling (Hugging Face's).
    power_of = "remaining" if rises else "elapsed"
    return Polynomial(start, end, steps=steps, power=0.5, power_of=power_of)


def warmup_stable_decay(
    peak: float,
    *,
    warmup: int,
    stable: int,
    decay: int,
    start: float = 0.0,
    end: float = 0.0,
    warmup_shape: str = "linear",
    decay_shape: str = "1-sqrt",
) -> Join:
    """Warmup to `peak`, `peak` for `stable` steps, a cool-down to `end`, then `end`.

    The warmup-stable-decay ("WSD", trapezoidal) schedule, as Hugging Face's
    `get_wsd_schedule`: `warmup` steps from `start` to `peak`, `stable` steps
    at `peak`, `decay` steps from `peak` to `end`, then `end` forever. Each
    stage is `"linear"`, `"cosine"` (half a cosine) or `"1-sqrt"` (rising:
    `1 - sqrt(1 - p)`; falling: `1 - sqrt(p)`, Hägele et al. 2024). It is a
    `Join` of `Linear`, `Cosine`, `Polynomial` and `Constant` pieces; a stage
    of 0 steps is left out. Hugging Face's `min_lr_ratio=m` is
    `start=end=m * peak`.

    Args:
        peak: the value of the stable stage.
        warmup: the length of the warmup, an integer >= 0; keyword-only, as
            are all the lengths.
        stable: the length of the stable stage, an integer >= 0.
        decay: the length of the cool-down, an integer >= 0.
        start: the value at step 0. Defaults to `0.0`.
        end: the value after the cool-down. Defaults to `0.0`.
        warmup_shape: `"linear"`, `"cosine"` or `"1-sqrt"`. Defaults to
            `"linear"`.
        decay_shape: `"linear"`, `"cosine"` or `"1-sqrt"`. Defaults to
            `"1-sqrt"`.

    Returns:
        The schedule, a `Join`.

    Raises:
        TypeError: if a value is not a number or a length not an integer.
        ValueError: if a length is negative or a shape is unknown.

    Example:

    >>> from coolkeras import schedules
    >>> s = schedules.warmup_stable_decay(1.0, warmup=2, stable=3, decay=4)
    >>> [round(v, 4) for v in s.values(range(11)).tolist()]
    [0.0, 0.5, 1.0, 1.0, 1.0, 1.0, 0.5, 0.2929, 0.134, 0.0, 0.0]
    """
    peak = _validation.number("peak", peak)
    start = _validation.number("start", start)
    end = _validation.number("end", end)
    lengths = [
        _validation.step_count(name, value, minimum=0)
        for name, value in (("warmup", warmup), ("stable", stable), ("decay", decay))
    ]
    warmup_shape = _validation.string_choice("warmup_shape", warmup_shape, _SHAPES)
    decay_shape = _validation.string_choice("decay_shape", decay_shape, _SHAPES)
    stages = [
        (lengths[0], lambda: _ramp(warmup_shape, start, peak, lengths[0], rises=True)),
        (lengths[1], lambda: Constant(peak)),
        (lengths[2], lambda: _ramp(decay_shape, peak, end, lengths[2], rises=False)),
    ]
    pieces, boundaries, step = [], [], 0
    for length, make in stages:
        if length:
            if pieces:
                boundaries.append(step)
            pieces.append(make())
            step += length
    if not lengths[2]:  # no cool-down: `end` from the end of the stable stage on
        if pieces:
            boundaries.append(step)
        pieces.append(Constant(end))
    return Join(pieces, boundaries)
