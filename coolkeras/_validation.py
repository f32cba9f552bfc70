"""Argument checks shared by every public constructor: clear errors at construction.

Each check returns the value converted to a plain Python object (`float`,
`int`, `bool`, `str`) or raises with a Keras-style message that names the
argument and the value: `TypeError` for a value of the wrong type, `ValueError`
for a value of the right type outside its range
("`factor` must be in (0, 1). Received: factor=1.5").

What counts as a number:

- Python `int` and `float` and numpy scalars (`np.float32(0.5)`,
  `np.int64(32)`) are numbers, and come back as Python numbers, so a numpy
  scalar behaves exactly like the Python number (in arithmetic, comparisons and
  JSON configs).
- `bool` and `np.bool_` are not numbers, and `int` is not a bool: `True` where
  a number is meant, or `1` where a flag is meant, is refused.
- Arrays (0-d included) and tensors are refused where a number is meant: a
  constructor argument is configuration, saved in `get_config()`; an array is
  mutable, a tensor may be symbolic or live on a device. The message says to
  pass `float(x)`. To change a number during training, use a
  `coolkeras.Hyperparameter`.
- NaN and infinities are refused unless `finite=False`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Collection
from typing import Any

import keras
import numpy as np

__all__ = [
    "MAX_STEP",
    "boolean",
    "callable_",
    "integer",
    "integer_choice",
    "integer_list",
    "number",
    "schedule",
    "schedule_list",
    "schedule_or_number",
    "step_count",
    "string",
    "string_choice",
]

LearningRateSchedule = keras.optimizers.schedules.LearningRateSchedule

# Steps are counted in int32 inside the graph (JAX has no int64 by default).
MAX_STEP = 2**31 - 1


def _is_bool(value: Any) -> bool:
    return isinstance(value, (bool, np.bool_))


def _received(name: str, value: Any) -> str:
    text = repr(value)
    if len(text) > 200:
        text = text[:200] + "..."
    return f"Received: {name}={text}"


def _type_hint(value: Any) -> str:
    """Why a value of the wrong type was refused, when it is a common trap."""
    if _is_bool(value):
        return " (a bool is not a number here)"
    if isinstance(value, LearningRateSchedule):
        return (
            " (not a schedule: combine schedules with `Join`, `Warmup`, `Scale`, "
            "`Multiply` or `Add`)"
        )
    if isinstance(value, np.ndarray) or hasattr(value, "shape"):
        return (
            f" (not a {type(value).__name__}: pass a Python or numpy scalar, e.g. "
            "`float(x)`; to change it during training use `coolkeras.Hyperparameter`)"
        )
    return ""


def _show(bound: float) -> str:
    if math.isinf(bound):
        return "inf" if bound > 0 else "-inf"
    return str(int(bound)) if float(bound).is_integer() else repr(float(bound))


def _rule(low, high, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        return f"in {left}{_show(low)}, {_show(high)}{right}"
    if low is not None:
        return f"{'>' if low_open else '>='} {_show(low)}"
    return f"{'<' if high_open else '<='} {_show(high)}"


def _outside(x: float, low, high, low_open: bool, high_open: bool) -> bool:
    if low is not None and (x < low or (low_open and x == low)):
        return True
    return high is not None and (x > high or (high_open and x == high))


def number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    finite: bool = True,
    allow_none: bool = False,
) -> float | None:
    """`value` as a Python float, in `[low, high]` (open ends if asked).

    Raises:
        TypeError: if `value` is not a real number (Python or numpy scalar).
        ValueError: if it is NaN or infinite (unless `finite=False`) or
            outside the bounds.
    """
    if value is None and allow_none:
        return None
    if _is_bool(value) or not isinstance(value, numbers.Real):
        allowed = "a number" + (" or None" if allow_none else "")
        raise TypeError(
            f"`{name}` must be {allowed}{_type_hint(value)}. {_received(name, value)}"
        )
    try:
        result = float(value)
    except OverflowError:  # an int beyond the float range
        result = math.inf if value > 0 else -math.inf
    if math.isnan(result) or (finite and math.isinf(result)):
        raise ValueError(f"`{name}` must be finite. {_received(name, value)}")
    if _outside(result, low, high, low_open, high_open):
        allowed = _rule(low, high, low_open, high_open)
        raise ValueError(f"`{name}` must be {allowed}. {_received(name, value)}")
    return result


def integer(
    name: str,
    value: Any,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    integral_floats: bool = False,
    allow_none: bool = False,
) -> int | None:
    """`value` as a Python int in `[minimum, maximum]`.

    With `integral_floats`, a float with an integer value (`1e4`) is accepted.

    Raises:
        TypeError: if `value` is not an integer (Python or numpy).
        ValueError: if it is outside the bounds.
    """
    if value is None and allow_none:
        return None
    is_int = isinstance(value, numbers.Integral) and not _is_bool(value)
    is_integral_float = (
        not is_int
        and integral_floats
        and isinstance(value, numbers.Real)
        and not _is_bool(value)
        and math.isfinite(value)
        and float(value).is_integer()
    )
    if not (is_int or is_integral_float):
        allowed = "an integer" + (" or None" if allow_none else "")
        raise TypeError(
            f"`{name}` must be {allowed}{_type_hint(value)}. {_received(name, value)}"
        )
    result = int(value)
    if _outside(result, minimum, maximum, False, False):
        allowed = _rule(minimum, maximum, False, False)
        raise ValueError(
            f"`{name}` must be an integer {allowed}. {_received(name, value)}"
        )
    return result


def step_count(name: str, value: Any, *, minimum: int = 0) -> int:
    """A number of training steps: an integer in `[minimum, MAX_STEP]`.

    Integral floats such as `1e4` are accepted, as schedules document.
    """
    return integer(name, value, minimum=minimum, maximum=MAX_STEP, integral_floats=True)


def integer_list(
    name: str,
    value: Any,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> list[int]:
    """A non-empty list (or tuple) of integers in `[minimum, maximum]`, as a list.

    The message names the item (`name[i]`) and quotes the whole list.
    """
    if not isinstance(value, (list, tuple)):
        raise TypeError(
            f"`{name}` must be a list of integers{_type_hint(value)}. "
            f"{_received(name, value)}"
        )
    if not value:
        raise ValueError(
            f"`{name}` must hold at least one integer. {_received(name, value)}"
        )
    result = []
    for i, item in enumerate(value):
        try:
            item = integer(f"{name}[{i}]", item, minimum=minimum, maximum=maximum)
        except (TypeError, ValueError) as error:
            reason = str(error).split(" Received: ")[0]
            raise type(error)(f"{reason} {_received(name, value)}") from None
        result.append(item)
    return result


def integer_choice(
    name: str, value: Any, choices: Collection[int], *, bools: bool = False
) -> int:
    """One of the integers `choices` (also `True`/`False` if `bools`), as `int`."""
    allowed = sorted(choices) + (["True", "False"] if bools else [])
    if _is_bool(value) and bools:
        return int(value)
    if _is_bool(value) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be one of {allowed}. {_received(name, value)}")
    if int(value) not in choices:
        raise ValueError(f"`{name}` must be one of {allowed}. {_received(name, value)}")
    return int(value)


def boolean(name: str, value: Any, *, allow_none: bool = False) -> bool | None:
    """`True` or `False` (a numpy bool too), as `bool`; `1` and `"no"` are refused."""
    if value is None and allow_none:
        return None
    if not _is_bool(value):
        allowed = "True or False" + (" or None" if allow_none else "")
        raise TypeError(f"`{name}` must be {allowed}. {_received(name, value)}")
    return bool(value)


def string(
    name: str, value: Any, *, empty: bool = False, allow_none: bool = False
) -> str | None:
    """A string (non-empty unless `empty`), as `str`."""
    if value is None and allow_none:
        return None
    if not isinstance(value, str):
        allowed = "a string" + (" or None" if allow_none else "")
        raise TypeError(f"`{name}` must be {allowed}. {_received(name, value)}")
    if not value and not empty:
        raise ValueError(
            f"`{name}` must be a non-empty string. {_received(name, value)}"
        )
    return str(value)


def string_choice(name: str, value: Any, choices: Collection[str]) -> str:
    """One of the strings `choices`."""
    if not isinstance(value, str):
        raise TypeError(
            f"`{name}` must be one of {list(choices)}. {_received(name, value)}"
        )
    if value not in choices:
        raise ValueError(
            f"`{name}` must be one of {list(choices)}. {_received(name, value)}"
        )
    return str(value)


def callable_(name: str, value: Any, *, allow_none: bool = False) -> Callable | None:
    """A callable (a function, or an object with `__call__`)."""
    if value is None and allow_none:
        return None
    if not callable(value) or isinstance(value, type):
        allowed = "a function" + (" or None" if allow_none else "")
        raise TypeError(f"`{name}` must be {allowed}. {_received(name, value)}")
    return value


def schedule(name: str, value: Any) -> LearningRateSchedule:
    """A schedule (any `LearningRateSchedule`)."""
    if isinstance(value, LearningRateSchedule):
        return value
    hint = ""
    if isinstance(value, numbers.Real) and not _is_bool(value):
        hint = f" Wrap a number in `Constant`: Constant({value!r})."
    raise TypeError(
        f"`{name}` must be a schedule (a `LearningRateSchedule`).{hint} "
        f"{_received(name, value)}"
    )


def schedule_list(name: str, value: Any) -> list[LearningRateSchedule]:
    """A non-empty list (or tuple) of schedules, as a list."""
    if not isinstance(value, (list, tuple)):
        raise TypeError(
            f"`{name}` must be a list of schedules. {_received(name, value)}"
        )
    if not value:
        raise ValueError(
            f"`{name}` must hold at least one schedule. {_received(name, value)}"
        )
    return [schedule(f"{name}[{i}]", item) for i, item in enumerate(value)]


def schedule_or_number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
) -> float | LearningRateSchedule:
    """A number in `[low, high]`, or a schedule whose values stay there.

    A schedule's values are checked as far as they are known now (see
    `coolkeras.schedules._range.value_range`); a `coolkeras.Hyperparameter`
    also keeps the bounds, so a later `assign`, `scale` or `reset` that would
    leave them is refused at that call.

    Raises:
        TypeError: if `value` is neither a number nor a schedule.
        ValueError: if the number, or a known value of the schedule, is out of
            bounds.
    """
    if not isinstance(value, LearningRateSchedule):
        if isinstance(value, keras.Variable):
            raise TypeError(
                f"`{name}` must be a number or a schedule, not a `keras.Variable`: "
                "a variable changed by a callback is frozen on JAX; use "
                f"`coolkeras.Hyperparameter` instead. {_received(name, value)}"
            )
        if _is_bool(value) or not isinstance(value, numbers.Real):
            raise TypeError(
                f"`{name}` must be a number or a schedule{_type_hint(value)}. "
                f"{_received(name, value)}"
            )
        return number(name, value, low=low, high=high)
    from coolkeras.hyperparameter import Hyperparameter
    from coolkeras.schedules._range import value_range

    if isinstance(value, Hyperparameter):
        value._constrain(name, low, high)
        return value
    extent = value_range(value)
    if extent is not None and outside(extent, low, high):
        raise ValueError(
            f"`{name}` must be {rule(low, high)} at every step, but this schedule "
            f"{reaches(extent)}. {_received(name, value)}"
        )
    return value


def outside(extent: tuple[float, float], low, high) -> bool:
    """Whether the values `extent` (lowest, highest) leave `[low, high]`."""
    return any(_outside(x, low, high, False, False) for x in extent)


def rule(low, high) -> str:
    """The closed range `[low, high]` in words, for messages."""
    return _rule(low, high, False, False)


def reaches(extent: tuple[float, float]) -> str:
    """The values `extent` (lowest, highest) in words: "is 2", "reaches 0 to 2"."""
    low, high = extent
    return f"is {low:.6g}" if low == high else f"reaches {low:.6g} to {high:.6g}"
