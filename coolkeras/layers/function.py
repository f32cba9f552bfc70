"""A function layer that saves its function by reference."""

from __future__ import annotations

import contextvars
import inspect
import warnings
from collections.abc import Callable
from typing import Any

import keras

from coolkeras import _keras_internals, _validation
from coolkeras._warnings import CoolkerasWarning
from coolkeras.layers._function_reference import (
    check_function,
    main_module_warning,
    make_reference,
    resolve,
)

__all__ = ["Function"]

# `keras.random.SeedGenerator` keeps its seed as a uint32.
_MAX_SEED = 2**32 - 1

# Set while `from_config` rebuilds a layer: the `__main__` warning is for the
# script that builds the layer, not for the one that loads it.
_LOADING = contextvars.ContextVar("coolkeras_function_loading", default=False)


def _accepts(function: Callable, name: str) -> bool:
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
    return name in parameters


@keras.saving.register_keras_serializable(package="coolkeras")
class Function(keras.layers.Layer):
    """Wraps a named function as a layer that saves and loads safely.

    The function is called as `function(inputs, **arguments)`, plus:
    - `training=...` when it declares a `training` parameter, so behaviour that
      differs between training and inference (noise, dropout) follows `fit`,
      `predict` and `model(x, training=...)`;
    - `seed=...`, a `keras.random.SeedGenerator` owned by the layer, when it
      declares a `seed` parameter, so random ops work under JAX `jit`.

    The layer saves a reference to the function, never its code, and loads it
    the way Keras' own safe mode loads functions. With the default
    `safe_mode=True`, `keras.models.load_model` finds only:
    - functions registered with `keras.saving.register_keras_serializable`,
      saved under their registered name (import the module that registers them
      before loading);
    - functions passed in `custom_objects` (or a
      `keras.saving.custom_object_scope`), keyed by the function's name;
    - Keras' public ops and activations, saved under their public path
      (`keras.ops.tanh`, `keras.activations.gelu`).
    Anything else is refused with an error that says how to register it: no
    module named in the file is imported. With `safe_mode=False` (trusted files
    only), any other function is imported by module and qualified name.

    What Keras gives: `Lambda` over a named function follows the same
    safe-mode rules, but (Keras 3.15) an unregistered `def` does not load even
    with `safe_mode=False`; ops are saved by bare name and looked up among the
    activations, so `keras.ops.add` does not load and `keras.ops.tanh` comes
    back as `keras.activations.tanh`; a bound method saves and never loads.
    What `Function` adds: import by reference under `safe_mode=False`, exact
    public paths for ops, a seed generator, and checks at construction: a
    lambda, closure, bound method, `functools.partial` or other callable object
    is refused, and a function defined in `__main__` (only that script can load
    it) warns.

    Args:
        function: a function defined with `def` at the top level of a module
            (registered with `keras.saving.register_keras_serializable` to load
            with `safe_mode=True`), or a public Keras op or activation.
        arguments: extra keyword arguments for `function`; they must be
            serializable (numbers, strings, lists, dicts). Defaults to `None`.
        seed: integer seed of the layer's seed generator, in [0, 2**32 - 1].
            Defaults to `None`.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a tensor or a nest of tensors, passed as the first argument.
        training: Python boolean, forwarded to functions that accept it.

    Raises:
        TypeError: if `function` is not a plain function (a bound method,
            `functools.partial`, callable object, class or built-in),
            `arguments` is not a dict with string keys, or `seed` is not an
            integer (a numpy integer is one).
        ValueError: if `function` is a lambda or a closure; on load, if the
            saved function may not be loaded (see above) or cannot be found;
            if `seed` is outside [0, 2**32 - 1].

    Example:

    >>> import keras, coolkeras
    >>> layer = coolkeras.layers.Function(keras.ops.add, arguments={"x2": 2.0})
    >>> float(layer(keras.ops.zeros((1,)))[0])
    2.0
    >>> layer.get_config()["function"]
    {'module': 'keras.ops', 'name': 'add'}
    """

    def __init__(
        self,
        function: Callable,
        arguments: dict[str, Any] | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        check_function(function)
        if arguments is not None and (
            not isinstance(arguments, dict)
            or not all(isinstance(key, str) for key in arguments)
        ):
            raise TypeError(
                "`arguments` must be a dict of keyword arguments (names to values). "
                f"Received: arguments={arguments!r}"
            )
        seed = _validation.integer(
            "seed", seed, minimum=0, maximum=_MAX_SEED, allow_none=True
        )
        self._reference = make_reference(function)
        if (
            self._reference["module"] == "__main__"
            and "registered_name" not in self._reference
            and not _LOADING.get()
        ):
            warnings.warn(main_module_warning(function), CoolkerasWarning, stacklevel=2)
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
            "function": dict(self._reference),
            "arguments": keras.saving.serialize_keras_object(self.arguments),
            "seed": self.seed,
        }

    @classmethod
    def from_config(
        cls,
        config: dict[str, Any],
        custom_objects: dict[str, Any] | None = None,
        safe_mode: bool | None = None,
    ) -> Function:
        """Rebuilds the layer; see the class docstring for what loads.

        Args:
            config: a dict returned by `get_config`.
            custom_objects: functions by name, looked up besides Keras'
                registry. Defaults to `None`.
            safe_mode: whether to refuse functions that are neither registered,
                custom objects nor public Keras ops. Defaults to `None`: the
                `safe_mode` of the load under way, and `True` outside a load.
        """
        if safe_mode is None:
            safe_mode = _keras_internals.in_safe_mode()
        config = dict(config)
        function = resolve(
            config.pop("function"), safe_mode=safe_mode, custom_objects=custom_objects
        )
        arguments = keras.saving.deserialize_keras_object(
            config.pop("arguments"), custom_objects=custom_objects, safe_mode=safe_mode
        )
        token = _LOADING.set(True)
        try:
            return cls(function, arguments=arguments, **config)
        finally:
            _LOADING.reset(token)
