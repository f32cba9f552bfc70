"""`Polynomial`: from `start` to `end` over `steps` along a power curve, then flat."""

from __future__ import annotations

import keras

from coolkeras import _validation
from coolkeras.schedules import _ops as ops
from coolkeras.schedules import _range, _time
from coolkeras.schedules.base import Schedule

__all__ = ["Polynomial"]

_POWER_OF = ("remaining", "elapsed")


@keras.saving.register_keras_serializable(package="coolkeras")
class Polynomial(Schedule):
    """Polynomial decay from `start` at step 0 to `end` at step `steps`, then flat.

    With `p = min(t, steps) / steps`, the power applies to the fraction
    remaining (Keras' `PolynomialDecay`, optax' `polynomial_schedule`, torch's
    `PolynomialLR`, Hugging Face's polynomial decay):

        value(t) = end + (start - end) * (1 - p) ** power

    or, with `power_of="elapsed"`, to the fraction elapsed:

        value(t) = start + (end - start) * p ** power

    `power=0.5` with `power_of="elapsed"` is the "1 - sqrt" cool-down of
    warmup-stable-decay schedules; with the default it is Hugging Face's
    "1-sqrt" warmup. `power=1` is `Linear`. Both fractions come from exact
    integer counts, and the value is computed as `start * w + end * (1 - w)`
    with both weights free of cancellation, so a non-integer power stays
    precise near either end.

    Args:
        start: the value at step 0.
        end: the value at step `steps` and after. Defaults to `0.0`.
        steps: the length of the decay, an integer > 0; keyword-only and
            required.
        power: the power, > 0. Defaults to `1.0`.
        power_of: `"remaining"` or `"elapsed"`: the fraction raised to
            `power`. Defaults to `"remaining"`.

    Raises:
        TypeError: if `start`, `end` or `power` is not a number, or `steps`
            is not an integer.
        ValueError: if a value is NaN or infinite, `steps <= 0`, `power <= 0`
            or `power_of` is not one of the two names.

    Example:

    >>> from coolkeras import schedules
    >>> s = schedules.Polynomial(1.0, 0.0, steps=4, power=2.0)
    >>> s.values([0, 1, 2, 3, 4, 5]).tolist()
    [1.0, 0.5625, 0.25, 0.0625, 0.0, 0.0]
    >>> cool_down = schedules.Polynomial(1.0, steps=4, power=0.5, power_of="elapsed")
    >>> [round(v, 6) for v in cool_down.values([0, 1, 2, 4]).tolist()]
    [1.0, 0.5, 0.292893, 0.0]
    """

    _arguments = ("start", "end", "steps", "power", "power_of")
    _vector_fields = ("start", "end", "steps", "power")

    def __init__(
        self,
        start: float,
        end: float = 0.0,
        *,
        steps: int,
        power: float = 1.0,
        power_of: str = "remaining",
    ):
        self.start = _validation.number("start", start)
        self.end = _validation.number("end", end)
        self.steps = _validation.step_count("steps", steps, minimum=1)
        self.power = _validation.number("power", power, low=0, low_open=True)
        self.power_of = _validation.string_choice("power_of", power_of, _POWER_OF)

    def _evaluate(self, whole, frac):
        done, remaining = _time.progress(whole, frac, self.steps)
        if self.power_of == "remaining":  # start's weight: remaining ** power
            keep, lose = _power_pair(remaining, done, self.power)
        else:  # end's weight: done ** power
            lose, keep = _power_pair(done, remaining, self.power)
        return self.start * keep + self.end * lose

    def _horizon(self) -> int:
        return self.steps

    def _value_range(self) -> tuple[float, float]:
        return _range.hull(self.start, self.end)


def _power_pair(x, y, power):
    """`(x ** power, 1 - x ** power)` for `x + y = 1`, both without cancellation."""
    raised = ops.power(x, power)
    # Near x = 1 (y small), 1 - x ** power is -expm1(power * log1p(-y)).
    near_one = -ops.expm1(power * ops.log1p(-ops.minimum(y, 0.5)))
    return raised, ops.where(y < 0.5, near_one, 1.0 - raised)
