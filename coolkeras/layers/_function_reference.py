"""How a `Function` layer names its function in a config, and finds it again.

A saved reference is a dict `{"module": ..., "name": ...}`, plus
`"registered_name"` for a function registered with
`keras.saving.register_keras_serializable`. Keras' public ops and activations
are saved under their public path (`{"module": "keras.ops", "name": "tanh"}`).

Under `safe_mode=True` a reference resolves, as in Keras' own
`serialization_lib`, only through Keras' registry (which also holds
`custom_objects` and `keras.saving.custom_object_scope` during a load) and
through a fixed table of Keras' public functions: no module named in a file is
imported, and no attribute named in a file is read.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import types
from collections.abc import Callable
from typing import Any

import keras

# Keras' public namespaces of modeling functions, in the order that picks the
# saved path of a function found in several (`keras.ops.relu`, not
# `keras.ops.nn.relu`). Written here, never read from a file.
_PUBLIC_NAMESPACES = (
    "keras.ops",
    "keras.ops.image",
    "keras.ops.linalg",
    "keras.ops.nn",
    "keras.ops.numpy",
    "keras.activations",
)
# Public, but they look objects up or describe them; they compute nothing.
_NOT_MODELING = frozenset(
    {
        "keras.activations.deserialize",
        "keras.activations.get",
        "keras.activations.serialize",
    }
)


@functools.cache
def _public_functions() -> dict[str, Callable]:
    """Keras' public ops and activations by public path (`keras.ops.tanh`)."""
    namespaces = {
        "keras.ops": keras.ops,
        "keras.ops.image": getattr(keras.ops, "image", None),
        "keras.ops.linalg": getattr(keras.ops, "linalg", None),
        "keras.ops.nn": getattr(keras.ops, "nn", None),
        "keras.ops.numpy": getattr(keras.ops, "numpy", None),
        "keras.activations": keras.activations,
    }
    table = {}
    for prefix in _PUBLIC_NAMESPACES:
        namespace = namespaces[prefix]
        for name, value in (vars(namespace) if namespace else {}).items():
            path = f"{prefix}.{name}"
            if (
                not name.startswith("_")
                and inspect.isfunction(value)
                and path not in _NOT_MODELING
            ):
                table[path] = value
    return table


@functools.cache
def _public_paths() -> dict[Callable, str]:
    paths: dict[Callable, str] = {}
    for path, function in _public_functions().items():
        paths.setdefault(function, path)
    return paths


def registered_name(function: Callable) -> str | None:
    """The name `function` is registered under in Keras' registry, or `None`."""
    name = keras.saving.get_registered_name(function)
    if ">" in name and keras.saving.get_registered_object(name) is function:
        return name
    return None


def check_function(function: Any) -> None:
    """Raises unless `function` is a plain function that can be saved by name."""
    if isinstance(function, types.MethodType):
        raise TypeError(
            "`function` is a bound method. Its object is not saved with the model, "
            "so the layer could not be loaded. Use a function defined with `def` "
            "at the top level of a module and pass the values it needs through "
            "`arguments={...}`, or write a layer subclass. "
            f"Received: function={function!r}"
        )
    if isinstance(function, functools.partial):
        raise TypeError(
            "`function` is a `functools.partial`. Pass the function itself and "
            "its keyword arguments through `arguments={...}`. "
            f"Received: function={function!r}"
        )
    if not isinstance(function, types.FunctionType):
        raise TypeError(
            "`function` must be a function defined with `def` at the top level "
            "of a module, or a Keras op such as `keras.ops.tanh`. Callable "
            "objects, classes and built-in functions cannot be saved by name. "
            f"Received: function={function!r}"
        )
    if function.__name__ == "<lambda>" or "<locals>" in function.__qualname__:
        kind = (
            "a lambda"
            if function.__name__ == "<lambda>"
            else "a nested function or closure"
        )
        raise ValueError(
            f"`function` is {kind}, which cannot be saved by reference and would "
            "not load with `safe_mode=True`. Define it with `def` at the top level "
            "of an importable module and pass values it needs through "
            "`arguments={...}`. "
            f"Received: function={function!r}"
        )


def make_reference(function: types.FunctionType) -> dict[str, str]:
    """The saved reference of a function that passed `check_function`."""
    path = _public_paths().get(function)
    if path is not None:
        module, name = path.rsplit(".", 1)
        return {"module": module, "name": name}
    reference = {"module": function.__module__, "name": function.__qualname__}
    registered = registered_name(function)
    if registered is not None:
        reference["registered_name"] = registered
    return reference


