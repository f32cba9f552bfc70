"""`check_layer` checks that call the layer: shapes, training, tracing, masks."""

from __future__ import annotations

import warnings
from typing import Any

import keras
import numpy as np

from coolkeras import _keras_internals
from coolkeras.testing._check_support import (
    Context,
    all_close,
    call_accepts,
    describe,
    dtype_of,
    fail,
    flatten,
    is_float,
    max_difference,
    overrides,
    shape_of,
    shapes_agree,
    to_numpy,
)

SEED_FIX = (
    "create `self.seed_generator = keras.random.SeedGenerator(seed)` in __init__ "
    "and pass `seed=self.seed_generator` to every keras.random call in call()."
)

ACCEPT_MASK_FIX = (
    "accept `mask=None` in call() and use it (e.g. leave masked steps out of "
    "sums and counts), "
)
USE_MASK_FIX = "use the mask in call() so masked steps do not affect the output, "


def symbolic_call(ctx: Context, input_shape: Any) -> list:
    try:
        outputs = ctx.layer(ctx.symbolic_inputs())
    except Exception as error:
        try:
            ctx.layer(ctx.x, training=False)
        except Exception:
            eager_works = False
        else:
            eager_works = True
        if eager_works:
            raise fail(
                ctx.layer,
                "symbolic_call",
                "The layer runs on data but fails on keras.Input, so it cannot be "
                f"used in a functional model: {describe(error)}.",
                "use keras.ops only in call() (no numpy conversion, no Python "
                "branching on tensor values), or define compute_output_shape.",
            ) from error
        raise ValueError(
            f"{type(ctx.layer).__name__} could not be called on symbolic inputs of "
            f"shape {ctx.batch_shapes(None)} (batch axis first) built from "
            f"`input_shape`: {describe(error)}. Pass the shape of one sample "
            "without the batch axis, one the layer accepts. "
            f"Received: input_shape={input_shape!r}"
        ) from error
    return flatten(outputs)


def eager_call(ctx: Context, symbolic: list) -> list:
    layer = ctx.layer
    try:
        outputs = layer(ctx.x, training=False)
    except Exception as error:
        raise fail(
            layer,
            "eager_call",
            "Calling the layer on concrete data of shape "
            f"{[d.shape for d in ctx.data]} raised {describe(error)}, although "
            "the symbolic call worked.",
            "make call() work for concrete tensors of any batch size; use "
            "keras.ops (not numpy or Python control flow on tensor values).",
        ) from error
    ctx.outputs = outputs
    flat = flatten(outputs)
    if len(flat) != len(symbolic):
        raise fail(
            layer,
            "eager_call",
            "The symbolic call and the eager call return different numbers of outputs.",
            "return the same structure from call() whatever the input.",
            expected=f"{len(symbolic)} outputs (symbolic call)",
            received=f"{len(flat)} outputs (eager call)",
        )
    return flat


def compute_output_shape(ctx: Context, flat: list) -> str | None:
    layer = ctx.layer
    if not overrides(layer, "compute_output_shape"):
        return "the layer does not define compute_output_shape (Keras traces call())"
    batch = len(ctx.data[0])
    input_shape = ctx.batch_shapes(batch)
    try:
        declared = layer.compute_output_shape(input_shape)
    except Exception as error:
        raise fail(
            layer,
            "compute_output_shape",
            f"compute_output_shape({input_shape}) raised {describe(error)}.",
            "accept the full input shape (batch axis first, possibly None) and "
            "return a tuple, or a list of tuples for several outputs.",
        ) from error
    if isinstance(declared, (list, tuple)) and (
        not declared or isinstance(declared[0], (int, type(None)))
    ):
        declared = [tuple(declared)]
    declared = [tuple(s) for s in declared]
    actual = [shape_of(t) for t in flat]
    if len(declared) != len(actual) or not all(
        shapes_agree(d, a) for d, a in zip(declared, actual, strict=False)
    ):
        raise fail(
            layer,
            "compute_output_shape",
            f"compute_output_shape({input_shape}) does not match the shapes that "
            "call() returns (Keras uses compute_output_shape for every symbolic "
            "call, so functional models get wrong shapes).",
            "make compute_output_shape return exactly the shape(s) call() produces "
            "(a list with one shape per output for several outputs), or delete it "
            "to let Keras infer shapes by tracing call().",
            expected=actual if len(actual) > 1 else actual[0],
            received=declared if len(declared) > 1 else declared[0],
        )
    return None


def symbolic_agrees(ctx: Context, symbolic: list, flat: list) -> None:
    for i, (s, e) in enumerate(zip(symbolic, flat, strict=False)):
        if not shapes_agree(shape_of(s), shape_of(e)) or dtype_of(s) != dtype_of(e):
            raise fail(
                ctx.layer,
                "symbolic_call",
                f"Output {i} of the symbolic call (keras.Input) does not match the "
                "eager call on data.",
                "if you override compute_output_spec (or compute_output_shape), "
                "return the shape and dtype call() really produces.",
                expected=f"shape {shape_of(e)}, dtype {dtype_of(e)} (eager)",
                received=f"shape {shape_of(s)}, dtype {dtype_of(s)} (symbolic)",
            )


