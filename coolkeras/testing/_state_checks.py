"""`check_layer` checks of the layer's state: config, dtype policy, saving."""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any

import keras

from coolkeras.testing._check_support import (
    Context,
    all_close,
    config_fix,
    describe,
    dtype_of,
    fail,
    flatten,
    init_parameters,
    is_float,
    max_difference,
    missing_config_args,
)


def config(ctx: Context) -> keras.layers.Layer:
    layer, cls = ctx.layer, type(ctx.layer)
    try:
        cfg = layer.get_config()
    except Exception as error:
        raise fail(
            layer,
            "config",
            f"get_config() raised {describe(error)}.",
            config_fix(layer, missing_config_args(layer, {})),
        ) from error
    try:
        json.dumps(keras.saving.serialize_keras_object(layer))
    except Exception as error:
        raise fail(
            layer,
            "config",
            f"get_config() returns a value that cannot be serialized: "
            f"{describe(error)}.",
            "return plain values from get_config() (numbers, strings, "
            "lists, dicts; e.g. sorted(a_set) instead of a set) and rebuild "
            "objects in __init__, or serialize them with "
            "keras.saving.serialize_keras_object.",
        ) from error
    missing = missing_config_args(layer, cfg)
    try:
        clone = cls.from_config(cfg)
    except Exception as error:
        parameters = init_parameters(layer)
        required = [n for n in missing if parameters[n].default is parameters[n].empty]
        what = (
            f"get_config() does not include {', '.join(f'`{n}`' for n in required)}"
            if required
            else "from_config(get_config()) failed"
        )
        fix = (
            config_fix(layer, required or missing)
            if required or missing
            else "get_config() holds every __init__ argument, so fix what "
            "from_config() reports (it runs as in a load with safe_mode=True)."
        )
        raise fail(layer, "config", f"{what}: {describe(error)}.", fix) from error
    for name in missing:
        if hasattr(keras.layers.Layer, name):
            continue  # e.g. `weights`: a base-layer property, not the argument
        mine, theirs = getattr(layer, name, None), getattr(clone, name, None)
        if _plain(mine) and _plain(theirs) and mine != theirs:
            raise fail(
                layer,
                "config",
                f"get_config() does not include `{name}`, so from_config() builds "
                "a layer with another value.",
                config_fix(layer, [name]),
                expected=f"{name}={mine!r}",
                received=f"{name}={theirs!r}",
            )
    try:
        clone(ctx.x, training=False)
    except Exception as error:
        raise fail(
            layer,
            "config",
            "The layer made by from_config(get_config()) fails on the same "
            f"data: {describe(error)}.",
            config_fix(layer, missing),
        ) from error
    mine = [tuple(w.shape) for w in layer.weights]
    theirs = [tuple(w.shape) for w in clone.weights]
    if mine != theirs:
        raise fail(
            layer,
            "config",
            "The layer made by from_config(get_config()) has other weights.",
            config_fix(layer, missing),
            expected=f"weight shapes {mine}",
            received=f"weight shapes {theirs}",
        )
    clone.set_weights(layer.get_weights())
    expected, received = layer(ctx.x, training=False), clone(ctx.x, training=False)
    if not all_close(expected, received, ctx.rtol, ctx.atol):
        raise fail(
            layer,
            "config",
            "from_config(get_config()) with the weights copied gives other outputs "
            f"(max abs difference {max_difference(expected, received):.3g}): "
            "something that determines the output is neither in get_config() nor "
            "a weight.",
            "create state with self.add_weight(...) in build() (trainable=False for "
            "constants such as random projections) instead of plain tensors or "
            "numpy arrays"
            + (f"; and {config_fix(layer, missing)}" if missing else "."),
        )
    return clone


def _plain(value: Any) -> bool:
    """Numbers, strings, None and lists/tuples/dicts of them: comparable by ==."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(_plain(k) and _plain(v) for k, v in value.items())
    return False


DTYPE_FIX = (
    "do not cast to a fixed dtype in call(), and create random or constant "
    "tensors in the input's dtype, e.g. keras.ops.cast(y, self.compute_dtype) or "
    "keras.random.normal(shape, dtype=x.dtype, seed=...)."
)


def dtype_policy(ctx: Context) -> None:
    layer = ctx.layer
    cfg = {**layer.get_config(), "dtype": "mixed_float16"}
    cfg.pop("name", None)
    mixed = type(layer).from_config(cfg)
    for training in (False, True):
        try:
            outputs = flatten(mixed(ctx.x, training=training))
        except Exception as error:
            raise fail(
                layer,
                "dtype_policy",
                "Under dtype policy mixed_float16, with "
                f"training={training}, the layer raised {describe(error)}.",
                "inputs arrive in float16: " + DTYPE_FIX,
            ) from error
        for i, (ref, out) in enumerate(
            zip(flatten(ctx.outputs), outputs, strict=False)
        ):
            if is_float(dtype_of(ref)) and dtype_of(out) != "float16":
                raise fail(
                    layer,
                    "dtype_policy",
                    f"Under dtype policy mixed_float16, with training={training}, "
                    f"output {i} is not float16 (the policy's compute dtype).",
                    DTYPE_FIX,
                    expected="float16",
                    received=dtype_of(out),
                )
    for ref, var in zip(layer.weights, mixed.weights, strict=False):
        if dtype_of(ref) == "float32" and dtype_of(var) != "float32":
            raise fail(
                layer,
                "dtype_policy",
                f"Under mixed_float16 the variable `{var.path}` is not float32 "
                "(variables must keep full precision).",
                "call self.add_weight(...) without a dtype (Keras uses the "
                "policy's variable dtype).",
                expected="float32",
                received=dtype_of(var),
            )


def saving(ctx: Context) -> None:
    layer, cls = ctx.layer, type(ctx.layer)
    registered = keras.saving.get_registered_name(cls)
    if ">" not in registered and not cls.__module__.startswith("keras."):
        raise fail(
            layer,
            "saving",
            f"{cls.__name__} is not registered, so a .keras file holding it does "
            "not load.",
            "decorate the class with "
            '@keras.saving.register_keras_serializable(package="my_package").',
        )
    inputs = ctx.symbolic_inputs()
    model = keras.Model(inputs, layer(inputs))
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.keras")
        try:
            model.save(path)
            loaded = keras.models.load_model(path)
        except Exception as error:
            raise fail(
                layer,
                "saving",
                f"Saving and loading (safe_mode=True) a model holding the "
                f"layer raised {describe(error)}.",
                "keep get_config() plain and complete and do not store "
                "lambdas; " + config_fix(layer, []),
            ) from error
    expected = model(ctx.x, training=False)
    received = loaded(ctx.x, training=False)
    if not all_close(expected, received, ctx.rtol, ctx.atol):
        raise fail(
            layer,
            "saving",
            "The model loaded from .keras gives other outputs "
            f"(max abs difference {max_difference(expected, received):.3g}).",
            "create all state with self.add_weight(...) in build() so it is saved.",
        )
