"""Parts of `Hyperparameter` that need nothing of its training state.

`Arithmetic`: operators on the current value, as `keras.Variable` has them, so
the article's `(1 - e) * loss1 + e * loss2` works. `RequiredRanges`: ranges
that users of a hyperparameter require (a loss's epsilon in [0, 1]), checked
now and after every change. Both read only `value`, `name`, `initial`,
`schedule`, `_scale`, `_assigned` and `_bounds` of the class they are mixed in.
"""

from __future__ import annotations

from typing import Any

from keras import ops

from coolkeras import _validation
from coolkeras.schedules import _range

__all__ = ["Arithmetic", "RequiredRanges"]


def _operand(other: Any) -> Any:
    """The other side of an arithmetic operation: a hyperparameter's value."""
    return other.value if isinstance(other, Arithmetic) else other


class Arithmetic:
    """Operators on `self.value`."""

    def __add__(self, other):
        return ops.add(self.value, _operand(other))

    def __radd__(self, other):
        return ops.add(_operand(other), self.value)

    def __sub__(self, other):
        return ops.subtract(self.value, _operand(other))

    def __rsub__(self, other):
        return ops.subtract(_operand(other), self.value)

    def __mul__(self, other):
        return ops.multiply(self.value, _operand(other))

    def __rmul__(self, other):
        return ops.multiply(_operand(other), self.value)

    def __truediv__(self, other):
        return ops.divide(self.value, _operand(other))

    def __rtruediv__(self, other):
        return ops.divide(_operand(other), self.value)

    def __pow__(self, other):
        return ops.power(self.value, _operand(other))

    def __rpow__(self, other):
        return ops.power(_operand(other), self.value)

    def __neg__(self):
        return ops.negative(self.value)


class RequiredRanges:
    """Ranges required by the users of a hyperparameter (`_bounds`)."""

    def _value_range(self) -> tuple[float, float] | None:
        """The values it reaches now (see `coolkeras.schedules._range`)."""
        return self._extent(self._scale, self._assigned)

    def _extent(self, scale: float, assigned: float | None):
        if assigned is not None or self.schedule is None:
            value = (self.initial if assigned is None else assigned) * scale
            return value, value
        inner = _range.value_range(self.schedule)
        return None if inner is None else (inner[0] * scale, inner[1] * scale)

    def _constrain(self, name: str, low: float | None, high: float | None) -> None:
        """Requires the values to stay in `[low, high]`, now and after changes."""
        extent = self._value_range()
        if extent is not None and _validation.outside(extent, low, high):
            raise ValueError(
                f"`{name}` must be {_validation.rule(low, high)} at every step, but "
                f"Hyperparameter '{self.name}' {_validation.reaches(extent)}. "
                f"Received: {name}={self!r}"
            )
        self._bounds[name] = (low, high)

    def _check_known_range(self) -> None:
        """Checks the required ranges once the values are known (`fit` start).

        A range unknown when a user took the hyperparameter (a `by_epoch`
        schedule before `fit` gives its epoch length) is checked here.
        """
        for name, (low, high) in self._bounds.items():
            self._constrain(name, low, high)

    def _check_bounds(self, scale: float, assigned: float | None, received: str):
        extent = self._extent(scale, assigned)
        for name, (low, high) in self._bounds.items():
            if extent is not None and _validation.outside(extent, low, high):
                raise ValueError(
                    f"Hyperparameter '{self.name}' is used as `{name}`, which must "
                    f"be {_validation.rule(low, high)}: after this change it "
                    f"{_validation.reaches(extent)}. {received}"
                )