def training(ctx: Context, expect_difference: bool | None) -> bool:
    layer = ctx.layer
    before = _keras_internals.global_seed_generator_state()
    inference = layer(ctx.x, training=False)
    trained = layer(ctx.x, training=True)
    after = _keras_internals.global_seed_generator_state()
    if after is not None and (before is None or not np.array_equal(before, after)):
        raise fail(
            layer,
            "training",
            "call() uses a random op without `seed=` (it draws from Keras' global "
            "seed generator). That works eagerly but fails under JAX jit, i.e. in "
            "fit/predict on the JAX backend.",
            SEED_FIX,
        )
    if not all_close(ctx.outputs, inference, 0.0, 0.0):
        raise fail(
            layer,
            "training",
            "Two calls with training=False on the same data gave different outputs.",
            "apply random behaviour (noise, dropout) only when training=True, and "
            "do not change state in call() when training=False.",
            expected="equal outputs",
            received=f"max abs difference {max_difference(ctx.outputs, inference):.3g}",
        )
    differs = not all_close(inference, trained, ctx.rtol, ctx.atol)
    if expect_difference is not None and differs != expect_difference:
        if expect_difference:
            problem = "Outputs with training=True equal those with training=False."
            fix = (
                "declare `training=None` in call() and branch on it, e.g. "
                "`if training: x = x + noise`; Keras passes it from fit/predict."
            )
        else:
            problem = "Outputs with training=True differ from training=False."
            fix = (
                "make call() ignore `training`, or pass "
                "expect_training_difference=True if the difference is intended."
            )
        raise fail(
            layer,
            "training",
            problem,
            fix,
            expected=f"outputs differ: {expect_difference}",
            received=f"outputs differ: {differs}",
        )
    return differs


def compiled_step(ctx: Context) -> str | None:
    layer = ctx.layer
    flat = flatten(ctx.outputs)
    if not all(is_float(dtype_of(t)) for t in flat):
        return "not all outputs are floating point"
    inputs = ctx.symbolic_inputs()
    model = keras.Model(inputs, ctx.layer(inputs))
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    targets = [np.zeros(shape_of(t), "float32") for t in flat]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.train_on_batch(ctx.x, targets if len(targets) > 1 else targets[0])
            predicted = model.predict_on_batch(ctx.x)
    except Exception as error:
        raise fail(
            layer,
            "compiled_step",
            f"A compiled training step of a model holding the layer raised "
            f"{describe(error)}.",
            SEED_FIX
            if "seed" in str(error).lower()
            else "keep call() traceable: keras.ops only, no Python branching on tensor "
            "values, no numpy conversions, state changes through variables.",
        ) from error
    reference = layer(ctx.x, training=False)
    if not all_close(reference, predicted, max(ctx.rtol, 1e-4), max(ctx.atol, 1e-5)):
        raise fail(
            layer,
            "compiled_step",
            "predict() (compiled) and an eager call with training=False disagree.",
            "avoid Python side effects in call(); results must not depend on "
            "whether call() is traced.",
            expected="equal outputs",
            received=f"max abs difference {max_difference(reference, predicted):.3g}",
        )
    return None


def masking(ctx: Context) -> str | None:
    layer = ctx.layer
    takes_mask = call_accepts(layer, "mask")
    if not (layer.supports_masking or takes_mask):
        return "the layer does not support masking (supports_masking is False)"
    if ctx.multi_input:
        return "the layer takes several inputs"
    x = ctx.data[0]
    if x.ndim < 3 or x.shape[1] < 2:
        return "the input has no time axis of size >= 2 to mask"
    mask = np.ones(x.shape[:2], bool)
    mask[:, -1] = False
    if x.shape[1] > 2:
        mask[0, -2] = False
    changed = x.copy()
    noise = (
        ctx.rng.normal(size=x.shape).astype(x.dtype)
        if is_float(str(x.dtype))
        else ctx.rng.integers(0, 10, size=x.shape).astype(x.dtype)
    )
    changed[~mask] = noise[~mask] + (5 if is_float(str(x.dtype)) else 0)
    kwargs = {"mask": keras.ops.convert_to_tensor(mask)} if takes_mask else {}
    y1 = flatten(layer(x, training=False, **kwargs))
    y2 = flatten(layer(changed, training=False, **kwargs))
    out_masks = None
    if layer.supports_masking:
        try:
            out_masks = layer.compute_mask(
                keras.ops.convert_to_tensor(x), keras.ops.convert_to_tensor(mask)
            )
        except Exception as error:
            raise fail(
                layer,
                "masking",
                f"compute_mask(inputs, mask) raised {describe(error)}.",
                "compute_mask(inputs, mask=None) must return the output "
                "mask, or None when the output has no time axis.",
            ) from error
    out_masks = [None] * len(y1) if out_masks is None else flatten(out_masks)
    out_masks += [None] * (len(y1) - len(out_masks))
    for i, (a, b, m) in enumerate(zip(y1, y2, out_masks, strict=False)):
        a, b = to_numpy(a), to_numpy(b)
        if m is not None:
            m = to_numpy(m).astype(bool)
            if m.shape != a.shape[: m.ndim]:
                raise fail(
                    layer,
                    "masking",
                    f"compute_mask returned a mask that does not fit output {i}: "
                    "a mask must cover the output's leading (batch, time) axes.",
                    "if the layer removes the time axis (pooling, reduction), "
                    "override compute_mask to return None; if it keeps the axis, "
                    "return the input mask.",
                    expected=f"a mask of shape {a.shape[:2]} (or None)",
                    received=f"a mask of shape {m.shape} for an output of shape "
                    f"{a.shape}",
                )
            a, b = a[m], b[m]
        if not np.allclose(a, b, rtol=ctx.rtol, atol=ctx.atol):
            where = "at unmasked positions " if m is not None else ""
            raise fail(
                layer,
                "masking",
                "Changing the input only at masked-out timesteps changed output "
                f"{i} {where}(max abs difference {np.max(np.abs(a - b)):.3g}): "
                "the layer ignores the mask.",
                (USE_MASK_FIX if takes_mask else ACCEPT_MASK_FIX)
                + "or set supports_masking = False if the layer cannot honour masks.",
            )
    return None
