"""A function layer that saves its function by reference."""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Callable
from typing import Any

import keras

from coolkeras import _keras_internals

__all__ = ["Function"]


def _reference(function: Callable) -> tuple[str, str]:
    module = getattr(function, "__module__", None)
    qualname = getattr(function, "__qualname__", None)
    if not callable(function) or module is None or qualname is None:
        raise TypeError(
            "`function` must be a function defined at the top level of a module. "
            f"Received: function={function!r}"
        )
    is_lambda = getattr(function, "__name__", None) == "<lambda>"
    if is_lambda or "<locals>" in qualname:
        kind = "a lambda" if is_lambda else "a nested function or closure"
        raise ValueError(
            f"`function` is {kind}, which cannot be saved by reference and would "
            "not load with `safe_mode=True`. Define it with `def` at the top level "
            "of an importable module and pass values it needs through "
            "`arguments={...}`. "
            f"Received: function={function!r}"
        )
    return module, qualname


def _resolve(module: str, qualname: str) -> Callable:
    registered = keras.saving.get_registered_object(f"{module}>{qualname}")
    if registered is not None:
        return registered
    root = module.split(".", 1)[0]
    if _keras_internals.in_safe_mode() and (
        root in sys.stdlib_module_names or root == "builtins"
    ):
        raise ValueError(
            f"Refusing to load `{module}.{qualname}` with `safe_mode=True`: "
            "functions from the Python standard library are not model functions. "
            "Load with `safe_mode=False` only if you trust the file."
        )
    try:
        target = importlib.import_module(module)
        for part in qualname.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as error:
        raise ValueError(
            f"Could not find the function `{qualname}` in module `{module}` while "
            "loading a `Function` layer. Make sure that module is importable "
            "(installed, or on `sys.path`) when you load the model."
        ) from error
    return target


def _accepts(function: Callable, name: str) -> bool:
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
    return name in parameters


@keras.saving.register_keras_serializable(package="coolkeras")
class Function(keras.layers.Layer):
    """Wraps a named function as a layer that saves and loads safely.

    Keras' `Lambda` saves Python bytecode: such a model does not load with the
    default `safe_mode=True`, and a `def` with default arguments fails to load at
    all. `Function` saves the function by reference (module and name) and imports
    it again on load, so the model loads with `safe_mode=True`; extra keyword
    arguments travel in the config.

    The function is called as `function(inputs, **arguments)`, plus:
    - `training=...` when it declares a `training` parameter, so behaviour that
      differs between training and inference (noise, dropout) follows `fit`,
      `predict` and `model(x, training=...)`;
    - `seed=...`, a `keras.random.SeedGenerator` owned by the layer, when it
      declares a `seed` parameter, so random ops work under JAX `jit`.

    Args:
        function: a function defined with `def` at the top level of an importable
            module, or registered with `keras.saving.register_keras_serializable`.
            Lambdas and closures are refused with an explanation.
        arguments: extra keyword arguments for `function`; they must be
            serializable (numbers, strings, lists, dicts). Defaults to `None`.
        seed: integer seed of the layer's seed generator. Defaults to `None`.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a tensor or a nest of tensors, passed as the first argument.
        training: Python boolean, forwarded to functions that accept it.

    Example:

    >>> import keras, coolkeras
    >>> layer = coolkeras.layers.Function(keras.ops.add, arguments={"x2": 2.0})
    >>> float(layer(keras.ops.zeros((1,)))[0])
    2.0
    """

    def __init__(
        self,
        function: Callable,
        arguments: dict[str, Any] | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self._module, self._qualname = _reference(function)
        if arguments is not None and not isinstance(arguments, dict):
            raise TypeError(
                f"`arguments` must be a dict of keyword arguments. "
                f"Received: arguments={arguments!r}"
            )
        self.function = function
        self.arguments = dict(arguments or {})
        self._passes_training = _accepts(function, "training")
        self._passes_seed = _accepts(function, "seed")
        self.seed = seed
        if self._passes_seed:
            self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True

    def call(self, inputs, training=None):
        kwargs = dict(self.arguments)
        if self._passes_training:
            kwargs["training"] = bool(training)
        if self._passes_seed:
            kwargs["seed"] = self.seed_generator
        return self.function(inputs, **kwargs)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "function": {"module": self._module, "name": self._qualname},
            "arguments": keras.saving.serialize_keras_object(self.arguments),
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Function:
        config = dict(config)
        reference = config.pop("function")
        function = _resolve(reference["module"], reference["name"])
        arguments = keras.saving.deserialize_keras_object(config.pop("arguments"))
        return cls(function, arguments=arguments, **config)
