"""Finding the objects of a kind that a model trains with, wherever they hide.

A hyperparameter may sit in a layer attribute, a regularizer or constraint of a
layer, a compiled loss object, a loss *function* (as a global it reads or a
closure cell), a compiled metric, `loss_weights`, or the optimizer's learning
rate, possibly inside a schedule. `find` walks those objects (attributes,
containers, closures and the globals a function's code names) to a bounded
depth, the way `cloudpickle` finds what a function depends on, without
calling anything.
"""

from __future__ import annotations

import functools
import inspect
import types
from typing import Any

import keras
import numpy as np

from coolkeras import _keras_internals

_MAX_DEPTH = 8
_LEAVES = (
    str,
    bytes,
    int,
    float,
    complex,
    bool,
    type(None),
    np.ndarray,
    np.generic,
    types.ModuleType,
    type,
    keras.Variable,
    keras.KerasTensor,
    keras.optimizers.Optimizer,
)


def model_roots(model: keras.Model) -> list:
    """The objects of a compiled model where its hyperparameters can hide."""
    roots: list = _keras_internals.all_layers(model)
    roots.extend(_keras_internals.compile_arguments(model).values())
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None:
        roots.append(_keras_internals.optimizer_learning_rate_object(optimizer))
    return roots


def nested_models(model: keras.Model) -> list:
    """The models used as layers inside `model`, at any depth."""
    return [
        layer
        for layer in _keras_internals.all_layers(model)
        if isinstance(layer, keras.Model)
    ]


def find(roots: list, kind: type) -> list:
    """Every object of type `kind` reachable from `roots`, in discovery order."""
    found: dict[int, Any] = {}
    depths: dict[int, int] = {}  # the shallowest depth each object was walked at
    for root in roots:
        _walk(root, kind, found, depths, 0)
    return list(found.values())


def _walk(obj: Any, kind: type, found: dict, depths: dict, depth: int) -> None:
    if depth > _MAX_DEPTH or depths.get(id(obj), _MAX_DEPTH + 1) <= depth:
        return
    if isinstance(obj, _LEAVES):
        return
    depths[id(obj)] = depth
    if isinstance(obj, kind):
        found[id(obj)] = obj
    for child in _children(obj):
        _walk(child, kind, found, depths, depth + 1)


def _children(obj: Any) -> list:
    if isinstance(obj, (list, tuple, set, frozenset)):
        return list(obj)
    if isinstance(obj, dict):
        return list(obj.values())
    if isinstance(obj, functools.partial):
        return [obj.func, *obj.args, *obj.keywords.values()]
    if inspect.ismethod(obj):
        return [obj.__func__, obj.__self__]
    if isinstance(obj, types.FunctionType):
        return _function_children(obj)
    if inspect.isroutine(obj):
        return []
    try:
        return list(vars(obj).values())
    except TypeError:  # no __dict__
        return []


def _function_children(function: types.FunctionType) -> list:
    children = list(function.__defaults__ or ())
    children.extend((function.__kwdefaults__ or {}).values())
    for cell in function.__closure__ or ():
        try:
            children.append(cell.cell_contents)
        except ValueError:  # an empty cell
            pass
    names: set[str] = set()
    _code_names(function.__code__, names)
    scope = function.__globals__
    children.extend(scope[name] for name in sorted(names) if name in scope)
    return children


def _code_names(code: types.CodeType, names: set) -> None:
    names.update(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            _code_names(constant, names)