def main_module_warning(function: types.FunctionType) -> str:
    return (
        f"`function` `{function.__qualname__}` is defined in `__main__`: the model "
        "saves, but only this script can load it (with `custom_objects` or "
        "`safe_mode=False`), and another script with a function of the same name "
        "would load that one instead. To load it anywhere with `safe_mode=True`, "
        "decorate it with `@keras.saving.register_keras_serializable(package=...)`"
        ", ideally in an importable module. "
        f"Received: function={function!r}"
    )


def _check_reference(reference: Any) -> None:
    keys = {"module", "name", "registered_name"}
    if not (
        isinstance(reference, dict)
        and set(reference) <= keys
        and all(isinstance(reference.get(key), str) for key in ("module", "name"))
        and isinstance(reference.get("registered_name", ""), str)
    ):
        raise ValueError(
            "The config of a `Function` layer must name its function as "
            '`{"module": str, "name": str}`, with an optional `"registered_name"`. '
            f"Received: function={reference!r}"
        )


def _refusal(reference: dict[str, str]) -> ValueError:
    module, name = reference["module"], reference["name"]
    registered = reference.get("registered_name")
    if registered is None:
        why = (
            "it is not registered with `keras.saving.register_keras_serializable`, "
            "not in `custom_objects` and not a public Keras op"
        )
        how = (
            "If it is your function, decorate it with "
            "`@keras.saving.register_keras_serializable(package=...)` and import "
            f"its module before loading, or pass `custom_objects={{{name!r}: ...}}`"
        )
    else:
        why = f"it was saved as `{registered}`, which is not registered in this process"
        how = (
            "The script that saved the model registered it in `__main__`: import "
            "that script as a module"
            if module == "__main__"
            else f"Import the module that registers it (`{module}`)"
        )
        how += f" before loading, or pass `custom_objects={{{registered!r}: ...}}`"
    return ValueError(
        f"Refusing to load the function `{module}.{name}` of a `Function` layer "
        f"with `safe_mode=True`: {why}. {how}. Safe mode loads only functions "
        "registered with `keras.saving.register_keras_serializable`, functions "
        "in `custom_objects` (or a "
        "`keras.saving.custom_object_scope`) and Keras' public ops and "
        "activations, and never imports a module named in the file; load with "
        "`safe_mode=False` only if you trust the file. "
        f"Received: function={reference!r}"
    )


def _import_by_reference(module: str, name: str) -> Any:
    """`module.name` by import; only through classes, never `<locals>`/dunders."""
    parts = name.split(".")
    if not all(part.isidentifier() for part in module.split(".")) or not all(
        part.isidentifier() and not part.startswith("__") for part in parts
    ):
        raise ValueError(
            f"`{module}.{name}` is not the module and qualified name of a function "
            "defined at the top level of a module or in a class. "
            f"Received: function={{'module': {module!r}, 'name': {name!r}}}"
        )
    try:
        target = importlib.import_module(module)
    except ImportError as error:
        raise ValueError(
            f"Could not import the module `{module}` of the function `{name}` "
            "while loading a `Function` layer. Make sure that module is "
            "importable (installed, or on `sys.path`) when you load the model."
        ) from error
    for depth, part in enumerate(parts):
        if depth and not isinstance(target, type):
            raise ValueError(
                f"`{module}.{name}` reaches `{part}` through "
                f"`{'.'.join(parts[:depth])}`, which is not a class. "
                f"Received: function={{'module': {module!r}, 'name': {name!r}}}"
            )
        try:
            target = getattr(target, part)
        except AttributeError as error:
            raise ValueError(
                f"Could not find the function `{name}` in the module `{module}` "
                "while loading a `Function` layer. "
                f"Received: function={{'module': {module!r}, 'name': {name!r}}}"
            ) from error
    return target


def resolve(
    reference: Any,
    safe_mode: bool,
    custom_objects: dict[str, Any] | None = None,
) -> Any:
    """The function a saved reference names (see the module docstring)."""
    _check_reference(reference)
    module, name = reference["module"], reference["name"]
    if module in _PUBLIC_NAMESPACES:
        function = _public_functions().get(f"{module}.{name}")
        if function is None:
            raise ValueError(
                f"`{module}.{name}` is not a public Keras op or activation in "
                f"Keras {keras.__version__}. Received: function={reference!r}"
            )
        return function
    for key in (reference.get("registered_name"), name):
        if key:
            found = keras.saving.get_registered_object(
                key, custom_objects=custom_objects
            )
            if found is not None:
                return found
    if safe_mode:
        raise _refusal(reference)
    return _import_by_reference(module, name)
