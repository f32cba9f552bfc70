"""`Join`: schedules one after another, each counting from its own start."""

from __future__ import annotations

import itertools
from typing import Any

import keras
import numpy as np

from coolkeras import _validation
from coolkeras.schedules import _ops as ops
from coolkeras.schedules import _range, _time
from coolkeras.schedules.base import Schedule

__all__ = ["Join"]

LearningRateSchedule = keras.optimizers.schedules.LearningRateSchedule


@keras.saving.register_keras_serializable(package="coolkeras")
class Join(Schedule):
    """Runs `schedules[i]` from `boundaries[i - 1]` to `boundaries[i]`.

    Each schedule sees the step counted from its own start: at step `t` with
    `boundaries[i - 1] <= t < boundaries[i]`, the value is
    `schedules[i](t - boundaries[i - 1])` (optax's `join_schedules`). The first
    schedule runs from step 0 to `boundaries[0]`, the last forever after the
    last boundary.

    The piece is found by a binary search over the boundaries. Pieces of the
    same class with the same non-numeric arguments (say 5,000 `Linear` and
    `Cosine` pieces) are evaluated together, their numbers looked up in tables,
    so the cost of a step grows with the number of kinds of pieces, not with
    the number of pieces. Pieces that hold other schedules (a `Warmup`, a
    `Restarts`, a Keras schedule) are evaluated one by one.

    Args:
        schedules: a list of `n >= 1` schedules (any `LearningRateSchedule`).
        boundaries: a list of `n - 1` increasing integer steps > 0.

    Raises:
        TypeError: if an element of `schedules` is not a schedule (wrap numbers
            in `Constant`), or a boundary is not an integer.
        ValueError: if `schedules` is empty, the lengths do not match, or the
            boundaries are not increasing and > 0.

    Example:

    >>> from coolkeras import schedules
    >>> s = schedules.Join(
    ...     [schedules.Linear(0.0, 1.0, 2), schedules.Linear(1.0, 0.5, 4)],
    ...     boundaries=[2],
    ... )
    >>> s.values([0, 1, 2, 3, 4, 5, 6, 7]).tolist()
    [0.0, 0.5, 1.0, 0.875, 0.75, 0.625, 0.5, 0.5]
    """

    _arguments = ("schedules", "boundaries")

    def __init__(self, schedules: list[LearningRateSchedule], boundaries: list[int]):
        self.schedules = _validation.schedule_list("schedules", schedules)
        if not isinstance(boundaries, (list, tuple)):
            raise TypeError(
                "`boundaries` must be a list of integer steps. "
                f"Received: boundaries={boundaries!r}"
            )
        if len(boundaries) != len(schedules) - 1:
            raise ValueError(
                "`boundaries` must have one step fewer than `schedules` "
                f"({len(schedules)}). Received: boundaries={list(boundaries)!r} of "
                f"length {len(boundaries)}"
            )
        self.boundaries = [
            _validation.step_count(f"boundaries[{i}]", b, minimum=1)
            for i, b in enumerate(boundaries)
        ]
        if any(b <= a for a, b in itertools.pairwise(self.boundaries)):
            raise ValueError(
                "`boundaries` must be increasing. "
                f"Received: boundaries={list(boundaries)!r}"
            )
        self._boundaries = ops.Table(self.boundaries, "int32")
        self._starts = ops.Table([0, *self.boundaries], "int32")
        self._groups = _groups(self.schedules)
        grouped = {k for group in self._groups for k in group.members}
        self._singles = [k for k in range(len(self.schedules)) if k not in grouped]
        group_of = np.full(len(self.schedules), -1, dtype="int32")
        for g, group in enumerate(self._groups):
            group_of[group.members] = g
        self._group_of = ops.Table(group_of, "int32")

    def _evaluate(self, whole, frac):
        if len(self.schedules) == 1:
            return _time.evaluate(self.schedules[0], whole, frac)
        index = ops.searchsorted(self._boundaries, whole)  # the piece at `whole`
        local = whole - ops.take(self._starts, index)
        value = None
        for g, group in enumerate(self._groups):
            piece = group.at(ops.take(group.position, index))
            later = _time.evaluate(piece, local, frac)
            if value is None:
                value = later
            else:
                chosen = ops.equal(ops.take(self._group_of, index), g)
                value = ops.where(chosen, later, value)
        for k in self._singles:
            later = _time.evaluate(self.schedules[k], local, frac)
            if value is None:
                value = later
            else:
                value = ops.where(ops.equal(index, k), later, value)
        return value

    def _horizon(self) -> int | None:
        last = getattr(self.schedules[-1], "_horizon", lambda: None)()
        return (self.boundaries or [0])[-1] + (last or 0)

    def _value_range(self) -> tuple[float, float] | None:
        lengths = np.diff([0, *self.boundaries]).tolist()
        ranges = [
            _range.window_range(piece, length)
            for piece, length in zip(self.schedules, lengths, strict=False)
        ]
        return _range.union([*ranges, _range.value_range(self.schedules[-1])])


class _Group:
    """Pieces of one class and the same static arguments, as tables of numbers."""

    def __init__(self, pieces: list[Schedule], members: list[int]):
        self.template = pieces[members[0]]
        self.members = np.array(members, dtype="int32")
        position = np.zeros(len(pieces), dtype="int32")
        position[self.members] = np.arange(len(members), dtype="int32")
        self.position = ops.Table(position, "int32")
        self.tables = {}
        for name in self.template._vector_fields:
            values = [getattr(pieces[k], name) for k in members]
            integers = all(
                isinstance(v, int) and not isinstance(v, bool) for v in values
            )
            self.tables[name] = ops.Table(values, "int32" if integers else "float32")

    def at(self, position) -> Schedule:
        """A copy of the template with the numbers of the pieces at `position`."""
        proxy = object.__new__(type(self.template))
        proxy.__dict__.update(self.template.__dict__)
        for name, table in self.tables.items():
            setattr(proxy, name, ops.take(table, position))
        return proxy


def _groups(pieces: list[LearningRateSchedule]) -> list[_Group]:
    members: dict[Any, list[int]] = {}
    for k, piece in enumerate(pieces):
        key = _group_key(piece)
        if key is not None:
            members.setdefault(key, []).append(k)
    return [_Group(pieces, indices) for indices in members.values()]


def _group_key(piece: LearningRateSchedule):
    """What pieces must share to be evaluated as one, or None if it cannot be."""
    if not isinstance(piece, Schedule) or not piece._vector_fields:
        return None
    static = tuple(
        (name, getattr(piece, name))
        for name in piece._arguments
        if name not in piece._vector_fields
    )
    try:
        hash(static)
    except TypeError:
        return None
    return type(piece), static
